"""Periodic jobs of the features (chasing overdue tickets, opening and closing surveys, meeting reminders).

A feature exposes `def jobs() -> list[Job]`; the composition root (`bot.app.feature_jobs`) collects them, and the
one scheduler of the deployment (the lease holder among `linli worker` processes, see bot/delivery/scheduler.py)
runs them. A job is a sweep: it looks at the clock and the database and does what is due, with conditional
updates, so running it late, twice after a take-over, or after a restart does no harm.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Services

log = logging.getLogger("linli.jobs")

JobFn = Callable[[Services, datetime], Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    every: float | None = None  # seconds between runs
    cron: dict[str, Any] = field(default_factory=dict)  # or APScheduler CronTrigger fields, e.g. {"hour": 9}

    def trigger(self, timezone):
        if self.every:
            return IntervalTrigger(seconds=self.every, timezone=timezone)
        return CronTrigger(timezone=timezone, **self.cron)


async def run_job(job: Job, services: Services) -> bool:
    """Run one job now, logging (not raising) its failure; True when it succeeded."""
    from bot.metrics import JOBS

    try:
        await job.run(services, services.clock())
    except Exception:
        log.exception("job %s failed", job.name, extra={"job": job.name})
        JOBS.labels(job.name, "failed").inc()
        return False
    JOBS.labels(job.name, "ok").inc()
    return True
