"""Paper questionnaires (issue 19): staff enter one form per household (estate, building, room), its answers and
who collected it. The vote is keyed exactly like an online household vote (`rules.voter_key`), so the one-voice
rule holds across channels through the same unique constraint: a household that already voted in WeChat is
refused with the date of its vote, and a paper ballot blocks a later online vote (voting.py says so to the
resident). Only campaigns that count households take paper forms; the form must be entered while the campaign
is open, for an estate the campaign covers. The row has no resident (a fresh random ref) and `channel="paper"`.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.surveys import rules
from handlers.surveys.voting import VoteRefused, _check_answers, is_open, local_day
from storage.models import Estate, new_ref
from storage.repositories import surveys as repo
from storage.survey_models import Survey, SurveyResponse

CHANNEL_LABELS = {"wechat": "公众号", "paper": "纸质问卷"}


def answers_from_form(questions: list[dict], single: dict[str, str], many: dict[str, list[str]]
                      ) -> tuple[dict, dict[str, str]]:
    """The answers of a paper form (field `q_<id>` per question; check boxes repeated) and problems by field."""
    answers, problems = {}, {}
    for q in questions:
        name = f"q_{q['id']}"
        value: object = None
        if q["kind"] == "multiple":
            picked = [v for v in many.get(name, []) if v.strip()]
            if picked:
                value = [int(v) for v in picked if v.isdigit() and len(v) < 4] if all(
                    v.isdigit() and len(v) < 4 for v in picked) else "bad"
        else:
            raw = (single.get(name) or "").strip()
            if raw:
                if q["kind"] in ("rating", "single"):
                    value = int(raw) if raw.isdigit() and len(raw) < 4 else "bad"
                else:
                    value = raw
        if value is None and rules.is_optional(q):
            continue
        if not rules.valid_value(q, value):
            problems[name] = f"「{q['title']}」" + ("没有填写" if value is None else "的回答无效")
        else:
            answers[q["id"]] = value
    return answers, problems


def _text(value: object, limit: int) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()[:limit + 1]


async def enter(session: AsyncSession, survey: Survey, *, estate_id: int, building: object, room: object,
                answers: dict, collector: object, entered_by: str, now: datetime, household_key: bytes
                ) -> SurveyResponse:
    """Record one household's paper questionnaire in the caller's transaction. Raises VoteRefused (Chinese)."""
    if not survey.per_household:
        raise VoteRefused("本次调查按人计票，纸质问卷按户登记，不能用于本调查；请居民在公众号参与。")
    if not is_open(survey, now):
        raise VoteRefused(f"「{survey.title}」不在进行中，不能登记纸质问卷。")
    building_text, room_text, collector_text = _text(building, 16), _text(room, 16), _text(collector, 32)
    if not rules.clean(building_text) or not rules.clean(room_text) or len(building_text) > 16 or len(room_text) > 16:
        raise VoteRefused("请填写楼号和房号（如 3 号楼 501），各不超过 16 个字。")
    if not collector_text or len(collector_text) > 32:
        raise VoteRefused("请填写收集人姓名（不超过 32 个字）。")
    estate = await session.get(Estate, estate_id)
    rule = rules.Rule(await repo.areas(session, survey.id), survey.owners_only, True)
    voter = rules.Voter("", estate.community_id if estate else None, estate_id, "owner", building_text, room_text)
    if estate is None or not rules.in_scope(rule, voter):
        raise VoteRefused("本次调查不包括这个小区。")
    clean = _check_answers(survey, answers, survey.questions_version)
    key = rules.voter_key(rule, voter, household_key)
    flat = f"{building_text}-{room_text}"
    taken = await repo.response_of(session, survey.id, key=key)
    if taken is not None:
        raise VoteRefused(refusal_for(flat, taken))
    if not survey.frozen and not await repo.freeze(session, survey.id, survey.questions_version):
        raise VoteRefused("调查题目刚刚作了调整，请按新题目登记。")
    row = SurveyResponse(survey_id=survey.id, voter_key=key, resident_ref=new_ref(), resident_id=None,
                         community_id=estate.community_id, estate_id=estate.id, answers=clean,
                         questions_version=survey.questions_version, revision=1, created_at=now, updated_at=now,
                         channel="paper", collector=collector_text, entered_by=entered_by[:80])
    try:
        async with session.begin_nested():
            if survey.quota_per_estate and not await repo.take_quota_place(session, survey.id, estate.id,
                                                                           survey.quota_per_estate):
                raise VoteRefused("这个小区本次调查的样本已满额，这份问卷未计入。")
            session.add(row)
            await session.flush()
    except IntegrityError:  # the household voted online a moment ago
        taken = await repo.response_of(session, survey.id, key=key)
        raise VoteRefused(refusal_for(flat, taken) if taken else f"该户（{flat}）已参与本次调查。") from None
    await repo.add_event(session, row, "submit", now)
    return row


def refusal_for(flat: str, taken: SurveyResponse) -> str:
    """Why a household's paper form is refused: its earlier vote, by channel and date."""
    if taken.channel == "paper":
        return (f"该户（{flat}）已于 {local_day(taken.created_at)} 登记过纸质问卷"
                f"（收集人 {taken.collector or '未填'}），每户一票，不能重复登记。")
    return f"该户（{flat}）已于 {local_day(taken.created_at)} 在公众号参与本次调查，每户一票，这份纸质问卷不能计入。"
