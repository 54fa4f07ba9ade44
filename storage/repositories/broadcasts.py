"""Broadcast rows: storing one, the reads that shape a scope, and the life-cycle transitions
(scheduled → sending → done, paused, cancelled). The rules of what may be sent live in `bot.delivery.outbox`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.delivery_models import Broadcast, Delivery
from storage.models import ORG_MODELS, Community, Estate, Resident, Street
from storage.repositories import deliveries


async def add(session: AsyncSession, broadcast: Broadcast) -> Broadcast:
    """Store a new broadcast (flushed, so `.id` is set)."""
    session.add(broadcast)
    await session.flush()
    return broadcast


async def communities_reached(session: AsyncSession, level: str, ids: list[int], residents: list[int] | None
                              ) -> list[int] | None:
    """The community ids a scope covers now (sorted); None for the whole city. With `residents` named, their
    communities (residents bound to none reach none)."""
    if residents is not None:
        rows = await session.scalars(select(Resident.community_id).where(
            Resident.id.in_(residents), Resident.community_id.is_not(None)).distinct())
        return sorted(c for c in rows if c is not None)
    query = {
        "district": select(Community.id).join(Street, Street.id == Community.street_id).where(
            Street.district_id.in_(ids)),
        "street": select(Community.id).where(Community.street_id.in_(ids)),
        "community": select(Community.id).where(Community.id.in_(ids)),
        "estate": select(Estate.community_id).where(Estate.id.in_(ids)),
    }.get(level)
    return None if query is None else sorted(set(await session.scalars(query)))


async def resident_refs(session: AsyncSession, resident_ids: list[int]) -> list[str]:
    """The immutable references of the residents named, in their order (unknown ids are dropped)."""
    if not resident_ids:
        return []
    found = dict((await session.execute(select(Resident.id, Resident.ref)
                                        .where(Resident.id.in_(list(resident_ids))))).tuples().all())
    return [found[i] for i in dict.fromkeys(resident_ids) if i in found]


async def ids_for_codes(session: AsyncSession, level: str, codes: list[str]) -> dict[str, int]:
    """Jurisdiction codes of one level → ids (unknown codes are absent)."""
    model = ORG_MODELS[level]
    return dict((await session.execute(select(model.code, model.id).where(model.code.in_(codes)))).tuples().all())


async def activate_due(session: AsyncSession, now: datetime) -> list[int]:
    """Start scheduled broadcasts whose time has come and resume paused ones whose pause is over."""
    due = or_(and_(Broadcast.status == "scheduled", Broadcast.send_at <= now),
              and_(Broadcast.status == "paused", Broadcast.paused_until <= now))
    ids = list(await session.scalars(select(Broadcast.id).where(due)))
    if ids:
        await session.execute(update(Broadcast).where(Broadcast.id.in_(ids), due).values(
            status="sending", paused_until=None, pause_reason=None))
        await session.execute(update(Broadcast).where(Broadcast.id.in_(ids), Broadcast.started_at.is_(None))
                              .values(started_at=now))
    return ids


async def upcoming(session: AsyncSession) -> list[tuple[int, datetime]]:
    """(id, when) of every broadcast waiting for a time: scheduled ones and paused ones."""
    rows = await session.execute(select(Broadcast.id, Broadcast.status, Broadcast.send_at, Broadcast.paused_until)
                                 .where(Broadcast.status.in_(("scheduled", "paused"))))
    return [(i, send_at if status == "scheduled" else paused) for i, status, send_at, paused in rows
            if (send_at if status == "scheduled" else paused) is not None]


async def sending(session: AsyncSession) -> list[Broadcast]:
    return list(await session.scalars(select(Broadcast).where(Broadcast.status == "sending").order_by(Broadcast.id)))


async def pause(session: AsyncSession, broadcast_id: int, until: datetime, reason: str) -> None:
    await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
                          .values(status="paused", paused_until=until, pause_reason=reason))


async def finish_if_complete(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    left = exists().where(Delivery.broadcast_id == broadcast_id, Delivery.status.in_(deliveries.OPEN))
    result = await session.execute(update(Broadcast).where(
        Broadcast.id == broadcast_id, Broadcast.status == "sending", Broadcast.expanded == true(), ~left)
        .values(status="done", finished_at=now))
    return bool(affected(result))


async def reopen(session: AsyncSession, broadcast_id: int) -> None:
    """A finished broadcast goes back to sending (its failed deliveries were re-queued)."""
    await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == "done")
                          .values(status="sending", finished_at=None))


async def cancel(session: AsyncSession, broadcast_id: int) -> bool:
    result = await session.execute(update(Broadcast).where(
        Broadcast.id == broadcast_id, Broadcast.status.in_(("scheduled", "paused", "sending")))
        .values(status="cancelled"))
    return bool(affected(result))
