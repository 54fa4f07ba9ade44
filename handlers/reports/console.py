"""The monthly report in the console: the list of reports the job built with a form to open any month and place
in the jurisdiction, the report page, its print layout (and style sheet), the PDF and the XLSX, the JSON API, and
the dashboard panel that tells street and district heads a new report is there (the console notice).
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from handlers.console.audit import audit
from handlers.console.guard import current, db, public, require_staff
from handlers.console.registry import SLOTS
from handlers.console.render import render
from handlers.console.state import state_of
from handlers.reports import render as report_render
from handlers.reports import scope, service
from handlers.reports.render import CSS, HERE

LABELS = {"report.export": "导出月度报告"}
FRESH = timedelta(days=7)  # the panel marks a report 新 this long after it was built


async def _report(request: web.Request):
    user = current(request)
    return await service.report_for(db(request), user.scope, request.query.get("scope"), request.query.get("month"),
                                    user.now)


def _query(report) -> str:
    return urlencode({"scope": report.place.code, "month": report.period.key})


def _download(body: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(body=body, content_type=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@require_staff()
async def index_page(request: web.Request) -> web.Response:
    user = current(request)
    return render(request, "reports/index.html", title="月度报告",
                  places=await service.choices(db(request), user.scope),
                  month=scope.previous_month(user.now).key, issues=await service.issues(db(request), user.scope))


@require_staff()
async def view_page(request: web.Request) -> web.Response:
    report = await _report(request)
    places = await service.choices(db(request), current(request).scope)
    return render(request, "reports/view.html", title=report.title, report=report,
                  charts=report_render.charts(report), places=places, query=_query(report))


@require_staff()
async def print_page(request: web.Request) -> web.Response:
    report = await _report(request)
    user = current(request)
    return render(request, "reports/print.html", title=report.title, report=report,
                  charts=report_render.charts(report), generated_by=user.staff.display_name, inline_css=None,
                  css_href="/console/reports/report.css")


@public
async def report_css(request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


async def _pdf(request: web.Request, report) -> web.Response:
    user = current(request)
    body = await service.to_pdf(report, state_of(request).services.settings, user.staff.display_name)
    await audit(db(request), user, "report.export", f"{report.place.name} {report.period.key} PDF", request)
    return _download(body, "application/pdf", service.filename(report, "pdf"))


async def _xlsx(request: web.Request, report) -> web.Response:
    from handlers.reports.xlsx import workbook

    await audit(db(request), current(request), "report.export", f"{report.place.name} {report.period.key} XLSX",
                request)
    return _download(workbook(report), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     service.filename(report, "xlsx"))


@require_staff()
async def pdf_page(request: web.Request) -> web.Response:
    return await _pdf(request, await _report(request))


@require_staff()
async def xlsx_page(request: web.Request) -> web.Response:
    return await _xlsx(request, await _report(request))


@require_staff()
async def api_monthly(request: web.Request) -> web.Response:
    from handlers.console.api import json_response

    report = await _report(request)
    kind = request.query.get("format", "json")
    if kind == "pdf":
        return await _pdf(request, report)
    if kind == "xlsx":
        return await _xlsx(request, report)
    return json_response(service.to_json(report))


@require_staff()
async def api_issues(request: web.Request) -> web.Response:
    from handlers.console.api import json_response

    rows = await service.issues(db(request), current(request).scope)
    return json_response({"items": [{"id": i.id, "level": i.level, "code": i.code, "name": i.name, "month": i.month,
                                     "headline": i.headline, "built_at": i.built_at, "pushed": i.pushed}
                                    for i in rows]})


async def reports_panel(session, user):
    """The console notice: the latest reports the job built for this jurisdiction, new ones marked."""
    rows = await service.issues(session, user.scope, limit=4)
    if not rows:
        return None
    items = [{"code": i.code, "name": i.name, "month": i.month, "headline": i.headline,
              "fresh": i.built_at >= user.now - FRESH} for i in rows]
    return user.fragment("reports/panel.html", issues=items)


def console(registry) -> None:
    registry.labels(LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("月度报告", "/console/reports", order=47)
    registry.page("GET", "/reports", index_page)
    registry.page("GET", "/reports/view", view_page)
    registry.page("GET", "/reports/print", print_page)
    registry.page("GET", "/reports/report.css", report_css)
    registry.page("GET", "/reports/pdf", pdf_page)
    registry.page("GET", "/reports/xlsx", xlsx_page)
    registry.api("GET", "/reports/monthly", api_monthly)
    registry.api("GET", "/reports/issues", api_issues)
    registry.panel("reports", "月度报告", order=SLOTS["rates"] + 5, cache_seconds=300)(reports_panel)
