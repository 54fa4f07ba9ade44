"""Login, sessions, CSRF and the login rate limiter.

- Session cookie `linli_session`: 256 random bits (stored hashed), HttpOnly, SameSite=Lax, path /console, expiry
  12 h absolute and 2 h idle; `Secure` when the public URL (LINLI_PUBLIC_URL) is https.
- CSRF: a synchronizer token derived from the session id (HMAC-SHA256(session id, "csrf")), so it is tied to the
  session, needs no storage, and changes at every login. Every unsafe request with a cookie session must carry
  it as the form field `_csrf` or the header `X-CSRF-Token`. The login form is protected the same way by a
  short-lived pre-login cookie.
- Limiter: 5 failed logins per username+address in 15 minutes lock that pair for the rest of the window; 50
  failures from one address lock the address. Attempts are recorded before the password is checked, so
  parallel guesses count too. Every failure answers the same message whether or not the account exists, and a
  missing account still costs one scrypt verification, so timing does not tell either.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.context import Services
from storage.models import Staff
from storage.passwords import hash_password, needs_rehash, verify_password
from storage.repositories import staff as staff_repo

COOKIE = "linli_session"
LOGIN_COOKIE = "linli_login"
COOKIE_PATH = "/console"
SESSION_TTL = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
LOCK_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
MAX_IP_FAILURES = 50
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DUMMY: list[str] = []


def csrf_token(raw_session: str) -> str:
    return hmac.new(raw_session.encode(), b"linli-csrf", hashlib.sha256).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def client_ip(request: web.Request, trust_proxy: bool) -> str:
    """The caller's address; with LINLI_CONSOLE_TRUST_PROXY=1, the last X-Forwarded-For hop (our proxy's)."""
    if trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return (request.remote or "-")[:64]


def set_cookie(response: web.StreamResponse, name: str, value: str, *, secure: bool, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, secure=secure,
                        samesite="Lax")


def clear_cookie(response: web.StreamResponse, name: str, *, secure: bool) -> None:
    response.del_cookie(name, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Lax")


def new_login_nonce() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class LoginResult:
    staff: Staff | None = None
    session_id: str | None = None
    locked: bool = False

    @property
    def ok(self) -> bool:
        return self.session_id is not None


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_hex(16)))
    return _DUMMY[0]


async def login(services: Services, username: str, password: str, *, ip: str, user_agent: str) -> LoginResult:
    """Check the password under the limiter; on success start a session (audit entries included)."""
    from storage.repositories import audit as audit_repo

    now = services.clock()
    key = username.strip()[:64]
    counted = key.lower()
    async with services.db.transaction() as session:
        since = now - LOCK_WINDOW
        if (await staff_repo.failures_since(session, since, ip=ip, username=counted) >= MAX_FAILURES
                or await staff_repo.failures_since(session, since, ip=ip) >= MAX_IP_FAILURES):
            await audit_repo.record(session, username=key or "-", action="login.locked", ip=ip, at=now)
            return LoginResult(locked=True)
        await staff_repo.record_attempt(session, counted, ip, False, now)  # counted before the check
        staff = await staff_repo.staff_by_username(session, key) if key else None
    usable = staff is not None and staff.active and bool(staff.password_hash)
    stored = staff.password_hash if usable else await asyncio.to_thread(_dummy_hash)
    ok = await asyncio.to_thread(verify_password, password, stored) and usable
    rehash = await asyncio.to_thread(hash_password, password) if ok and needs_rehash(stored) else None
    async with services.db.transaction() as session:
        if not ok:
            await audit_repo.record(session, username=key or "-", staff_id=staff.id if staff else None,
                                    action="login.failed", ip=ip, at=now)
            return LoginResult()
        await staff_repo.clear_failures(session, counted, ip)
        await staff_repo.record_attempt(session, counted, ip, True, now)
        fresh = await staff_repo.get_staff(session, staff.id)
        if rehash:
            fresh.password_hash = rehash
        raw = await staff_repo.create_session(session, staff.id, now, SESSION_TTL, ip=ip, user_agent=user_agent)
        await audit_repo.record(session, username=staff.username, staff_id=staff.id, action="login", ip=ip, at=now)
        return LoginResult(staff=fresh, session_id=raw)
