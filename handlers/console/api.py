"""The JSON API under /api/v1/ for every staff (Bearer token): who am I, dashboard figures, communities,
residents, the organisation tree. Same authorization as the pages; documented in openapi.yaml.

Errors are `{"error": code, "message": 中文说明}` with the HTTP status (`json_error`).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.errors import DomainError
from handlers.console import dashboard, queries
from handlers.console.audit import audit
from handlers.console.guard import current, db, public, require_staff
from handlers.console.pages_residents import _resident, search
from handlers.console.state import state_of
from storage.models import Resident, Staff

ERRORS = {400: ("bad_request", "请求参数有误"), 401: ("unauthorized", "缺少或无效的 API 令牌"),
          403: ("forbidden", "无权访问该辖区或该操作"), 404: ("not_found", "不存在或无权查看"),
          405: ("method_not_allowed", "不支持该请求方法"), 409: ("conflict", "当前状态不允许该操作"),
          413: ("too_large", "请求内容过大"), 422: ("invalid", "提交的数据有误")}


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(type(value))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False,
                                                                             default=_default))


def json_error(status: int, message: str | None = None, **extra: Any) -> web.Response:
    code, default = ERRORS.get(status, ("error", "服务器错误"))
    return json_response({"error": code, "message": message or default, **extra}, status)


async def api_error(request: web.Request, exc: web.HTTPException | DomainError) -> web.StreamResponse:
    if isinstance(exc, DomainError):
        return json_error(exc.status, exc.message, **exc.details)
    if exc.status == 403 and exc.reason == "password_change":
        response = json_error(403, "该账号须先登录工作台修改初始密码（演示账号的密码是公开的），之后令牌才能使用")
    else:
        response = json_error(exc.status)
    for name in ("WWW-Authenticate", "Allow"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def staff_json(staff: Staff) -> dict:
    return {"id": staff.id, "username": staff.username, "display_name": staff.display_name,
            "level": staff.level.value, "district_id": staff.district_id, "street_id": staff.street_id,
            "community_id": staff.community_id, "partner": staff.partner, "active": staff.active}


def resident_json(resident: Resident, community: str | None, estate: str | None) -> dict:
    return {"id": resident.id, "ref": resident.ref, "community_id": resident.community_id, "community": community,
            "estate_id": resident.estate_id, "estate": estate, "building": resident.building, "room": resident.room,
            "role": resident.role.value if resident.role else None, "subscribed": resident.subscribed,
            "bound_at": resident.bound_at, "followed_at": resident.followed_at,
            "last_message_at": resident.last_message_at}


async def read_json(request: web.Request) -> dict:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest() from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest()
    return data


@require_staff()
async def me(request: web.Request) -> web.Response:
    return json_response(staff_json(current(request).staff))


@require_staff()
async def dashboard_figures(request: web.Request) -> web.Response:
    user = dashboard.viewer(request)
    data = await dashboard.compute_figures(db(request), user)
    return json_response({
        "residents": data["residents"], "active_30d": data["active"], "households": data["households"],
        "households_bound": data["households_bound"], "bindings_this_month": data["month_bindings"],
        "daily_bindings": [{"day": d, "count": n} for d, n in data["daily"]],
        "communities": [_figures_json(r) for r in data["communities"]]})


def _figures_json(row: queries.CommunityFigures) -> dict:
    rate = row.binding_rate
    return {"id": row.id, "name": row.name, "street": row.street, "residents": row.residents,
            "active_30d": row.active, "households": row.households, "households_bound": row.households_bound,
            "binding_rate": None if rate is None else round(rate, 2)}


@require_staff()
async def communities(request: web.Request) -> web.Response:
    rows = await queries.community_figures(db(request), current(request).scope, current(request).now)
    return json_response({"items": [_figures_json(r) for r in rows]})


def _per_page(request: web.Request) -> int:
    try:
        return max(1, min(int(request.query.get("per_page", "50")), 200))
    except ValueError:
        raise web.HTTPBadRequest() from None


@require_staff()
async def residents(request: web.Request) -> web.Response:
    page, _ = await search(request, _per_page(request))
    return json_response({"items": [resident_json(*row) for row in page.items], "page": page.number,
                          "per_page": page.size, "total": page.total})


@require_staff()
async def resident(request: web.Request) -> web.Response:
    return json_response(resident_json(*await _resident(request)))


@require_staff()
async def resident_unbind(request: web.Request) -> web.Response:
    found, community, estate = await _resident(request)
    community_id = found.community_id
    queries.unbind(found)
    await audit(db(request), current(request), "resident.unbind", f"居民 {found.ref[:8]}（{community or '-'}）",
                request, community_id=community_id)
    return json_response(resident_json(found, None, None))


@require_staff()
async def org(request: web.Request) -> web.Response:
    tree = await queries.org_tree(db(request), current(request).scope)
    return json_response({"districts": [
        {"id": d.id, "code": d.code, "name": d.name, "streets": [
            {"id": s.id, "code": s.code, "name": s.name, "communities": [
                {"id": c.id, "code": c.code, "name": c.name, "estates": [
                    {"id": e.id, "code": e.code, "name": e.name, "households": e.households,
                     "property_company": e.property_company.name if e.property_company else None,
                     "developer": e.developer.name if e.developer else None} for e in estates]}
                for c, estates in comms]} for s, comms in streets]} for d, streets in tree]})


@public
async def openapi(request: web.Request) -> web.Response:
    return json_response(state_of(request).openapi)


def register(registry) -> None:
    registry.api("GET", "/openapi.json", openapi)
    registry.api("GET", "/me", me)
    registry.api("GET", "/dashboard", dashboard_figures)
    registry.api("GET", "/communities", communities)
    registry.api("GET", "/residents", residents)
    registry.api("GET", "/residents/{resident_id}", resident)
    registry.api("POST", "/residents/{resident_id}/unbind", resident_unbind)
    registry.api("GET", "/org", org)
