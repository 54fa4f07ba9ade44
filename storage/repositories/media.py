"""Kept media of tickets (`ticket_media`): queue, claim, outcome, erasure marks, purge. Takes the caller's session
and never commits."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.media_models import TicketMedia

RESIDENT_SOURCES = ("complaint", "supplement")


def add(session: AsyncSession, ticket_id: int, kind: str, source: str, now: datetime, *, media_id: str | None = None,
        added_by: str | None = None) -> TicketMedia:
    row = TicketMedia(ticket_id=ticket_id, kind=kind, source=source, media_id=media_id, status="pending",
                      attempts=0, next_try_at=now, received_at=now, added_by=added_by)
    session.add(row)
    return row


async def of_ticket(session: AsyncSession, ticket_id: int) -> Sequence[TicketMedia]:
    return (await session.scalars(select(TicketMedia).where(TicketMedia.ticket_id == ticket_id)
                                  .order_by(TicketMedia.id))).all()


async def get(session: AsyncSession, ticket_id: int, media_row_id: int) -> TicketMedia | None:
    return (await session.scalars(select(TicketMedia).where(TicketMedia.id == media_row_id,
                                                            TicketMedia.ticket_id == ticket_id))).first()


async def due(session: AsyncSession, now: datetime, limit: int = 50) -> Sequence[Row]:
    """Pending downloads whose time has come: (id, ticket_id, media_id, kind, attempts)."""
    return (await session.execute(
        select(TicketMedia.id, TicketMedia.ticket_id, TicketMedia.media_id, TicketMedia.kind, TicketMedia.attempts)
        .where(TicketMedia.status == "pending", TicketMedia.next_try_at <= now, TicketMedia.media_id.is_not(None))
        .order_by(TicketMedia.next_try_at, TicketMedia.id).limit(limit))).all()


async def claim(session: AsyncSession, row_id: int, attempts: int, lease_until: datetime) -> bool:
    """Take one download (this attempt is counted, the row hidden until `lease_until`), unless another sweep did."""
    result = await session.execute(
        update(TicketMedia).where(TicketMedia.id == row_id, TicketMedia.status == "pending",
                                  TicketMedia.attempts == attempts)
        .values(attempts=attempts + 1, next_try_at=lease_until))
    return affected(result) == 1


async def mark_stored(session: AsyncSession, row_id: int, key: str, content_type: str, size: int,
                      now: datetime) -> bool:
    """Stored: the WeChat MediaId is no longer needed. False when the row changed meanwhile (erased)."""
    result = await session.execute(
        update(TicketMedia).where(TicketMedia.id == row_id, TicketMedia.status == "pending")
        .values(status="stored", key=key, content_type=content_type, size=size, stored_at=now, media_id=None,
                last_error=None, next_try_at=None))
    return affected(result) == 1


async def mark_retry(session: AsyncSession, row_id: int, error: str, at: datetime) -> None:
    await session.execute(update(TicketMedia).where(TicketMedia.id == row_id, TicketMedia.status == "pending")
                          .values(last_error=error[:200], next_try_at=at))


async def mark_failed(session: AsyncSession, row_id: int, error: str) -> bool:
    result = await session.execute(
        update(TicketMedia).where(TicketMedia.id == row_id, TicketMedia.status == "pending")
        .values(status="failed", last_error=error[:200], next_try_at=None))
    return affected(result) == 1


async def retry_failed(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """Staff ask for one more round of attempts on a failed download."""
    result = await session.execute(
        update(TicketMedia).where(TicketMedia.id == row_id, TicketMedia.status == "failed",
                                  TicketMedia.media_id.is_not(None))
        .values(status="pending", attempts=0, next_try_at=now))
    return affected(result) == 1


async def erase_residents_media(session: AsyncSession, ticket_id: int) -> None:
    """The resident's own media of a ticket (complaint, 补充) leave with the resident: no MediaId, no error text;
    stored objects are deleted by the sweep (`to_purge`). Staff evidence stays with the ticket."""
    await session.execute(
        update(TicketMedia).where(TicketMedia.ticket_id == ticket_id,
                                  TicketMedia.source.not_in(["staff"]))
        .values(status="erased", media_id=None, last_error=None, next_try_at=None))


async def to_purge(session: AsyncSession, limit: int = 100) -> Sequence[Row]:
    """Erased media whose stored object is still to delete: (id, key)."""
    return (await session.execute(select(TicketMedia.id, TicketMedia.key)
                                  .where(TicketMedia.status == "erased", TicketMedia.key.is_not(None))
                                  .order_by(TicketMedia.id).limit(limit))).all()


async def forget_key(session: AsyncSession, row_id: int) -> None:
    await session.execute(update(TicketMedia).where(TicketMedia.id == row_id, TicketMedia.status == "erased")
                          .values(key=None, content_type=None, size=None))
