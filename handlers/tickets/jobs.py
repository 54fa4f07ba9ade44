"""Periodic sweeps (run by the deployment's one scheduler; call them directly in tests with a chosen `now`):

- `deadlines`: a 催办 to the level that holds a ticket when its sign deadline has passed unsigned, and when the
  resolve deadline is `chase_days` working days away (or half the limit, when the limit is shorter) — once per
  deadline; automatic escalation to the next level when the resolve deadline has passed, and at the district
  (the top) a one-time 超期 mark. Tickets waiting for the resident are skipped (their clock is paused).
- `close_unrated`: resolved tickets nobody rated within `rating_days` working days are closed.
- `media`: downloads and keeps the photos, voice and videos of complaints (handlers/tickets/media.py).
- `erase_orphans`: tickets whose resident row disappeared without the erasure running (deleted by hand, an old
  backup restored) lose their personal data as an erasure would have done (handlers/tickets/erasure.py).

The sweeps read the few columns they decide on (not whole tickets: a city has tens of thousands open) and decide
in Python; each ticket that needs something is then handled in its own transaction behind a conditional UPDATE on
the values it was selected with, so a late, repeated or concurrent run changes nothing twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.jobs import Job
from handlers.tickets import media, notify, rules, service
from handlers.tickets.erasure import erase_ticket
from handlers.tickets.rules import Actor
from handlers.tickets.sla import sla_of
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

log = logging.getLogger("linli.tickets")
SYSTEM = Actor.system()


async def _claim(session, ticket_id: int, now: datetime, **expected) -> Ticket | None:
    """Touch the ticket only if it still has the `expected` column values; then load it fresh."""
    if not await repo.touch_if(session, ticket_id, now, rules.OPEN | {"resolved"}, **expected):
        return None
    return await repo.get(session, ticket_id)


async def deadlines(services, now: datetime) -> dict[str, int]:
    sla = sla_of(services)
    horizon = sla.calendar.add(now, sla.chase_days)
    counts = {"chased": 0, "escalated": 0, "overdue": 0}
    async with services.db.reading() as session:
        candidates = await repo.open_due_before(session, horizon)
    for row in candidates:  # most need nothing yet: decided here, a write transaction only for those that do
        action = _due_action(sla, now, row)
        if action is None:
            continue
        try:
            async with services.db.transaction() as session:
                done = await _perform(session, services, now, action, row)
            if done:
                counts[done] += 1
        except Exception:  # one bad ticket must not stop the sweep
            log.exception("ticket deadline sweep failed for ticket %s", row.id)
    return counts


def _due_action(sla, now: datetime, row) -> tuple[str, str | None] | None:
    """What the sweep owes this ticket now, from the values it was selected with: ("escalate" | "overdue" |
    "chase", the chase text) or None."""
    if row.resolve_due_at <= now:
        if rules.next_level(row.level) is not None:
            return "escalate", None
        return None if row.overdue_at is not None else ("overdue", None)
    if row.signed_at is None:
        due, text = row.sign_due_at, f"已超过签收时限（{notify.local(row.sign_due_at)}），请立即签收。"
        if due > now:
            return None
    else:
        due, text = row.resolve_due_at, None
        window = min(sla.chase_days, sla.resolve_limit(row.level, row.category) / 2)
        if sla.calendar.between(now, row.resolve_due_at) > window:
            return None
    return None if row.chased_due_at == due else ("chase", text)


async def _perform(session, services, now: datetime, action: tuple[str, str | None], row) -> str | None:
    """Carry out `action` if the ticket still has the values it was selected with (else another run did)."""
    kind, text = action
    guard = dict(level=row.level, status=row.status, resolve_due_at=row.resolve_due_at, waiting_since=None)
    if kind == "escalate":
        ticket = await _claim(session, row.id, now, **guard)
        if ticket is None:
            return None
        await service.perform(session, services, ticket, "escalate", SYSTEM, now)
        return "escalated"
    if kind == "overdue":
        ticket = await _claim(session, row.id, now, overdue_at=None, **guard)
        if ticket is None:
            return None
        ticket.overdue_at = now
        repo.add_event(session, ticket, kind="overdue", actor="system", actor_label="系统", public=False,
                       text="已超过区县办理时限，请尽快办结。", at=now)
        await notify.to_staff(session, ticket, row.level, f"工单 {ticket.number} 已超过区县办理时限，请尽快办结。",
                              now=now, kind="ticket_chase", services=services)
        return "overdue"
    ticket = await _claim(session, row.id, now, chased_due_at=row.chased_due_at, **guard)
    if ticket is None:
        return None
    await service.perform(session, services, ticket, "chase", SYSTEM, now, **({"text": text} if text else {}))
    return "chased"


async def close_unrated(services, now: datetime) -> int:
    sla = sla_of(services)
    closed = 0
    async with services.db.reading() as session:
        rows = await repo.resolved_before(session, now - timedelta(days=sla.rating_days))
    for ticket_id, resolved_at in rows:
        if sla.calendar.add(resolved_at, sla.rating_days) > now:
            continue
        async with services.db.transaction() as session:
            ticket = await _claim(session, ticket_id, now, status="resolved", resolved_at=resolved_at)
            if ticket is not None:
                await service.perform(session, services, ticket, "close", SYSTEM, now)
                closed += 1
    return closed


async def erase_orphans(services, now: datetime) -> int:
    async with services.db.transaction() as session:
        found = await repo.orphans(session)
        for ticket in found:
            await erase_ticket(session, ticket, now)
    return len(found)


def jobs() -> list[Job]:
    return [Job("tickets.deadlines", deadlines, every=300),
            Job("tickets.close_unrated", close_unrated, every=3600),
            Job("tickets.erase_orphans", erase_orphans, every=3600),
            Job("tickets.media", media.sweep, every=20)]
