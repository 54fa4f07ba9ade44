"""Periodic work of survey campaigns, run by the deployment's one scheduler (see bot/jobs.py): open scheduled
campaigns at their time (and invite), close them at theirs (freezing eligible counts), and send due reminders.

One sweep does all three, each step in its own short transaction; every step is a conditional UPDATE, so a late,
repeated or concurrent sweep does each thing once. Tests call `sweep(services, now)` with a controlled clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.context import Services
from bot.jobs import Job
from handlers.surveys import invites, service

log = logging.getLogger("linli.surveys")
EVERY_SECONDS = 60.0


@dataclass
class SweepReport:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reminded: list[tuple[int, int]] = field(default_factory=list)


async def sweep(services: Services, now: datetime) -> SweepReport:
    report = SweepReport()
    async with services.db.transaction() as session:
        report.opened = await service.open_due(session, now)
    async with services.db.transaction() as session:
        report.closed = await service.close_due(session, now)
    async with services.db.transaction() as session:
        report.reminded = await invites.remind_due(session, now,
                                                   household_key=services.settings.household_secret)
    if report.opened or report.closed or report.reminded:
        log.info("surveys: opened %s, closed %s, reminded %s", report.opened, report.closed, report.reminded)
    return report


def jobs() -> list[Job]:
    return [Job("surveys.sweep", sweep, every=EVERY_SECONDS)]
