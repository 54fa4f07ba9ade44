"""Periodic sweeps (run by the deployment's one scheduler; call them directly in tests with a chosen `now`):

- `deadlines`: a 催办 to the level that holds a ticket when its sign deadline has passed unsigned, and when the
  resolve deadline is `chase_days` working days away (or half the limit, when the limit is shorter) — once per
  deadline; automatic escalation to the next level when the resolve deadline has passed, and at the district
  (the top) a one-time 超期 mark. Tickets waiting for the resident are skipped (their clock is paused).
- `close_unrated`: resolved tickets nobody rated within `rating_days` working days are closed.
- `forget_phones`: call-back numbers of erased residents are cleared.

Each ticket is handled in its own transaction behind a conditional UPDATE on the values it was selected with,
so a late, repeated or concurrent run changes nothing twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from bot.jobs import Job
from handlers.tickets import notify, rules, service
from handlers.tickets.rules import Actor
from handlers.tickets.sla import sla_of
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

log = logging.getLogger("linli.tickets")
SYSTEM = Actor.system()


async def _claim(session, ticket_id: int, now: datetime, **expected) -> Ticket | None:
    """Touch the ticket only if it still has the `expected` column values; then load it fresh."""
    conditions = [getattr(Ticket, k) == v if v is not None else getattr(Ticket, k).is_(None)
                  for k, v in expected.items()]
    result = await session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.status.in_(rules.OPEN | {
        "resolved"}), *conditions).values(updated_at=now))
    if (result.rowcount or 0) != 1:
        return None
    return await repo.get(session, ticket_id)


async def deadlines(services, now: datetime) -> dict[str, int]:
    sla = sla_of(services)
    horizon = sla.calendar.add(now, sla.chase_days)
    counts = {"chased": 0, "escalated": 0, "overdue": 0}
    async with services.db.transaction() as session:
        candidates = [(t.id, t.level, t.status, t.category, t.signed_at, t.sign_due_at, t.resolve_due_at,
                       t.chased_due_at, t.overdue_at) for t in await repo.open_due_before(session, horizon)]
    for row in candidates:
        try:
            async with services.db.transaction() as session:
                done = await _one(session, services, now, *row)
            if done:
                counts[done] += 1
        except Exception:  # one bad ticket must not stop the sweep
            log.exception("ticket deadline sweep failed for ticket %s", row[0])
    return counts


async def _one(session, services, now, ticket_id, level, status, category, signed_at, sign_due, resolve_due,
               chased, overdue) -> str | None:
    guard = dict(level=level, status=status, resolve_due_at=resolve_due, waiting_since=None)
    if resolve_due <= now:
        return await _past_deadline(session, services, now, ticket_id, level, overdue, guard)
    sla = sla_of(services)
    if signed_at is None:
        due, text = sign_due, f"已超过签收时限（{notify.local(sign_due)}），请立即签收。"
        if sign_due > now:
            return None
    else:
        due, text = resolve_due, None
        window = min(sla.chase_days, sla.resolve_limit(level, category) / 2)
        if sla.calendar.between(now, resolve_due) > window:
            return None
    if chased == due:
        return None
    ticket = await _claim(session, ticket_id, now, chased_due_at=chased, **guard)
    if ticket is None:
        return None
    await service.perform(session, services, ticket, "chase", SYSTEM, now, **({"text": text} if text else {}))
    return "chased"


async def _past_deadline(session, services, now, ticket_id, level, overdue, guard) -> str | None:
    if rules.next_level(level) is not None:
        ticket = await _claim(session, ticket_id, now, **guard)
        if ticket is None:
            return None
        await service.perform(session, services, ticket, "escalate", SYSTEM, now)
        return "escalated"
    if overdue is not None:
        return None
    ticket = await _claim(session, ticket_id, now, overdue_at=None, **guard)
    if ticket is None:
        return None
    ticket.overdue_at = now
    repo.add_event(session, ticket, kind="overdue", actor="system", actor_label="系统", public=False,
                   text="已超过区县办理时限，请尽快办结。", at=now)
    await notify.to_staff(session, ticket, level, f"工单 {ticket.number} 已超过区县办理时限，请尽快办结。", now=now)
    return "overdue"


async def close_unrated(services, now: datetime) -> int:
    sla = sla_of(services)
    closed = 0
    async with services.db.transaction() as session:
        rows = [(t.id, t.resolved_at) for t in
                await repo.resolved_before(session, now - timedelta(days=sla.rating_days))]
    for ticket_id, resolved_at in rows:
        if sla.calendar.add(resolved_at, sla.rating_days) > now:
            continue
        async with services.db.transaction() as session:
            ticket = await _claim(session, ticket_id, now, status="resolved", resolved_at=resolved_at)
            if ticket is not None:
                await service.perform(session, services, ticket, "close", SYSTEM, now)
                closed += 1
    return closed


async def forget_phones(services, now: datetime) -> int:
    async with services.db.transaction() as session:
        return await repo.forget_orphan_phones(session)


def jobs() -> list[Job]:
    return [Job("tickets.deadlines", deadlines, every=300),
            Job("tickets.close_unrated", close_unrated, every=3600),
            Job("tickets.forget_phones", forget_phones, every=3600)]
