"""Tickets: numbering counter, lookups for residents and staff, timeline, mediation records, sweep queries.

Takes the caller's session and never commits. Jurisdiction filters are applied by the caller
(`handlers.console.authz.restrict`) on the statements built here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Row, Select, and_, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.ticket_models import Ticket, TicketCounter, TicketEvent, TicketMediation

OPEN = ("received", "escalated", "assigned")


async def bump_counter(session: AsyncSession, day: str) -> int:
    """The next sequence number of `day`, atomically: one row per day, incremented in place (the row lock on
    PostgreSQL, the write lock on SQLite, keep two concurrent transactions from reading the same value)."""
    bump = (update(TicketCounter).where(TicketCounter.day == day)
            .values(value=TicketCounter.value + 1).returning(TicketCounter.value))
    value = (await session.execute(bump)).scalar_one_or_none()
    if value is not None:
        return value
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(TicketCounter).values(day=day, value=0).on_conflict_do_nothing())
    return (await session.execute(bump)).scalar_one()


async def get(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if lock and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_number(session: AsyncSession, number: str) -> Ticket | None:
    return (await session.execute(select(Ticket).where(Ticket.number == number.strip().upper()))).scalar_one_or_none()


def add_event(session: AsyncSession, ticket: Ticket, *, kind: str, actor: str, actor_label: str, public: bool,
              text: str, at: datetime, data: dict | None = None) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, at=at, kind=kind, actor=actor, actor_label=actor_label,
                        level=ticket.level, public=public, text=text, data=data)
    session.add(event)
    return event


async def events(session: AsyncSession, ticket_id: int, *, public_only: bool = False) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    if public_only:
        stmt = stmt.where(TicketEvent.public.is_(True))
    return list((await session.execute(stmt)).scalars())


async def of_resident(session: AsyncSession, ref: str, limit: int = 10) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.resident_ref == ref).order_by(Ticket.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def recent_of_resident(session: AsyncSession, ref: str, since: datetime) -> list[Ticket]:
    """The resident's tickets filed since `since` that are not finished (duplicate protection)."""
    stmt = (select(Ticket).where(Ticket.resident_ref == ref, Ticket.created_at >= since,
                                 Ticket.status.notin_(("closed", "rejected")))
            .order_by(Ticket.id.desc()))
    return list((await session.execute(stmt)).scalars())


async def awaiting_resident(session: AsyncSession, ref: str) -> list[Ticket]:
    """Resolved tickets the resident has not rated, newest resolution first."""
    stmt = (select(Ticket).where(Ticket.resident_ref == ref, Ticket.status == "resolved")
            .order_by(Ticket.resolved_at.desc()))
    return list((await session.execute(stmt)).scalars())


async def waiting_for(session: AsyncSession, ref: str) -> list[Ticket]:
    stmt = (select(Ticket).where(Ticket.resident_ref == ref, Ticket.waiting_since.is_not(None),
                                 Ticket.status.in_(OPEN)).order_by(Ticket.id.desc()))
    return list((await session.execute(stmt)).scalars())


