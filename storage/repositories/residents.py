"""Residents: lookup, follow/unfollow bookkeeping, binding, and erasure of personal data."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Conversation, Estate, ProcessedMessage, Resident, ResidentRole, Community, Street


async def get(session: AsyncSession, openid: str) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.openid == openid))


async def get_or_create(session: AsyncSession, openid: str, now: datetime) -> Resident:
    """The resident for `openid`, created (unbound) on first contact."""
    resident = await get(session, openid)
    if resident is not None:
        return resident
    resident = Resident(openid=openid, subscribed=True, created_at=now)
    try:
        async with session.begin_nested():
            session.add(resident)
    except IntegrityError:  # created meanwhile by another worker
        resident = await get(session, openid)
        assert resident is not None
    return resident


async def with_conversation(
    session: AsyncSession, openid: str, now: datetime
) -> tuple[Resident, Conversation | None]:
    """The resident (created on first contact) and their conversation row, in one query. The row may have
    expired (check `expires_at`); it is returned anyway so that a new dialog can overwrite it in place."""
    stmt = (
        select(Resident, Conversation)
        .outerjoin(Conversation, Conversation.openid == Resident.openid)
        .where(Resident.openid == openid)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        resident = await get_or_create(session, openid, now)
        return resident, await session.get(Conversation, openid)
    return found[0], found[1]


async def load_profile(session: AsyncSession, resident_id: int) -> Resident:
    """The resident with community → street → district and estate → partners loaded, for display."""
    stmt = (
        select(Resident)
        .where(Resident.id == resident_id)
        .options(
            selectinload(Resident.community).selectinload(Community.street).selectinload(Street.district),
            selectinload(Resident.estate).selectinload(Estate.property_company),
            selectinload(Resident.estate).selectinload(Estate.developer),
        )
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


def bind(
    resident: Resident,
    *,
    community_id: int,
    now: datetime,
    estate_id: int | None = None,
    role: ResidentRole | None = None,
    building: str | None = None,
    room: str | None = None,
) -> None:
    resident.community_id = community_id
    resident.estate_id = estate_id
    resident.role = role
    resident.building = building
    resident.room = room
    resident.bound_at = now
    resident.consent_at = now


async def erase(session: AsyncSession, openid: str) -> bool:
    """Delete everything linli keeps about `openid` (WeChat requires this on unfollow).

    Tickets and votes reference residents through `Resident.ref` copies they keep themselves, so figures
    stay true. The caller records the current message without the openid (`Context.erased`).
    """
    await session.execute(delete(Conversation).where(Conversation.openid == openid))
    await session.execute(delete(ProcessedMessage).where(ProcessedMessage.openid == openid))
    result = await session.execute(delete(Resident).where(Resident.openid == openid))
    return (result.rowcount or 0) > 0
