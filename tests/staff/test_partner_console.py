"""Partner organisations in the console (issue 18): a partner account's 承办工单 pages and API show only the tickets
交办 to its organisation (anything else answers 404, as a ticket that does not exist), and take there the actions
it has in the chat — 签收, 要求补充信息, 回复, 报告办结 with evidence — through the same ticket service and rules.
The community confirms (办结) or sends the ticket back (退回承办单位), and chooses per ticket whether the partner sees
the resident's phone (never after the resident erased their data). Everything is audited.

The last test is the whole loop through the webhook and the console: a resident complains in WeChat, the
community hands it to the property company, the partner answers in the console (the resident's push reaches the
sandbox), reports done, is sent back once, reports done again, the community confirms and the resident rates."""
from __future__ import annotations

import io

import aiohttp
import pytest
from sqlalchemy import select

from bot.delivery.sender import Sender
from handlers.privacy.erasure import erase_resident
from handlers.tickets import service
from storage.console_models import AuditEntry
from storage.media_models import TicketMedia
from storage.models import Resident
from storage.ticket_models import Ticket, TicketEvent
from tests.staff.test_partners import partner, ticket_of
from tests.staff.test_pushes import act, file, pushes
from tests.tickets.conftest import bind

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
PHONE, MASKED = "13900001111", "139****1111"


@pytest.fixture
def settings(settings, tmp_path):
    return settings.with_(media_dir=str(tmp_path / "media"))


async def handed(loop, openid: str = "o_res", to: str = "property", text: str | None = None) -> Ticket:
    """A resident's complaint, signed by 谊景社区 and 交办 to `to`."""
    await bind(loop.services, openid)
    ticket = await file(loop, openid, *([text] if text else []))
    await act(loop, ticket.id, "sign", "yijing")
    await act(loop, ticket.id, "assign", "yijing", partner=to)
    return ticket


async def post(client, csrf: str, path: str, **data) -> str:
    """Submit a console form; returns the page it redirects to."""
    resp = await client.post(path, data={"_csrf": csrf, **data})
    assert resp.status == 200, (path, resp.status)
    return await resp.text()


async def audited(loop, username: str) -> list[str]:
    async with loop.services.db.transaction() as session:
        return list((await session.execute(select(AuditEntry.action).where(AuditEntry.username == username,
                                                                              AuditEntry.action.like("ticket.%"))
                                           .order_by(AuditEntry.id))).scalars())


async def kinds(loop, ticket_id: int) -> list[str]:
    async with loop.services.db.transaction() as session:
        return list((await session.execute(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)
                                            .order_by(TicketEvent.id))).scalars())


