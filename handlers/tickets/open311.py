"""Read-only Open311 GeoReport v2 export, so city platforms can take the figures:

    GET /open311/v2/services.json                 the categories (service_code = category code)
    GET /open311/v2/requests.json                 start_date, end_date (ISO 8601, at most 90 days apart; default
                                                  the last 90 days), status (open|closed), service_code,
                                                  service_request_id (comma-separated), jurisdiction_id (an org
                                                  code: district, street or community)
    GET /open311/v2/requests/{service_request_id}.json

Public output carries nothing a resident typed: `description` is the summary a staff member approved for
publication (`tickets.public_summary`, set in the console or the API, audited), redacted once more, or else only
the category; no resident reference, phone, room, photos or coordinates (a pin would point at a home); `address`
names the community, street and district (public), never the estate. A rejection reason (staff's words) is
redacted (`handlers.privacy.redact`). Every query parameter is validated (400 with a Chinese message; unknown
parameters are refused rather than silently ignored). Open when `LINLI_OPEN311_KEY` is unset, otherwise the key
must come as `?api_key=` or an `X-Api-Key` header (401 without it). Times are Beijing time with offset.
"""
from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from aiohttp import web
from sqlalchemy import or_, select

from handlers.privacy.redact import redact
from handlers.tickets import rules
from handlers.tickets.calendar import LOCAL_TZ
from handlers.tickets.rules import CATEGORIES
from storage.models import Community, District, Street
from storage.ticket_models import Ticket

SERVICES = web.AppKey("tickets.open311.services", object)
MAX_SPAN = timedelta(days=90)
MAX_ROWS = 1000
MAX_IDS = 100
EARLIEST = datetime(2000, 1, 1, tzinfo=LOCAL_TZ)
LATEST = datetime(2100, 1, 1, tzinfo=LOCAL_TZ)
NUMBER = re.compile(r"JF\d{8}-\d{4,6}")
ORG_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
REQUEST_PARAMS = frozenset({"api_key", "start_date", "end_date", "status", "service_code", "service_request_id",
                            "jurisdiction_id"})
SERVICE_PARAMS = frozenset({"api_key", "jurisdiction_id"})


class BadQuery(ValueError):
    """A query parameter the export cannot take; the message (Chinese) says which and why."""


@dataclass(frozen=True)
class Filters:
    start: datetime
    end: datetime
    status: str | None = None  # open / closed
    service_codes: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    jurisdiction: str | None = None


def _one(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name) or []
    if len(values) > 1:
        raise BadQuery(f"参数 {name} 只能出现一次")
    value = values[0].strip() if values else ""
    return value or None


def _list(raw: str | None, name: str, pattern: re.Pattern, limit: int = MAX_IDS) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(items) > limit:
        raise BadQuery(f"{name} 最多 {limit} 个")
    bad = [i for i in items if not pattern.fullmatch(i)]
    if bad:
        raise BadQuery(f"{name} 格式有误：{bad[0][:40]}")
    return items


