"""Data access for survey campaigns: campaigns and their areas, eligible residents, responses and their audit
trail, drafts, quota counters and the campaign log. Takes a session, never commits.

Every state change of a campaign is a conditional UPDATE guarded by the expected old state, so two workers (or a
scheduler take-over) never apply the same transition twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import ORG_MODELS, Community, Estate, Resident, ResidentRole, Street
from storage.survey_models import (
    Survey,
    SurveyArea,
    SurveyDraft,
    SurveyLog,
    SurveyQuota,
    SurveyResponse,
    SurveyResponseEvent,
)

LEVEL_MODELS = ORG_MODELS


# ----- campaigns and areas -------------------------------------------------------------------------------------

async def get(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def ids_for_codes(session: AsyncSession, level: str, codes: Sequence[str]) -> dict[str, int]:
    model = LEVEL_MODELS[level]
    rows = await session.execute(select(model.code, model.id).where(model.code.in_([c.upper() for c in codes])))
    return dict(rows.tuples().all())


async def expand_scope(session: AsyncSession, level: str, ids: Sequence[int]) -> list[tuple[int, int | None]]:
    """(community_id, estate_id or None) pairs covered by a scope of `level` with `ids`."""
    if level == "estate":
        rows = await session.execute(select(Estate.community_id, Estate.id).where(Estate.id.in_(ids)))
        return [(c, e) for c, e in rows.all()]
    stmt = select(Community.id)
    if level == "community":
        stmt = stmt.where(Community.id.in_(ids))
    elif level == "street":
        stmt = stmt.where(Community.street_id.in_(ids))
    else:
        stmt = stmt.join(Street, Street.id == Community.street_id).where(Street.district_id.in_(ids))
    return [(c, None) for c in await session.scalars(stmt)]


async def add_areas(session: AsyncSession, survey_id: int, areas: Iterable[tuple[int, int | None]]) -> None:
    session.add_all(SurveyArea(survey_id=survey_id, community_id=c, estate_id=e) for c, e in areas)


async def areas(session: AsyncSession, survey_id: int) -> frozenset[tuple[int, int | None]]:
    rows = await session.execute(select(SurveyArea.community_id, SurveyArea.estate_id)
                                 .where(SurveyArea.survey_id == survey_id))
    return frozenset((c, e) for c, e in rows.all())


def covering(community_column, estate_column=None):
    """EXISTS-clause factory: the campaign covers the row's community (and estate, for estate-level areas)."""
    def clause(survey_id_column):
        cond = [SurveyArea.survey_id == survey_id_column, SurveyArea.community_id == community_column]
        if estate_column is not None:
            cond.append(or_(SurveyArea.estate_id.is_(None), SurveyArea.estate_id == estate_column))
        return exists().where(*cond)
    return clause


async def open_for(session: AsyncSession, resident: Resident, now: datetime) -> list[Survey]:
    """Campaigns open now whose areas include the resident's community/estate (eligibility checked later)."""
    if resident.community_id is None:
        return []
    stmt = (select(Survey).where(Survey.status == "open", Survey.closes_at > now,
                                 covering(resident.community_id, resident.estate_id)(Survey.id))
            .order_by(Survey.closes_at, Survey.id))
    return list(await session.scalars(stmt))


async def set_status(session: AsyncSession, survey_id: int, old: Sequence[str], new: str, **values) -> bool:
    result = await session.execute(update(Survey).where(Survey.id == survey_id, Survey.status.in_(old))
                                   .values(status=new, **values))
    return bool(affected(result))


async def due(session: AsyncSession, status: str, column, now: datetime) -> list[int]:
    return list(await session.scalars(select(Survey.id).where(Survey.status == status, column <= now)
                                      .order_by(Survey.id)))


async def log(session: AsyncSession, survey_id: int, event: str, at: datetime, detail: str | None = None) -> None:
    session.add(SurveyLog(survey_id=survey_id, event=event, detail=detail, at=at))


async def history(session: AsyncSession, survey_id: int) -> list[SurveyLog]:
    return list(await session.scalars(select(SurveyLog).where(SurveyLog.survey_id == survey_id)
                                      .order_by(SurveyLog.id)))


async def freeze(session: AsyncSession, survey_id: int, version: int) -> bool:
    """Fix the questions at `version` (first vote). False when they changed meanwhile."""
    result = await session.execute(update(Survey).where(Survey.id == survey_id, Survey.questions_version == version)
                                   .values(frozen=True))
    return bool(affected(result))


