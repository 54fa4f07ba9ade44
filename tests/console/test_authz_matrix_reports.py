"""Authorization matrix of the monthly report and the 12345 hotline: every route × every staff level × a place
inside or outside the caller's jurisdiction, plus anonymous callers; refused writes change nothing, and lists and
exports show exactly the jurisdiction. `ROUTES` must list every route the two features mount.

The PDF route runs a stand-in for Chromium (a script that writes a tiny PDF where it is asked to): what is
checked here is who may get the file, not the browser (tests/reports/test_outputs.py renders real PDFs).
"""
from __future__ import annotations

import io
import stat

import openpyxl
import pytest
from sqlalchemy import func, select

from handlers.console import build_registry
from handlers.hotline import feature as hotline
from handlers.reports import feature as reports
from storage.hotline_models import HotlineOrder
from storage.models import Community, Estate
from storage.report_models import ReportIssue
from storage.ticket_models import Ticket
from tests.console.conftest import CODES, COMMUNITY_NAMES, NOW, SEES, build_world
from tests.console.test_matrix import LEVELS, TARGETS

MONTH = "2026-10"
# (method, pattern, who): "scoped" — a place (or an order) in the URL; "staff" — any staff, content scoped
ROUTES = [
    ("GET", "/console/reports", "staff"), ("GET", "/console/reports/view", "scoped"),
    ("GET", "/console/reports/print", "scoped"), ("GET", "/console/reports/report.css", "public"),
    ("GET", "/console/reports/pdf", "scoped"), ("GET", "/console/reports/xlsx", "scoped"),
    ("GET", "/api/v1/reports/monthly", "scoped"), ("GET", "/api/v1/reports/issues", "staff"),
    ("GET", "/console/hotline", "staff"), ("POST", "/console/hotline/import", "staff"),
    ("POST", "/console/hotline/orders/{order_id}/place", "scoped"), ("POST", "/console/hotline/export", "staff"),
    ("POST", "/api/v1/hotline/imports", "staff"), ("GET", "/api/v1/hotline/orders", "staff"),
    ("POST", "/api/v1/hotline/orders/{order_id}/place", "scoped"), ("POST", "/api/v1/hotline/export", "staff"),
]
FAKE_CHROMIUM = """#!/bin/sh
for a in "$@"; do case "$a" in --print-to-pdf=*) printf '%%PDF-1.4 stand-in' > "${a#--print-to-pdf=}";; esac; done
"""


def test_every_route_of_the_two_features_is_in_the_matrix():
    registry = build_registry([reports.console, hotline.console])
    mounted = {(r.method, "/console" + r.path) for r in registry.pages if r.path.startswith(("/reports", "/hotline"))}
    mounted |= {(r.method, "/api/v1" + r.path) for r in registry.api_routes
                if r.path.startswith(("/reports", "/hotline"))}
    assert mounted == {(m, p) for m, p, _ in ROUTES}


@pytest.fixture
async def world(aiohttp_client, db_url, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text(FAKE_CHROMIUM)
    chromium.chmod(chromium.stat().st_mode | stat.S_IEXEC)
    w = await build_world(aiohttp_client, db_url, plugins=[reports.console, hotline.console],
                          report_chromium=str(chromium), hotline_max_bytes=64 * 1024)
    async with w.services.db.transaction() as session:
        w.estate = {short: await session.scalar(select(Estate.id).where(Estate.community_id == w.community[short])
                                                .order_by(Estate.id).limit(1)) for short in CODES}
        w.estate_name = {short: await session.scalar(select(Estate.name).where(Estate.id == w.estate[short]))
                         for short in CODES}
    return w


async def _order(world, short: str) -> int:
    """An unplaced order imported by the target community's staff (so only they and above may place it)."""
    async with world.services.db.transaction() as session:
        n = await session.scalar(select(func.count()).select_from(HotlineOrder))
        order = HotlineOrder(number=f"M-{short}-{n}", line=2, received_at=NOW, address="某处", content="某事某事",
                             category="other", status="unmatched", candidates=[], area_level="community",
                             area_id=world.community[short], imported_at=NOW)
        session.add(order)
        await session.flush()
        return order.id


async def _tickets(world) -> int:
    async with world.services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Ticket))


