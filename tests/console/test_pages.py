"""Console pages as admins and staff use them: accounts, tokens shown once, org import with line-numbered
errors, dashboard panels (including a feature's registered panel), escaping, audit log."""
from __future__ import annotations

import aiohttp
from sqlalchemy import select

from bot.app import build_services, create_app
from handlers.console.authz import restrict
from storage.console_models import AuditEntry
from storage.models import Resident, Staff
from tests.console.conftest import build_world


async def test_admin_creates_an_account_that_can_log_in(world):
    csrf = await world.login("admin")
    resp = await world.client.post("/console/staff", data={
        "_csrf": csrf, "username": "fangshui", "display_name": "<b>芳水</b>社区", "level": "community",
        "node": "HX-MJ-FS", "password": "Fangshui-Shequ-7"}, allow_redirects=False)
    assert resp.status == 303
    page = await (await world.client.get(resp.headers["Location"])).text()
    assert "已创建账号 fangshui" in page and "&lt;b&gt;芳水&lt;/b&gt;社区" in page and "<b>芳水</b>" not in page
    async with world.services.db.transaction() as session:
        made = (await session.execute(select(Staff).where(Staff.username == "fangshui"))).scalar_one()
        assert (made.community_id, made.street_id, made.district_id) != (None, None, None)
        assert made.password_hash.startswith("scrypt$")
    world.client.session.cookie_jar.clear()
    await world.login("fangshui", "Fangshui-Shequ-7")
    body = await (await world.client.get("/console/")).text()
    assert "芳水社区" in body and "谊景社区" not in body


async def test_admin_creates_a_partner_organisations_account(world):
    """账号管理 also creates a partner organisation's account (issue 18): no level, no jurisdiction."""
    csrf = await world.login("admin")
    bad = await world.client.post("/console/staff", data={
        "_csrf": csrf, "username": "wyja", "display_name": "津安物业客服", "level": "", "node": "",
        "partner": "WY-NOPE", "password": "Jinan-Wuye-2026x"})
    assert bad.status == 400 and "承办单位编码有误" in await bad.text()
    resp = await world.client.post("/console/staff", data={
        "_csrf": csrf, "username": "wyja", "display_name": "津安物业客服", "level": "", "node": "",
        "partner": "WY-JA", "password": "Jinan-Wuye-2026x"}, allow_redirects=False)
    assert resp.status == 303
    async with world.services.db.transaction() as session:
        made = (await session.execute(select(Staff).where(Staff.username == "wyja"))).scalar_one()
        assert made.partner.startswith("property:") and made.community_id is None
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "staff.create")
                                       .order_by(AuditEntry.id.desc()))).scalars().first()
        assert entry.target.startswith("wyja（承办单位 property:")
    listing = await (await world.client.get("/console/staff")).text()
    row = listing.split(">wyja</a>")[1].split("</tr>")[0]
    assert "承办单位" in row and "物业" in row
    world.client.session.cookie_jar.clear()
    await world.login("wyja", "Jinan-Wuye-2026x")
    home = await world.client.get("/console/", allow_redirects=False)
    assert home.headers["Location"] == "/console/partner/tickets"
    # the API creates one the same way, and says which organisation it is
    api = await world.client.post("/api/v1/staff", headers=world.bearer("admin"), json={
        "username": "cgw", "display_name": "城管委", "partner": "dept:河西区城管委", "password": "Chengguan-Wei-2026"})
    assert api.status == 201 and (await api.json())["partner"] == "dept:河西区城管委"


async def test_account_form_shows_errors_next_to_fields(world):
    csrf = await world.login("admin")
    resp = await world.client.post("/console/staff", data={
        "_csrf": csrf, "username": "bad name", "display_name": "", "level": "street", "node": "", "password": "x"})
    body = await resp.text()
    assert resp.status == 400 and "field-error" in body and "请选择所属街道" in body and "密码至少 12 位" in body


async def test_token_is_shown_once_and_works(world):
    csrf = await world.login("admin")
    resp = await world.client.post(f"/console/staff/{world.staff['youyilu']}/tokens",
                                   data={"_csrf": csrf, "label": "数据对接"})
    token = (await resp.text()).split('id="new-token">')[1].split("<")[0]
    assert token.startswith("linli_")
    again = await (await world.client.get(f"/console/staff/{world.staff['youyilu']}")).text()
    assert token not in again and token[:12] in again
    me = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert (await me.json())["username"] == "youyilu"


async def test_deactivate_and_reset_password_end_sessions(world, aiohttp_client):
    other = await aiohttp_client(world.client.server)
    await world.login("hexi", client=other)
    assert (await other.get("/console/", allow_redirects=False)).status == 200
    csrf = await world.login("admin")
    await world.client.post(f"/console/staff/{world.staff['hexi']}/password", data={"_csrf": csrf,
                                                                                     "password": "Hexi-new-pass-99"})
    assert (await other.get("/console/", allow_redirects=False)).status == 303
    await world.login("hexi", "Hexi-new-pass-99", client=other)
    await world.client.post(f"/console/staff/{world.staff['hexi']}/deactivate", data={"_csrf": csrf})
    assert (await other.get("/console/", allow_redirects=False)).status == 303
    own = await world.client.post(f"/console/staff/{world.staff['admin']}/deactivate", data={"_csrf": csrf})
    assert "不能停用自己的账号" in await own.text()


