"""Login, logout and "my account" (change one's own password)."""
from __future__ import annotations

import asyncio

from aiohttp import web

from handlers.console import security
from handlers.console.audit import audit
from handlers.console.guard import current, db, public, require_staff
from handlers.console.render import Form, render, see_other
from handlers.console.state import state_of
from storage.orgimport import MIN_PASSWORD_LENGTH
from storage.passwords import hash_password, verify_password
from storage.repositories import staff as staff_repo

GENERIC_FAILURE = "用户名或密码错误，或账号已停用。"
LOCKED = "登录失败次数过多，请 15 分钟后再试。"


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
    data = await request.post()
    if not security.tokens_match(request.cookies.get(security.LOGIN_COOKIE), str(data.get("_csrf", ""))):
        return _login_form(request, error="页面已过期，请重新登录。", status=403)
    username, password = str(data.get("username", "")).strip(), str(data.get("password", ""))
    result = await security.login(state.services, username, password,
                                  ip=security.client_ip(request, state.trust_proxy),
                                  user_agent=request.headers.get("User-Agent", ""))
    if result.locked:
        return _login_form(request, error=LOCKED, username=username, status=429)
    if not result.ok:
        return _login_form(request, error=GENERIC_FAILURE, username=username, status=401)
    response = web.HTTPSeeOther(safe_next(str(data.get("next", ""))))
    security.set_cookie(response, security.COOKIE, result.session_id, secure=state.secure_cookies,
                        max_age=int(security.SESSION_TTL.total_seconds()))
    security.clear_cookie(response, security.LOGIN_COOKIE, secure=state.secure_cookies)
    raise response


@require_staff()
async def logout(request: web.Request) -> web.Response:
    user = current(request)
    await staff_repo.delete_session(db(request), request.cookies.get(security.COOKIE, ""))
    await audit(db(request), user, "logout", user.staff.username, request)
    response = see_other("/console/login")
    security.clear_cookie(response, security.COOKIE, secure=state_of(request).secure_cookies)
    raise response


@require_staff()
async def account_page(request: web.Request) -> web.Response:
    return render(request, "account.html", title="我的账号", form=Form())


@require_staff()
async def account_password(request: web.Request) -> web.Response:
    user = current(request)
    form = await Form.read(request, "password_current", "password_new", "password_repeat")
    ok = await asyncio.to_thread(verify_password, form.values["password_current"], user.staff.password_hash)
    if not ok:
        form.error("password_current", "当前密码不正确")
    check_new_password(form, "password_new", "password_repeat")
    if not form.ok:
        return render(request, "account.html", title="我的账号", form=form, errors=form.errors, status=400)
    staff = await staff_repo.get_staff(db(request), user.staff.id)
    await staff_repo.set_password(db(request), staff, await asyncio.to_thread(hash_password,
                                                                              form.values["password_new"]))
    await audit(db(request), user, "staff.password", staff.username, request)
    response = see_other("/console/login")
    security.clear_cookie(response, security.COOKIE, secure=state_of(request).secure_cookies)
    raise response


def check_new_password(form: Form, name: str, repeat: str | None = None) -> None:
    value = form.values.get(name, "")
    if len(value) < MIN_PASSWORD_LENGTH:
        form.error(name, f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    elif len(value) > 128:
        form.error(name, "密码过长")
    if repeat is not None and form.values.get(repeat) != value:
        form.error(repeat, "两次输入的密码不一致")


def register(registry) -> None:
    registry.page("GET", "/login", login_page)
    registry.page("POST", "/login", login_submit)
    registry.page("POST", "/logout", logout)
    registry.page("GET", "/account", account_page)
    registry.page("POST", "/account/password", account_password)
