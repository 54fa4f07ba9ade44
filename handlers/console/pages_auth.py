"""Login and logout (the account's own page, password, sessions and tokens: pages_account.py)."""
from __future__ import annotations

import math

from aiohttp import web

from handlers.console import security
from handlers.console.audit import audit
from handlers.console.guard import (
    before_password_change,
    committee_allowed,
    current,
    db,
    partner_allowed,
    public,
    require_staff,
)
from handlers.console.render import Form, render, see_other
from handlers.console.state import state_of
from storage.repositories import staff as staff_repo

GENERIC_FAILURE = "用户名或密码错误，或账号已停用。"
LOCKED = "登录失败次数过多，请 {minutes} 分钟后再试。"


def safe_next(raw: str | None) -> str:
    """Only redirect inside the console after login (no open redirect)."""
    if raw and raw.startswith("/console/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/console/"


def _login_form(request: web.Request, *, error: str = "", username: str = "", status: int = 200) -> web.Response:
    nonce = security.new_login_nonce()
    response = render(request, "login.html", title="登录", login_csrf=nonce, error=error, username=username,
                      next=safe_next(request.query.get("next")), status=status)
    security.set_cookie(response, security.LOGIN_COOKIE, nonce, secure=state_of(request).secure_cookies,
                        max_age=3600)
    return response


@public
async def login_page(request: web.Request) -> web.Response:
    return _login_form(request)


@public
async def login_submit(request: web.Request) -> web.Response:
    state = state_of(request)
    form = await Form.read(request, "_csrf", "username", "password", "next")
    if not security.tokens_match(request.cookies.get(security.LOGIN_COOKIE), form.values["_csrf"]):
        return _login_form(request, error="页面已过期，请重新登录。", status=403)
    username, password = form.values["username"], form.values["password"]
    result = await security.login(state.services, username, password,
                                  ip=security.client_ip(request, state.trusted_proxies),
                                  user_agent=request.headers.get("User-Agent", ""),
                                  device=request.cookies.get(security.DEVICE_COOKIE, ""))
    if result.locked:
        seconds = max(1, math.ceil((result.retry_at - state.services.clock()).total_seconds()))
        response = _login_form(request, error=LOCKED.format(minutes=math.ceil(seconds / 60)), username=username,
                               status=429)
        response.headers["Retry-After"] = str(seconds)
        return response
    if result.refused:
        return _login_form(request, error=result.refused, username=username, status=403)
    if not result.ok:
        return _login_form(request, error=GENERIC_FAILURE, username=username, status=401)
    response = web.HTTPSeeOther(safe_next(form.values["next"]))
    security.set_cookie(response, security.COOKIE, result.session_id, secure=state.secure_cookies,
                        max_age=int(security.SESSION_TTL.total_seconds()))
    security.clear_cookie(response, security.LOGIN_COOKIE, secure=state.secure_cookies)
    if result.device:
        security.set_cookie(response, security.DEVICE_COOKIE, result.device, secure=state.secure_cookies,
                            max_age=security.DEVICE_COOKIE_AGE, path=security.DEVICE_COOKIE_PATH)
    raise response


@committee_allowed
@partner_allowed
@before_password_change
@require_staff()
async def logout(request: web.Request) -> web.Response:
    user = current(request)
    await staff_repo.delete_session(db(request), request.cookies.get(security.COOKIE, ""))
    await audit(db(request), user, "logout", user.staff.username, request)
    response = see_other("/console/login")
    security.clear_cookie(response, security.COOKIE, secure=state_of(request).secure_cookies)
    raise response


def register(registry) -> None:
    registry.page("GET", "/login", login_page)
    registry.page("POST", "/login", login_submit)
    registry.page("POST", "/logout", logout)
