"""The sender against the sandbox: channels, unfollowed residents, transient errors, receipts."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Resident


async def test_one_broadcast_reaches_everyone_once(world):
    await world.seed(45)
    bid = await world.broadcast()
    stats = await world.run()
    assert stats.sent == 45
    openids = [d.openid for d in world.delivered()]
    assert len(openids) == len(set(openids)) == 45
    rep = await world.report(bid)
    assert rep["status"] == "done" and rep["counts"]["sent"] == 45 and rep["progress"] == 1.0
    assert all(r.msgid for r in await world.rows(bid))


async def test_channel_follows_the_48_hour_window(world):
    fresh = await world.seed(3, prefix="o_fresh", window_age=timedelta(hours=47, minutes=50))
    stale = await world.seed(3, prefix="o_stale", window_age=timedelta(hours=48, minutes=1))
    used = await world.seed(2, prefix="o_used", window_age=timedelta(hours=1), window_used=4)  # 1 kept in reserve
    never = await world.seed(2, prefix="o_never")
    bid = await world.broadcast()
    await world.run()
    kinds = {d.openid[:6]: d.kind for d in world.delivered()}
    assert kinds == {"o_fres": "custom", "o_stal": "template", "o_used": "template", "o_neve": "template"}
    rows = {r.resident_id: r for r in await world.rows(bid)}
    assert {rows[i].channel for i in fresh} == {"custom"} and all(rows[i].msgid is None for i in fresh)
    assert {rows[i].channel for i in stale + used + never} == {"template"}
    # the window use is tracked: 4 more custom messages would exceed the reserve
    bid2 = await world.broadcast()
    await world.run()
    assert {r.channel for r in await world.rows(bid2) if r.resident_id in fresh} == {"custom"}


async def test_a_window_wechat_reports_closed_falls_back_to_template(world):
    ids = await world.seed(2, prefix="o_gone", window_age=timedelta(hours=1))
    for d in world.sb.state.users.values():
        d.window.grants.clear()  # WeChat disagrees: 45015
    bid = await world.broadcast()
    await world.run()
    assert [d.kind for d in world.delivered()] == ["template", "template"]
    assert {r.channel for r in await world.rows(bid)} == {"template"}
    async with world.db.transaction() as session:  # the window is now known closed: no custom attempt next time
        from storage.delivery_models import CsWindow
        assert {w.used for w in await session.scalars(select(CsWindow).where(CsWindow.resident_id.in_(ids)))} == {99}


async def test_unfollowed_residents_are_skipped_and_marked(world):
    await world.seed(3, prefix="o_ok")
    gone = await world.seed(2, prefix="o_left", followed=False)
    bid = await world.broadcast()
    await world.run()
    rep = await world.report(bid)
    assert rep["counts"]["sent"] == 3 and rep["counts"]["skipped"] == 2
    assert rep["reasons"]["skipped"] == {"not_following": 2}
    assert {r.errcode for r in await world.rows(bid) if r.resident_id in gone} == {43004}
    async with world.db.transaction() as session:
        flags = await session.scalars(select(Resident.subscribed).where(Resident.id.in_(gone)))
        assert set(flags) == {False}
    # a second broadcast skips them at expansion, without asking WeChat
    before = world.sb.requests["/cgi-bin/message/template/send"]
    bid2 = await world.broadcast()
    await world.run()
    assert world.sb.requests["/cgi-bin/message/template/send"] - before == 3
    assert (await world.report(bid2))["reasons"]["skipped"] == {"not_following": 2}


async def test_no_channel_and_unknown_openid_are_skipped_with_reasons(world):
    await world.seed(2, prefix="o_meet")
    await world.seed(1, prefix="o_ghost", in_sandbox=False)
    bid = await world.broadcast("meeting")  # no template configured for meetings, nobody has a window
    await world.run()
    assert (await world.report(bid))["reasons"]["skipped"] == {"no_channel": 3}
    bid = await world.broadcast("notice")  # the sandbox never heard of o_ghost: 40003
    await world.run()
    assert (await world.report(bid))["reasons"]["skipped"] == {"invalid_openid": 1}


async def test_transient_errors_are_retried_then_failed(world):
    await world.seed(10)
    world.sb.faults.add(_fault("message/template/send", errcode=-1, count=4))
    world.sb.faults.add(_fault("message/template/send", drop=True, count=3))
    bid = await world.broadcast()
    await world.run()
    rep = await world.report(bid)
    assert rep["counts"]["sent"] == 10 and rep["counts"]["failed"] == 0
    assert len({d.openid for d in world.delivered()}) == 10
    assert max(r.attempts for r in await world.rows(bid)) >= 2
    # a WeChat that stays busy: failed after max attempts, with the reason; retry-failed sends them later
    await world.seed(3, prefix="o_busy")
    world.sb.faults.add(_fault("message/template/send", errcode=-1))
    bid = await world.broadcast()
    await world.run(LINLI_DELIVERY_MAX_ATTEMPTS="3")
    rep = await world.report(bid)
    assert rep["counts"]["failed"] == 13 and rep["reasons"]["failed"] == {"system_busy": 13}
    assert {r.attempts for r in await world.rows(bid)} == {3}
    world.sb.faults.clear()
    from datetime import datetime, timezone

    from bot.delivery.outbox import retry_failed
    async with world.db.transaction() as session:
        assert await retry_failed(session, bid, datetime.now(timezone.utc)) == 13
    await world.run()
    rep = await world.report(bid)
    assert rep["counts"]["sent"] == 13 and rep["status"] == "done"


async def test_refused_subscribe_message_falls_back_to_template(world):
    ids = await world.seed(3, prefix="o_sub")
    world.sb.state.users["o_sub00001"].refused_templates = {"SUB_SURVEY"}
    bid = await world.broadcast("survey")
    await world.run()
    kinds = sorted((d.openid, d.kind) for d in world.delivered())
    assert kinds == [("o_sub00000", "subscribe"), ("o_sub00001", "template"), ("o_sub00002", "subscribe")]
    assert (await world.report(bid))["counts"]["sent"] == 3 and ids


def _fault(endpoint, **kw):
    from bot.sandbox.faults import Fault
    return Fault.from_json({"endpoint": endpoint, **kw})
