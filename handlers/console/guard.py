"""Who is calling and may they: the console and API middlewares, `@require_staff`, `@public`.

Every console page and API call runs inside one database transaction opened by the middleware
(`db(request)`), after the caller is authenticated (session cookie for /console, `Authorization: Bearer` for
/api/v1) and, for cookie sessions, after the CSRF token of every unsafe method is checked. Redirects commit;
errors (4xx/5xx) roll back. A refused request (403) is recorded in the audit log as `denied`.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable

import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from handlers.console import security
from handlers.console.authz import Scope, at_least, can_see_community, load_scope
from handlers.console.state import SCOPE_SECONDS, ConsoleState, TTLCache, state_of
from storage.models import Staff, StaffLevel
from storage.repositories import audit as audit_repo
from storage.repositories import staff as staff_repo

log = logging.getLogger("linli.console")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ConsoleUser:
    """The authenticated staff member of this request."""

    staff: Staff
    scope: Scope
    via: str  # "web" or "api"
    session_row_id: int | None = None
    csrf: str | None = None
    flash: dict | None = None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    templates: jinja2.Environment | None = field(default=None, repr=False)
    cache: TTLCache | None = field(default=None, repr=False)
    token_id: int | None = None  # the API token of this request (API calls)

    @property
    def level(self) -> StaffLevel:
        return self.staff.level

    def fragment(self, template: str, **context) -> Markup:
        """Render a template to an HTML fragment (for dashboard panels)."""
        assert self.templates is not None
        return Markup(self.templates.get_template(template).render(user=self, **context))

    async def cached(self, name: str, seconds: float, compute: Callable[[], Awaitable]):
        """`compute()`'s result shared by everyone with this jurisdiction for `seconds` (single-flight)."""
        if self.cache is None:
            return await compute()
        return await self.cache.get_or_compute((name, self.scope.key), seconds, compute)

    async def shared(self, key: tuple, seconds: float, compute: Callable[[], Awaitable]):
        """`compute()`'s result for the whole organisation, shared by every jurisdiction for `seconds`
        (single-flight): each viewer then keeps its own communities of it."""
        if self.cache is None:
            return await compute()
        return await self.cache.get_or_compute(key, seconds, compute)


USER = web.RequestKey("linli.console.user", ConsoleUser)
DB = web.RequestKey("linli.console.db", AsyncSession)
AUDITED = web.RequestKey("linli.console.audited", list)  # actions this request recorded (console.audit)


def current(request: web.Request) -> ConsoleUser:
    return request[USER]


def db(request: web.Request) -> AsyncSession:
    """The request's unit of work (committed when the handler returns or redirects)."""
    return request[DB]


def public(handler: Handler) -> Handler:
    """Mark a handler as reachable without login (login page, static files, the OpenAPI document)."""
    handler.console_guard = "public"  # type: ignore[attr-defined]
    return handler


def require_staff(level: StaffLevel | None = None) -> Callable[[Handler], Handler]:
    """Only staff at `level` or above (community < street < district < admin); any staff when None."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = request.get(USER)
            if user is None:
                raise web.HTTPUnauthorized()
            if not at_least(user.level, level):
                raise web.HTTPForbidden()
            if user.staff.partner is not None and not getattr(guarded, "partner_allowed", False):
                raise web.HTTPForbidden()  # a partner organisation's account: only the routes marked for it
            if user.staff.committee_estate_id is not None and not getattr(guarded, "committee_allowed", False):
                raise web.HTTPForbidden()  # an owners' committee's account: only the routes marked for it
            return await handler(request)

        guarded.console_guard = level or "staff"  # type: ignore[attr-defined]
        return guarded

    return wrap


def partner_allowed(handler: Handler) -> Handler:
    """Let a partner organisation's account (staff.partner) reach this route too. Every other route refuses such
    an account (403) in `require_staff`, so nothing inside a jurisdiction is ever shown to a partner by default.
    Mark only routes about the caller's own account, and routes that show only what was 交办 to the caller's own
    organisation (承办工单, handlers/tickets/console_partner.py: anything else answers 404 there)."""
    handler.partner_allowed = True  # type: ignore[attr-defined]
    return handler


def committee_allowed(handler: Handler) -> Handler:
    """Let an owners' committee's account (staff.committee_estate_id, issue 20) reach this route too: its own
    account pages and the owners' motion routes, which then show only the committee's estate
    (handlers.owners.access). Every other route refuses such an account (403) in `require_staff`."""
    handler.committee_allowed = True  # type: ignore[attr-defined]
    return handler


def require_community(request: web.Request, community_id: int | None) -> None:
    """Refuse (403) unless the caller's jurisdiction includes `community_id`."""
    if not can_see_community(current(request).scope, community_id):
        raise web.HTTPForbidden()


