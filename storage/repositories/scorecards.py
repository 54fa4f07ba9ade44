"""Scorecard rows that change after they are written: withdrawing a publication, removing a disclosure rule."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.scorecard_models import DisclosureRule, ScorecardPublication


async def withdraw_publication(session: AsyncSession, publication_id: int, by: str, now: datetime) -> bool:
    """Withdraw a publication not withdrawn yet; whether it was."""
    result = await session.execute(update(ScorecardPublication).where(
        ScorecardPublication.id == publication_id, ScorecardPublication.withdrawn_at.is_(None))
        .values(withdrawn_at=now, withdrawn_by=by[:64]))
    return bool(affected(result))


async def remove_disclosure_rule(session: AsyncSession, rule_id: int) -> bool:
    result = await session.execute(delete(DisclosureRule).where(DisclosureRule.id == rule_id))
    return bool(affected(result))
