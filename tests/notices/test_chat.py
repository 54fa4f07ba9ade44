"""Residents' commands (公示, 公示 收支, a number opens one, menu buttons, 会议纪要) and the push end to end: the
sender delivers to residents in scope through the sandbox, never to another community, never to the muted."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.context import Services
from bot.delivery.config import DeliveryConfig
from bot.delivery.sender import Sender
from handlers import common, notices, registration, subscriptions
from handlers.console.authz import load_scope
from handlers.notices import service
from storage.models import Estate, Resident, ResidentRole, Staff
from tests.delivery.conftest import EXTRA
from tests.notices.conftest import NOW
from tests.support import fixed_clock


def routers():
    return [common.build_router(), subscriptions.build_router(), registration.build_router(),
            notices.build_router(), common.fallback_router()]


async def start(start_bot, settings):
    return await start_bot(settings, routers=routers(), clock=fixed_clock(NOW + timedelta(days=1)))


async def bind(bot, openid: str, estate_code: str, role: str = "owner") -> int:
    async with bot.services.db.transaction() as session:
        estate = await session.scalar(select(Estate).where(Estate.code == estate_code))
        row = Resident(openid=openid, community_id=estate.community_id, estate_id=estate.id,
                       role=ResidentRole(role), subscribed=True, bound_at=NOW)
        session.add(row)
        await session.flush()
        return row.id


async def actor(bot, username: str) -> service.Actor:
    async with bot.services.db.transaction() as session:
        staff = await session.scalar(select(Staff).where(Staff.username == username))
        scope = await load_scope(session, staff)
    return service.Actor(f"staff:{username}", staff.level, staff.id, scope.community_ids)


async def publish(bot, author: str, approver: str, *, category: str, title: str, level: str, code: str,
                  minutes: int = 0) -> service.Notice:
    from bot.delivery.outbox import scope_from_codes

    a, b = await actor(bot, author), await actor(bot, approver)
    async with bot.services.db.transaction() as session:
        ids = (await scope_from_codes(session, level, [code])).ids
        notice = await service.create_draft(session, a, category=category, title=title, body=f"{title}的正文。\n第二行说明",
                                            scope_level=level, scope_ids=ids, now=NOW + timedelta(minutes=minutes))
        await service.approve(session, b, notice, now=NOW + timedelta(minutes=minutes),
                              base_url=bot.services.settings.base_url)
        return notice


async def test_listing_filtering_and_opening(start_bot, settings):
    bot = await start(start_bot, settings)
    await bind(bot, "o_yj", "HX-YYL-YJ-01")
    await bind(bot, "o_pj", "HX-YYL-PJ-01")
    await publish(bot, "yijing", "youyilu", category="finance", title="10月收支公示", level="community",
                  code="HX-YYL-YJ")
    await publish(bot, "youyilu", "hexi", category="general", title="友谊路街道停水通知", level="street",
                  code="HX-YYL", minutes=5)
    secret = await publish(bot, "yijing", "youyilu", category="property", title="友谊新城电梯维保", level="estate",
                           code="HX-YYL-YJ-02", minutes=10)
    await bot.dialog("o_yj", [
        ("公示", "1. [通知] 友谊路街道停水通知"),
        ("2", "【收支公示】10月收支公示"),
        ("2", "查看全文：http://127.0.0.1:8080/n/"),
        ("公示 收支", "本社区最新收支公示：\n1. 10月收支公示"),
        ("1", "发布：谊景社区居民委员会"),
        ("公示 业委会", "本社区暂时没有业委会工作公开"),
        ("公示 天气", "没有「天气」这一类公示"),
    ])
    listing = await bot.say("o_yj", "公示")
    assert "友谊新城电梯维保" not in listing  # another estate's notice
    listing = await bot.say("o_pj", "公示")
    assert "停水通知" in listing and "10月收支公示" not in listing  # street-wide yes, YJ's own no
    reply = await bot.say("o_yj", "公示是什么")
    assert "本社区最新公示：" not in reply  # a question, not a filter: left to the next router
    assert secret.public_id not in listing


async def test_menu_buttons_and_unbound_residents(start_bot, settings):
    bot = await start(start_bot, settings)
    reply = await bot.say("o_new", "公示")
    assert "请先回复「绑定」" in reply
    await bind(bot, "o_ls", "HX-MJ-LS-01")
    resp = await bot.sim.event("o_ls", "CLICK", "MEETINGS")
    assert "本社区暂时没有联席会议纪要" in resp.text
    resp = await bot.sim.event("o_ls", "CLICK", "NOTICES")
    assert "本社区暂时没有公示" in resp.text and "收支" in resp.text


async def test_push_end_to_end_respects_scope_and_mutes(start_bot, settings, sandbox):
    bot = await start(start_bot, settings)
    for openid, estate in (("o_a1", "HX-YYL-YJ-01"), ("o_a2", "HX-YYL-YJ-02"), ("o_b1", "HX-YYL-PJ-01"),
                           ("o_mute", "HX-YYL-YJ-03")):
        await bind(bot, openid, estate)
        await bot.say(openid, "你好")  # opens the 客服 window
    await bot.dialog("o_mute", [("退订 公示", "已退订「公示」")])
    notice = await publish(bot, "yijing", "youyilu", category="finance", title="10月收支公示", level="community",
                           code="HX-YYL-YJ")
    s = settings.with_env(EXTRA)
    sender = Sender(Services(settings=s, db=bot.services.db), DeliveryConfig.from_settings(s))
    await sender.run(until_idle=True)
    await sender.close()
    for openid in ("o_a1", "o_a2"):
        texts = [m.get("text", {}).get("content", "") if isinstance(m.get("text"), dict) else str(m)
                 for m in await bot.sim.pushed(openid)]
        assert any("10月收支公示" in t and f"/n/{notice.public_id}" in t for t in texts), texts
    for openid in ("o_b1", "o_mute"):
        assert not any("10月收支公示" in str(m) for m in await bot.sim.pushed(openid))


async def test_commands_of_earlier_routers_work_inside_the_notice_list(start_bot, settings):
    bot = await start(start_bot, settings)
    await bind(bot, "o_x", "HX-YYL-YJ-01")
    await bot.dialog("o_x", [("公示", "本社区暂时没有公示")])
    await publish(bot, "yijing", "youyilu", category="finance", title="收支", level="community", code="HX-YYL-YJ")
    await bot.dialog("o_x", [("公示", "回复序号查看详情"), ("退订 公示", "已退订「公示」")])
