"""Staff accounts, their browser sessions, API tokens and known browsers. Never commits; the caller's unit of
work does. (The login limiter's rows: storage/repositories/login_throttle.py.)

Session ids and API tokens are 256-bit random strings returned to the caller once; only their SHA-256 is stored,
so a database leak gives no working credential. Passwords are hashed by the caller (`storage.passwords`, slow
on purpose, so callers run it off the event loop) and handed here as hashes.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.console_models import ApiToken, LoginDevice, LoginThrottle, StaffSession
from storage.db import affected
from storage.models import Community, District, Estate, Staff, StaffLevel, Street

TOKEN_PREFIX = "linli_"
TOUCH_EVERY = timedelta(minutes=5)  # how stale last_seen_at / last_used_at may get, to keep reads read-only
MAX_SESSIONS = 10  # browser sessions kept per account; a new login ends the oldest beyond this
DEVICE_KEEP = timedelta(days=180)  # a browser not used to log in for this long is forgotten


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
        pair = (await session.execute(select(Street.id, Street.district_id).where(Street.code == code))).first()
        if pair:
            ids.update(street_id=pair[0], district_id=pair[1])
            return ids
    else:
        district_id = (await session.execute(select(District.id).where(District.code == code))).scalar()
        if district_id is not None:
            ids.update(district_id=district_id)
            return ids
    return None


async def resolve_partner(session: AsyncSession, code: str) -> str | None:
    """The partner key (`property:ID`, `developer:ID`, `dept:名称`, as tickets.assignee_partner) of a property
    company's or developer's code, or of `dept:名称`; None when it names nothing."""
    from storage.models import Developer, PropertyCompany

    code = code.strip()
    if code.startswith("dept:") and 0 < len(code[5:].strip()) <= 60:
        return f"dept:{code[5:].strip()}"
    company = (await session.execute(select(PropertyCompany.id).where(PropertyCompany.code == code))).scalar()
    if company is not None:
        return f"property:{company}"
    developer = (await session.execute(select(Developer.id).where(Developer.code == code))).scalar()
    return f"developer:{developer}" if developer is not None else None


async def estate_id_by_code(session: AsyncSession, code: str) -> int | None:
    return await session.scalar(select(Estate.id).where(Estate.code == code))


async def create_staff(session: AsyncSession, *, username: str, display_name: str, level: StaffLevel,
                       node_ids: dict[str, int | None], password_hash: str, partner: str | None = None,
                       committee_estate_id: int | None = None) -> Staff:
    staff = Staff(username=username, display_name=display_name, level=level, password_hash=password_hash,
                  active=True, partner=partner, committee_estate_id=committee_estate_id, **node_ids)
    session.add(staff)
    await session.flush()
    return staff


async def set_password(session: AsyncSession, staff: Staff, password_hash: str, now: datetime, *,
                       keep_session_id: int | None = None, must_change: bool = False) -> None:
    """Replace the password: every browser session of the account ends (except `keep_session_id`, the one that
    changed it) and every API token is revoked. `must_change`: the new password is to be changed at the next
    login (the console shows nothing else until then)."""
    staff.password_hash = password_hash
    staff.must_change_password = must_change
    await delete_sessions_of(session, staff.id, keep=keep_session_id)
    await revoke_api_tokens_of(session, staff.id, now)


async def deactivate(session: AsyncSession, staff: Staff, now: datetime) -> None:
    """Disable the account: no login, its sessions ended, its API tokens revoked."""
    staff.active = False
    await delete_sessions_of(session, staff.id)
    await revoke_api_tokens_of(session, staff.id, now)


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
    newest = (select(StaffSession.id).where(StaffSession.staff_id == staff_id)
              .order_by(StaffSession.created_at.desc(), StaffSession.id.desc()).limit(MAX_SESSIONS))
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id,
                                                     StaffSession.id.not_in(newest.scalar_subquery())))
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


async def delete_sessions_of(session: AsyncSession, staff_id: int, *, keep: int | None = None) -> int:
    """End the account's browser sessions (all but `keep`); returns how many ended."""
    stmt = delete(StaffSession).where(StaffSession.staff_id == staff_id)
    if keep is not None:
        stmt = stmt.where(StaffSession.id != keep)
    return affected(await session.execute(stmt))


