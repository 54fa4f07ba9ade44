"""Partner organisations' accounts (the first part of issue 18's partners): `linli staff create --partner CODE`,
refused on every console route but their own account's, told in WeChat when a ticket is 交办 to their
organisation, and shown in 「待办」 only what was handed to them, never the resident's phone."""
from __future__ import annotations

import asyncio
import io

from sqlalchemy import select

from storage.models import Staff
from storage.ticket_models import Ticket, TicketEvent
from tests.console.test_cli import _query, run
from tests.staff.test_pushes import act, file, pushes
from tests.tickets.conftest import bind, partner_account


async def partner(loop, username: str, code: str) -> Staff:
    async with loop.services.db.transaction() as session:
        return await partner_account(session, username, code)


def test_linli_staff_create_partner(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    from tests.console.test_cli import _demo
    asyncio.run(_demo(sqlite_url))
    monkeypatch.setattr("sys.stdin", io.StringIO("partner-account-pw-1\n"))
    assert run(["staff", "create", "--partner", "WY-JA", "--username", "jinan", "--name", "津安物业",
                "--password-stdin"]) == 0
    assert "承办单位" in capsys.readouterr().out
    [staff] = asyncio.run(_query(sqlite_url, select(Staff).where(Staff.username == "jinan")))
    assert staff.partner.startswith("property:") and staff.community_id is None and staff.street_id is None
    monkeypatch.setattr("sys.stdin", io.StringIO("partner-account-pw-2\n"))
    assert run(["staff", "create", "--partner", "NOPE", "--username", "nope", "--name", "无",
                "--password-stdin"]) == 1
    assert "承办单位编码有误" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("partner-account-pw-3\n"))
    assert run(["staff", "create", "--partner", "dept:河西区城管委", "--username", "cgw", "--name", "城管",
                "--password-stdin"]) == 0
    [dept] = asyncio.run(_query(sqlite_url, select(Staff).where(Staff.username == "cgw")))
    assert dept.partner == "dept:河西区城管委"


async def test_a_ticket_handed_to_a_partner_reaches_its_linked_staff_only(loop):
    await partner(loop, "jinan", "WY-JA")
    await partner(loop, "haihe", "WY-HH")
    await loop.link("jinan", "o_jinan")
    await loop.link("haihe", "o_haihe")
    await bind(loop.services, "o_res")  # 谊景花园, served by 津安物业 (WY-JA)
    ticket = await file(loop, "o_res")
    assert "没有交办" in await loop.bot.say("o_jinan", "待办")
    await act(loop, ticket.id, "sign", "yijing")
    await act(loop, ticket.id, "assign", "yijing", partner="property")
    [push] = await pushes(loop, f"ticket:{ticket.id}:partner")
    async with loop.services.db.transaction() as session:
        jinan = (await session.execute(select(Staff).where(Staff.username == "jinan"))).scalar_one()
    assert push.scope["residents"] and "交由贵单位办理" in push.text and "13900001111" not in push.text
    from tests.staff.test_pushes import resident_id
    assert push.scope["residents"] == [await resident_id(loop, "o_jinan")]
    todo = await loop.bot.say("o_jinan", "待办")
    assert ticket.number in todo and "13900001111" not in todo and "谊景社区" in todo
    assert ticket.number not in await loop.bot.say("o_haihe", "待办")
    assert "没有找到交办给贵单位" in await loop.bot.say("o_haihe", f"签收 {ticket.number}")
    assert jinan.partner.startswith("property:")
    await loop.link("yijing", "o_yj")
    # the partner works it: 签收, 回复 (the resident hears it under the community's name), 办结 with a photo
    await loop.bot.dialog("o_jinan", [
        ("待办", "1. " + ticket.number),
        ("签收 1", "已签收"),
        ("回复 1 明天上午九点上门更换灯具", "已答复居民"),
        ("退单 1 不归我们", "承办单位不能退单"),
        ("办结 1 灯具已更换", "已报告办结"),
    ])
    evidence = (await loop.bot.sim.image("o_jinan", "http://pic.example/fixed.jpg")).text
    assert "办结凭证" in evidence
    answers = await pushes(loop, f"ticket:{ticket.id}")
    to_resident = [b for b in answers if "答复您的投诉" in b.text]
    assert to_resident and to_resident[-1].text.startswith("谊景社区答复您的投诉")
    assert "津安" not in to_resident[-1].text
    async with loop.services.db.transaction() as session:
        kinds = [e.kind for e in (await session.execute(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))).scalars()]
    assert ["partner_sign", "reply", "partner_done", "note"] == [k for k in kinds if k in (
        "partner_sign", "reply", "partner_done", "note")]
    reported = [b for b in await pushes(loop, f"ticket:{ticket.id}:staff") if "报告已办结" in b.text]
    assert reported and f"退回 {ticket.number}" in reported[-1].text  # the community is told to confirm
    # away from the desk, the community sends it back from chat (退回); the partner hears why and reports again
    assert "承办单位不能退单或退回" in await loop.bot.say("o_jinan", f"退回 {ticket.number} 灯还是不亮")
    assert "请在序号后写退回理由" in await loop.bot.say("o_yj", f"退回 {ticket.number}")
    assert "不在您的辖区" in await loop.bot.say("o_yj", "退回 JF20990101-0001 灯还是不亮")
    assert "已退回" in await loop.bot.say("o_yj", f"退回 {ticket.number} 地库灯还是不亮，请复查线路")
    back = [b for b in await pushes(loop, f"ticket:{ticket.id}:partner") if "请继续办理" in b.text]
    assert back and "请复查线路" in back[-1].text
    assert "【已报告办结" not in await loop.bot.say("o_jinan", "待办")
    assert "已报告办结" in await loop.bot.say("o_jinan", f"办结 {ticket.number} 线路已修复，灯已亮")
    # the partner cannot resolve for the community; the community confirms; the resident rates
    assert (await ticket_of(loop, ticket.id)).status == "assigned"
    assert "已办结" in await loop.bot.say("o_yj", f"办结 {ticket.number} 已核实，灯具已更换")
    assert "感谢您的评价" in await loop.bot.say("o_res", "5 很及时")
    assert (await ticket_of(loop, ticket.id)).status == "closed"


async def ticket_of(loop, ticket_id: int) -> Ticket:
    async with loop.services.db.transaction() as session:
        return await session.get(Ticket, ticket_id)

