"""Admin-only API: staff accounts, API tokens, the audit log and the organisation import."""
from __future__ import annotations

from aiohttp import web

from handlers.console import staff_service as svc
from handlers.console.api import json_error, json_response, read_json, staff_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, max_body, require_staff
from handlers.console.pages_audit import audit_page_data
from handlers.console.pages_org import MAX_IMPORT_BYTES, run_import
from handlers.console.pages_staff import _account
from handlers.console.state import state_of
from storage.models import StaffLevel
from storage.repositories import staff as staff_repo

ADMIN = StaffLevel.admin


@require_staff(ADMIN)
async def staff_list(request: web.Request) -> web.Response:
    return json_response({"items": [staff_json(s) for s in await staff_repo.list_staff(db(request))]})


@require_staff(ADMIN)
async def staff_create(request: web.Request) -> web.Response:
    data = await read_json(request)
    values = {k: str(data.get(k) or "") for k in ("username", "display_name", "level", "node", "password")}
    try:
        staff = await svc.create_account(db(request), **values, partner=str(data.get("partner") or "") or None)
    except svc.StaffError as exc:
        return json_error(422, str(exc), errors=exc.errors)
    await audit(db(request), current(request), "staff.create", svc.account_summary(staff), request,
                community_id=staff.community_id)
    return json_response(staff_json(staff), 201)


@require_staff(ADMIN)
async def staff_deactivate(request: web.Request) -> web.Response:
    staff, user = await _account(request), current(request)
    if staff.id == user.staff.id:
        return json_error(422, "不能停用自己的账号")
    await staff_repo.deactivate(db(request), staff, user.now)
    await audit(db(request), user, "staff.deactivate", staff.username, request, community_id=staff.community_id)
    return json_response(staff_json(staff))


@require_staff(ADMIN)
async def staff_password(request: web.Request) -> web.Response:
    staff = await _account(request)
    data = await read_json(request)
    try:
        await svc.reset_password(db(request), staff, str(data.get("password") or ""), current(request).now)
    except svc.StaffError as exc:
        return json_error(422, str(exc), errors=exc.errors)
    await audit(db(request), current(request), "staff.password", staff.username, request,
                community_id=staff.community_id)
    return json_response(staff_json(staff))


@require_staff(ADMIN)
async def staff_token(request: web.Request) -> web.Response:
    staff, user = await _account(request), current(request)
    data = await read_json(request) if request.body_exists else {}
    label = str(data.get("label") or "API")
    try:
        token, raw = await svc.new_token(db(request), staff, label, user.now,
                                  state_of(request).services.settings.api_token_days)
    except svc.StaffError as exc:
        return json_error(422, str(exc), errors=exc.errors)
    await audit(db(request), user, "token.create", f"{staff.username}：{label}", request)
    return json_response({"token": raw, "prefix": token.prefix, "label": token.label, "staff_id": staff.id,
                          "expires_at": token.expires_at}, 201)


@require_staff(ADMIN)
async def audit_log(request: web.Request) -> web.Response:
    page = await audit_page_data(request, 100)
    return json_response({"page": page.number, "per_page": page.size, "total": page.total, "items": [
        {"id": e.id, "at": e.at, "username": e.username, "staff_id": e.staff_id, "action": e.action,
         "target": e.target, "community_id": e.community_id, "ip": e.ip, "via": e.via} for e in page.items]})


@max_body(MAX_IMPORT_BYTES + 1024)
@require_staff(ADMIN)
async def org_import(request: web.Request) -> web.Response:
    kind = request.query.get("format") or ("csv" if "csv" in request.content_type else "yaml")
    if kind not in ("csv", "yaml"):
        return json_error(400, "format 只能是 csv 或 yaml")
    name = request.query.get("filename", f"api-upload.{kind}")[:128]
    summary, problems = await run_import(request, await request.read(), kind, name)
    if problems:
        return json_error(422, f"文件有 {len(problems)} 处问题，未导入任何数据", problems=problems)
    return json_response({"summary": summary.describe().splitlines()})


def register(registry) -> None:
    registry.api("GET", "/staff", staff_list)
    registry.api("POST", "/staff", staff_create)
    registry.api("POST", "/staff/{staff_id}/deactivate", staff_deactivate)
    registry.api("POST", "/staff/{staff_id}/password", staff_password)
    registry.api("POST", "/staff/{staff_id}/tokens", staff_token)
    registry.api("GET", "/audit", audit_log)
    registry.api("POST", "/org/import", org_import)
