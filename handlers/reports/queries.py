"""The monthly report's own database reads, each an aggregate grouped by community (the cost grows with the
number of communities, not of rows). Tickets, surveys and disclosures are read through their features' own
functions (`handlers.tickets.stats.aggregate`, `handlers.scorecards.queries`); what is here has no figure
function elsewhere: meetings held and minutes published, residents bound and households, the policy Q&A's
monthly counts and 转人工 inquiries, and the campaigns that closed in the month.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.scorecards.queries import FINISHED
from storage.models import Estate, Resident
from storage.notice_models import Meeting
from storage.policy_qa_models import Inquiry, KbGap, KbMonthlyCount
from storage.survey_models import Survey, SurveyArea


async def meetings(session: AsyncSession, communities: list[int], start: date, end: date
                   ) -> dict[int, tuple[int, int]]:
    """community → (meetings held in [start, end), of which the minutes are published)."""
    stmt = (select(Meeting.community_id, func.count(), func.count(Meeting.published_at))
            .where(Meeting.community_id.in_(communities), Meeting.held_on >= start, Meeting.held_on < end)
            .group_by(Meeting.community_id))
    return {c: (int(n), int(p)) for c, n, p in (await session.execute(stmt)).all()}


async def households(session: AsyncSession, communities: list[int]) -> dict[int, int]:
    """community → registered households of its estates (estates without a count add nothing)."""
    stmt = (select(Estate.community_id, func.coalesce(func.sum(Estate.households), 0))
            .where(Estate.community_id.in_(communities)).group_by(Estate.community_id))
    return {c: int(n) for c, n in (await session.execute(stmt)).all()}


async def bound_residents(session: AsyncSession, communities: list[int], before: datetime) -> dict[int, int]:
    """community → residents bound to it (bound before `before`) who still follow the account."""
    stmt = (select(Resident.community_id, func.count())
            .where(Resident.community_id.in_(communities), Resident.bound_at.is_not(None),
                   Resident.bound_at < before).group_by(Resident.community_id))
    return {c: int(n) for c, n in (await session.execute(stmt)).all()}


async def question_counts(session: AsyncSession, communities: list[int], month: str
                          ) -> list[tuple[int, str, str, str, int]]:
    """(community, outcome, entry id, title, count) of the questions asked in the local month."""
    stmt = (select(KbMonthlyCount.community_id, KbMonthlyCount.outcome, KbMonthlyCount.entry_id,
                   KbMonthlyCount.title, KbMonthlyCount.count)
            .where(KbMonthlyCount.month == month, KbMonthlyCount.community_id.in_(communities)))
    return [(c, o, e, t, int(n)) for c, o, e, t, n in (await session.execute(stmt)).all()]


async def inquiries(session: AsyncSession, communities: list[int], since: datetime, until: datetime
                    ) -> dict[int, tuple[int, int]]:
    """community → (questions handed to staff in the month, of which answered by now)."""
    stmt = (select(Inquiry.community_id, func.count(), func.count(Inquiry.answered_at))
            .where(Inquiry.community_id.in_(communities), Inquiry.created_at >= since, Inquiry.created_at < until)
            .group_by(Inquiry.community_id))
    return {c: (int(n), int(a)) for c, n, a in (await session.execute(stmt)).all()}


async def open_gaps(session: AsyncSession, communities: list[int], since: datetime, until: datetime,
                    limit: int = 5) -> list[tuple[str, int]]:
    """The unanswered questions asked most that were last asked in the month (example text, times asked)."""
    stmt = (select(KbGap.example, KbGap.count)
            .where(KbGap.community_id.in_(communities), KbGap.resolved_entry.is_(None),
                   KbGap.last_asked >= since, KbGap.last_asked < until)
            .order_by(KbGap.count.desc(), KbGap.id).limit(limit))
    return [(e, int(n)) for e, n in (await session.execute(stmt)).all()]


def closed_campaigns(communities: list[int], since: datetime, until: datetime):
    """SELECT of the ids of finished campaigns (any template) that closed in [since, until) and cover an estate
    or a whole community inside `communities`."""
    return select(Survey.id).where(
        Survey.status.in_(FINISHED), Survey.closed_at >= since, Survey.closed_at < until,
        exists().where(SurveyArea.survey_id == Survey.id, SurveyArea.community_id.in_(communities)))


async def campaign_subjects(session: AsyncSession, ids) -> dict[int, tuple[str, int | None, str, str]]:
    """campaign → (subject type, subject id, subject name, template)."""
    stmt = select(Survey.id, Survey.subject_type, Survey.subject_id, Survey.subject_name, Survey.template).where(
        Survey.id.in_(ids))
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in (await session.execute(stmt)).all()}


async def campaign_areas(session: AsyncSession, ids, communities: list[int]) -> list[tuple[int, int, int | None]]:
    """(campaign, community, estate or None for the whole community) of the campaigns' areas in `communities`."""
    stmt = select(SurveyArea.survey_id, SurveyArea.community_id, SurveyArea.estate_id).where(
        SurveyArea.survey_id.in_(ids), SurveyArea.community_id.in_(communities))
    return [tuple(r) for r in (await session.execute(stmt)).all()]