async def _call(world, method, url, username, csrf, *, data=None, json=None):
    client = world.client
    if url.startswith("/api/"):
        headers = world.bearer(username) if username else {}
        return await client.request(method, url, json=json if method == "POST" else None, headers=headers,
                                    allow_redirects=False)
    if method == "GET":
        return await client.get(url, allow_redirects=False)
    return await client.post(url, data={**(data or {}), "_csrf": csrf or ""}, allow_redirects=False)


def _url(pattern: str, target: str, order: int | None = None) -> str:
    if "{order_id}" in pattern:
        return pattern.replace("{order_id}", str(order))
    return f"{pattern}?scope={CODES[target]}&month={MONTH}"


async def test_anonymous_callers_are_refused(world):
    order = await _order(world, "YJ")
    for method, pattern, who in ROUTES:
        if who == "public":
            continue
        resp = await _call(world, method, _url(pattern, "YJ", order), None, None)
        expected = 401 if pattern.startswith("/api/") else (303 if method == "GET" else 403)
        assert resp.status == expected, (pattern, resp.status)
    assert await _tickets(world) == 0


async def test_scoped_routes_inside_and_outside(world):
    problems = []
    for username in LEVELS:
        world.client.session.cookie_jar.clear()
        csrf = await world.login(username)
        for target in TARGETS:
            inside = target in SEES[username]
            for method, pattern, who in ROUTES:
                if who != "scoped":
                    continue
                order = await _order(world, target) if "{order_id}" in pattern else None
                before = await _tickets(world)
                body = {"community_id": world.community[target]}
                resp = await _call(world, method, _url(pattern, target, order), username, csrf, data=body, json=body)
                text = await resp.read()
                ok = resp.status in (200, 201, 303)
                if inside != ok or (not inside and resp.status != 404):
                    problems.append((username, target, pattern, resp.status, text[:200]))
                if not inside and COMMUNITY_NAMES[target].encode() in text:
                    problems.append((username, target, pattern, "leaked"))
                if method == "POST" and (await _tickets(world) - before) != (1 if inside else 0):
                    problems.append((username, target, pattern, "write effect wrong"))
                if ok and pattern.endswith("/pdf"):
                    assert text.startswith(b"%PDF")
                if ok and pattern.endswith("/xlsx"):
                    assert openpyxl.load_workbook(io.BytesIO(text)).sheetnames[0] == "概览"
    assert not problems


async def test_street_reports_need_the_whole_street(world):
    world.client.session.cookie_jar.clear()
    await world.login("yijing")
    resp = await world.client.get(f"/console/reports/view?scope=HX-YYL&month={MONTH}")
    assert resp.status == 404 and "平江社区" not in await resp.text()
    world.client.session.cookie_jar.clear()
    await world.login("youyilu")
    resp = await world.client.get(f"/console/reports/view?scope=HX-YYL&month={MONTH}")
    text = await resp.text()
    assert resp.status == 200 and "友谊路街道2026年10月工作月报" in text and "各社区排名" in text
    resp = await world.client.get("/console/reports/view?scope=HX-YYL&month=2026-13")
    assert resp.status == 400 and "月份" in await resp.text()
    resp = await world.client.get("/console/reports/view")  # no scope: the caller's own street, last month
    assert resp.status == 200 and "友谊路街道2026年10月工作月报" in await resp.text()