async def live_sessions(session: AsyncSession, staff_id: int, now: datetime, idle: timedelta) -> list[StaffSession]:
    """The account's sessions still valid (neither expired nor idle too long), most recently used first."""
    stmt = (select(StaffSession).where(StaffSession.staff_id == staff_id, StaffSession.expires_at > now,
                                       StaffSession.last_seen_at > now - idle)
            .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc()))
    return list((await session.execute(stmt)).scalars())


def set_flash(live: StaffSession, kind: str, text: str) -> None:
    live.flash = {"kind": kind, "text": text}


def pop_flash(live: StaffSession) -> dict | None:
    flash = live.flash
    if flash is not None:
        live.flash = None
    return flash


# ------------------------------------------------------------------------------------------------ API tokens


async def create_api_token(session: AsyncSession, staff_id: int, label: str, now: datetime,
                           lifetime: timedelta = timedelta(days=90)) -> tuple[ApiToken, str]:
    """A new token valid for `lifetime`; returns the row and the raw token (shown once, stored hashed)."""
    raw = TOKEN_PREFIX + new_secret()
    token = ApiToken(token_hash=hash_secret(raw), prefix=raw[:12], staff_id=staff_id, label=label[:64],
                     created_at=now, expires_at=now + lifetime)
    session.add(token)
    await session.flush()
    return token, raw


async def token_with_staff(session: AsyncSession, raw: str, now: datetime) -> tuple[ApiToken, Staff] | None:
    """A live token (not revoked, not expired) and its active account, or None."""
    stmt = (select(ApiToken, Staff).join(Staff, Staff.id == ApiToken.staff_id)
            .where(ApiToken.token_hash == hash_secret(raw)))
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    token, staff = row
    if token.revoked_at is not None or token.expires_at <= now or not staff.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return token, staff


async def staff_for_api_token(session: AsyncSession, raw: str, now: datetime) -> Staff | None:
    """The active account a live token belongs to, or None."""
    found = await token_with_staff(session, raw, now)
    return found[1] if found else None


def token_status(token: ApiToken, now: datetime) -> str:
    """"revoked", "expired" or "active"."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= now else "active"


async def revoke_api_tokens_of(session: AsyncSession, staff_id: int, now: datetime) -> int:
    """Revoke every live token of the account; returns how many."""
    result = await session.execute(update(ApiToken).where(ApiToken.staff_id == staff_id,
                                                          ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    return affected(result)


async def list_api_tokens(session: AsyncSession, staff_id: int) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.staff_id == staff_id).order_by(ApiToken.id.desc())
    return list((await session.execute(stmt)).scalars())


async def revoke_api_token(session: AsyncSession, staff_id: int, token_id: int, now: datetime) -> bool:
    result = await session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.staff_id == staff_id,
                                                          ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    return bool(affected(result))


# ------------------------------------------------------------------------------------------------ known browsers


async def register_device(session: AsyncSession, staff_id: int, now: datetime) -> str:
    """Remember a browser that logged in to the account; returns the raw `linli_device` cookie value."""
    raw = new_secret()
    session.add(LoginDevice(token_hash=hash_secret(raw), staff_id=staff_id, created_at=now, last_used_at=now))
    await session.flush()
    return raw


async def device_of(session: AsyncSession, raw: str) -> LoginDevice | None:
    return await session.get(LoginDevice, hash_secret(raw)) if raw else None


# ------------------------------------------------------------------------------------------------ housekeeping


async def prune(session: AsyncSession, now: datetime, keep_throttle: timedelta = timedelta(days=2)) -> None:
    """Forget expired sessions, limiter rows with nothing left to remember and browsers unused for long."""
    await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    await session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at <= now - keep_throttle,
        (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until <= now)))
    await session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at.is_(None)))
    await session.execute(delete(LoginDevice).where(LoginDevice.last_used_at <= now - DEVICE_KEEP))


async def flash_session(session: AsyncSession, session_row_id: int, kind: str, text: str) -> None:
    """`set_flash` by the session row's id, without loading it."""
    await session.execute(update(StaffSession).where(StaffSession.id == session_row_id)
                          .values(flash={"kind": kind, "text": text}))
