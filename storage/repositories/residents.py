"""Residents: lookup, follow/unfollow bookkeeping, binding, and erasure of personal data."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, manager_of_class
from sqlalchemy.orm.util import identity_key

from storage.db import affected
from storage.models import Community, Conversation, Estate, ProcessedMessage, Resident, ResidentRole, Street, new_ref
from storage.prepared import Prepared, typed_params
from storage.repositories.conversations import ConversationRow


async def get(session: AsyncSession, openid: str) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.openid == openid))


_R, _C = Resident.__table__, Conversation.__table__
_WITH_CONVERSATION = Prepared(lambda dialect: (
    select(*_R.c, _C.c.state, _C.c.data, _C.c.expires_at)
    .select_from(_R.outerjoin(_C, _C.c.openid == _R.c.openid))
    .where(_R.c.openid == bindparam("openid"))
))
# First contact: one statement; a resident created meanwhile by another worker is simply found by the next read
# (on PostgreSQL the insert waits for that worker's transaction to end, then does nothing).
_CREATE = Prepared(lambda dialect: text(
    "INSERT INTO residents (openid, ref, subscribed, created_at) VALUES (:openid, :ref, :subscribed, :created_at)"
    " ON CONFLICT (openid) DO NOTHING"
).bindparams(*typed_params(_R, "openid", "ref", "subscribed", "created_at")))
_RESIDENT_KEYS = [column.key for column in _R.c]
_NEW_RESIDENT = manager_of_class(Resident).new_instance  # an instance without running __init__ (as the ORM loads)


async def with_conversation(
    session: AsyncSession, openid: str, now: datetime
) -> tuple[Resident, ConversationRow | None]:
    """The resident (created on first contact, with a plain INSERT … ON CONFLICT DO NOTHING) and their
    conversation row, in one query. The row may have expired (check `expires_at`).

    This runs for every message, so it is one prepared Core query; the resident row is attached to the session
    as a persistent object without a second read (`make_transient_to_detached`), so handlers change it as usual.
    """
    found = (await _WITH_CONVERSATION.run(session, openid=openid)).first()
    if found is None:  # first contact
        await _CREATE.run(session, openid=openid, ref=new_ref(), subscribed=True, created_at=now)
        found = (await _WITH_CONVERSATION.run(session, openid=openid)).first()
        if found is None:  # pragma: no cover - the row was just inserted or found committed
            raise RuntimeError(f"resident {openid!r} neither created nor found")
    resident = attach(session, dict(zip(_RESIDENT_KEYS, found)))
    state, data, expires_at = found[-3:]
    return resident, None if state is None else ConversationRow(state, data or {}, expires_at)


def attach(session: AsyncSession, values: dict) -> Resident:
    """The resident of a row read with Core (`values` by column key), attached to the session as if loaded."""
    known = session.sync_session.identity_map.get(identity_key(Resident, values["id"]))
    if known is not None:
        return known
    resident = _NEW_RESIDENT()
    instance_state(resident).dict.update(values)  # as loaded from the database: no change events, no history
    make_transient_to_detached(resident)
    session.add(resident)
    return resident


# many-to-one all the way: one statement with joins (instead of a select per relationship), built once
_PROFILE = (
    select(Resident)
    .where(Resident.id == bindparam("resident_id"))
    .options(
        joinedload(Resident.community).joinedload(Community.street).joinedload(Street.district),
        joinedload(Resident.estate).joinedload(Estate.property_company),
        joinedload(Resident.estate).joinedload(Estate.developer),
    )
    .execution_options(populate_existing=True)
)


async def load_profile(session: AsyncSession, resident_id: int) -> Resident:
    """The resident with community → street → district and estate → partners loaded, for display (我的信息)."""
    return (await session.execute(_PROFILE, {"resident_id": resident_id})).scalar_one()


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
    """Delete the spine's rows of `openid`: the resident, their dialog and processed messages.

    This is the last step of a resident's erasure; the features' own steps run before it
    (`handlers.privacy.erasure.erase_resident`, which is what unfollow and 「删除我的信息」 call). The caller records
    the current message without the openid (`Context.erased`).
    """
    await session.execute(delete(Conversation).where(Conversation.openid == openid))
    await session.execute(delete(ProcessedMessage).where(ProcessedMessage.openid == openid))
    result = await session.execute(delete(Resident).where(Resident.openid == openid))
    return affected(result) > 0
