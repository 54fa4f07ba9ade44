"""One scheduler in the whole deployment, with real `linli worker` processes: exactly one holds the lease and keeps
it; after `kill -9` of the holder the other takes over within a minute (default lease timings), and a broadcast
scheduled for just after the crash is started once and reaches every recipient exactly once."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from bot.delivery import Scope
from storage.delivery_models import DeliveryLease
from tests.delivery.conftest import EXTRA, dsettings, world  # noqa: F401  (fixtures)
from tests.ops.conftest import alive, start, wait_for

TAKEOVER_LIMIT = 60.0


async def _holder(db) -> tuple[int, datetime] | None:
    async with db.reading() as session:
        lease = await session.get(DeliveryLease, "scheduler")
        if lease is None or lease.lease_until is None:
            return None
        return int(lease.owner.split(":")[1]), lease.lease_until


async def test_one_scheduler_and_takeover_after_kill_9(world, tmp_path, procs):  # noqa: F811  (the fixture)
    ids = await world.seed(30, prefix="o_sched")
    settings = world.services.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
    env.update(EXTRA, LINLI_DATABASE_URL=settings.database_url, LINLI_WECHAT_API_BASE=settings.wechat_api_base,
               LINLI_DELIVERY_LEASE_SECONDS="5")
    workers = [start(["-m", "bot.delivery.worker"], env, tmp_path / f"worker{i}.log", tmp_path) for i in range(2)]
    procs.extend(workers)
    pids = {w.pid for w in workers}

    first = await wait_for(lambda: _holder(world.db), 30, what="a lease holder")
    assert first[0] in pids
    seen, renewals = set(), set()
    deadline = time.monotonic() + 12  # longer than one sync round (10 s): the lease is renewed, never handed over
    while time.monotonic() < deadline:
        holder, until = await _holder(world.db)
        seen.add(holder)
        renewals.add(until)
        await asyncio.sleep(0.5)
    assert seen == {first[0]} and len(renewals) > 1

    # a broadcast due 3 s after the crash: nobody may start it twice around the take-over
    bid = await world.broadcast(scope=Scope.of_residents(ids), send_at=datetime.now(timezone.utc) + timedelta(seconds=3))
    victim = next(w for w in workers if w.pid == first[0])
    survivor = next(w for w in workers if w.pid != first[0])
    killed_at = time.monotonic()
    os.kill(victim.pid, signal.SIGKILL)

    async def taken_over():
        found = await _holder(world.db)
        return found and found[0] == survivor.pid and found
    await wait_for(taken_over, TAKEOVER_LIMIT + 5, step=0.5, what="the survivor to take the lease over")
    took = time.monotonic() - killed_at
    assert took < TAKEOVER_LIMIT, f"take-over took {took:.1f}s"
    assert not alive(victim.pid)

    async def done():
        return (await world.report(bid))["status"] == "done"
    await wait_for(done, 60, step=0.5, what="the scheduled broadcast to finish")
    rep = await world.report(bid)
    assert rep["counts"]["sent"] == 30
    received = Counter(d.openid for d in world.delivered())
    assert len(received) == 30 and set(received.values()) == {1}
    assert survivor.stop(signal.SIGTERM) == 0
    print(f"take-over after kill -9: {took:.1f} s")