async def similar_open(session: AsyncSession, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """Open tickets in the same estate (or community, when no estate) and category, except this one."""
    place = (Ticket.estate_id == ticket.estate_id) if ticket.estate_id else (Ticket.community_id == ticket.community_id)
    stmt = (select(Ticket).where(place, Ticket.category == ticket.category, Ticket.id != ticket.id,
                                 Ticket.status.in_(OPEN + ("resolved",)), Ticket.duplicate_of_id.is_(None))
            .order_by(Ticket.id.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def linked(session: AsyncSession, ticket_id: int) -> list[Ticket]:
    """Tickets merged into `ticket_id` as its duplicates."""
    stmt = select(Ticket).where(Ticket.duplicate_of_id == ticket_id).order_by(Ticket.id)
    return list((await session.execute(stmt)).scalars())


async def mediations(session: AsyncSession, ticket_id: int) -> list[TicketMediation]:
    stmt = select(TicketMediation).where(TicketMediation.ticket_id == ticket_id).order_by(TicketMediation.id)
    return list((await session.execute(stmt)).scalars())


SORTS = {"number": Ticket.id, "created": Ticket.created_at, "due": Ticket.resolve_due_at, "status": Ticket.status,
         "level": Ticket.level, "category": Ticket.category, "community": Ticket.community_id}


def deadline():
    """The ticket's next deadline: the sign-by time while unsigned (when earlier), then the resolve-by time."""
    return case((and_(Ticket.signed_at.is_(None), Ticket.sign_due_at < Ticket.resolve_due_at), Ticket.sign_due_at),
                else_=Ticket.resolve_due_at)


def listing(*, status: str | None = None, level: str | None = None, category: str | None = None,
            community_id: int | None = None, overdue_before: datetime | None = None,
            number: str | None = None, due_before: datetime | None = None, mine: tuple[str | None, int] | None = None,
            sort: str = "-number") -> Select:
    """SELECT of tickets matching the console's filters (add `restrict` and paging).

    `due_before`: open, not waiting for the resident, next deadline before it (即将超期/已超期); `mine`: (level,
    staff id) — open tickets at that level either not yet signed or assigned to that person (我的待办); `sort`: a
    key of SORTS, `-` first for descending (default newest first)."""
    key = sort.lstrip("-")
    column = SORTS.get(key, Ticket.id)
    order = column.desc() if sort.startswith("-") or key not in SORTS else column.asc()
    stmt = select(Ticket).order_by(order, Ticket.id.desc())
    if status == "open":
        stmt = stmt.where(Ticket.status.in_(OPEN))
    elif status:
        stmt = stmt.where(Ticket.status == status)
    if level:
        stmt = stmt.where(Ticket.level == level)
    if category:
        stmt = stmt.where(Ticket.category == category)
    if community_id:
        stmt = stmt.where(Ticket.community_id == community_id)
    if overdue_before is not None:
        stmt = stmt.where(Ticket.status.in_(OPEN), Ticket.waiting_since.is_(None), or_(
            Ticket.resolve_due_at < overdue_before,
            and_(Ticket.signed_at.is_(None), Ticket.sign_due_at < overdue_before)))
    if due_before is not None:
        stmt = stmt.where(Ticket.status.in_(OPEN), Ticket.waiting_since.is_(None), deadline() <= due_before)
    if mine is not None:
        at_level, staff_id = mine
        stmt = stmt.where(Ticket.status.in_(OPEN), or_(Ticket.signed_at.is_(None), Ticket.assignee_staff_id == staff_id))
        if at_level is not None:  # admins act at every level
            stmt = stmt.where(Ticket.level == at_level)
    if number:
        stmt = stmt.where(Ticket.number.like(f"%{number.strip().upper()}%"))
    return stmt


def count_of(stmt: Select) -> Select:
    return select(func.count()).select_from(stmt.order_by(None).subquery())


async def open_due_before(session: AsyncSession, moment: datetime) -> list[Row]:
    """Open tickets, not waiting for the resident, with a deadline (sign or resolve) before `moment`: the columns
    the deadline sweep decides on, not whole tickets (a city has tens of thousands open)."""
    stmt = (select(Ticket.id, Ticket.level, Ticket.status, Ticket.category, Ticket.signed_at, Ticket.sign_due_at,
                   Ticket.resolve_due_at, Ticket.chased_due_at, Ticket.overdue_at)
            .where(Ticket.status.in_(OPEN), Ticket.waiting_since.is_(None), or_(
                Ticket.resolve_due_at <= moment, and_(Ticket.signed_at.is_(None), Ticket.sign_due_at <= moment)))
            .order_by(Ticket.id))
    return list((await session.execute(stmt)).all())


async def resolved_before(session: AsyncSession, moment: datetime) -> list[Row]:
    """(id, resolved_at) of tickets resolved before `moment` and still waiting for a rating."""
    stmt = (select(Ticket.id, Ticket.resolved_at).where(Ticket.status == "resolved", Ticket.resolved_at <= moment)
            .order_by(Ticket.id))
    return list((await session.execute(stmt)).all())


async def orphans(session: AsyncSession, limit: int = 500) -> list[Ticket]:
    """Tickets whose resident row is gone although their erasure never ran (deleted by hand, restored backups)."""
    stmt = (select(Ticket).where(Ticket.resident_id.is_(None), Ticket.resident_erased_at.is_(None))
            .order_by(Ticket.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def touch_if(session: AsyncSession, ticket_id: int, now: datetime, statuses: Iterable[str],
                   **expected: Any) -> bool:
    """Set `updated_at` on a ticket in one of `statuses` whose columns still have the `expected` values (None:
    NULL); whether it did. A sweep claims a ticket this way, so two processes never act on it twice."""
    conditions = [getattr(Ticket, k) == v if v is not None else getattr(Ticket, k).is_(None)
                  for k, v in expected.items()]
    result = await session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.status.in_(list(statuses)),
                                                        *conditions).values(updated_at=now))
    return affected(result) == 1


async def insert_many(session: AsyncSession, rows: list[dict], chunk: int = 2000) -> None:
    """Insert ticket rows in bulk (synthetic data for benchmarks and tests)."""
    for start in range(0, len(rows), chunk):
        await session.execute(insert(Ticket), rows[start:start + chunk])


async def unclaimed_by_phone(session: AsyncSession, community_id: int, phone: str, limit: int = 10) -> list[Ticket]:
    """Complaints received by phone, at the office or from 12345 in this community with this call-back number,
    not yet linked to anyone's WeChat."""
    stmt = (select(Ticket).where(Ticket.community_id == community_id, Ticket.phone == phone,
                                 Ticket.resident_id.is_(None), Ticket.claimed_at.is_(None),
                                 Ticket.resident_erased_at.is_(None), Ticket.channel != "wechat")
            .order_by(Ticket.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def claim(session: AsyncSession, ids: Iterable[int], ref: str, resident_id: int, phone: str,
                now: datetime) -> list[int]:
    """Link these unlinked tickets (still with this phone) to the resident; the ids actually linked."""
    stmt = (update(Ticket).where(Ticket.id.in_(list(ids)), Ticket.resident_id.is_(None), Ticket.claimed_at.is_(None),
                                 Ticket.phone == phone)
            .values(resident_ref=ref, resident_id=resident_id, claimed_at=now, updated_at=now)
            .returning(Ticket.id))
    return sorted((await session.execute(stmt)).scalars())
