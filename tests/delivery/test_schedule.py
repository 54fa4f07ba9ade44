"""Scheduling: send at a time (APScheduler timers over the table), quota pause and resume, one scheduler only."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from bot.context import Services
from bot.delivery.quota import next_reset
from bot.delivery.scheduler import BroadcastScheduler


def test_quota_resets_after_midnight_beijing_time():
    now = datetime(2026, 3, 1, 15, 30, tzinfo=timezone.utc)  # 23:30 in Beijing
    assert next_reset(now) == datetime(2026, 3, 1, 16, 1, tzinfo=timezone.utc)
    assert next_reset(datetime(2026, 3, 1, 16, 5, tzinfo=timezone.utc)) == datetime(2026, 3, 2, 16, 1,
                                                                                   tzinfo=timezone.utc)


async def test_daily_quota_pauses_then_resumes_by_itself(world):
    world.sb.state.template_quota = 5
    await world.seed(8)
    bid = await world.broadcast()
    await world.run()
    rep = await world.report(bid)
    assert rep["status"] == "paused" and rep["pause_reason"] == "daily_quota"
    assert rep["counts"]["sent"] == 5 and rep["counts"]["queued"] == 3
    assert rep["reasons"]["queued"] == {"daily_quota": 3}
    paused_until = datetime.fromisoformat(rep["paused_until"])
    assert paused_until == next_reset(datetime.now(timezone.utc))

    sched = BroadcastScheduler(world.services)
    await sched.start()  # arms a timer at the reset
    try:
        assert sched.timers()[f"broadcast-{bid}"] == paused_until
    finally:
        await sched.stop()
    # the next day, in WeChat and here
    world.sb.state.offset += 86400
    later = Services(settings=world.services.settings, db=world.db, clock=lambda: paused_until + timedelta(seconds=1))
    sched = BroadcastScheduler(later)
    assert await sched.sync() == [bid]
    await world.run()
    rep = await world.report(bid)
    assert rep["status"] == "done" and rep["counts"]["sent"] == 8
    assert len({d.openid for d in world.delivered()}) == 8


async def test_a_broadcast_sent_at_a_time(world):
    await world.seed(3)
    bid = await world.broadcast(send_at=datetime.now(timezone.utc) + timedelta(seconds=0.5))
    assert (await world.report(bid))["status"] == "scheduled"
    await world.run()
    assert world.delivered() == []  # nothing is due yet: the sender alone does not start it
    sched = BroadcastScheduler(world.services, sync_seconds=60)
    await sched.start()
    try:
        assert f"broadcast-{bid}" in sched.timers()
        for _ in range(40):
            if (await world.report(bid))["status"] == "sending":
                break
            await asyncio.sleep(0.05)
    finally:
        await sched.stop()
    await world.run()
    assert (await world.report(bid))["counts"]["sent"] == 3


async def test_only_one_scheduler_acts(world):
    first = BroadcastScheduler(world.services, lease_seconds=0.5)
    second = BroadcastScheduler(world.services, lease_seconds=0.5)
    await first.sync()
    await second.sync()
    assert (first.leader, second.leader) == (True, False)
    await first.sync()  # renewing keeps it
    assert first.leader
    await asyncio.sleep(0.6)  # the first one died without releasing: its lease lapses
    await second.sync()
    assert second.leader
    await first.sync()
    assert not first.leader
