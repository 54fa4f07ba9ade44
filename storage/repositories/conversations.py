"""Conversation state rows: one per resident in a dialog, with an expiry.

The dispatcher reads and writes them for every message, so these are prepared Core statements
(`storage.prepared`), and the row it holds is a plain `ConversationRow`, not an ORM object.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import Conversation
from storage.prepared import Prepared, typed_params

TABLE = Conversation.__table__


@dataclass(frozen=True)
class ConversationRow:
    """A resident's stored dialog as read with their resident row; it may have expired (see `expires_at`)."""

    state: str
    data: dict
    expires_at: datetime


def _upsert(dialect: str):
    # ON CONFLICT … DO UPDATE is the same on both engines; dialect `insert()` upserts are not cacheable in
    # SQLAlchemy (recompiled per call), a typed text() statement is.
    return text(
        "INSERT INTO conversations (openid, state, data, expires_at, updated_at)"
        " VALUES (:openid, :state, :data, :expires_at, :updated_at)"
        " ON CONFLICT (openid) DO UPDATE SET state = excluded.state, data = excluded.data,"
        " expires_at = excluded.expires_at, updated_at = excluded.updated_at"
    ).bindparams(*typed_params(TABLE, "openid", "state", "data", "expires_at", "updated_at"))


_SAVE = Prepared(_upsert)
_CLEAR = Prepared(lambda dialect: delete(TABLE).where(TABLE.c.openid == bindparam("key")))


async def save(session: AsyncSession, openid: str, state: str, data: dict, now: datetime, ttl: timedelta) -> None:
    """Store the dialog, replacing any earlier one (expired or not)."""
    await _SAVE.run(session, openid=openid, state=state, data=data, expires_at=now + ttl, updated_at=now)


async def clear(session: AsyncSession, openid: str) -> None:
    await _CLEAR.run(session, key=openid)


async def prune(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(Conversation).where(Conversation.expires_at <= now))
    return affected(result)
