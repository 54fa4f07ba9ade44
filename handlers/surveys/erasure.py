"""The surveys' part of a resident's erasure (run by `handlers.privacy.erasure`).

The vote keeps counting: its choices and ratings stay, with the place it was cast from. What was the person's goes:
the response and its audit trail get a fresh random ref (unlinkable to their other records), lose the resident id,
and drop free-text answers (comments, and anything that is not an answer to the campaign's questions); a
per-person voter key (`r:<ref>`) follows the fresh ref. A household's key is a keyed hash of the household, not
of the person, and stays: the household keeps its one voice, so erasing and binding again does not give a second
one. Unfinished drafts are deleted.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident, new_ref
from storage.repositories import surveys as repo
from storage.survey_models import Survey, SurveyResponse, SurveyResponseEvent


def anonymous_answers(questions: list, answers: dict | None) -> dict:
    """The answers that are figures (ratings, choices); comments and unknown keys dropped."""
    kinds = {q.get("id"): q.get("kind") for q in questions or [] if isinstance(q, dict)}
    return {qid: value for qid, value in (answers or {}).items() if _is_figure(kinds.get(qid), value)}


def _is_figure(kind: str | None, value) -> bool:
    def number(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if kind in ("rating", "single"):
        return value is None or number(value)
    if kind == "multiple":
        return value is None or (isinstance(value, list) and all(number(v) for v in value))
    return False


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    responses = list(await session.scalars(select(SurveyResponse).where(
        or_(SurveyResponse.resident_id == resident.id, SurveyResponse.resident_ref == resident.ref))))
    for row in responses:
        survey = await session.get(Survey, row.survey_id)
        questions = survey.questions if survey is not None else []
        fresh = new_ref()
        if row.voter_key.startswith("r:"):
            row.voter_key = f"r:{fresh}"
        row.resident_ref, row.resident_id = fresh, None
        row.answers = anonymous_answers(questions, row.answers)
        for event in await session.scalars(select(SurveyResponseEvent)
                                           .where(SurveyResponseEvent.response_id == row.id)):
            event.resident_ref, event.answers = fresh, anonymous_answers(questions, event.answers)
    await repo.forget_trail_and_drafts(session, resident.id, resident.ref, new_ref())
