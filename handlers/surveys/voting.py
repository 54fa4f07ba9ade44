"""A resident's side of a campaign: which open campaigns are theirs, whether they may answer, their draft, and
casting or changing their vote.

One voice is enforced by the database: the response row is unique per (campaign, voter key) and per (campaign,
person). A concurrent or repeated submission either lands as the first vote or, when the same person already
voted, as a change (last one counts; every submission stays in `survey_response_events`). A household member
whose household already voted is refused. Quotas per estate are taken with an atomic conditional UPDATE in the
same savepoint as the insert, so a refused insert gives its place back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import local_text
from handlers.surveys import rules
from storage.models import Resident
from storage.repositories import surveys as repo
from storage.survey_models import Survey, SurveyResponse


class VoteRefused(Exception):
    """The vote cannot be taken; `message` is what the resident reads. `restart`: the questions changed."""

    def __init__(self, message: str, *, restart: bool = False):
        super().__init__(message)
        self.message, self.restart = message, restart


class _QuotaFull(Exception):
    pass


@dataclass(frozen=True)
class Cast:
    survey: Survey
    response: SurveyResponse
    outcome: str  # new / changed / same


def voter(resident: Resident) -> rules.Voter:
    role = resident.role.value if resident.role is not None else None
    return rules.Voter(resident.ref, resident.community_id, resident.estate_id, role, resident.building,
                       resident.room)


async def rule_of(session: AsyncSession, survey: Survey) -> rules.Rule:
    return rules.Rule(await repo.areas(session, survey.id), survey.owners_only, survey.per_household)


def is_open(survey: Survey, now: datetime) -> bool:
    return survey.status == "open" and survey.opens_at <= now < survey.closes_at


async def check(session: AsyncSession, survey: Survey, resident: Resident, now: datetime, *,
                household_key: bytes) -> SurveyResponse | None:
    """Raise VoteRefused unless `resident` may answer now; returns their own earlier response, if any.
    `household_key`: the deployment's secret of household keys (`Settings.household_secret`)."""
    return (await _check(session, survey, resident, now, household_key))[0]


async def _check(session: AsyncSession, survey: Survey, resident: Resident, now: datetime,
                 household_key: bytes) -> tuple[SurveyResponse | None, str]:
    if not is_open(survey, now):
        raise VoteRefused(f"「{survey.title}」已经结束，感谢关注。" if survey.status in ("closed", "published")
                          or now >= survey.closes_at else f"「{survey.title}」尚未开始。")
    rule, me = await rule_of(session, survey), voter(resident)
    verdict = rules.eligibility(rule, me)
    if not verdict.ok:
        raise VoteRefused(verdict.message)
    own = await repo.response_of(session, survey.id, ref=resident.ref)
    if own is None:
        taken = await repo.response_of(session, survey.id, key=rules.voter_key(rule, me, household_key)) \
            if rule.per_household else None  # per person: the key is the ref, already looked up
        if taken is not None:
            raise VoteRefused(_household_taken(resident, taken))
        if survey.quota_per_estate and await repo.quota_full(session, survey.id, resident.estate_id or 0,
                                                             survey.quota_per_estate):
            raise VoteRefused("本小区本次调查的样本已满额，无需再参与，感谢您的支持！")
    return own, rules.voter_key(rule, me, household_key)


def _household_taken(resident: Resident, taken: SurveyResponse | None = None) -> str:
    if taken is not None and taken.channel == "paper":  # a paper questionnaire entered by staff (paper.py)
        return (f"本次调查每户一票，您家（{resident.building}-{resident.room}）已于 {local_day(taken.created_at)} "
                "填写纸质问卷，不能重复参与。感谢您的支持！")
    return (f"本次调查每户一票，您家（{resident.building}-{resident.room}）已由其他家庭成员提交，"
            "不能重复参与。感谢您的支持！")


def local_day(at: datetime) -> str:
    """A vote's date as residents and staff read it (Tianjin time)."""
    return local_text(at, with_time=False)


def _check_answers(survey: Survey, answers: dict, version: int) -> dict:
    if version != survey.questions_version:
        raise VoteRefused("调查题目刚刚作了调整，请重新作答。", restart=True)
    clean = {}
    for q in survey.questions:
        value = answers.get(q["id"])
        if not rules.valid_value(q, value):
            raise VoteRefused(f"第「{q['title']}」题还没有有效的回答。", restart=True)
        clean[q["id"]] = value
    return clean


async def submit(session: AsyncSession, survey: Survey, resident: Resident, answers: dict, version: int,
                 now: datetime, *, household_key: bytes) -> Cast:
    """Cast (or change) the resident's vote in the caller's transaction. Raises VoteRefused."""
    own, key = await _check(session, survey, resident, now, household_key)
    clean = _check_answers(survey, answers, version)
    if not survey.frozen and not await repo.freeze(session, survey.id, version):
        raise VoteRefused("调查题目刚刚作了调整，请重新作答。", restart=True)
    cast = await (_change(session, survey, resident, own, key, clean, now) if own is not None
                  else _first(session, survey, resident, key, clean, now))
    await repo.drop_drafts(session, survey.id, resident.id)
    return cast


async def _first(session: AsyncSession, survey: Survey, resident: Resident, key: str, answers: dict,
                 now: datetime) -> Cast:
    row = SurveyResponse(survey_id=survey.id, voter_key=key, resident_ref=resident.ref, resident_id=resident.id,
                         community_id=resident.community_id, estate_id=resident.estate_id, answers=answers,
                         questions_version=survey.questions_version, revision=1, created_at=now, updated_at=now)
    try:
        async with session.begin_nested():
            if survey.quota_per_estate and not await repo.take_quota_place(
                    session, survey.id, resident.estate_id or 0, survey.quota_per_estate):
                raise _QuotaFull()
            session.add(row)
            await session.flush()
    except _QuotaFull:
        raise VoteRefused("本小区本次调查的样本已满额，您的回答未计入，感谢您的支持！") from None
    except IntegrityError:
        # Another delivery (another worker) got there first: the same person's vote becomes a change,
        # anyone else's means the household has voted.
        own = await repo.response_of(session, survey.id, ref=resident.ref)
        if own is None:
            raise VoteRefused(_household_taken(resident)) from None
        return await _change(session, survey, resident, own, key, answers, now)
    await repo.add_event(session, row, "submit", now)
    return Cast(survey, row, "new")


async def _change(session: AsyncSession, survey: Survey, resident: Resident, own: SurveyResponse, key: str,
                  answers: dict, now: datetime) -> Cast:
    moved = own.voter_key != key or own.estate_id != resident.estate_id
    if own.answers == answers and not moved:
        return Cast(survey, own, "same")
    ok = await repo.move_response(session, own, voter_key=key, answers=answers, updated_at=now,
                                  revision=own.revision + 1, resident_id=resident.id,
                                  community_id=resident.community_id, estate_id=resident.estate_id,
                                  questions_version=survey.questions_version)
    if not ok:
        raise VoteRefused(_household_taken(resident))
    await session.refresh(own)
    await repo.add_event(session, own, "change", now)
    return Cast(survey, own, "changed")


async def campaigns_for(session: AsyncSession, resident: Resident, now: datetime) -> list[Survey]:
    return await repo.open_for(session, resident, now)
