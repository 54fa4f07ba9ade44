"""Processed inbound messages: the unique dedupe key that makes WeChat's retries harmless."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import ProcessedMessage
from storage.prepared import Prepared, typed_params

_RECORD = Prepared(lambda dialect: text(
    "INSERT INTO processed_messages (dedupe_key, openid, received_at, reply, pushed)"
    " VALUES (:dedupe_key, :openid, :received_at, :reply, :pushed)"
).bindparams(*typed_params(ProcessedMessage.__table__, "dedupe_key", "openid", "received_at", "reply", "pushed")))


_FIND = select(ProcessedMessage).where(ProcessedMessage.dedupe_key == bindparam("key"))


async def find(session: AsyncSession, dedupe_key: str) -> ProcessedMessage | None:
    return await session.scalar(_FIND, {"key": dedupe_key})


async def record(
    session: AsyncSession, dedupe_key: str, openid: str, now: datetime, reply: dict | None, *, pushed: bool
) -> None:
    """Insert the row (flushed at once): raises IntegrityError when the same message was recorded already,
    which on PostgreSQL waits for a concurrent transaction holding the same key to finish first."""
    await _RECORD.run(session, dedupe_key=dedupe_key, openid=openid, received_at=now, reply=reply, pushed=pushed)


async def prune(session: AsyncSession, older_than: datetime) -> int:
    """Forget rows older than WeChat's retry horizon (minutes); returns how many went."""
    result = await session.execute(delete(ProcessedMessage).where(ProcessedMessage.received_at < older_than))
    return affected(result)
