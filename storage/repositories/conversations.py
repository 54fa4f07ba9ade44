"""Conversation state rows: one per resident in a dialog, with an expiry."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def load(session: AsyncSession, openid: str, now: datetime) -> Conversation | None:
    """The live conversation of `openid`; an expired one is deleted and None returned."""
    row = await session.get(Conversation, openid)
    if row is not None and row.expires_at <= now:
        await session.delete(row)
        return None
    return row


async def save(
    session: AsyncSession, openid: str, state: str, data: dict, now: datetime, ttl: timedelta,
    row: Conversation | None = None,
) -> None:
    """Store the dialog; pass the `row` already loaded (or None when there was none) to skip a read."""
    if row is None:
        session.add(Conversation(openid=openid, state=state, data=data, expires_at=now + ttl, updated_at=now))
    else:
        row.state, row.data, row.expires_at, row.updated_at = state, data, now + ttl, now


async def clear(session: AsyncSession, openid: str) -> None:
    await session.execute(delete(Conversation).where(Conversation.openid == openid))


async def prune(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(Conversation).where(Conversation.expires_at <= now))
    return result.rowcount or 0