async def replace_questions(session: AsyncSession, survey_id: int, version: int, questions: list) -> bool:
    """Change the questions unless a vote froze them (or someone else changed them first)."""
    result = await session.execute(update(Survey).where(
        Survey.id == survey_id, Survey.frozen.is_(False), Survey.questions_version == version,
        Survey.status.in_(("draft", "scheduled", "open"))).values(questions=questions,
                                                                    questions_version=version + 1))
    return bool(affected(result))


# ----- eligible residents --------------------------------------------------------------------------------------

def eligible_residents(survey: Survey):
    """SELECT of bound residents inside the campaign's areas (and owners, when owners only)."""
    stmt = select(Resident.id, Resident.ref, Resident.community_id, Resident.estate_id, Resident.building,
                  Resident.room).where(Resident.community_id.is_not(None),
                                       covering(Resident.community_id, Resident.estate_id)(survey.id))
    if survey.owners_only:
        stmt = stmt.where(Resident.role == ResidentRole.owner)
    if survey.per_household:
        stmt = stmt.where(Resident.building.is_not(None), Resident.room.is_not(None))
    return stmt


async def estate_communities(session: AsyncSession, survey_id: int) -> dict[int, int]:
    """Estate key → community id for every estate the campaign covers."""
    rows = await session.execute(select(Estate.id, Estate.community_id).where(
        covering(Estate.community_id, Estate.id)(survey_id)))
    return {e: c for e, c in rows.all()}


# ----- responses -----------------------------------------------------------------------------------------------

async def response_of(session: AsyncSession, survey_id: int, *, ref: str | None = None,
                      key: str | None = None) -> SurveyResponse | None:
    column, value = (SurveyResponse.resident_ref, ref) if ref is not None else (SurveyResponse.voter_key, key)
    return await session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id, column == value)
                                .execution_options(populate_existing=True))


async def insert_response(session: AsyncSession, row: SurveyResponse) -> bool:
    """Insert in a savepoint; False when a unique constraint refused it (the voice is taken)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
        return True
    except IntegrityError:
        return False


async def move_response(session: AsyncSession, row: SurveyResponse, **values) -> bool:
    """Update a response in a savepoint (its voter key may change); False when the new key is taken."""
    try:
        async with session.begin_nested():
            await session.execute(update(SurveyResponse).where(SurveyResponse.id == row.id).values(**values))
        return True
    except IntegrityError:
        return False


async def add_event(session: AsyncSession, row: SurveyResponse, action: str, at: datetime) -> None:
    session.add(SurveyResponseEvent(survey_id=row.survey_id, response_id=row.id, resident_ref=row.resident_ref,
                                    estate_id=row.estate_id, action=action, answers=row.answers, at=at))


async def responded_refs(session: AsyncSession, survey_id: int) -> tuple[set[str], set[str]]:
    rows = await session.execute(select(SurveyResponse.resident_ref, SurveyResponse.voter_key)
                                 .where(SurveyResponse.survey_id == survey_id))
    refs, keys = set(), set()
    for ref, key in rows.all():
        refs.add(ref)
        keys.add(key)
    return refs, keys


async def response_rows(session: AsyncSession, survey_id: int) -> list[tuple[int | None, int | None, dict]]:
    rows = await session.execute(select(SurveyResponse.community_id, SurveyResponse.estate_id,
                                        SurveyResponse.answers).where(SurveyResponse.survey_id == survey_id))
    return [tuple(r) for r in rows.all()]


async def count_responses(session: AsyncSession, survey_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(select(SurveyResponse.survey_id, func.count()).where(
        SurveyResponse.survey_id.in_(survey_ids)).group_by(SurveyResponse.survey_id))
    return dict(rows.tuples().all())


async def audit_rows(session: AsyncSession, survey_id: int) -> list[tuple]:
    """(ref, estate id, action, at) of every submission, oldest first."""
    rows = await session.execute(select(SurveyResponseEvent.resident_ref, SurveyResponseEvent.estate_id,
                                        SurveyResponseEvent.action, SurveyResponseEvent.at)
                                 .where(SurveyResponseEvent.survey_id == survey_id)
                                 .order_by(SurveyResponseEvent.at, SurveyResponseEvent.id))
    return [tuple(r) for r in rows.all()]


# ----- quota ---------------------------------------------------------------------------------------------------

async def take_quota_place(session: AsyncSession, survey_id: int, estate_key: int, quota: int) -> bool:
    """Count one more response for the estate unless the quota is reached (atomic conditional UPDATE)."""
    if await session.get(SurveyQuota, (survey_id, estate_key)) is None:
        try:
            async with session.begin_nested():
                session.add(SurveyQuota(survey_id=survey_id, estate_key=estate_key, responses=0))
        except IntegrityError:
            pass  # created by a concurrent vote
    result = await session.execute(update(SurveyQuota).where(
        SurveyQuota.survey_id == survey_id, SurveyQuota.estate_key == estate_key, SurveyQuota.responses < quota)
        .values(responses=SurveyQuota.responses + 1))
    return bool(affected(result))


async def quota_full(session: AsyncSession, survey_id: int, estate_key: int, quota: int) -> bool:
    used = await session.scalar(select(SurveyQuota.responses).where(
        SurveyQuota.survey_id == survey_id, SurveyQuota.estate_key == estate_key))
    return (used or 0) >= quota


# ----- drafts --------------------------------------------------------------------------------------------------

async def draft(session: AsyncSession, survey_id: int, resident_id: int) -> SurveyDraft | None:
    return await session.get(SurveyDraft, (survey_id, resident_id))


async def drafts_of(session: AsyncSession, resident_id: int) -> dict[int, SurveyDraft]:
    rows = await session.scalars(select(SurveyDraft).where(SurveyDraft.resident_id == resident_id))
    return {d.survey_id: d for d in rows}


async def save_draft(session: AsyncSession, survey_id: int, resident_id: int, step: int, answers: dict,
                     version: int, now: datetime) -> None:
    """Insert or update the draft in one statement (ON CONFLICT on both engines)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    values = {"step": step, "answers": dict(answers), "questions_version": version, "updated_at": now}
    stmt = dialect.insert(SurveyDraft).values(survey_id=survey_id, resident_id=resident_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["survey_id", "resident_id"], set_=values))


