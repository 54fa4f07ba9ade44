"""The webhook's replay cache: a signed `(timestamp, nonce)` pair is accepted once, in every encrypt mode.

WeChat's plaintext signature covers only the token, the timestamp and the nonce, not the body: one captured
request (a proxy log, a packet capture) could otherwise be replayed within the timestamp window with any body,
acting as any resident. Each pair is bound to the body it first came with, in a table every worker shares
(`webhook_nonces`, kept until the timestamp leaves the window). The same pair with another body is refused (403);
the same pair with the very same body is WeChat's retry of a message it did not get an answer to, and goes on to
the dispatcher, whose dedupe record answers it without a second effect.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone

from bot.protocol import ProtocolError
from storage.db import UNAVAILABLE, Database
from storage.repositories import replay

log = logging.getLogger("linli.replay")


def nonce_key(timestamp: str, nonce: str) -> str:
    return f"{timestamp}:{nonce}"


def expiry(timestamp: str, window: int) -> datetime:
    """When a pair stops mattering: its timestamp is then outside the window and refused before this check."""
    return datetime.fromtimestamp(int(timestamp) + window + 1, timezone.utc)


async def check(db: Database, timestamp: str, nonce: str, body: bytes, window: int) -> None:
    """Claim the pair for `body`; ProtocolError(403) when it was used with another body. `timestamp` and `nonce`
    have been shape-checked and the signature verified. A database that does not answer lets the request on:
    the dispatcher needs it too and answers the resident that the system is busy, with no effect."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        async with db.transaction() as session:
            bound = await replay.claim(session, nonce_key(timestamp, nonce), digest, expiry(timestamp, window))
    except UNAVAILABLE as exc:
        log.warning("replay cache unavailable: %s", type(exc).__name__)
        return
    if bound != digest:
        raise ProtocolError(403, "timestamp and nonce already used")
