"""Crash safety with a real process: `kill -9` mid-broadcast, restart, nothing lost; only in-flight requests may
be repeated, and those are counted. Then two workers sharing one broadcast without sending anything twice."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.context import Services
from bot.delivery.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.sandbox.faults import Fault
from storage.db import Database
from storage.models import Resident
from tests.delivery.conftest import EXTRA

ROOT = Path(__file__).resolve().parents[2]


def _env(world, **extra) -> dict:
    settings = world.services.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
    env.update(EXTRA)
    env.update(LINLI_DATABASE_URL=settings.database_url, LINLI_WECHAT_API_BASE=settings.wechat_api_base,
               LINLI_DELIVERY_LANES="1", LINLI_DELIVERY_CONCURRENCY="4", LINLI_DELIVERY_BATCH="20",
               LINLI_DELIVERY_LEASE_SECONDS="1", **extra)
    return env


async def _worker(world, *args):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.delivery.worker", *args, cwd=ROOT, env=_env(world),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_kill_9_mid_broadcast_then_restart(world):
    await world.seed(100, prefix="o_cs", window_age=timedelta(hours=1))
    await world.seed(100, prefix="o_tp")
    bid = await world.broadcast()
    world.sb.faults.add(Fault.from_json({"endpoint": "*", "latency": 0.03}))

    first = await _worker(world)
    for _ in range(400):
        if len(world.delivered()) >= 70:  # mid-batch (batches of 20)
            break
        await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    killed_at = len(world.delivered())
    assert 0 < killed_at < 200, "the crash must come mid-broadcast"
    assert (await world.report(bid))["counts"]["sending"] > 0  # its batch was in flight

    world.sb.faults.clear()
    second = await _worker(world, "--until-idle", "--json")
    out, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode == 0, err.decode()[-2000:]
    assert json.loads(out.decode().strip().splitlines()[-1])["sent"] > 0

    rep = await world.report(bid)
    assert rep["status"] == "done" and rep["counts"]["sent"] == 200
    received = Counter(d.openid for d in world.delivered())
    assert len(received) == 200  # nobody lost
    twice = {o for o, n in received.items() if n > 1}
    resent_ids = [r.resident_id for r in await world.rows(bid) if r.resent]
    async with world.db.transaction() as session:
        resent = set(await session.scalars(select(Resident.openid).where(Resident.id.in_(resent_ids))))
    assert twice <= resent  # only what was in flight at the crash may have arrived twice ...
    assert rep["resent_after_crash"] == len(resent) > 0  # ... and those are counted
    assert all(o.startswith("o_cs") for o in twice)  # template resends are deduped by client_msg_id


async def test_two_workers_share_one_broadcast(world):
    await world.seed(300)
    bid = await world.broadcast()
    world.sb.faults.add(Fault.from_json({"endpoint": "*", "latency": 0.005}))
    settings = world.services.settings
    senders = []
    for _ in range(2):  # two processes' worth: own engine, own connection pool, own identity
        db = Database(settings.database_url)
        senders.append(Sender(Services(settings=settings, db=db), DeliveryConfig.from_settings(settings)))
    try:
        stats = await asyncio.gather(*(s.run(until_idle=True) for s in senders))
    finally:
        for s in senders:
            await s.close()
            await s.db.dispose()
    assert sum(s.sent for s in stats) == 300 and all(s.sent > 0 for s in stats)
    received = Counter(d.openid for d in world.delivered())
    assert len(received) == 300 and set(received.values()) == {1}
    rep = await world.report(bid)
    assert rep["counts"]["sent"] == 300 and rep["resent_after_crash"] == 0
