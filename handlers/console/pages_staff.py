"""Staff accounts (admins only): list, create, deactivate/reactivate, reset password, API tokens.

A new API token is shown once, on the page that answers its creation, and never again (only its hash is kept).
"""
from __future__ import annotations

from aiohttp import web

from handlers.console import staff_service as svc
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from storage.models import Staff, StaffLevel
from storage.repositories import staff as staff_repo

ADMIN = StaffLevel.admin
LEVELS = [(lv.value, lv.label) for lv in (StaffLevel.community, StaffLevel.street, StaffLevel.district,
                                           StaffLevel.admin)]


async def _list(request: web.Request, form: Form | None = None, status: int = 200) -> web.Response:
    session = db(request)
    accounts = await staff_repo.list_staff(session)
    names = await svc.node_names(session)
    rows = [(s, svc.node_label(s, names)) for s in accounts]
    form = form or Form({"level": "community"})
    return render(request, "staff_list.html", title="账号管理", rows=rows, form=form, errors=form.errors,
                  levels=LEVELS, nodes=await svc.node_choices(session), status=status)


@require_staff(ADMIN)
async def staff_page(request: web.Request) -> web.Response:
    return await _list(request)


@require_staff(ADMIN)
async def staff_create(request: web.Request) -> web.Response:
    form = await Form.read(request, "username", "display_name", "level", "node", "password", "partner")
    values = dict(form.values)
    partner = values.pop("partner", "").strip() or None
    try:
        staff = await svc.create_account(db(request), **values, partner=partner)
    except svc.StaffError as exc:
        form.errors.update(exc.errors)
        return await _list(request, form, status=400)
    await audit(db(request), current(request), "staff.create", svc.account_summary(staff), request,
                community_id=staff.community_id)
    await flash(request, f"已创建账号 {staff.username}。请通过安全渠道把初始密码告知本人。")
    raise see_other(f"/console/staff/{staff.id}")


async def _account(request: web.Request) -> Staff:
    staff = await staff_repo.get_staff(db(request), path_id(request, "staff_id"))
    if staff is None:
        raise web.HTTPNotFound()
    return staff


async def _detail(request: web.Request, staff: Staff, *, new_token: str | None = None, form: Form | None = None,
                  status: int = 200) -> web.Response:
    names = await svc.node_names(db(request))
    tokens = await staff_repo.list_api_tokens(db(request), staff.id)
    form = form or Form()
    return render(request, "staff_detail.html", title=f"账号 {staff.username}", account=staff,
                  node=svc.node_label(staff, names), tokens=tokens, new_token=new_token, form=form,
                  errors=form.errors, status=status, token_status=staff_repo.token_status)


@require_staff(ADMIN)
async def staff_detail(request: web.Request) -> web.Response:
    return await _detail(request, await _account(request))


@require_staff(ADMIN)
async def staff_deactivate(request: web.Request) -> web.Response:
    staff, user = await _account(request), current(request)
    if staff.id == user.staff.id:
        await flash(request, "不能停用自己的账号。", "error")
        raise see_other(f"/console/staff/{staff.id}")
    await staff_repo.deactivate(db(request), staff, user.now)
    await audit(db(request), user, "staff.deactivate", staff.username, request, community_id=staff.community_id)
    await flash(request, f"已停用账号 {staff.username}，其登录会话和 API 令牌均已失效。")
    raise see_other(f"/console/staff/{staff.id}")


@require_staff(ADMIN)
async def staff_reactivate(request: web.Request) -> web.Response:
    staff = await _account(request)
    await staff_repo.reactivate(db(request), staff)
    await audit(db(request), current(request), "staff.reactivate", staff.username, request,
                community_id=staff.community_id)
    await flash(request, f"已重新启用账号 {staff.username}（原 API 令牌仍然无效）。")
    raise see_other(f"/console/staff/{staff.id}")


@require_staff(ADMIN)
async def staff_password(request: web.Request) -> web.Response:
    staff = await _account(request)
    form = await Form.read(request, "password")
    try:
        await svc.reset_password(db(request), staff, form.values["password"], current(request).now)
    except svc.StaffError as exc:
        form.errors.update(exc.errors)
        return await _detail(request, staff, form=form, status=400)
    await audit(db(request), current(request), "staff.password", staff.username, request,
                community_id=staff.community_id)
    await flash(request, f"已重置 {staff.username} 的密码，其已登录的会话均已退出，API 令牌均已吊销。")
    raise see_other(f"/console/staff/{staff.id}")


@require_staff(ADMIN)
async def staff_token(request: web.Request) -> web.Response:
    staff, user = await _account(request), current(request)
    form = await Form.read(request, "label")
    try:
        _, raw = await svc.new_token(db(request), staff, form.values["label"], user.now,
                                  state_of(request).services.settings.api_token_days)
    except svc.StaffError as exc:
        await flash(request, "；".join(exc.errors.values()), "error")
        raise see_other(f"/console/staff/{staff.id}") from None
    await audit(db(request), user, "token.create", f"{staff.username}：{form.values['label'] or 'API'}", request)
    return await _detail(request, staff, new_token=raw)


@require_staff(ADMIN)
async def staff_token_revoke(request: web.Request) -> web.Response:
    staff, user = await _account(request), current(request)
    token_id = path_id(request, "token_id")
    if not await staff_repo.revoke_api_token(db(request), staff.id, token_id, user.now):
        raise web.HTTPNotFound()
    await audit(db(request), user, "token.revoke", f"{staff.username}：#{token_id}", request)
    await flash(request, "令牌已吊销。")
    raise see_other(f"/console/staff/{staff.id}")


def register(registry) -> None:
    registry.page("GET", "/staff", staff_page)
    registry.page("POST", "/staff", staff_create)
    registry.page("GET", "/staff/{staff_id}", staff_detail)
    registry.page("POST", "/staff/{staff_id}/deactivate", staff_deactivate)
    registry.page("POST", "/staff/{staff_id}/reactivate", staff_reactivate)
    registry.page("POST", "/staff/{staff_id}/password", staff_password)
    registry.page("POST", "/staff/{staff_id}/tokens", staff_token)
    registry.page("POST", "/staff/{staff_id}/tokens/{token_id}/revoke", staff_token_revoke)
