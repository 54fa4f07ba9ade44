"""The 12345 hotline in the console: upload the hotline's spreadsheet (size-limited; every bad row reported
with its line and nothing imported), the orders waiting to be placed by hand with their candidates, placing one,
and the export of results in the hotline's return format. The same through the JSON API.
"""
from __future__ import annotations

from pathlib import Path, PurePath

from aiohttp import web
from sqlalchemy import select

from bot.errors import BadRequest, DomainError
from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, max_body, require_staff
from handlers.console.render import Form, flash, render, see_other, staff_names_for
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.hotline import service
from handlers.hotline.mapping import MappingError, load
from handlers.tickets.rules import CATEGORIES
from storage.hotline_models import HotlineImport
from storage.models import Community

HERE = Path(__file__).parent
HARD_CAP = 100 * 1024 * 1024 + 64 * 1024  # the largest LINLI_HOTLINE_MAX_BYTES allows, plus the form around it
LABELS = {"hotline.import": "导入 12345 工单", "hotline.import.failed": "12345 工单导入被拒",
          "hotline.place": "指定 12345 工单社区", "hotline.export": "导出 12345 办理结果"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class MappingUnavailable(DomainError):
    status = 503
    code = "mapping_unavailable"


def mapping_of(request: web.Request):
    services = state_of(request).services
    found = services.extras.get("hotline.mapping")
    if found is None:
        try:
            found = services.extras["hotline.mapping"] = load(services.settings.hotline_mapping_file)
        except MappingError as exc:
            raise MappingUnavailable(f"12345 列对应文件有误：{exc}") from None
    return found


def _limit(request: web.Request) -> int:
    return state_of(request).services.settings.hotline_max_bytes


def _too_big(request: web.Request, size: int | None) -> None:
    limit = _limit(request)
    if size is not None and size > limit:
        raise DomainError(f"文件过大（上限 {limit // 1024} KB），请分成几个文件导入", 413)


async def _run(request: web.Request, data: bytes, filename: str) -> service.Outcome | service.HotlineFileError:
    """Import the file; a refused file (nothing was written: every row is checked first) is returned, not
    raised, so that its audit entry commits with the request."""
    user = current(request)
    _too_big(request, len(data))
    try:
        outcome = await service.import_file(db(request), state_of(request).services, data, filename,
                                            mapping_of(request), user.scope, f"staff:{user.staff.username}", user.now)
    except service.HotlineFileError as exc:
        await audit(db(request), user, "hotline.import.failed", f"{filename}：{len(exc.problems)} 处问题"[:256],
                    request)
        return exc
    await audit(db(request), user, "hotline.import", f"{filename} {outcome.describe()}"[:256], request)
    return outcome


async def _page(request: web.Request, *, outcome=None, problems=None, status: int = 200) -> web.Response:
    user = current(request)
    session = db(request)
    orders = await service.unplaced(session, user.scope)
    communities = dict((await session.execute(select(Community.id, Community.name).where(
        Community.id.in_(sorted(user.scope.community_ids)) if not user.scope.is_admin else Community.id > 0)
        .order_by(Community.id))).all())
    imports = list(await session.scalars(select(HotlineImport).order_by(HotlineImport.id.desc()).limit(10))) \
        if user.scope.is_admin else []
    return render(request, "hotline/index.html", title="12345 工单", orders=[service.order_json(o) for o in orders],
                  communities=communities, outcome=outcome,
                  problems=problems or [], categories=CATEGORIES, imports=imports, limit_kb=_limit(request) // 1024,
                  mapping=mapping_of(request), status=status,
                  staff_names=await staff_names_for(session, [i.imported_by for i in imports]))


@require_staff()
async def index_page(request: web.Request) -> web.Response:
    return await _page(request)


@max_body(HARD_CAP)
@require_staff()
async def import_post(request: web.Request) -> web.Response:
    _too_big(request, request.content_length and request.content_length - 64 * 1024)
    upload = (await Form.read(request, "file")).file("file")
    if upload is None:
        return await _page(request, problems=["请选择 12345 平台导出的 .xlsx 或 .csv 文件"], status=400)
    name = PurePath(upload.filename or "upload").name
    data = upload.file.read(_limit(request) + 1)
    outcome = await _run(request, data, name)
    if isinstance(outcome, service.HotlineFileError):
        return await _page(request, problems=outcome.problems, status=400)
    return await _page(request, outcome=outcome)


def _int_or_none(raw) -> int | None:
    raw = (raw or "").strip() if isinstance(raw, str) else raw
    if raw in (None, ""):
        return None
    if isinstance(raw, int):
        return raw
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadRequest("社区或小区的编号有误")
    return int(raw)


async def _place(request: web.Request, fields: dict):
    user = current(request)
    order_id = path_id(request, "order_id")
    ticket = await service.place(db(request), state_of(request).services, user.scope, order_id,
                                 _int_or_none(fields.get("community_id")), _int_or_none(fields.get("estate_id")),
                                 f"staff:{user.staff.username}", user.now)
    await audit(db(request), user, "hotline.place", f"12345 工单 {order_id} → {ticket.number}", request,
                community_id=ticket.community_id)
    return ticket


@require_staff()
async def place_post(request: web.Request) -> web.Response:
    ticket = await _place(request, (await Form.read(request, "community_id", "estate_id")).values)
    await flash(request, f"已建立投诉工单 {ticket.number}。")
    raise see_other("/console/hotline")


async def _export(request: web.Request) -> tuple[list[str], list[list]]:
    user = current(request)
    mapping = mapping_of(request)
    rows, count = await service.export(db(request), user.scope, mapping, user.now)
    await audit(db(request), user, "hotline.export", f"{count} 件", request)
    return list(mapping.export_columns.values()), rows


@require_staff()
async def export_post(request: web.Request) -> web.Response:
    header, rows = await _export(request)
    name = f"12345-results-{current(request).now:%Y%m%d-%H%M}.xlsx"
    return web.Response(body=service.export_xlsx(header, rows), content_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ----- API -------------------------------------------------------------------------------------------------------

@max_body(HARD_CAP)
@require_staff()
async def api_import(request: web.Request) -> web.Response:
    _too_big(request, request.content_length)
    name = PurePath(request.query.get("filename") or "").name
    if not name:
        kind = "csv" if request.content_type == "text/csv" else "xlsx" if request.content_type == XLSX else None
        if kind is None:
            raise BadRequest("请用 filename 参数给出文件名（.xlsx 或 .csv），或设置对应的 Content-Type")
        name = f"api-upload.{kind}"
    data = await request.content.read(_limit(request) + 1)
    outcome = await _run(request, data, name)
    if isinstance(outcome, service.HotlineFileError):
        return json_error(422, outcome.message, problems=outcome.problems[:200])
    return json_response({"summary": outcome.describe(), "rows": outcome.rows, "created": outcome.created,
                          "known": outcome.known, "repeated": outcome.repeated,
                          "unplaced": [{"line": line, "number": number, "reason": why}
                                       for line, number, why in outcome.unplaced]})


@require_staff()
async def api_orders(request: web.Request) -> web.Response:
    orders = await service.unplaced(db(request), current(request).scope)
    return json_response({"items": [service.order_json(o) for o in orders]})


@require_staff()
async def api_place(request: web.Request) -> web.Response:
    ticket = await _place(request, await read_json(request))
    return json_response({"ticket_id": ticket.id, "number": ticket.number, "community_id": ticket.community_id},
                         201)


@require_staff()
async def api_export(request: web.Request) -> web.Response:
    header, rows = await _export(request)
    if request.query.get("format") == "xlsx":
        return web.Response(body=service.export_xlsx(header, rows), content_type=XLSX,
                            headers={"Content-Disposition": 'attachment; filename="12345-results.xlsx"'})
    return json_response({"columns": header, "rows": rows})


def console(registry) -> None:
    registry.labels(LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("12345 工单", "/console/hotline", order=36)
    registry.page("GET", "/hotline", index_page)
    registry.page("POST", "/hotline/import", import_post)
    registry.page("POST", "/hotline/orders/{order_id}/place", place_post)
    registry.page("POST", "/hotline/export", export_post)
    registry.api("POST", "/hotline/imports", api_import)
    registry.api("GET", "/hotline/orders", api_orders)
    registry.api("POST", "/hotline/orders/{order_id}/place", api_place)
    registry.api("POST", "/hotline/export", api_export)
