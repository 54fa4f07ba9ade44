"""When broadcasts start and resume: APScheduler timers over the `broadcasts` table, run by one process at a time.

The database is the schedule: a broadcast's `send_at` (status `scheduled`) and `paused_until` (status `paused`,
after 45009) are stored with it, so schedules survive restarts without a second job store. APScheduler 3's
`SQLAlchemyJobStore` is synchronous and would need a second (sync) PostgreSQL driver; instead an
`AsyncIOScheduler` with the memory store holds one `DateTrigger` job per waiting broadcast, rebuilt from the table
at start and on every `sync` (every `SYNC_SECONDS`, which also picks up broadcasts created by other processes).

Exactly one scheduler: every process may run one, but only the holder of the `delivery_leases` row
`scheduler` acts; the lease is renewed on every sync and taken over by another process when it lapses (a crashed
holder is replaced within `LEASE_SECONDS`). Activating is an idempotent conditional UPDATE, so a takeover race
cannot start anything twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Sequence

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError

from bot.context import Services
from bot.delivery.sender import worker_id
from bot.jobs import Job, run_job
from bot.localtime import LOCAL_TZ
from storage.repositories import broadcasts, leases

log = logging.getLogger("linli.delivery.scheduler")

SYNC_SECONDS = 10.0
# cron-style feature jobs (e.g. "the 20th at 9:00") are in Tianjin time: bot.localtime.LOCAL_TZ
LEASE_SECONDS = 30.0
LEASE_NAME = "scheduler"


class SchedulerLease:
    """The `scheduler` row in `delivery_leases`: whoever holds an unexpired lease runs the schedule."""

    def __init__(self, services: Services, owner: str, seconds: float = LEASE_SECONDS):
        self.db, self.owner, self.seconds = services.db, owner, seconds

    async def hold(self) -> bool:
        now = datetime.now(timezone.utc)
        until = now + timedelta(seconds=self.seconds)
        try:
            async with self.db.transaction() as session:
                return await leases.take(session, LEASE_NAME, self.owner, now, until)
        except IntegrityError:
            return False

    async def release(self) -> None:
        async with self.db.transaction() as session:
            await leases.release(session, LEASE_NAME, self.owner)


class BroadcastScheduler:
    def __init__(self, services: Services, *, on_activate=None, owner: str | None = None,
                 sync_seconds: float = SYNC_SECONDS, lease_seconds: float = LEASE_SECONDS, jobs: Sequence[Job] = ()):
        self.services = services
        self.jobs = list(jobs)  # the features' periodic jobs (bot.jobs), run only while this process leads
        self.on_activate = on_activate  # called after broadcasts started (e.g. wake the local sender)
        self.lease = SchedulerLease(services, owner or worker_id(), lease_seconds)
        self.sync_seconds = sync_seconds
        self.aps = AsyncIOScheduler(timezone=timezone.utc)
        self.leader = False

    async def start(self) -> None:
        self.aps.start()
        self.aps.add_job(self.sync, IntervalTrigger(seconds=self.sync_seconds), id="delivery-sync",
                         max_instances=1, coalesce=True)
        for job in self.jobs:
            self.aps.add_job(self._run_if_leader, job.trigger(LOCAL_TZ), args=[job], id=f"job-{job.name}",
                             max_instances=1, coalesce=True, misfire_grace_time=None)
        await self.sync()

    async def _run_if_leader(self, job: Job) -> None:
        if self.leader:
            await run_job(job, self.services)

    async def stop(self) -> None:
        self.aps.shutdown(wait=False)
        if self.leader:
            await self.lease.release()

    async def sync(self) -> list[int]:
        """Renew the lease; if held, start what is due and (re)arm a timer for every waiting broadcast."""
        try:
            self.leader = await self.lease.hold()
        except Exception:  # database away: try again next round
            log.exception("renewing the scheduler lease failed")
            self.leader = False
        if not self.leader:
            self._clear_timers()
            return []
        started = await self.activate()
        async with self.services.db.transaction() as session:
            waiting = await broadcasts.upcoming(session)
        armed = {job.id for job in self.aps.get_jobs() if job.id.startswith("broadcast-")}
        for broadcast_id, when in waiting:
            job_id = f"broadcast-{broadcast_id}"
            armed.discard(job_id)
            self.aps.add_job(self.activate, DateTrigger(run_date=when), id=job_id, replace_existing=True,
                             misfire_grace_time=None)
        for stale in armed:
            self.aps.remove_job(stale)
        return started

    async def activate(self) -> list[int]:
        now = self.services.clock()
        async with self.services.db.transaction() as session:
            started = await broadcasts.activate_due(session, now)
        if started:
            log.info("started broadcasts %s", started)
            if self.on_activate is not None:
                self.on_activate(started)
        return started

    def _clear_timers(self) -> None:
        for job in self.aps.get_jobs():
            if job.id.startswith("broadcast-"):
                job.remove()

    def timers(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self.aps.get_jobs() if job.id.startswith("broadcast-")}


__all__ = ["BroadcastScheduler", "SchedulerLease"]