def before_password_change(handler: Handler) -> Handler:
    """Let an account that must change its password (a demo account) reach this page: only the password change
    and logout are marked so; every other page redirects to the password change until it is done."""
    handler.console_before_password_change = True  # type: ignore[attr-defined]
    return handler


PASSWORD_PAGE = "/console/account/password"


def _password_change_pending(request: web.Request, staff: Staff) -> None:
    if staff.must_change_password and not getattr(request.match_info.handler, "console_before_password_change",
                                                  False):
        if request.method in security.SAFE_METHODS:
            raise web.HTTPSeeOther(PASSWORD_PAGE)
        raise web.HTTPForbidden(reason="password_change")


def max_body(size: int) -> Callable[[Handler], Handler]:
    """Allow a bigger request body than the app-wide cap on this route (file uploads). Put it outermost."""

    def wrap(handler: Handler) -> Handler:
        handler.console_max_body = size  # type: ignore[attr-defined]
        return handler

    return wrap


def is_guarded(handler) -> bool:
    return getattr(handler, "console_guard", None) is not None


async def _scope(state: ConsoleState, session: AsyncSession, staff: Staff) -> Scope:
    key = (staff.level.value, staff.district_id, staff.street_id, staff.community_id)
    return await state.read_cached(state.scopes, key, SCOPE_SECONDS, session, lambda s: load_scope(s, staff))


def _is_public(request: web.Request) -> bool:
    return getattr(request.match_info.handler, "console_guard", None) == "public" or isinstance(
        request.match_info.route.resource, web.StaticResource)


async def _run(request: web.Request, handler: Handler, state: ConsoleState, authenticate) -> web.StreamResponse:
    if request.method in security.SAFE_METHODS:
        return await _run_reading(request, handler, state, authenticate)
    redirect: web.HTTPException | None = None
    async with state.services.db.transaction() as session:
        request[DB] = session
        user = await authenticate(request, session, state)
        request[USER] = user
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400:
                raise
            redirect = exc  # commit, then redirect
    state.after_actions(request.get(AUDITED, ()))  # committed: panels that show what changed are recomputed
    if redirect is not None:
        raise redirect
    return response


async def _run_reading(request: web.Request, handler: Handler, state: ConsoleState,
                       authenticate) -> web.StreamResponse:
    """Pages and API reads run in a read-only transaction: on SQLite they take no write lock, so a hundred staff
    reading the dashboard never queue behind each other or behind residents' messages. What authentication
    changes (the session's `last_seen_at` every few minutes, a flash message shown once) is written first, in its
    own short transaction, and so is what the page adds (an audit entry of a search or an export).
    """
    async with state.services.db.reading() as session:
        request[DB] = session
        user = await authenticate(request, session, state)
        request[USER] = user
        await _write_changes(state, session)
        response = await handler(request)
        await _write_changes(state, session)  # what the page itself recorded (audit entries of searches, exports)
        return response


async def _write_changes(state: ConsoleState, session: AsyncSession) -> None:
    """Write what was added to or changed in a reading session, in a short transaction of its own."""
    dirty, new = list(session.dirty), list(session.new)
    changed = [obj for obj in dirty if session.is_modified(obj)]
    for obj in dirty + new:
        session.expunge(obj)
    if not changed and not new:
        return
    async with state.services.db.transaction() as writer:
        for obj in changed:
            await writer.merge(obj)
        writer.add_all(new)


