"""Login, sessions, CSRF and the login limiter.

- Session cookie `linli_session`: 256 random bits (stored hashed), HttpOnly, SameSite=Lax, path /console, expiry
  12 h absolute and 2 h idle; `Secure` when the public URL (LINLI_PUBLIC_URL) is https. At most
  `staff_repo.MAX_SESSIONS` per account; 我的账号 lists them and ends the others.
- CSRF: a synchronizer token derived from the session id (HMAC-SHA256(session id, "csrf")), so it is tied to the
  session, needs no storage, and changes at every login. Every unsafe request with a cookie session must carry
  it as the form field `_csrf` or the header `X-CSRF-Token`. The login form is protected the same way by a
  short-lived pre-login cookie.
- Limiter (handlers/console/throttle.py): failures are counted per account (per browser for a browser that has
  logged in to the account before: cookie `linli_device`, path /console/login) and per client address; past a
  few free failures each must wait before the next check, the wait doubling up to 15 minutes. The rows are
  locked while deciding and the attempt is counted before the password is checked, so parallel guesses are
  counted one by one on both engines. The client address believes X-Forwarded-For only from
  LINLI_TRUSTED_PROXIES (bot/forwarded.py). Every failure answers the same message whether or not the account
  exists, and a missing account still costs one scrypt verification, so timing does not tell either.
- Demo accounts (published password) must change it before anything else; in production they cannot log in.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.context import Services
from bot.forwarded import client_address, throttle_key
from handlers.console import throttle
from storage.models import Staff
from storage.password_policy import DEMO_PASSWORD
from storage.passwords import hash_password, needs_rehash, verify_password
from storage.repositories import login_throttle
from storage.repositories import staff as staff_repo

COOKIE = "linli_session"
LOGIN_COOKIE = "linli_login"
DEVICE_COOKIE = "linli_device"
COOKIE_PATH = "/console"
DEVICE_COOKIE_PATH = "/console/login"
DEVICE_COOKIE_AGE = 180 * 24 * 3600
SESSION_TTL = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DUMMY: list[str] = []


def csrf_token(raw_session: str) -> str:
    return hmac.new(raw_session.encode(), b"linli-csrf", hashlib.sha256).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def client_ip(request: web.Request, trusted_proxies) -> str:
    """The caller's address: X-Forwarded-For is believed only from LINLI_TRUSTED_PROXIES (bot/forwarded.py)."""
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []), trusted_proxies)


def set_cookie(response: web.StreamResponse, name: str, value: str, *, secure: bool, max_age: int,
               path: str = COOKIE_PATH) -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, secure=secure, samesite="Lax")


def clear_cookie(response: web.StreamResponse, name: str, *, secure: bool) -> None:
    response.del_cookie(name, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Lax")


def new_login_nonce() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class LoginResult:
    staff: Staff | None = None
    session_id: str | None = None
    retry_at: datetime | None = None  # refused unchecked: too many failures; may try again then
    refused: str | None = None  # the password was right, yet this login is not allowed (Chinese reason)
    device: str | None = None  # a new `linli_device` cookie value for this browser

    @property
    def ok(self) -> bool:
        return self.session_id is not None

    @property
    def locked(self) -> bool:
        return self.retry_at is not None


DEMO_IN_PRODUCTION = ("该账号仍在使用公开的演示密码，生产环境中不能登录。请管理员用 "
                      "`linli staff password 用户名` 或账号管理页为它设置新密码。")


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_hex(16)))
    return _DUMMY[0]


def _state(row) -> throttle.State:
    return throttle.State(row.failures, row.last_failure_at, row.blocked_until)


def _store(row, state: throttle.State) -> None:
    row.failures, row.last_failure_at, row.blocked_until = state.failures, state.last_failure_at, state.blocked_until


async def _keys(session, counted: str, ip: str, device: str) -> tuple[list[str], int | None]:
    """The limiter keys of this attempt, and the account id the browser's device cookie belongs to (if it
    belongs to the account being logged in to)."""
    known = await staff_repo.device_of(session, device) if device else None
    owner = await staff_repo.get_staff(session, known.staff_id) if known else None
    client = f"client:{throttle_key(ip)}"
    if owner is not None and owner.username.lower() == counted:
        return [client, f"device:{staff_repo.hash_secret(device)}"], owner.id
    return [client, f"account:{counted}"], None


async def _admit(session, keys: list[str], now: datetime) -> datetime | None:
    """Count this attempt on every key, unless one of them must still wait: then return until when."""
    rows = await login_throttle.lock(session, keys)
    states = {key: throttle.current(_state(rows[key]), throttle.policy_of(key), now) for key in keys}
    waits = [until for state in states.values() if (until := throttle.blocked_until(state, now))]
    if waits:
        return max(waits)
    for key, state in states.items():
        _store(rows[key], throttle.count_attempt(state, throttle.policy_of(key), now))
    return None


async def _settle(session, keys: list[str]) -> None:
    """The attempt succeeded: clear the account's (browser's) failures, refund the client's."""
    rows = await login_throttle.lock(session, keys)
    for key in keys:
        policy = throttle.policy_of(key)
        _store(rows[key], throttle.succeeded(key, _state(rows[key]), policy))


async def login(services: Services, username: str, password: str, *, ip: str, user_agent: str,
                device: str = "") -> LoginResult:
    """Check the password under the limiter; on success start a session (audit entries included)."""
    from storage.repositories import audit as audit_repo

    now = services.clock()
    key = username.strip()[:64]
    counted = key.lower()
    async with services.db.transaction() as session:
        keys, device_owner = await _keys(session, counted, ip, device)
        retry_at = await _admit(session, keys, now)
        if retry_at is not None:
            await audit_repo.record(session, username=key or "-", action="login.locked", ip=ip, at=now)
            return LoginResult(retry_at=retry_at)
        staff = await staff_repo.staff_by_username(session, key) if key else None
    usable = staff is not None and staff.active and bool(staff.password_hash)
    stored = staff.password_hash if usable else await asyncio.to_thread(_dummy_hash)
    ok = await asyncio.to_thread(verify_password, password, stored) and usable
    rehash = await asyncio.to_thread(hash_password, password) if ok and needs_rehash(stored) else None
    demo = ok and password == DEMO_PASSWORD
    async with services.db.transaction() as session:
        if not ok:
            await audit_repo.record(session, username=key or "-", staff_id=staff.id if staff else None,
                                    action="login.failed", ip=ip, at=now)
            return LoginResult()
        if demo and services.settings.production:  # counted as a failure: the published password opens nothing
            await audit_repo.record(session, username=staff.username, staff_id=staff.id, action="login.demo",
                                    ip=ip, at=now)
            return LoginResult(refused=DEMO_IN_PRODUCTION)
        await _settle(session, keys)
        fresh = await staff_repo.get_staff(session, staff.id)
        if rehash:
            fresh.password_hash = rehash
        if demo:
            fresh.must_change_password = True
        raw = await staff_repo.create_session(session, staff.id, now, SESSION_TTL, ip=ip, user_agent=user_agent)
        new_device = None if device_owner == staff.id else await staff_repo.register_device(session, staff.id, now)
        if device_owner == staff.id:
            (await staff_repo.device_of(session, device)).last_used_at = now
        await audit_repo.record(session, username=staff.username, staff_id=staff.id, action="login", ip=ip, at=now)
        return LoginResult(staff=fresh, session_id=raw, device=new_device)