async def test_org_import_shows_line_numbered_problems_and_imports_good_files(world):
    csrf = await world.login("admin")
    bad = "district_code,district,street_code,street,community_code,community,households\nHX,河西区,HX-YYL,友谊路街道,,谊景社区,x\n"
    form = aiohttp.FormData({"_csrf": csrf})
    form.add_field("file", bad.encode(), filename="org.csv", content_type="text/csv")
    resp = await world.client.post("/console/org/import", data=form)
    body = await resp.text()
    assert resp.status == 400 and "第2行" in body and "未导入任何数据" in body
    good = "districts:\n  - code: HX\n    name: 河西区\n    streets:\n      - code: HX-NEW\n        name: 新街道\n"
    form = aiohttp.FormData({"_csrf": csrf})
    form.add_field("file", good.encode(), filename="org.yaml", content_type="application/yaml")
    resp = await world.client.post("/console/org/import", data=form)
    assert resp.status == 200 and "导入完成" in await resp.text()
    async with world.services.db.transaction() as session:
        actions = [e.action for e in (await session.execute(select(AuditEntry))).scalars()]
    assert "org.import.failed" in actions and "org.import" in actions


async def test_audit_log_records_who_what_when_where(world):
    csrf = await world.login("youyilu")
    await world.client.post(f"/console/residents/{world.resident['PJ']}/unbind", data={"_csrf": csrf})
    world.client.session.cookie_jar.clear()
    await world.login("admin")
    body = await (await world.client.get("/console/audit?username=youyilu")).text()
    assert "解除居民绑定" in body and "127.0.0.1" in body and "2026-11-20" in body
    dash = await (await world.client.get("/console/")).text()
    assert "解除居民绑定" in dash  # recent activity panel


async def test_registered_feature_panel_nav_and_page(aiohttp_client, sqlite_url):
    from sqlalchemy import func

    from handlers.console.guard import current, require_staff
    from handlers.console.render import render

    def plugin(registry):
        registry.nav("通知", "/console/notices", order=10)

        @registry.panel("tickets", "待办工单", order=10)
        async def tickets(session, user):
            count = (await session.execute(restrict(select(func.count(Resident.id)), user.scope,
                                                    Resident.community_id))).scalar()
            return f"<p>可见居民 {count} 人</p>"

        @registry.panel("broken", "坏面板", order=11)
        async def broken(session, user):
            raise RuntimeError("boom")

        @require_staff()
        async def notices(request):
            return render(request, "error.html", title="通知", message=f"{current(request).staff.username} 的通知")

        registry.page("GET", "/notices", notices)

    world = await build_world(aiohttp_client, sqlite_url)
    settings = world.services.settings
    services = build_services(settings, clock=world.clock, load_knowledge=False)
    app = create_app(settings, services=services, routers=[], plugins=[plugin])
    client = await aiohttp_client(app)
    await world.login("youyilu", client=client)
    body = await (await client.get("/console/")).text()
    assert "待办工单" in body and "可见居民 2 人" in body and "该面板暂时无法显示" in body
    assert body.index("待办工单") < body.index("居民概况") and 'href="/console/notices"' in body
    assert "youyilu 的通知" in await (await client.get("/console/notices")).text()


def test_unguarded_routes_are_refused_at_setup():
    import pytest

    from bot.settings import Settings

    def plugin(registry):
        async def naked(request):
            return None

        registry.page("GET", "/naked", naked)

    settings = Settings(database_url="sqlite+aiosqlite:///:memory:")
    with pytest.raises(RuntimeError, match="lacks @require_staff"):
        create_app(settings, services=build_services(settings, load_knowledge=False), routers=[], plugins=[plugin])


async def test_residents_page_filters_and_paginates(world):
    for _ in range(55):
        await world.add_resident("YJ")
    await world.login("yijing")
    body = await (await world.client.get("/console/residents")).text()
    assert "共 56 条" in body and "下一页" in body
    body = await (await world.client.get("/console/residents?page=2")).text()
    assert "第 2/2 页" in body
    body = await (await world.client.get("/console/residents?status=inactive")).text()
    assert "共 0 条" in body


async def test_pages_read_without_the_write_lock_but_keep_what_they_record(world):
    """GET pages run in a read-only transaction; an audit entry a page records (a resident search) is still
    stored, in its own short transaction, and the session's last-seen touch is never lost either."""
    await world.login("yijing")
    resp = await world.client.get("/console/residents?q=1380")
    assert resp.status == 200
    async with world.services.db.reading() as session:
        searches = (await session.execute(select(AuditEntry.target).where(
            AuditEntry.action == "resident.search"))).scalars().all()
    assert searches == ["1380"]
