"""Periodic work of owners' votes, run by the deployment's one scheduler: open motions at their time, close them
at theirs (tally on both measures under the city's rule, publish the result as a notice), and send the daily
reminder to verified owners who have not voted; and (`owners.evidence`) download, expire and delete the evidence
photos of staff verification (handlers/owners/evidence.py). Each step in its own transaction; each transition is a
conditional UPDATE, so a late, repeated or concurrent sweep does each thing once. Tests call `sweep(services, now)`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.context import Services
from bot.jobs import Job
from handlers.owners import evidence, motions, rules

log = logging.getLogger("linli.owners")
EVERY_SECONDS = 60.0


@dataclass
class SweepReport:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reminded: list[tuple[int, int]] = field(default_factory=list)


def rule_of(services: Services) -> rules.Rule:
    return rules.load_rule(services.settings.owners_city)


async def sweep(services: Services, now: datetime) -> SweepReport:
    report = SweepReport()
    async with services.db.transaction() as session:
        report.opened = await motions.open_due(session, now)
    try:
        rule = rule_of(services)
    except rules.RuleError as exc:  # a bad LINLI_OWNERS_CITY: nothing is closed under a wrong rule
        log.error("owners: motions not closed: %s", exc)
    else:
        async with services.db.transaction() as session:
            report.closed = await motions.close_due(session, now, rule, settings=services.settings)
    async with services.db.transaction() as session:
        report.reminded = await motions.remind_due(session, now)
    if report.opened or report.closed or report.reminded:
        log.info("owners: opened %s, closed %s, reminded %s", report.opened, report.closed, report.reminded)
    return report


def jobs() -> list[Job]:
    return [Job("owners.sweep", sweep, every=EVERY_SECONDS), Job("owners.evidence", evidence.sweep, every=20)]
