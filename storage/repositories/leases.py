"""Leases in `delivery_leases`: one named row per role that only one process may play at a time (the scheduler);
whoever holds an unexpired lease plays it. Atomic on both engines (a conditional UPDATE, a unique name)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.delivery_models import DeliveryLease


async def take(session: AsyncSession, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Hold (or keep holding) the lease until `until`; False when another owner holds it unexpired. The first
    holder inserts the row: a concurrent first insert fails with IntegrityError at commit, for the caller."""
    if await session.get(DeliveryLease, name) is None:
        session.add(DeliveryLease(name=name, owner=owner, lease_until=until))
        return True
    taken = await session.execute(update(DeliveryLease).where(
        DeliveryLease.name == name,
        or_(DeliveryLease.owner == owner, DeliveryLease.lease_until.is_(None), DeliveryLease.lease_until < now))
        .values(owner=owner, lease_until=until))
    return bool(affected(taken))


async def release(session: AsyncSession, name: str, owner: str) -> None:
    await session.execute(update(DeliveryLease).where(DeliveryLease.name == name, DeliveryLease.owner == owner)
                          .values(lease_until=None))
