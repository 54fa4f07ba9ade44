"""Processed inbound messages: the unique dedupe key that makes WeChat's retries harmless."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedMessage


async def find(session: AsyncSession, dedupe_key: str) -> ProcessedMessage | None:
    return await session.scalar(select(ProcessedMessage).where(ProcessedMessage.dedupe_key == dedupe_key))


async def claim(session: AsyncSession, dedupe_key: str, openid: str, now: datetime) -> ProcessedMessage:
    """Insert the row now (flush), so a concurrent duplicate on another worker waits or fails here."""
    row = ProcessedMessage(dedupe_key=dedupe_key, openid=openid, received_at=now)
    session.add(row)
    await session.flush()
    return row


async def prune(session: AsyncSession, older_than: datetime) -> int:
    """Forget rows older than WeChat's retry horizon (minutes); returns how many went."""
    result = await session.execute(delete(ProcessedMessage).where(ProcessedMessage.received_at < older_than))
    return result.rowcount or 0
