"""Phone, walk-in and 12345 intake: staff record a complaint in the console (or the API); it is a ticket like any
other, its channel shown and counted; the caller later links it in WeChat with 「关联投诉」 and the same phone, and
then sees it in 我的投诉 and gets its pushes."""
from __future__ import annotations

from sqlalchemy import select

from handlers import tickets
from handlers.tickets import console_intake, service
from storage.delivery_models import Broadcast
from storage.models import Estate
from storage.ticket_models import Ticket
from tests.console.conftest import build_world
from tests.tickets.conftest import NOW, bind, staff_actor

PHONE = "13812345678"


async def estate_of(services, community_id: int) -> int:
    async with services.db.reading() as session:
        return (await session.execute(select(Estate.id).where(Estate.community_id == community_id)
                                      .order_by(Estate.id))).scalars().first()


def test_the_form_is_checked_field_by_field():
    clean, problems = console_intake.check({"caller_name": "王女士", "phone": "138 1234 5678", "estate_id": "7",
                                            "building": "3号楼", "category": "repair",
                                            "description": "楼道灯坏了三天了", "channel": "phone"})
    assert problems == {} and clean["phone"] == PHONE and clean["estate_id"] == 7
    _, problems = console_intake.check({"channel": "hotline", "phone": "12", "category": "x", "description": "灯",
                                        "estate_id": "abc"})
    assert set(problems) == {"caller_name", "phone", "category", "description", "estate_id"}
    _, problems = console_intake.check({"caller_name": "李", "channel": "phone", "category": "repair",
                                        "description": "楼道灯坏了三天了", "estate_id": 3})
    assert "回电号码" in problems["phone"]
    _, problems = console_intake.check({"caller_name": "李", "channel": "wechat", "category": "repair",
                                        "description": "楼道灯坏了三天了", "estate_id": 3})
    assert "受理渠道" in problems["channel"]


async def test_staff_record_a_phone_complaint_shown_masked_and_counted_by_channel(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url, plugins=[tickets.console])
    estate = await estate_of(world.services, world.community["YJ"])
    outside = await estate_of(world.services, world.community["LS"])
    csrf = await world.login("yijing")
    form = await world.client.get("/console/tickets/intake")
    assert form.status == 200 and "登记来电来访投诉" in await form.text()
    values = {"_csrf": csrf, "caller_name": "王女士", "phone": PHONE, "estate_id": str(estate), "building": "3号楼",
              "category": "repair", "description": "3号楼楼道灯坏了三天了", "channel": "phone"}
    refused = await world.client.post("/console/tickets/intake", data={**values, "estate_id": str(outside)})
    assert refused.status == 400 and "辖区内的小区" in await refused.text()
    bad = await world.client.post("/console/tickets/intake", data={**values, "phone": "12345", "description": ""})
    assert bad.status == 400 and "电话号码有误" in (page := await bad.text()) and "描述太短" in page
    done = await world.client.post("/console/tickets/intake", data=values, allow_redirects=False)
    assert done.status == 303
    async with world.services.db.reading() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        session.expunge(ticket)
    assert (ticket.channel, ticket.caller_name, ticket.building, ticket.phone, ticket.phone_masked) == (
        "phone", "王女士", "3号楼", PHONE, "138****5678")
    assert ticket.resident_id is None and ticket.level == "community" and ticket.status == "received"
    detail = await (await world.client.get(done.headers["Location"])).text()
    assert "关联投诉" in detail and "王女士" in detail and "138****5678" in detail and PHONE not in detail
    listing = await (await world.client.get("/console/tickets")).text()
    assert '<span class="badge">电话</span>' in listing and PHONE not in listing

    api = await world.client.post("/api/v1/tickets", headers=world.bearer("yijing"), json={
        "caller_name": "李先生", "estate_id": estate, "category": "parking", "description": "楼下僵尸车占道半年了",
        "channel": "visit"})
    assert api.status == 201 and (await api.json())["channel"] == "visit"
    wrong = await world.client.post("/api/v1/tickets", headers=world.bearer("yijing"), json={
        "caller_name": "李先生", "estate_id": outside, "category": "parking", "description": "楼下僵尸车占道半年了",
        "channel": "visit"})
    assert wrong.status == 422 and "estate_id" in (await wrong.json())["errors"]
    stats = await (await world.client.get("/api/v1/tickets/stats?since=2026-11-01&until=2026-11-30",
                                          headers=world.bearer("yijing"))).json()
    assert {row["name"]: row["received"] for row in stats["by_channel"]} == {"电话": 1, "来访": 1}


async def test_the_caller_links_the_ticket_in_wechat_and_gets_its_pushes(tbot):
    services = tbot.services
    resident = await bind(services, "o_caller")
    await bind(services, "o_stranger", "HX-YYL-PJ")
    async with services.db.transaction() as session:
        ticket = await service.file_received(session, services, service.Received(
            community_id=resident.community_id, estate_id=resident.estate_id, category="repair",
            description="3号楼楼道灯坏了三天了", channel="phone", received_at=NOW, phone=PHONE, caller_name="王女士"),
            NOW)
    assert "还没有提交过投诉" in await tbot.say("o_caller", "我的投诉")
    # someone of another community with the same number finds nothing
    assert "没有以 138****5678 登记" in await tbot.say("o_stranger", f"关联投诉 {PHONE}")
    await tbot.dialog("o_caller", [
        ("关联投诉", "留下的手机号"),
        ("13900000000", "没有以 139****0000 登记"),
        ("关联投诉", "留下的手机号"),
        (PHONE, ticket.number),
    ])
    assert "已关联 1 件投诉" in await tbot.say("o_caller", "确认")
    assert ticket.number in await tbot.say("o_caller", "我的投诉")
    assert "没有以" in await tbot.say("o_caller", f"关联投诉 {PHONE}")  # nobody links it twice
    async with services.db.transaction() as session:
        fresh = await session.get(Ticket, ticket.id)
        assert fresh.resident_id == resident.id and fresh.resident_ref == resident.ref and fresh.claimed_at
        await service.perform(session, services, fresh, "sign", await staff_actor(session, "yijing"), NOW)
        await service.perform(session, services, fresh, "reply", await staff_actor(session, "yijing"), NOW,
                              text="已安排电工今天下午更换灯泡")
    async with services.db.reading() as session:
        pushed = [b.scope.get("residents") for b in (await session.execute(
            select(Broadcast).where(Broadcast.source == f"ticket:{ticket.id}"))).scalars()]
    assert [resident.id] in pushed