def _moment(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
        in_range = EARLIEST <= value <= LATEST
    except (ValueError, OverflowError):
        raise BadQuery(f"{name} 应为 ISO 8601 时间，例如 2026-11-01T00:00:00+08:00") from None
    if not in_range:
        raise BadQuery(f"{name} 应在 2000 年到 2100 年之间")
    return value


def unknown(query: Mapping[str, Sequence[str]], allowed: frozenset[str]) -> str | None:
    extra = sorted(k for k in query if k not in allowed)
    return f"不支持的参数：{'、'.join(e[:40] for e in extra[:5])}" if extra else None


def parse_filters(query: Mapping[str, Sequence[str]], now: datetime) -> Filters:
    """The filters of `GET /requests.json` from its query (name → values); raises BadQuery."""
    problem = unknown(query, REQUEST_PARAMS)
    if problem:
        raise BadQuery(problem)
    end = _moment(_one(query, "end_date"), "end_date") or now
    start = _moment(_one(query, "start_date"), "start_date") or max(end - MAX_SPAN, EARLIEST)
    if end < start or end - start > MAX_SPAN:
        raise BadQuery("start_date 与 end_date 最多相隔 90 天，且开始不能晚于结束")
    status = _one(query, "status")
    if status not in (None, "open", "closed"):
        raise BadQuery("status 应为 open 或 closed")
    codes = _list(_one(query, "service_code"), "service_code", re.compile(r"[a-z]{1,16}"))
    unknown_codes = [c for c in codes if c not in CATEGORIES]
    if unknown_codes:
        raise BadQuery(f"service_code 应为 {' / '.join(CATEGORIES)} 之一")
    numbers = _list((_one(query, "service_request_id") or "").upper() or None, "service_request_id", NUMBER)
    jurisdiction = _one(query, "jurisdiction_id")
    if jurisdiction is not None and not ORG_CODE.fullmatch(jurisdiction):
        raise BadQuery("jurisdiction_id 应为区县、街道或社区的编码，例如 HX-YYL")
    return Filters(start, end, status, codes, numbers, jurisdiction.upper() if jurisdiction else None)


def _json(data, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _error(status: int, text: str) -> web.Response:
    headers = {"WWW-Authenticate": 'ApiKey realm="open311"'} if status == 401 else None
    return _json([{"code": status, "description": text}], status, headers)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


def as_request(t: Ticket, community: str, street: str, district: str) -> dict:
    """The public record of one ticket (see the module doc for what it leaves out)."""
    closed = t.status not in rules.OPEN
    agency = {"community": community, "street": street, "district": district}[t.level]
    notes = f"{rules.STATUS_LABELS[t.status]}（{rules.LEVEL_LABELS[t.level]}）"
    if t.status == "rejected" and t.reject_reason:
        notes += f"：{redact(t.reject_reason)}"
    description = redact(t.public_summary) if t.public_summary else f"{CATEGORIES[t.category]}类诉求（内容未公开）"
    return {
        "service_request_id": t.number, "status": "closed" if closed else "open", "status_notes": notes,
        "service_name": CATEGORIES[t.category], "service_code": t.category,
        "description": description, "agency_responsible": agency, "service_notice": "",
        "requested_datetime": _iso(t.created_at), "updated_datetime": _iso(t.updated_at),
        "expected_datetime": None if closed else _iso(t.resolve_due_at),
        "address": f"{district}{street}{community}", "zipcode": None,
    }


def _authorised(request: web.Request) -> bool:
    key = request.app[SERVICES].settings.open311_key
    if not key:
        return True
    given = request.query.get("api_key") or request.headers.get("X-Api-Key") or ""
    return hmac.compare_digest(given.encode("utf-8", "replace"), key.encode("utf-8"))


def _query_of(request: web.Request) -> dict[str, list[str]]:
    return {name: request.query.getall(name) for name in request.query}


async def services_json(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(401, "需要有效的 api_key")
    problem = unknown(_query_of(request), SERVICE_PARAMS)
    if problem:
        return _error(400, problem)
    return _json([{"service_code": code, "service_name": name, "description": f"{name}类投诉", "metadata": False,
                   "type": "realtime", "keywords": "", "group": "物业管理"} for code, name in CATEGORIES.items()])


async def requests_json(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(401, "需要有效的 api_key")
    try:
        wanted = parse_filters(_query_of(request), request.app[SERVICES].clock())
    except BadQuery as exc:
        return _error(400, str(exc))
    stmt = _query().where(Ticket.created_at >= wanted.start, Ticket.created_at <= wanted.end)
    if wanted.status:
        is_open = Ticket.status.in_(tuple(rules.OPEN))
        stmt = stmt.where(is_open if wanted.status == "open" else ~is_open)
    if wanted.service_codes:
        stmt = stmt.where(Ticket.category.in_(wanted.service_codes))
    if wanted.numbers:
        stmt = stmt.where(Ticket.number.in_(wanted.numbers))
    if wanted.jurisdiction:
        code = wanted.jurisdiction
        stmt = stmt.where(or_(Community.code == code, Street.code == code, District.code == code))
    return _json(await _rows(request, stmt.order_by(Ticket.id.desc()).limit(MAX_ROWS)))


async def request_json(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _error(401, "需要有效的 api_key")
    problem = unknown(_query_of(request), SERVICE_PARAMS)
    if problem:
        return _error(400, problem)
    number = request.match_info["number"].upper()
    if not NUMBER.fullmatch(number):
        return _error(404, "没有该编号的诉求")
    rows = await _rows(request, _query().where(Ticket.number == number))
    return _json(rows) if rows else _error(404, "没有该编号的诉求")


def _query():
    return (select(Ticket, Community.name, Street.name, District.name)
            .join(Community, Community.id == Ticket.community_id).join(Street, Street.id == Community.street_id)
            .join(District, District.id == Street.district_id))


async def _rows(request: web.Request, stmt) -> list[dict]:
    async with request.app[SERVICES].db.reading() as session:
        return [as_request(*row) for row in (await session.execute(stmt)).all()]


def setup_routes(app: web.Application, services) -> None:
    """Mount the Open311 export on the linli app."""
    app[SERVICES] = services
    app.router.add_get("/open311/v2/services.json", services_json)
    app.router.add_get("/open311/v2/requests.json", requests_json)
    app.router.add_get(r"/open311/v2/requests/{number}.json", request_json)
