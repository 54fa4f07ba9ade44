"""The `scorecards.settle` sweep: settled campaigns' answers pooled once, idempotent, same figures after."""
from __future__ import annotations

from sqlalchemy import func, select

from handlers import scorecards
from handlers.scorecards import periods, service
from handlers.scorecards.config import ScorecardConfig
from handlers.scorecards.jobs import settle
from storage.scorecard_models import ScorecardSurveyTotal
from tests.scorecards.dataset import NOW


async def test_settle_pools_every_finished_campaign_once(services, data):
    config = ScorecardConfig(min_responses=3, min_tickets=3)
    async with services.db.transaction() as session:
        before = await service.build(session, "property", periods.parse("2026-10"), None, config, NOW)
        await session.rollback()  # nothing stored by this computation
    done = await settle(services, NOW)
    assert sorted(done) == sorted(data["campaigns"].values())  # A B C F G (property) and D (developer)
    assert await settle(services, NOW) == []
    async with services.db.transaction() as session:
        markers = await session.scalar(select(func.count()).where(ScorecardSurveyTotal.estate_id == 0))
        after = await service.build(session, "property", periods.parse("2026-10"), None, config, NOW)
    assert markers == 6
    assert [(c.subject_code, c.score, c.overall.survey.scores.satisfied) for c in after.cards] == \
        [(c.subject_code, c.score, c.overall.survey.scores.satisfied) for c in before.cards]
    assert [j.name for j in scorecards.jobs()] == ["scorecards.settle"]
