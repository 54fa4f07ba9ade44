"""The webhook's replay cache: a signed `(timestamp, nonce)` pair is accepted once, in every encrypt mode.

WeChat's plaintext signature covers only the token, the timestamp and the nonce, not the body: one captured
request (a proxy log, a packet capture) could otherwise be replayed within the timestamp window with any body,
acting as any resident. Each pair is bound to the body it first came with, in a table every worker shares
(`webhook_nonces`, kept until the timestamp leaves the window). The same pair with another body is refused (403);
the same pair with the very same body is WeChat's retry of a message it did not get an answer to, and goes on to
the dedupe record, which answers it without a second effect.

The claim is written in the message's own transaction (`Dispatcher._handle`), so on SQLite it rides the group
commit instead of costing a write transaction of its own; a message whose handler failed (its transaction rolled
back) claims its pair alone afterwards.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories import replay


@dataclass(frozen=True)
class Claim:
    key: str  # "<timestamp>:<nonce>"
    digest: str  # SHA-256 of the body
    expires_at: datetime  # the timestamp leaves the window then: a request carrying it is refused anyway


def claim_for(timestamp: str, nonce: str, body: bytes, window: int) -> Claim:
    """The claim of a request whose timestamp and nonce were shape-checked and whose signature holds."""
    return Claim(f"{timestamp}:{nonce}", hashlib.sha256(body).hexdigest(),
                 datetime.fromtimestamp(int(timestamp) + window + 1, timezone.utc))


async def take(session: AsyncSession, claim: Claim) -> bool:
    """Record the pair for this body (first use) and say whether the pair belongs to this body."""
    return await replay.claim(session, claim.key, claim.digest, claim.expires_at) == claim.digest
