"""Staff accounts, their browser sessions, API tokens and login attempts. Never commits; the caller's unit of
work does.

Session ids and API tokens are 256-bit random strings returned to the caller once; only their SHA-256 is stored,
so a database leak gives no working credential. Passwords are hashed by the caller (`storage.passwords`, slow
on purpose, so callers run it off the event loop) and handed here as hashes.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.console_models import ApiToken, LoginAttempt, StaffSession
from storage.models import Community, District, Staff, StaffLevel, Street

TOKEN_PREFIX = "linli_"
TOUCH_EVERY = timedelta(minutes=5)  # how stale last_seen_at / last_used_at may get, to keep reads read-only


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


# ------------------------------------------------------------------------------------------------ accounts


async def get_staff(session: AsyncSession, staff_id: int) -> Staff | None:
    return await session.get(Staff, staff_id)


async def staff_by_username(session: AsyncSession, username: str) -> Staff | None:
    return (await session.execute(select(Staff).where(Staff.username == username))).scalar_one_or_none()


async def list_staff(session: AsyncSession) -> list[Staff]:
    return list((await session.execute(select(Staff).order_by(Staff.active.desc(), Staff.id))).scalars())


async def resolve_node(session: AsyncSession, level: StaffLevel, code: str | None) -> dict[str, int | None] | None:
    """The node ids a staff account at `level` on node `code` carries (its node and the node's ancestors);
    None when the code names no node of that level. Admins carry none."""
    ids: dict[str, int | None] = {"district_id": None, "street_id": None, "community_id": None}
    if level is StaffLevel.admin:
        return ids
    code = (code or "").strip().upper()
    if level is StaffLevel.community:
        row = (await session.execute(select(Community.id, Street.id, Street.district_id).join(Street)
                                     .where(Community.code == code))).first()
        if row:
            ids.update(community_id=row[0], street_id=row[1], district_id=row[2])
            return ids
    elif level is StaffLevel.street:
        row = (await session.execute(select(Street.id, Street.district_id).where(Street.code == code))).first()
        if row:
            ids.update(street_id=row[0], district_id=row[1])
            return ids
    else:
        district_id = (await session.execute(select(District.id).where(District.code == code))).scalar()
        if district_id is not None:
            ids.update(district_id=district_id)
            return ids
    return None


async def create_staff(session: AsyncSession, *, username: str, display_name: str, level: StaffLevel,
                       node_ids: dict[str, int | None], password_hash: str) -> Staff:
    staff = Staff(username=username, display_name=display_name, level=level, password_hash=password_hash,
                  active=True, **node_ids)
    session.add(staff)
    await session.flush()
    return staff


async def set_password(session: AsyncSession, staff: Staff, password_hash: str) -> None:
    """Replace the password and end every browser session of the account."""
    staff.password_hash = password_hash
    await delete_sessions_of(session, staff.id)


async def deactivate(session: AsyncSession, staff: Staff, now: datetime) -> None:
    """Disable the account: no login, its sessions ended, its API tokens revoked."""
    staff.active = False
    await delete_sessions_of(session, staff.id)
    await session.execute(update(ApiToken).where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))
                          .values(revoked_at=now))


async def reactivate(session: AsyncSession, staff: Staff) -> None:
    staff.active = True


# ------------------------------------------------------------------------------------------------ sessions


async def create_session(session: AsyncSession, staff_id: int, now: datetime, ttl: timedelta, *,
                         ip: str | None = None, user_agent: str | None = None) -> str:
    """Start a session; returns the raw session id for the cookie (stored hashed)."""
    raw = new_secret()
    session.add(StaffSession(token_hash=hash_secret(raw), staff_id=staff_id, created_at=now, last_seen_at=now,
                             expires_at=now + ttl, ip=(ip or "")[:64], user_agent=(user_agent or "")[:256]))
    await session.flush()
    return raw


# built once: every console request runs it (a statement built per call recomputes its cache key each time)
_SESSION_WITH_STAFF = (select(StaffSession, Staff).join(Staff, Staff.id == StaffSession.staff_id)
                       .where(StaffSession.token_hash == bindparam("token_hash")))


async def session_with_staff(session: AsyncSession, raw: str, now: datetime,
                             idle: timedelta) -> tuple[StaffSession, Staff] | None:
    """The live session for a cookie value and its (active) account; None if unknown, expired or idle too long.
    Refreshes `last_seen_at` only when it is older than TOUCH_EVERY, so most page views write nothing."""
    row = (await session.execute(_SESSION_WITH_STAFF, {"token_hash": hash_secret(raw)})).first()
    if row is None:
        return None
    live, staff = row
    if not staff.active or live.expires_at <= now or live.last_seen_at + idle <= now:
        return None
    if now - live.last_seen_at >= TOUCH_EVERY:
        live.last_seen_at = now
    return live, staff


async def delete_session(session: AsyncSession, raw: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == hash_secret(raw)))


async def delete_sessions_of(session: AsyncSession, staff_id: int) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


def set_flash(live: StaffSession, kind: str, text: str) -> None:
    live.flash = {"kind": kind, "text": text}


def pop_flash(live: StaffSession) -> dict | None:
    flash = live.flash
    if flash is not None:
        live.flash = None
    return flash


# ------------------------------------------------------------------------------------------------ API tokens


async def create_api_token(session: AsyncSession, staff_id: int, label: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token; returns the row and the raw token (shown once, stored hashed)."""
    raw = TOKEN_PREFIX + new_secret()
    token = ApiToken(token_hash=hash_secret(raw), prefix=raw[:12], staff_id=staff_id, label=label[:64],
                     created_at=now)
    session.add(token)
    await session.flush()
    return token, raw


async def staff_for_api_token(session: AsyncSession, raw: str, now: datetime) -> Staff | None:
    """The active account a live token belongs to, or None."""
    stmt = (select(ApiToken, Staff).join(Staff, Staff.id == ApiToken.staff_id)
            .where(ApiToken.token_hash == hash_secret(raw)))
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    token, staff = row
    if token.revoked_at is not None or not staff.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return staff


async def list_api_tokens(session: AsyncSession, staff_id: int) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.staff_id == staff_id).order_by(ApiToken.id.desc())
    return list((await session.execute(stmt)).scalars())


async def revoke_api_token(session: AsyncSession, staff_id: int, token_id: int, now: datetime) -> bool:
    result = await session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.staff_id == staff_id,
                                                          ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    return bool(result.rowcount)


# ------------------------------------------------------------------------------------------------ login attempts


async def record_attempt(session: AsyncSession, username: str, ip: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(username=username[:64], ip=ip[:64], success=success, at=now))


async def failures_since(session: AsyncSession, since: datetime, *, ip: str, username: str | None = None) -> int:
    """Failed attempts from `ip` (for `username` when given) since `since`."""
    stmt = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.ip == ip, LoginAttempt.at > since, LoginAttempt.success.is_(False))
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    return int((await session.execute(stmt)).scalar() or 0)


async def clear_failures(session: AsyncSession, username: str, ip: str) -> None:
    """After a successful login the pair starts afresh."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.ip == ip,
                                                     LoginAttempt.success.is_(False)))


async def prune(session: AsyncSession, now: datetime, keep_attempts: timedelta = timedelta(days=1)) -> None:
    """Forget expired sessions and old login attempts."""
    await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - keep_attempts))
