"""Pushes to linked staff: every kind reaches a linked staff member of the right jurisdiction (through the outbox
and the delivery worker into the sandbox), never an unlinked or out-of-jurisdiction one; each kind can be switched
off; quiet hours hold a push until they end; each push carries the console link."""
from __future__ import annotations

from datetime import timedelta

import aiohttp
from sqlalchemy import select

from bot.delivery.sender import Sender
from handlers.notices.jobs import missing_meetings
from handlers.tickets import service
from storage.delivery_models import Broadcast
from storage.models import Resident, Staff
from storage.repositories import staff_link as repo
from storage.ticket_models import Ticket
from tests.staff.conftest import NOW
from tests.tickets.conftest import bind, staff_actor


async def resident_id(loop, openid: str) -> int:
    async with loop.services.db.transaction() as session:
        return (await session.execute(select(Resident.id).where(Resident.openid == openid))).scalar_one()


async def pushes(loop, like: str) -> list[Broadcast]:
    async with loop.services.db.transaction() as session:
        return list((await session.execute(select(Broadcast).where(Broadcast.source.like(like))
                                            .order_by(Broadcast.id))).scalars())


def reached(broadcasts: list[Broadcast]) -> set[int]:
    return {rid for b in broadcasts for rid in b.scope["residents"]}


async def file(loop, openid: str, text: str = "投诉 3号楼楼道灯坏了三天了，电话13900001111") -> Ticket:
    await loop.bot.say(openid, text)
    assert "已受理" in await loop.bot.say(openid, "确认")
    async with loop.services.db.transaction() as session:
        return (await session.execute(select(Ticket).order_by(Ticket.id.desc()).limit(1))).scalar_one()


async def act(loop, ticket_id: int, action: str, username: str, **params) -> str:
    async with loop.services.db.transaction() as session:
        ticket = await session.get(Ticket, ticket_id)
        return await service.perform(session, loop.services, ticket, action, await staff_actor(session, username),
                                     loop.clock.state["now"], **params)


async def world(loop) -> dict[str, int]:
    """yijing (谊景社区), youyilu (its street), lanshui1 (another street's community) linked; yijing2 not."""
    for username, openid in (("yijing", "o_yj"), ("youyilu", "o_yyl"), ("lanshui1", "o_ls")):
        await loop.link(username, openid)
    await bind(loop.services, "o_res")
    return {name: await resident_id(loop, o) for name, o in (("yijing", "o_yj"), ("youyilu", "o_yyl"),
                                                              ("lanshui1", "o_ls"))}


async def test_every_ticket_kind_reaches_only_the_linked_staff_of_the_jurisdiction(loop):
    ids = await world(loop)
    ticket = await file(loop, "o_res")
    new = await pushes(loop, f"ticket:{ticket.id}:staff")
    assert reached(new) == {ids["yijing"]}  # not the other community's, not the street's, not yijing2 (unlinked)
    assert f"/console/tickets/{ticket.id}" in new[0].link and new[0].link in new[0].text
    assert "新投诉" in new[0].text
    # 交办 to a linked colleague: the assignee alone is told
    await loop.link("yijing2", "o_yj2")
    await act(loop, ticket.id, "assign", "yijing", staff_id=(await loop.staff("yijing2")).id, note="请今天去看")
    assigned = await pushes(loop, f"ticket:{ticket.id}:assignee")
    assert reached(assigned) == {await resident_id(loop, "o_yj2")} and "交办给您" in assigned[0].text
    # 催办 goes to the assignee
    before = len(await pushes(loop, f"ticket:{ticket.id}:staff"))
    await act(loop, ticket.id, "chase", "youyilu", text="请尽快办结")
    chased = (await pushes(loop, f"ticket:{ticket.id}:staff"))[before:]
    assert reached(chased) == {await resident_id(loop, "o_yj2")} and "催办" in chased[0].text
    # escalated: the street's linked staff
    await act(loop, ticket.id, "escalate", "yijing", reason="涉及多个小区")
    up = (await pushes(loop, f"ticket:{ticket.id}:staff"))[before + 1:]
    assert reached(up) == {ids["youyilu"]} and "转至" in up[0].text


async def test_handoff_meeting_and_notice_review_pushes(loop):
    ids = await world(loop)
    await loop.bot.dialog("o_res", [("转人工", "请"), ("小区的公共收益怎么分配", "")])
    handoff = await pushes(loop, "inquiry:%:staff")
    assert reached(handoff) == {ids["yijing"]} and "/console/qa" in handoff[0].link
    # the meeting reminder of the month (from the configured day on)
    day = NOW.replace(day=21) + timedelta(hours=1)
    assert await missing_meetings(loop.services, day) >= 1
    meeting = await pushes(loop, "%")
    meeting = [b for b in meeting if b.category == "meeting"]
    assert ids["yijing"] in reached(meeting) and ids["lanshui1"] in reached(meeting)
    assert ids["youyilu"] not in reached(meeting)  # the reminder is the communities'
    # a notice waiting for approval (the notices' own tests cover who may approve)
    from handlers.notices.jobs import push_to_staff
    async with loop.services.db.transaction() as session:
        staff = [(await session.execute(select(Staff).where(Staff.username == u))).scalar_one()
                 for u in ("yijing", "yijing2")]
        n = await push_to_staff(session, staff, title="有公示等待您审核", text="公示「x」已提交审核", now=NOW,
                                link="http://x/console/notices/1", source="notice-review:1", category="notice")
    assert n == 1  # yijing2 has not linked WeChat


async def test_switched_off_kinds_and_quiet_hours(loop):
    ids = await world(loop)
    yijing = (await loop.staff("yijing")).id
    async with loop.services.db.transaction() as session:
        prefs = await repo.settings_of(session, yijing)
        prefs.muted = ["ticket_new"]
    first = await file(loop, "o_res")
    assert await pushes(loop, f"ticket:{first.id}:staff") == []
    async with loop.services.db.transaction() as session:
        prefs = await repo.settings_of(session, yijing)
        prefs.muted, prefs.quiet_start, prefs.quiet_end = [], "09:00", "11:30"  # it is 10:00 in Beijing
    second = await file(loop, "o_res", "投诉 5号楼电梯又坏了，困了人，电话13900002222")
    [held] = await pushes(loop, f"ticket:{second.id}:staff")
    assert held.status == "scheduled" and reached([held]) == {ids["yijing"]}
    assert held.send_at == NOW + timedelta(hours=1, minutes=30)  # held until 11:30, not dropped


async def test_the_delivery_worker_sends_the_push_to_the_staff_members_wechat(loop):
    await world(loop)
    ticket = await file(loop, "o_res")
    sender = Sender(loop.services)
    try:
        await sender.run(until_idle=True)
    finally:
        await sender.close()
    async with aiohttp.ClientSession() as http:
        got = await (await http.get(str(loop.sandbox.make_url("/sandbox/messages")), params={"openid": "o_yj"})).json()
        other = await (await http.get(str(loop.sandbox.make_url("/sandbox/messages")),
                                      params={"openid": "o_ls"})).json()
    texts = [str(m) for m in got["messages"]] if isinstance(got, dict) and "messages" in got else [str(got)]
    assert any(ticket.number in t and f"/console/tickets/{ticket.id}" in t for t in texts), texts
    assert ticket.number not in str(other)
