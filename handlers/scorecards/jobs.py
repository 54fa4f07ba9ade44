"""Periodic work of the scorecards, run by the deployment's one scheduler (see bot/jobs.py): pool the answers of
campaigns that have settled (closed more than an hour ago) into `scorecard_survey_totals`, so that no staff request
has to read every answer of a campaign. Insert-if-absent: a late, repeated or concurrent sweep changes nothing
twice, and a console page that finds a settled campaign not stored yet does the same work itself
(`queries.survey_totals` with a `store`).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select

from bot.context import Services
from bot.jobs import Job
from handlers.scorecards import queries
from storage.scorecard_models import ScorecardSurveyTotal
from storage.survey_models import Survey

log = logging.getLogger("linli.scorecards")
EVERY_SECONDS = 600.0
BATCH = 50


async def settle(services: Services, now: datetime) -> list[int]:
    """Store the totals of every settled campaign of the property and developer templates not stored yet."""
    done: list[int] = []
    while True:
        async with services.db.transaction() as session:
            stored = exists().where(ScorecardSurveyTotal.survey_id == Survey.id, ScorecardSurveyTotal.estate_id == 0)
            ids = list(await session.scalars(
                select(Survey.id).where(Survey.template.in_(("property", "developer")),
                                        Survey.status.in_(queries.FINISHED), Survey.subject_id.is_not(None),
                                        Survey.closed_at <= now - queries.SETTLED, ~stored)
                .order_by(Survey.id).limit(BATCH)))
            if not ids:
                break
            found = await queries.campaigns(session, ids)
            await queries.store_totals(session, queries.totals_rows(
                await queries.response_groups(session, found, None), ids, now))
            done += ids
    if done:
        log.info("scorecards: stored the totals of %d finished campaigns", len(done))
    return done


def jobs() -> list[Job]:
    return [Job("scorecards.settle", settle, every=EVERY_SECONDS)]
