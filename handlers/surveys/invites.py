"""What a campaign pushes to residents, always through the delivery engine (category `survey`, which residents
can mute with 「退订 调查」): the invitation when it opens, reminders to those who have not answered, and the
published results (a notice through the notices feature).

Reminders: at most `reminders_max` rounds, each at least `reminder_gap_hours` after the invitation or the
previous round, never after closing; a round is claimed by a conditional UPDATE of `reminders_sent`, so two
schedulers cannot send the same round. Recipients are computed at that moment: eligible residents whose vote
(or household's vote) is not in.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Content, Scope, create_broadcast
from handlers.surveys import messages, stats
from storage.repositories import surveys as repo
from storage.survey_models import Survey

log = logging.getLogger("linli.surveys")
NOTICE_CATEGORY = "general"  # handlers.notices.rules.CATEGORIES key of 通知公告


async def scope_of(session: AsyncSession, survey: Survey) -> Scope:
    """The delivery scope of the campaign's areas (estates when narrowed to a subject's estates)."""
    areas = await repo.areas(session, survey.id)
    roles = ["owner"] if survey.owners_only else []
    estates = sorted(e for _, e in areas if e is not None)
    if estates:
        return Scope("estate", estates, roles=roles)
    return Scope("community", sorted(c for c, _ in areas), roles=roles)


async def invite(session: AsyncSession, survey: Survey, now: datetime) -> int:
    title, text = messages.invitation(survey)
    broadcast = await create_broadcast(
        session, category="survey", scope=await scope_of(session, survey),
        content=Content(text, title=title, summary=f"截止 {messages.local(survey.closes_at)}"),
        created_by=f"survey:{survey.id}", source=f"survey:{survey.id}:invite", now=now)
    survey.invited_at = now
    await repo.log(session, survey.id, "invited", now, f"群发 {broadcast.id}")
    return broadcast.id


def reminder_due(survey: Survey, now: datetime) -> bool:
    """Pure: whether the next reminder round may go out now."""
    if survey.status != "open" or survey.invited_at is None or survey.reminders_sent >= survey.reminders_max:
        return False
    last = survey.last_reminded_at or survey.invited_at
    return last + timedelta(hours=survey.reminder_gap_hours) <= now < survey.closes_at


async def remind_due(session: AsyncSession, now: datetime, *, household_key: bytes) -> list[tuple[int, int]]:
    """Send the due reminder rounds; returns (survey id, recipients) per round sent."""
    sent = []
    for survey_id in await repo.due(session, "open", Survey.opens_at, now):
        survey = await repo.get(session, survey_id)
        if not reminder_due(survey, now):
            continue
        if not await repo.claim_reminder_round(session, survey, now):
            continue
        await session.refresh(survey)
        recipients = await stats.nonrespondents(session, survey, household_key=household_key)
        detail = f"第 {survey.reminders_sent} 次提醒，{len(recipients)} 人"
        if recipients:
            title, text = messages.reminder(survey, survey.reminders_sent)
            broadcast = await create_broadcast(
                session, category="survey", scope=Scope.of_residents(recipients),
                content=Content(text, title=title, summary=f"截止 {messages.local(survey.closes_at)}"),
                created_by=f"survey:{survey.id}", source=f"survey:{survey.id}:remind:{survey.reminders_sent}",
                now=now)
            detail += f"，群发 {broadcast.id}"
        await repo.log(session, survey.id, "reminded", now, detail)
        sent.append((survey.id, len(recipients)))
    return sent


async def announce_results(session: AsyncSession, survey: Survey, *, title: str, body: str, tables: list[dict],
                           author: str, now: datetime) -> str:
    """Publish results as a notice (handlers.notices) for the residents in scope; returns "notice:<id>".
    The notices feature's refusals (ValueError with a Chinese message) propagate to the caller.

    Until the notices feature is installed, the results go out as a `notice` broadcast with the same text
    ("broadcast:<id>"), so residents are informed either way."""
    scope = await scope_of(session, survey)
    try:
        from handlers.notices.service import publish_system_notice
    except ImportError:
        publish_system_notice = None
    if publish_system_notice is not None:
        notice = await publish_system_notice(
            session, category=NOTICE_CATEGORY, title=title, body=body, scope_level=scope.level,
            scope_ids=list(scope.ids), author=author, source=f"survey:{survey.id}", tables=tables, now=now)
        return f"notice:{getattr(notice, 'id', notice)}"
    log.warning("handlers.notices is not installed: survey %s results sent as a broadcast", survey.id)
    broadcast = await create_broadcast(
        session, category="notice", scope=Scope(scope.level, list(scope.ids)),
        content=Content(body + "\n\n" + _tables_text(tables), title=title, summary=survey.subject_name[:60]),
        created_by=author[:64], source=f"survey:{survey.id}", now=now)
    return f"broadcast:{broadcast.id}"


def _tables_text(tables: list[dict]) -> str:
    parts = []
    for t in tables:
        rows = [" | ".join(str(c) for c in t["columns"])] + [" | ".join(str(c) for c in r) for r in t["rows"]]
        parts.append(f"{t['title']}\n" + "\n".join(rows))
    return "\n\n".join(parts)