async def test_a_partner_works_only_its_own_tickets_in_the_console(loop):
    await partner(loop, "jinan", "WY-JA")
    await partner(loop, "cgw", "dept:河西区城管委")
    await loop.link("jinan", "o_jinan")
    mine = await handed(loop)
    theirs = await handed(loop, "o_res2", "dept:河西区城管委", "投诉 小区门口占道经营，晚上很吵")
    client, csrf = await loop.console("jinan")

    home = await client.get("/console/", allow_redirects=False)
    assert home.headers["Location"] == "/console/partner/tickets"
    listing = await (await client.get("/console/partner/tickets")).text()
    assert mine.number in listing and theirs.number not in listing and "谊景社区" in listing
    assert "投诉工单" not in listing  # the menu is the partner's: 承办工单, 绑定微信, 修改密码
    # another organisation's ticket is as absent as one that does not exist: page, action, media, API
    headers = await loop.bearer("jinan")
    for url in (f"/console/partner/tickets/{theirs.id}", "/console/partner/tickets/999999",
                f"/console/partner/tickets/{theirs.id}/media/1"):
        assert (await client.get(url)).status == 404, url
    refused = await client.post(f"/console/partner/tickets/{theirs.id}/actions/reply",
                                data={"_csrf": csrf, "text": "x"})
    assert refused.status == 404
    assert (await client.get(f"/api/v1/partner/tickets/{theirs.id}", headers=headers)).status == 404
    assert (await client.post(f"/api/v1/partner/tickets/{theirs.id}/actions/partner_sign", json={},
                              headers=headers)).status == 404
    assert (await client.get(f"/console/tickets/{mine.id}")).status == 403  # the staff's pages stay closed
    body = await (await client.get("/api/v1/partner/tickets", headers=headers)).json()
    assert [t["number"] for t in body["tickets"]] == [mine.number]

    page = await (await client.get(f"/console/partner/tickets/{mine.id}")).text()
    assert MASKED in page and PHONE not in page and "社区未共享" in page
    assert f'action="/console/partner/tickets/{mine.id}/media" enctype="multipart/form-data"' in page  # evidence
    # 签收 → 要求补充信息 (the resident is asked; their 补充 reaches the partner) → 回复 → evidence → 报告办结
    page = await post(client, csrf, f"/console/partner/tickets/{mine.id}/actions/partner_sign")
    assert "已签收" in page and "承办单位签收" in page
    page = await post(client, csrf, f"/console/partner/tickets/{mine.id}/actions/ask", text="请问是几单元的楼道？")
    assert "已请居民补充" in page
    asked = [b for b in await pushes(loop, f"ticket:{mine.id}") if "几单元" in b.text]
    assert asked and "津安" not in asked[0].text
    assert "已收到您的补充" in await loop.bot.say("o_res", f"补充 {mine.number} 2单元三楼")
    told = [b for b in await pushes(loop, f"ticket:{mine.id}:partner") if "居民已补充" in b.text]
    assert told and "2单元三楼" in told[0].text and f"/console/partner/tickets/{mine.id}" in told[0].link
    page = await post(client, csrf, f"/console/partner/tickets/{mine.id}/actions/reply", text="明天上午上门更换灯具")
    assert "已答复居民" in page
    [answer] = [b for b in await pushes(loop, f"ticket:{mine.id}") if "明天上午" in b.text]
    assert answer.text.startswith("谊景社区答复您的投诉") and "津安" not in answer.text
    up = await client.post(f"/console/partner/tickets/{mine.id}/media", data={"_csrf": csrf, "file": io.BytesIO(PNG)})
    assert "已上传照片" in await up.text()
    async with loop.services.db.transaction() as session:
        [kept] = (await session.execute(select(TicketMedia).where(TicketMedia.ticket_id == mine.id))).scalars()
    assert kept.source == "staff" and kept.added_by == "staff:jinan" and kept.content_type == "image/png"
    got = await client.get(f"/console/partner/tickets/{mine.id}/media/{kept.id}")
    assert got.status == 200 and await got.read() == PNG
    page = await post(client, csrf, f"/console/partner/tickets/{mine.id}/actions/partner_done", text="灯具已更换")
    assert "已报告办结" in page and "等待社区核实" in page
    again = await client.post(f"/api/v1/partner/tickets/{mine.id}/actions/partner_done", json={"text": "再报一次"},
                              headers=headers)
    assert again.status == 409 and "已报告办结" in (await again.json())["message"]
    assert "已报告办结，待社区核实" in await loop.bot.say("o_jinan", "待办")
    resolve = await client.post(f"/console/partner/tickets/{mine.id}/actions/resolve", data={"_csrf": csrf})
    assert resolve.status == 404  # not a partner's action
    assert (await ticket_of(loop, mine.id)).status == "assigned"
    assert ["partner_sign", "ask", "supplement", "reply", "media_added", "partner_done"] == [
        k for k in await kinds(loop, mine.id) if k in ("partner_sign", "ask", "supplement", "reply", "media_added",
                                                       "partner_done")]
    assert await audited(loop, "jinan") == ["ticket.partner_sign", "ticket.ask", "ticket.reply", "ticket.media",
                                            "ticket.partner_done"]
    # community staff have no partner pages
    staff_client, _ = await loop.console("yijing")
    assert (await staff_client.get("/console/partner/tickets")).status == 403
    assert (await staff_client.get("/api/v1/partner/tickets", headers=await loop.bearer("yijing"))).status == 403


