"""Chat preferences (订阅 / 退订), the 客服 window fed by the dispatcher, and TEMPLATESENDJOBFINISH receipts."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.context import Services
from bot.delivery import Content, Scope, create_broadcast
from bot.delivery.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.sandbox.hub import SANDBOX
from handlers import common, registration, subscriptions
from storage.delivery_models import CsWindow, Delivery
from storage.repositories import residents
from tests.delivery.conftest import EXTRA


def routers():
    return [common.build_router(), subscriptions.build_router(), registration.build_router(),
            common.fallback_router()]


async def test_mute_and_unmute_categories(start_bot, settings):
    bot = await start_bot(settings, routers=routers())
    await bot.dialog("o_pref", [
        ("订阅", "公示：接收中"),
        ("退订", "请告诉我要退订哪一类"),
        ("退订 会议", "已退订「会议」"),
        ("退订会议", "此前已退订「会议」"),
        ("订阅", "会议：已退订"),
        ("退订 投诉进度", "无法退订"),
        ("退订 天气", "没有「天气」这一类消息"),
        ("订阅 会议", "已恢复接收「会议」"),
        ("订阅 会议", "无需重复订阅"),
    ])
    reply = await bot.say("o_pref", "订阅号怎么用")  # not a command: falls through to the next router
    assert reply.startswith("抱歉，没有理解您的意思")


async def test_muted_residents_are_skipped_but_ticket_updates_still_arrive(start_bot, settings, sandbox):
    bot = await start_bot(settings, routers=routers())
    for openid in ("o_m1", "o_m2"):
        await bot.say(openid, "你好")
    await bot.say("o_m1", "退订 公示")
    await bot.say("o_m1", "退订 投诉进度")
    db = bot.services.db
    async with db.transaction() as session:
        ids = [(await residents.get(session, o)).id for o in ("o_m1", "o_m2")]
        notice = await create_broadcast(session, category="notice", scope=Scope.of_residents(ids),
                                        content=Content("停水通知"), created_by="test")
        ticket = await create_broadcast(session, category="ticket", scope=Scope.of_residents(ids[:1]),
                                        content=Content("您的投诉已受理"), created_by="test")
    s = settings.with_env(EXTRA)
    sender = Sender(Services(settings=s, db=db), DeliveryConfig.from_settings(s))
    await sender.run(until_idle=True)
    await sender.close()
    async with db.transaction() as session:
        rows = {(d.broadcast_id, d.resident_id): d for d in await session.scalars(select(Delivery))}
        windows = {w.resident_id: w.used for w in await session.scalars(select(CsWindow))}
    assert (rows[(notice.id, ids[0])].status, rows[(notice.id, ids[0])].reason) == ("skipped", "muted")
    assert rows[(notice.id, ids[1])].status == "sent" and rows[(notice.id, ids[1])].channel == "custom"
    assert rows[(ticket.id, ids[0])].status == "sent"
    # the dispatcher opened each window on the resident's message; the sends were counted against it
    assert windows == {ids[0]: 1, ids[1]: 1}


async def test_templatesendjobfinish_updates_the_delivery(start_bot, settings, sandbox):
    bot = await start_bot(settings, routers=routers())
    hub = sandbox.app[SANDBOX]
    hub.pusher.url = str(bot.server.make_url("/wechat"))  # WeChat pushes job-finish events to linli
    db = bot.services.db
    for openid, blocks in (("o_tpl1", False), ("o_tpl2", True)):
        hub.state.ensure_user(openid).blocks_templates = blocks
    async with db.transaction() as session:
        now = bot.services.clock()
        ids = [(await residents.with_conversation(session, o, now))[0].id for o in ("o_tpl1", "o_tpl2")]
        b = await create_broadcast(session, category="notice", scope=Scope.of_residents(ids),
                                   content=Content("公示"), created_by="test")
    s = settings.with_env(EXTRA)
    sender = Sender(Services(settings=s, db=db), DeliveryConfig.from_settings(s))
    await sender.run(until_idle=True)
    await sender.close()
    await hub.pusher.drain()
    await asyncio.sleep(0.1)
    async with db.transaction() as session:
        rows = {d.resident_id: d for d in await session.scalars(select(Delivery).where(Delivery.broadcast_id == b.id))}
    assert (rows[ids[0]].status, rows[ids[0]].final_status) == ("sent", "success")
    assert (rows[ids[1]].status, rows[ids[1]].reason, rows[ids[1]].final_status) == (
        "failed", "user_block", "failed:user block")
    assert hub.pusher.results["sent"] == 2
