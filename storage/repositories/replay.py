"""Webhook nonces: a `(timestamp, nonce)` pair is claimed once, for one body, by whichever worker sees it first."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebhookNonce
from storage.prepared import Prepared, typed_params

_T = WebhookNonce.__table__
_CLAIM = Prepared(lambda dialect: text(
    "INSERT INTO webhook_nonces (key, digest, expires_at) VALUES (:key, :digest, :expires_at)"
    " ON CONFLICT (key) DO NOTHING RETURNING digest"
).bindparams(*typed_params(_T, "key", "digest", "expires_at")).columns(_T.c.digest))
_DIGEST = Prepared(lambda dialect: text("SELECT digest FROM webhook_nonces WHERE key = :key")
                   .bindparams(*typed_params(_T, "key")).columns(_T.c.digest))


async def claim(session: AsyncSession, key: str, digest: str, expires_at: datetime) -> str:
    """Record `key` for `digest` unless some request recorded it already; returns the digest it is bound to
    (ours when this is the first use; on PostgreSQL a concurrent first use is waited for)."""
    if (await _CLAIM.run(session, key=key, digest=digest, expires_at=expires_at)).first() is not None:
        return digest  # the first use: one statement
    row = (await _DIGEST.run(session, key=key)).first()
    return row[0] if row is not None else digest


async def prune(session: AsyncSession, now: datetime) -> int:
    """Forget pairs whose timestamp is outside the window by now (a request carrying them is refused anyway)."""
    result = await session.execute(delete(WebhookNonce).where(WebhookNonce.expires_at < now))
    return cast(CursorResult[Any], result).rowcount or 0