async def drop_drafts(session: AsyncSession, survey_id: int, resident_id: int | None = None) -> None:
    stmt = delete(SurveyDraft).where(SurveyDraft.survey_id == survey_id)
    if resident_id is not None:
        stmt = stmt.where(SurveyDraft.resident_id == resident_id)
    await session.execute(stmt)


# ----- lists for staff -----------------------------------------------------------------------------------------

def visible(stmt, community_ids_select):
    """Campaigns touching any community of a jurisdiction (`community_ids_select`: SELECT of ids, or None = all)."""
    if community_ids_select is None:
        return stmt
    return stmt.where(exists().where(SurveyArea.survey_id == Survey.id,
                                     SurveyArea.community_id.in_(community_ids_select)))


async def area_communities(session: AsyncSession, survey_id: int) -> set[int]:
    return set(await session.scalars(select(SurveyArea.community_id).where(SurveyArea.survey_id == survey_id)))


async def names(session: AsyncSession, estate_ids: Iterable[int], community_ids: Iterable[int]
                ) -> tuple[dict[int, str], dict[int, str]]:
    estates = dict((await session.execute(select(Estate.id, Estate.name).where(
        Estate.id.in_(list(estate_ids))))).tuples().all())
    communities = dict((await session.execute(select(Community.id, Community.name).where(
        Community.id.in_(list(community_ids))))).tuples().all())
    return estates, communities


async def claim_reminder_round(session: AsyncSession, survey: Survey, now: datetime) -> bool:
    """Count the next reminder round of an open campaign, once across processes (the round number is the guard)."""
    claimed = await session.execute(update(Survey).where(
        Survey.id == survey.id, Survey.reminders_sent == survey.reminders_sent, Survey.status == "open")
        .values(reminders_sent=survey.reminders_sent + 1, last_reminded_at=now))
    return bool(affected(claimed))


async def forget_trail_and_drafts(session: AsyncSession, resident_id: int, resident_ref: str, fresh_ref: str) -> None:
    """A resident's erasure: trail rows still carrying their ref (of a response not found) lose it and their
    answers; their unfinished drafts go."""
    await session.execute(update(SurveyResponseEvent).where(SurveyResponseEvent.resident_ref == resident_ref)
                          .values(resident_ref=fresh_ref, answers={}))
    await session.execute(delete(SurveyDraft).where(SurveyDraft.resident_id == resident_id))


async def response_channels(session: AsyncSession, survey_id: int) -> list[tuple[str, int | None, dict]]:
    """(channel, estate id, answers) of every counted response: the split between WeChat and paper."""
    rows = await session.execute(select(SurveyResponse.channel, SurveyResponse.estate_id, SurveyResponse.answers)
                                 .where(SurveyResponse.survey_id == survey_id))
    return [tuple(r) for r in rows.all()]


async def estate_households(session: AsyncSession, estate_ids: Sequence[int]) -> dict[int, int]:
    """Estate id → its total households (the org data's figure), for estates that have one."""
    if not estate_ids:
        return {}
    rows = await session.execute(select(Estate.id, Estate.households).where(Estate.id.in_(list(estate_ids)),
                                                                           Estate.households.is_not(None)))
    return {e: n for e, n in rows.all() if n}
