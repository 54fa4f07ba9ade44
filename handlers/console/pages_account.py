"""我的账号: one's own account — change the password, see the browsers logged in (退出其他设备), see and revoke
one's API tokens.

A password change keeps only the session that made it: every other session ends and every API token of the
account is revoked. An account that must change its password (a demo account, whose password is published) sees
the password page and nothing else until it has (handlers/console/guard.py).
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from handlers.console import security
from handlers.console.audit import audit
from handlers.console.guard import (
    before_password_change,
    committee_allowed,
    current,
    db,
    partner_allowed,
    require_staff,
)
from handlers.console.render import Form, flash, render, see_other
from storage import password_policy
from storage.passwords import hash_password, verify_password
from storage.repositories import staff as staff_repo


async def _account(request: web.Request, *, status: int = 200) -> web.Response:
    user = current(request)
    sessions = await staff_repo.live_sessions(db(request), user.staff.id, user.now, security.SESSION_IDLE)
    tokens = await staff_repo.list_api_tokens(db(request), user.staff.id)
    return render(request, "account.html", title="我的账号", sessions=sessions, tokens=tokens,
                  token_status=staff_repo.token_status, status=status)


@require_staff()
async def account_page(request: web.Request) -> web.Response:
    return await _account(request)


def _password_form(request: web.Request, form: Form, status: int = 200) -> web.Response:
    return render(request, "password.html", title="修改密码", form=form, errors=form.errors, status=status,
                  forced=current(request).staff.must_change_password, min_length=password_policy.MIN_LENGTH)


@committee_allowed
@partner_allowed
@before_password_change
@require_staff()
async def password_page(request: web.Request) -> web.Response:
    return _password_form(request, Form())


@committee_allowed
@partner_allowed
@before_password_change
@require_staff()
async def account_password(request: web.Request) -> web.Response:
    user = current(request)
    form = await Form.read(request, "password_current", "password_new", "password_repeat")
    ok = await asyncio.to_thread(verify_password, form.values["password_current"], user.staff.password_hash)
    if not ok:
        form.error("password_current", "当前密码不正确")
    check_new_password(form, "password_new", "password_repeat", username=user.staff.username)
    if form.ok and form.values["password_new"] == form.values["password_current"]:
        form.error("password_new", "新密码不能与当前密码相同")
    if not form.ok:
        return _password_form(request, form, status=400)
    staff = await staff_repo.get_staff(db(request), user.staff.id)
    new_hash = await asyncio.to_thread(hash_password, form.values["password_new"])
    await staff_repo.set_password(db(request), staff, new_hash, user.now, keep_session_id=user.session_row_id)
    await audit(db(request), user, "account.password", staff.username, request)
    await flash(request, "密码已修改。其他设备上的登录已全部退出，您的 API 令牌已全部吊销（需要时请联系管理员重新创建）。")
    raise see_other("/console/account")


def check_new_password(form: Form, name: str, repeat: str | None = None, *, username: str | None = None) -> None:
    problem = password_policy.problem(form.values.get(name, ""), username)
    if problem:
        form.error(name, problem)
    if repeat is not None and form.values.get(repeat) != form.values.get(name, ""):
        form.error(repeat, "两次输入的密码不一致")


@require_staff()
async def other_sessions_logout(request: web.Request) -> web.Response:
    user = current(request)
    ended = await staff_repo.delete_sessions_of(db(request), user.staff.id, keep=user.session_row_id)
    await audit(db(request), user, "account.sessions", f"{ended} 个会话", request)
    await flash(request, f"已退出其他设备上的 {ended} 个登录。" if ended else "没有其他设备登录。")
    raise see_other("/console/account")


async def revoke_own_token(request: web.Request) -> int:
    """Revoke the caller's token named in the path (404 when it is not theirs or not live); returns its id."""
    user = current(request)
    raw = request.match_info["token_id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise web.HTTPNotFound()
    token_id = int(raw)
    if not await staff_repo.revoke_api_token(db(request), user.staff.id, token_id, user.now):
        raise web.HTTPNotFound()
    await audit(db(request), user, "account.token.revoke", f"{user.staff.username}：#{token_id}", request)
    return token_id


@require_staff()
async def token_revoke(request: web.Request) -> web.Response:
    await revoke_own_token(request)
    await flash(request, "令牌已吊销，使用它的程序将无法再调用 API。")
    raise see_other("/console/account")


def register(registry) -> None:
    registry.page("GET", "/account", account_page)
    registry.page("GET", "/account/password", password_page)
    registry.page("POST", "/account/password", account_password)
    registry.page("POST", "/account/sessions/logout-others", other_sessions_logout)
    registry.page("POST", "/account/tokens/{token_id}/revoke", token_revoke)