async def test_lists_and_exports_show_exactly_the_jurisdiction(world):
    async with world.services.db.transaction() as session:
        for code in ("HX-YYL", "HX-MJ", "NK-XF", "HX", "NK", "HX-YYL-YJ"):
            level = {"HX-YYL": "street", "HX-MJ": "street", "NK-XF": "street", "HX": "district",
                     "NK": "district"}.get(code, "community")
            from handlers.reports.scope import find
            place = await find(session, code)
            session.add(ReportIssue(level=level, node_id=place.id, code=code, name=place.name, month=MONTH,
                                    headline={"received": 0}, built_at=NOW, pushed=0))
    for short in CODES:
        await _order(world, short)
    expected_issues = {"yijing": {"HX-YYL-YJ"}, "youyilu": {"HX-YYL", "HX-YYL-YJ"},
                       "hexi": {"HX-YYL", "HX-MJ", "HX", "HX-YYL-YJ"},
                       "admin": {"HX-YYL", "HX-MJ", "NK-XF", "HX", "NK", "HX-YYL-YJ"}}
    problems = []
    for username in LEVELS:
        headers = world.bearer(username)
        issues = (await (await world.client.get("/api/v1/reports/issues", headers=headers)).json())["items"]
        if {i["code"] for i in issues} != expected_issues[username]:
            problems.append((username, "issues", {i["code"] for i in issues}))
        orders = (await (await world.client.get("/api/v1/hotline/orders", headers=headers)).json())["items"]
        if {o["number"].split("-")[1] for o in orders} != SEES[username]:
            problems.append((username, "orders", [o["number"] for o in orders]))
    assert not problems


async def test_hotline_import_matches_only_inside_and_export_only_inside(world):
    header = "工单编号,受理时间,问题地址,诉求内容\n"
    rows = "".join(f"A-{s},2026-11-19 09:00,{world.estate_name[s]}1号楼,楼道灯不亮\n" for s in ("YJ", "PJ"))
    data = (header + rows).encode("utf-8")
    resp = await world.client.post("/api/v1/hotline/imports?filename=a.csv", data=data,
                                   headers={**world.bearer("yijing"), "Content-Type": "text/csv"})
    body = await resp.json()
    assert resp.status == 200 and len(body["created"]) == 1 and [u["number"] for u in body["unplaced"]] == ["A-PJ"]
    resp = await world.client.post("/api/v1/hotline/imports?filename=a.csv", data=data,
                                   headers={**world.bearer("admin"), "Content-Type": "text/csv"})
    assert (await resp.json())["known"] == 2  # already imported: nothing changes
    bad = (header + "B-1,明天,谊景花园,x\n").encode("utf-8")
    resp = await world.client.post("/api/v1/hotline/imports?filename=b.csv", data=bad,
                                   headers={**world.bearer("hexi"), "Content-Type": "text/csv"})
    body = await resp.json()
    assert resp.status == 422 and body["problems"][0].startswith("第 2 行") and "受理时间" in body["problems"][0]
    big = b"x" * (world.services.settings.hotline_max_bytes + 10)
    resp = await world.client.post("/api/v1/hotline/imports?filename=c.csv", data=big,
                                   headers={**world.bearer("hexi"), "Content-Type": "text/csv"})
    assert resp.status == 413 and "过大" in (await resp.json())["message"]
    for username, count in (("youyilu", 0), ("yijing", 0), ("admin", 0)):
        resp = await world.client.post("/api/v1/hotline/export", headers=world.bearer(username))
        assert resp.status == 200 and len((await resp.json())["rows"]) == count  # nothing closed yet
    # the console upload: a bad file is shown with its lines, a good one is imported
    world.client.session.cookie_jar.clear()
    csrf = await world.login("youyilu")
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("file", bad, filename="b.csv", content_type="text/csv")
    resp = await world.client.post("/console/hotline/import", data=form)
    text = await resp.text()
    assert resp.status == 400 and "第 2 行" in text and "未导入任何工单" in text
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("file", (header + f"C-1,2026-11-19 09:00,{world.estate_name['PJ']},楼道灯不亮\n").encode(),
                   filename="c.csv", content_type="text/csv")
    resp = await world.client.post("/console/hotline/import", data=form)
    assert resp.status == 200 and "新建工单 1 件" in await resp.text()
    async with world.services.db.transaction() as session:
        placed = await session.scalar(select(Ticket.community_id).where(Ticket.description.like("%C-1%")))
        assert placed == world.community["PJ"]
        assert await session.scalar(select(Community.name).where(Community.id == placed)) == "平江社区"
