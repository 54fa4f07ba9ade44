"""A webhook message's first and last statements on PostgreSQL, each one round trip.

The first (`arrive`) claims the request's replay pair, looks up the message's dedupe row, reads the resident with
their conversation row and opens the customer-service window, in one statement (data-modifying CTEs); the last
(`save_and_record` / `clear_and_record`) saves or clears the conversation and inserts the dedupe row with the reply. Both run inside the
message's transaction, so what is stored, and when, is what the separate statements stored
(`storage.repositories.replay`, `processed`, `residents`, `conversations`, `deliveries.open_window`). SQLite,
whose statements cost microseconds and no round trip and whose CTEs cannot write, runs the writes separately; its
reads, the dedupe row and the resident with their conversation, are one statement there too (`look_up`).

Every statement of a CTE sees the database as the statement began: the claim's own row is read through its
RETURNING, and a pair another transaction claimed and committed while this insert waited on it is looked up
again afterwards (`replay.claim`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, bindparam, column, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_models import CsWindow
from storage.models import Conversation, ProcessedMessage, Resident, WebhookNonce
from storage.prepared import Prepared, typed_params
from storage.repositories import replay
from storage.repositories.conversations import ConversationRow
from storage.repositories.residents import attach

_R, _C, _P = Resident.__table__, Conversation.__table__, ProcessedMessage.__table__
_N, _W = WebhookNonce.__table__, CsWindow.__table__
_RESIDENT_KEYS = [c.key for c in _R.c]

_ARRIVE = Prepared(lambda dialect: text(
    "WITH claim AS ("
    "  INSERT INTO webhook_nonces (key, digest, expires_at) SELECT :key, :digest, :expires_at WHERE :claiming"
    "  ON CONFLICT (key) DO NOTHING RETURNING digest),"
    " seen AS (SELECT reply, pushed FROM processed_messages WHERE dedupe_key = :dedupe_key),"
    " me AS (SELECT " + ", ".join(f"residents.{c.name}" for c in _R.c) + ","
    "   conversations.state AS c_state, conversations.data AS c_data, conversations.expires_at AS c_expires"
    "   FROM residents LEFT OUTER JOIN conversations ON conversations.openid = residents.openid"
    "   WHERE residents.openid = :openid),"
    " win AS ("
    "  INSERT INTO cs_windows (resident_id, opened_at, used) SELECT me.id, :opened_at, 0 FROM me"
    "  WHERE :open_window AND NOT EXISTS (SELECT 1 FROM seen)"
    "  ON CONFLICT (resident_id) DO UPDATE SET opened_at = excluded.opened_at, used = 0)"
    " SELECT COALESCE((SELECT digest FROM claim), (SELECT digest FROM webhook_nonces WHERE key = :key)),"
    " seen.reply IS NOT NULL OR seen.pushed IS NOT NULL, seen.reply, seen.pushed, me.*"
    " FROM (SELECT 1) AS one LEFT OUTER JOIN seen ON true LEFT OUTER JOIN me ON true"
).bindparams(
    *typed_params(_N, "key", "digest", "expires_at"), *typed_params(_P, "dedupe_key"),
    *typed_params(_R, "openid"), bindparam("opened_at", type_=_W.c.opened_at.type),
    bindparam("claiming", type_=Boolean()), bindparam("open_window", type_=Boolean()),
).columns(
    column("bound", _N.c.digest.type), column("seen", Boolean()), column("reply", _P.c.reply.type),
    column("pushed", _P.c.pushed.type), *(column(c.name, c.type) for c in _R.c),
    column("c_state", _C.c.state.type), column("c_data", _C.c.data.type), column("c_expires", _C.c.expires_at.type),
))


@dataclass(frozen=True)
class Seen:
    """The dedupe row of an earlier delivery of the same message."""

    reply: dict | None
    pushed: bool


@dataclass(frozen=True)
class Arrival:
    bound: str | None  # the digest the replay pair is bound to (None: no claim was asked for)
    seen: Seen | None
    resident: Resident | None  # None on first contact: nothing was read, no window opened
    conversation: ConversationRow | None


async def arrive(
    session: AsyncSession, openid: str, dedupe_key: str, claim: tuple[str, str, datetime] | None,
    now: datetime, *, open_window: bool,
) -> Arrival:
    """One statement: the replay claim `(key, digest, expires_at)` if given, the dedupe row, the resident (attached
    to the session) with their conversation, and the window opened when `open_window` and the message is new."""
    key, digest, expires_at = claim or ("", "", now)
    found: Any = (await _ARRIVE.run(
        session, key=key, digest=digest, expires_at=expires_at, claiming=claim is not None,
        dedupe_key=dedupe_key, openid=openid, opened_at=now, open_window=open_window,
    )).first()
    bound = None
    if claim is not None:
        # NULL: another transaction claimed the pair while ours waited on it; read what it committed
        bound = found[0] if found[0] is not None else await replay.claim(session, key, digest, expires_at)
    return _arrival(session, bound, found[1:])


def _arrival(session: AsyncSession, bound: str | None, row: Any) -> Arrival:
    """An Arrival from the columns both statements return in the same order: whether the dedupe row exists, its
    reply and pushed flag, the resident's columns (all NULL: no resident), the conversation's state, data, expiry."""
    seen = Seen(row[1], bool(row[2])) if row[0] else None
    values = row[3:3 + len(_RESIDENT_KEYS)]
    if values[0] is None:  # no resident row
        return Arrival(bound, seen, None, None)
    resident = attach(session, dict(zip(_RESIDENT_KEYS, values)))
    state, data, expires = row[-3:]
    return Arrival(bound, seen, resident, None if state is None else ConversationRow(state, data or {}, expires))


# SQLite: the dedupe row and the resident with their conversation, one row whether or not either exists
_LOOK_UP = Prepared(lambda dialect: text(
    "SELECT seen.dedupe_key IS NOT NULL, seen.reply, seen.pushed, "
    + ", ".join(f"residents.{c.name}" for c in _R.c) + ","
    " conversations.state, conversations.data, conversations.expires_at"
    " FROM (SELECT 1) AS one"
    " LEFT OUTER JOIN processed_messages AS seen ON seen.dedupe_key = :dedupe_key"
    " LEFT OUTER JOIN residents ON residents.openid = :openid"
    " LEFT OUTER JOIN conversations ON conversations.openid = residents.openid"
).bindparams(*typed_params(_P, "dedupe_key"), *typed_params(_R, "openid")).columns(
    column("seen", Boolean()), column("reply", _P.c.reply.type), column("pushed", _P.c.pushed.type),
    *(column(c.name, c.type) for c in _R.c),
    column("c_state", _C.c.state.type), column("c_data", _C.c.data.type), column("c_expires", _C.c.expires_at.type),
))


async def look_up(session: AsyncSession, openid: str, dedupe_key: str) -> Arrival:
    """SQLite: the message's dedupe row and the resident (attached to the session) with their conversation, in
    one statement; `resident` is None on first contact. A WeChat retry of a committed message is found here,
    before any handler runs: in a group commit a retry found only by its failing insert would roll back, and
    run again, every message of its batch."""
    found: Any = (await _LOOK_UP.run(session, dedupe_key=dedupe_key, openid=openid)).first()
    return _arrival(session, None, found)


_SAVE_AND_RECORD = Prepared(lambda dialect: text(
    "WITH saved AS ("
    "  INSERT INTO conversations (openid, state, data, expires_at, updated_at)"
    "  VALUES (:openid, :state, :data, :expires_at, :received_at)"
    "  ON CONFLICT (openid) DO UPDATE SET state = excluded.state, data = excluded.data,"
    "  expires_at = excluded.expires_at, updated_at = excluded.updated_at)"
    " INSERT INTO processed_messages (dedupe_key, openid, received_at, reply, pushed)"
    " VALUES (:dedupe_key, :record_openid, :received_at, :reply, :pushed)"
).bindparams(
    *typed_params(_C, "openid", "state", "data", "expires_at"),
    *typed_params(_P, "dedupe_key", "received_at", "reply", "pushed"),
    bindparam("record_openid", type_=_P.c.openid.type),
))
_CLEAR_AND_RECORD = Prepared(lambda dialect: text(
    "WITH cleared AS (DELETE FROM conversations WHERE openid = :openid)"
    " INSERT INTO processed_messages (dedupe_key, openid, received_at, reply, pushed)"
    " VALUES (:dedupe_key, :record_openid, :received_at, :reply, :pushed)"
).bindparams(
    *typed_params(_C, "openid"), *typed_params(_P, "dedupe_key", "received_at", "reply", "pushed"),
    bindparam("record_openid", type_=_P.c.openid.type),
))


async def save_and_record(
    session: AsyncSession, openid: str, state: str, data: dict, ttl: timedelta,
    dedupe_key: str, record_openid: str, now: datetime, reply: dict | None, *, pushed: bool,
) -> None:
    """`conversations.save` and `processed.record` in one statement (IntegrityError: recorded already)."""
    await _SAVE_AND_RECORD.run(
        session, openid=openid, state=state, data=data, expires_at=now + ttl, dedupe_key=dedupe_key,
        record_openid=record_openid, received_at=now, reply=reply, pushed=pushed,
    )


async def clear_and_record(
    session: AsyncSession, openid: str, dedupe_key: str, record_openid: str, now: datetime,
    reply: dict | None, *, pushed: bool,
) -> None:
    """`conversations.clear` and `processed.record` in one statement (IntegrityError: recorded already)."""
    await _CLEAR_AND_RECORD.run(
        session, openid=openid, dedupe_key=dedupe_key, record_openid=record_openid, received_at=now,
        reply=reply, pushed=pushed,
    )