async def test_the_community_sends_back_and_shares_the_phone_per_ticket(loop):
    await partner(loop, "jinan", "WY-JA")
    await loop.link("jinan", "o_jinan")
    ticket = await handed(loop)
    partner_client, _ = await loop.console("jinan")
    partner_api, staff_api = await loop.bearer("jinan"), await loop.bearer("yijing")
    client, csrf = await loop.console("yijing")
    base = f"/api/v1/tickets/{ticket.id}/actions"

    early = await client.post(f"{base}/send_back", json={"reason": "x"}, headers=staff_api)
    assert early.status == 409 and "尚未报告办结" in (await early.json())["message"]
    await partner_client.post(f"/api/v1/partner/tickets/{ticket.id}/actions/partner_done", json={"text": "已修好"},
                              headers=partner_api)
    page = await (await client.get(f"/console/tickets/{ticket.id}")).text()
    assert "已报告办结" in page and "退回承办单位" in page and "确认办结" in page
    empty = await client.post(f"{base}/send_back", json={"reason": " "}, headers=staff_api)
    assert empty.status == 422 and "退回理由" in (await empty.json())["message"]
    sent = await client.post(f"{base}/send_back", json={"reason": "三楼的灯还是不亮"}, headers=staff_api)
    body = await sent.json()
    assert sent.status == 200 and "已退回" in body["message"] and body["ticket"]["partner_reported"] is False
    back = [b for b in await pushes(loop, f"ticket:{ticket.id}:partner") if "退回" in b.text]
    assert back and "三楼的灯还是不亮" in back[0].text
    assert not [b for b in await pushes(loop, f"ticket:{ticket.id}") if "不亮" in b.text]  # not the resident's
    assert "send_back" in await kinds(loop, ticket.id) and "ticket.send_back" in await audited(loop, "yijing")
    page = await (await partner_client.get(f"/console/partner/tickets/{ticket.id}")).text()
    assert "退回承办单位" in page and "三楼的灯还是不亮" in page and "data-action=\"partner_done\"" in page

    # the phone: masked until the community shares it on this ticket; shown in the console and in 「待办」
    assert PHONE not in await loop.bot.say("o_jinan", "待办")
    page = await post(client, csrf, f"/console/tickets/{ticket.id}/actions/share_phone", share="1")
    assert "已向承办单位共享居民电话" in page and "停止共享电话" in page
    page = await (await partner_client.get(f"/console/partner/tickets/{ticket.id}")).text()
    assert PHONE in page and "社区已共享" in page
    assert PHONE in await loop.bot.say("o_jinan", "待办")
    shared = [b for b in await pushes(loop, f"ticket:{ticket.id}:partner") if "共享" in b.text]
    assert shared and PHONE not in shared[0].text  # the number is read live, never kept in the outbox
    await post(client, csrf, f"/console/tickets/{ticket.id}/actions/share_phone", share="0")
    page = await (await partner_client.get(f"/console/partner/tickets/{ticket.id}")).text()
    assert PHONE not in page and MASKED in page
    await post(client, csrf, f"/console/tickets/{ticket.id}/actions/share_phone", share="1")
    assert (await audited(loop, "yijing")).count("ticket.share_phone") == 3
    # the resident erases their data: nothing left to share, nothing shown
    async with loop.services.db.transaction() as session:
        resident = (await session.execute(select(Resident).where(Resident.openid == "o_res"))).scalar_one()
        await erase_resident(session, resident, loop.clock.state["now"])
    erased = await ticket_of(loop, ticket.id)
    assert erased.phone_shared_at is None and service.partner_phone(erased) is None
    detail = await (await partner_client.get(f"/api/v1/partner/tickets/{ticket.id}", headers=partner_api)).json()
    assert detail["phone"] is None and detail["phone_shared"] is False and PHONE not in str(detail)
    assert PHONE not in await loop.bot.say("o_jinan", "待办")
    refused = await client.post(f"{base}/share_phone", json={"share": True}, headers=staff_api)
    assert refused.status == 409 and "删除个人信息" in (await refused.json())["message"]
    # a new hand-over starts unshared and unreported
    await act(loop, ticket.id, "assign", "yijing", partner="dept:河西区城管委")
    moved = await ticket_of(loop, ticket.id)
    assert moved.partner_done_at is None and moved.phone_shared_at is None
    assert (await partner_client.get(f"/console/partner/tickets/{ticket.id}")).status == 404  # no longer jinan's


async def _sandbox_texts(loop, openid: str) -> str:
    sender = Sender(loop.services)
    try:
        await sender.run(until_idle=True)
    finally:
        await sender.close()
    async with aiohttp.ClientSession() as http:
        got = await (await http.get(str(loop.sandbox.make_url("/sandbox/messages")), params={"openid": openid})).json()
    return str(got)


async def test_complaint_to_rating_through_the_webhook_and_the_partner_console(loop):
    await partner(loop, "jinan", "WY-JA")
    await bind(loop.services, "o_res")
    ticket = await file(loop, "o_res")  # through the webhook, as WeChat delivers it
    community, ccsrf = await loop.console("yijing")
    await post(community, ccsrf, f"/console/tickets/{ticket.id}/actions/sign")
    page = await post(community, ccsrf, f"/console/tickets/{ticket.id}/actions/assign", partner="property")
    assert "已交办给津安物业" in page or "津安" in page
    jinan, csrf = await loop.console("jinan")
    here = f"/console/partner/tickets/{ticket.id}"
    assert ticket.number in await (await jinan.get("/console/partner/tickets")).text()
    await post(jinan, csrf, f"{here}/actions/partner_sign")
    await post(jinan, csrf, f"{here}/actions/reply", text="物业电工下午两点到三号楼检修")
    assert "物业电工下午两点到三号楼检修" in await _sandbox_texts(loop, "o_res")  # the resident's WeChat
    await post(jinan, csrf, f"{here}/actions/partner_done", text="已更换三号楼楼道灯")
    page = await post(community, ccsrf, f"/console/tickets/{ticket.id}/actions/send_back", reason="二楼的灯也不亮")
    assert "已退回" in page
    page = await (await jinan.get(here)).text()
    assert "二楼的灯也不亮" in page
    await post(jinan, csrf, f"{here}/actions/partner_done", text="二楼、三楼楼道灯均已更换")
    page = await post(community, ccsrf, f"/console/tickets/{ticket.id}/actions/resolve",
                      text="经核实，楼道灯已全部更换")
    assert "已办结" in page
    assert "请评价" in await _sandbox_texts(loop, "o_res")
    assert "感谢您的评价" in await loop.bot.say("o_res", "5 修得很快")
    final = await ticket_of(loop, ticket.id)
    assert final.status == "closed" and final.rating == 5
    steps = [k for k in await kinds(loop, ticket.id) if k in ("assign", "partner_sign", "reply", "partner_done",
                                                               "send_back", "resolve", "rate")]
    assert steps == ["assign", "partner_sign", "reply", "partner_done", "send_back", "partner_done", "resolve",
                     "rate"]
