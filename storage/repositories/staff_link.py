"""Writes and reads of staff in the loop (issue 18): link codes, the staff ↔ WeChat link, push settings.
Never commits."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Staff
from storage.prepared import Prepared, typed_params
from storage.staff_link_models import StaffLinkCode, StaffWeChat


def digest(kind: str, secret: str) -> str:
    return hashlib.sha256(f"{kind}:{secret}".encode()).hexdigest()


async def add_code(session: AsyncSession, staff_id: int, kind: str, secret: str, now: datetime,
                   expires_at: datetime) -> StaffLinkCode:
    """A new code for `staff_id`; the account's earlier live codes of the same kind stop working."""
    await session.execute(update(StaffLinkCode).where(
        StaffLinkCode.staff_id == staff_id, StaffLinkCode.kind == kind, StaffLinkCode.used_at.is_(None))
        .values(used_at=now))
    row = StaffLinkCode(staff_id=staff_id, kind=kind, secret_hash=digest(kind, secret), created_at=now,
                        expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row


def add_qr_token(session: AsyncSession, staff_id: int, token: str, now: datetime, expires_at: datetime) -> None:
    """A QR token (added only: usable from a reading request, written right after it)."""
    session.add(StaffLinkCode(staff_id=staff_id, kind="qr", secret_hash=digest("qr", token), created_at=now,
                              expires_at=expires_at))


async def live_code(session: AsyncSession, kind: str, secret: str, now: datetime) -> StaffLinkCode | None:
    stmt = select(StaffLinkCode).where(StaffLinkCode.kind == kind, StaffLinkCode.secret_hash == digest(kind, secret),
                                       StaffLinkCode.used_at.is_(None), StaffLinkCode.expires_at > now)
    return (await session.execute(stmt.order_by(StaffLinkCode.id.desc()).limit(1))).scalar_one_or_none()


async def any_live(session: AsyncSession, kind: str, now: datetime) -> bool:
    stmt = select(StaffLinkCode.id).where(StaffLinkCode.kind == kind, StaffLinkCode.used_at.is_(None),
                                          StaffLinkCode.expires_at > now).limit(1)
    return (await session.execute(stmt)).first() is not None


async def issued_since(session: AsyncSession, kind: str, secret: str, since: datetime) -> bool:
    """Whether this secret was issued since `since` (used, expired or live)."""
    stmt = select(StaffLinkCode.id).where(StaffLinkCode.kind == kind, StaffLinkCode.secret_hash == digest(kind, secret),
                                          StaffLinkCode.created_at >= since).limit(1)
    return (await session.execute(stmt)).first() is not None


async def use_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """Mark a code used, once: False when another message used it first."""
    result = await session.execute(update(StaffLinkCode).where(StaffLinkCode.id == code_id,
                                                               StaffLinkCode.used_at.is_(None))
                                   .values(used_at=now))
    return cast(CursorResult[Any], result).rowcount == 1


_STAFF_ID = Prepared(lambda dialect: text("SELECT id FROM staff WHERE openid = :openid ORDER BY id LIMIT 1")
                     .bindparams(*typed_params(Staff.__table__, "openid")).columns(Staff.__table__.c.id))


async def staff_of_openid(session: AsyncSession, openid: str) -> Staff | None:
    """The staff account linked to `openid` (the first, should there be several). Asked for messages such as
    「帮助」 from anyone, nearly always a resident: the id is looked up with a prepared statement, and only a
    linked account is loaded as an ORM object."""
    found = (await _STAFF_ID.run(session, openid=openid)).first()
    return None if found is None else await session.get(Staff, found[0])


async def read_settings(session: AsyncSession, staff_id: int) -> StaffWeChat:
    """The settings row, or an unsaved default one (for read-only requests)."""
    row = await session.get(StaffWeChat, staff_id)
    return row if row is not None else StaffWeChat(staff_id=staff_id, muted=[], todo=[])


async def settings_of(session: AsyncSession, staff_id: int) -> StaffWeChat:
    """The staff member's WeChat settings row (created empty when missing)."""
    row = await session.get(StaffWeChat, staff_id)
    if row is None:
        row = StaffWeChat(staff_id=staff_id, muted=[], todo=[])
        session.add(row)
        await session.flush()
    return row


async def link(session: AsyncSession, staff: Staff, openid: str, now: datetime) -> None:
    """`staff.openid` = openid; any other account linked to the same WeChat user is unlinked first."""
    await session.execute(update(Staff).where(Staff.openid == openid, Staff.id != staff.id).values(openid=None))
    staff.openid = openid
    prefs = await settings_of(session, staff.id)
    prefs.linked_at, prefs.todo, prefs.photo_ticket_id, prefs.photo_until = now, [], None, None


async def unlink(session: AsyncSession, staff: Staff) -> None:
    staff.openid = None
    prefs = await settings_of(session, staff.id)
    prefs.linked_at, prefs.todo, prefs.photo_ticket_id, prefs.photo_until = None, [], None, None


async def unlink_openid(session: AsyncSession, openid: str) -> int:
    """Forget a WeChat user on every staff account (they unfollowed or erased their data); how many."""
    ids = list((await session.execute(select(Staff.id).where(Staff.openid == openid))).scalars())
    if ids:
        await session.execute(update(Staff).where(Staff.id.in_(ids)).values(openid=None))
        await session.execute(update(StaffWeChat).where(StaffWeChat.staff_id.in_(ids)).values(
            linked_at=None, todo=[], photo_ticket_id=None, photo_until=None))
    return len(ids)


async def linked_staff(session: AsyncSession) -> dict[int, datetime | None]:
    """{staff id: linked at} of every account with a linked WeChat."""
    rows = await session.execute(select(Staff.id, StaffWeChat.linked_at).outerjoin(
        StaffWeChat, StaffWeChat.staff_id == Staff.id).where(Staff.openid.is_not(None)))
    return {sid: at for sid, at in rows.all()}
