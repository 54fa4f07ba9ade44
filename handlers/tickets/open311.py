"""Read-only Open311 GeoReport v2 export, so city platforms can take the figures:

    GET /open311/v2/services.json                 the categories (service_code = category code)
    GET /open311/v2/requests.json                 start_date, end_date (ISO 8601, at most 90 days apart; default
                                                  the last 90 days), status (open|closed), service_code,
                                                  service_request_id (comma-separated), jurisdiction_id (an org
                                                  code: district, street or community)
    GET /open311/v2/requests/{service_request_id}.json

No personal data: no resident reference, no phone, no building or room, no photos and no coordinates (a pin
would point at a home); phone and ID-card numbers inside descriptions are masked. Open when
`LINLI_OPEN311_KEY` is unset, otherwise `?api_key=` must match it. Times are Beijing time with offset.
"""
from __future__ import annotations

import hmac
import json
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import or_, select

from handlers.tickets import rules
from handlers.tickets.calendar import LOCAL_TZ
from handlers.tickets.rules import CATEGORIES
from storage.models import Community, District, Estate, Street
from storage.ticket_models import Ticket

SERVICES = web.AppKey("tickets.open311.services", object)
MAX_SPAN = timedelta(days=90)
MAX_ROWS = 1000


def _json(data, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _error(status: int, text: str) -> web.Response:
    return _json([{"code": status, "description": text}], status)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


def _when(raw: str | None) -> datetime | None:
    if not raw:
        return None
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def as_request(t: Ticket, community: str, street: str, district: str, estate: str | None) -> dict:
    closed = t.status not in rules.OPEN
    agency = {"community": community, "street": street, "district": district}[t.level]
    notes = f"{rules.STATUS_LABELS[t.status]}（{rules.LEVEL_LABELS[t.level]}）"
    if t.status == "rejected" and t.reject_reason:
        notes += f"：{rules.redact(t.reject_reason)}"
    return {
        "service_request_id": t.number, "status": "closed" if closed else "open", "status_notes": notes,
        "service_name": CATEGORIES[t.category], "service_code": t.category,
        "description": rules.redact(t.description), "agency_responsible": agency, "service_notice": "",
        "requested_datetime": _iso(t.created_at), "updated_datetime": _iso(t.updated_at),
        "expected_datetime": None if closed else _iso(t.resolve_due_at),
        "address": f"{district}{street}{community}" + (estate or ""), "zipcode": None,
    }


def _authorised(request: web.Request) -> bool:
    key = request.app[SERVICES].settings.open311_key
    return not key or hmac.compare_digest(request.query.get("api_key", "").encode(), key.encode())


async def services_json(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(403, "api_key 无效")
    return _json([{"service_code": code, "service_name": name, "description": f"{name}类投诉", "metadata": False,
                   "type": "realtime", "keywords": "", "group": "物业管理"} for code, name in CATEGORIES.items()])


async def requests_json(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(403, "api_key 无效")
    q = request.query
    try:
        end = _when(q.get("end_date")) or request.app[SERVICES].clock()
        start = _when(q.get("start_date")) or end - MAX_SPAN
    except ValueError:
        return _error(400, "start_date / end_date 应为 ISO 8601 时间，例如 2026-11-01T00:00:00+08:00")
    if end < start or end - start > MAX_SPAN:
        return _error(400, "start_date 与 end_date 最多相隔 90 天，且开始不能晚于结束")
    stmt = _query().where(Ticket.created_at >= start, Ticket.created_at <= end)
    if q.get("status") in ("open", "closed"):
        is_open = Ticket.status.in_(tuple(rules.OPEN))
        stmt = stmt.where(is_open if q["status"] == "open" else ~is_open)
    elif q.get("status"):
        return _error(400, "status 应为 open 或 closed")
    if q.get("service_code"):
        stmt = stmt.where(Ticket.category.in_([c.strip() for c in q["service_code"].split(",")]))
    if q.get("service_request_id"):
        stmt = stmt.where(Ticket.number.in_([n.strip().upper() for n in q["service_request_id"].split(",")][:100]))
    if q.get("jurisdiction_id"):
        code = q["jurisdiction_id"].strip().upper()
        stmt = stmt.where(or_(Community.code == code, Street.code == code, District.code == code))
    return _json(await _rows(request, stmt.order_by(Ticket.id.desc()).limit(MAX_ROWS)))


async def request_json(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(403, "api_key 无效")
    number = request.match_info["number"].upper()
    rows = await _rows(request, _query().where(Ticket.number == number))
    return _json(rows) if rows else _error(404, "没有该编号的诉求")


def _query():
    return (select(Ticket, Community.name, Street.name, District.name, Estate.name)
            .join(Community, Community.id == Ticket.community_id).join(Street, Street.id == Community.street_id)
            .join(District, District.id == Street.district_id).outerjoin(Estate, Estate.id == Ticket.estate_id))


async def _rows(request: web.Request, stmt) -> list[dict]:
    async with request.app[SERVICES].db.reading() as session:
        return [as_request(*row) for row in (await session.execute(stmt)).all()]


def setup_routes(app: web.Application, services) -> None:
    """Mount the Open311 export on the linli app."""
    app[SERVICES] = services
    app.router.add_get("/open311/v2/services.json", services_json)
    app.router.add_get("/open311/v2/requests.json", requests_json)
    app.router.add_get(r"/open311/v2/requests/{number}.json", request_json)