async def _audit_denied(request: web.Request, state: ConsoleState) -> None:
    user: ConsoleUser | None = request.get(USER)
    if user is None:
        return
    try:
        async with state.services.db.transaction() as session:
            await audit_repo.record(session, username=user.staff.username, staff_id=user.staff.id, action="denied",
                                    target=f"{request.method} {request.path_qs}"[:256], via=user.via,
                                    ip=security.client_ip(request, state.trusted_proxies), at=state.services.clock())
    except Exception:  # the refusal stands even if it cannot be recorded
        log.exception("could not record a refused request")


def _headers(response: web.StreamResponse, html: bool) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if html:
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
                                    "form-action 'self'; base-uri 'none'; object-src 'none'")
    if not response.headers.get("Cache-Control"):
        response.headers["Cache-Control"] = "no-store"


def guarded_middleware(authenticate, on_error, *, html: bool):
    """Build a middleware: public routes pass; others are authenticated by `authenticate(request, session,
    state)` (which raises when it refuses) and run in one transaction; errors (an `HTTPException` or a
    `bot.errors.DomainError` a service raised) are rendered by `on_error`."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        state = state_of(request)
        limit = getattr(request.match_info.handler, "console_max_body", None)
        if limit:
            request = request.clone(client_max_size=limit)
        try:
            if _is_public(request):
                response = await handler(request)
            else:
                response = await _run(request, handler, state, authenticate)
        except web.HTTPException as exc:
            if exc.status == 403:
                await _audit_denied(request, state)
            if exc.status < 400:
                _headers(exc, html)
                raise
            response = await on_error(request, exc)
        except DomainError as exc:  # a rule refused: the transaction was rolled back; say why, in one place
            if exc.status == 403:
                await _audit_denied(request, state)
            response = await on_error(request, exc)
        except UnicodeDecodeError:  # `await request.post()` on a form body that is not UTF-8 (was a 500)
            response = await on_error(request, web.HTTPBadRequest(text="提交的内容不是 UTF-8 编码，请重新提交"))
        except OSError:  # a static file name the file system refuses (too long: ENAMETOOLONG was a 500)
            if not isinstance(request.match_info.route.resource, web.StaticResource):
                raise
            response = await on_error(request, web.HTTPNotFound())
        if not isinstance(request.match_info.route.resource, web.StaticResource):
            _headers(response, html)
        return response

    return middleware


async def authenticate_cookie(request: web.Request, session: AsyncSession, state: ConsoleState) -> ConsoleUser:
    raw = request.cookies.get(security.COOKIE, "")
    found = await staff_repo.session_with_staff(session, raw, state.services.clock(), security.SESSION_IDLE) \
        if raw else None
    if found is None:
        if request.method in security.SAFE_METHODS:
            raise web.HTTPSeeOther(_login_url(request))
        raise web.HTTPForbidden(reason="session")
    live, staff = found
    session.expunge(staff)  # a plain snapshot: still readable after a rollback (error pages)
    _password_change_pending(request, staff)
    user = ConsoleUser(staff, await _scope(state, session, staff), "web", live.id, security.csrf_token(raw),
                       now=state.services.clock(), templates=state.templates, cache=state.panels)
    if request.method in security.SAFE_METHODS:
        user.flash = staff_repo.pop_flash(live)
    else:
        given = request.headers.get("X-CSRF-Token")
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = (await request.post()).get("_csrf")
        if not security.tokens_match(user.csrf, given if isinstance(given, str) else None):
            raise web.HTTPForbidden(reason="csrf")
    return user


async def authenticate_bearer(request: web.Request, session: AsyncSession, state: ConsoleState) -> ConsoleUser:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    found = None
    if scheme.lower() == "bearer" and raw.strip():
        found = await staff_repo.token_with_staff(session, raw.strip(), state.services.clock())
    if found is None:
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="linli"'})
    token, staff = found
    session.expunge(staff)
    if staff.must_change_password:  # a demo account's token works only once its published password is changed
        raise web.HTTPForbidden(reason="password_change")
    return ConsoleUser(staff, await _scope(state, session, staff), "api", token_id=token.id,
                       now=state.services.clock(), templates=state.templates, cache=state.panels)


def _login_url(request: web.Request) -> str:
    from urllib.parse import quote

    return "/console/login?next=" + quote(request.path_qs, safe="")
