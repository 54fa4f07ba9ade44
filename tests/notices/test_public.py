"""The public page /n/<id>: the HTML (body, tables with totals, publisher, date, versions), no scripts or external
assets, 404 before publication, 410 after withdrawal, old versions readable, ETag revalidation, cache headers."""
from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from bot.app import create_app
from handlers.notices import service, setup_routes
from handlers.notices.public import PUBLIC_CACHE
from tests.notices.conftest import BASE_URL, NOW
from tests.notices.test_service import FINANCE, approve, draft


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())

    @property
    def plain(self) -> str:
        return " ".join(self.text)


async def _client(nworld, aiohttp_client, ttl: str):
    settings = nworld.services.settings
    nworld.services.settings = settings.with_env({"LINLI_NOTICE_PAGE_TTL": ttl})
    app = create_app(nworld.services.settings, services=nworld.services, routers=[], plugins=[])
    setup_routes(app, nworld.services)
    return await aiohttp_client(app)


@pytest.fixture
async def client(nworld, aiohttp_client):
    return await _client(nworld, aiohttp_client, "0")  # every request reads the database: changes show at once


async def _public_id(nworld, notice_id) -> str:
    async with nworld.db.transaction() as session:
        return (await service.load(session, notice_id)).public_id


async def test_published_page_shows_body_tables_totals_publisher_and_date(nworld, client):
    body = "## 2026年10月收支\n请业主查阅。<script>alert(1)</script>\n- 公示期 7 天"
    notice = await draft(nworld, body=body, tables=[dict(FINANCE, title="收支明细")])
    pid = await _public_id(nworld, notice)
    assert (await client.get(f"/n/{pid}")).status == 404  # a draft is not public
    await approve(nworld, notice)
    resp = await client.get(f"/n/{pid}")
    html = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    page = Page(html)
    tags = {t for t, _ in page.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = page.plain
    assert "10月物业费收支公示" in text and "收支公示" in text and "谊景社区居民委员会" in text
    assert "2026年11月10日 10:00" in text  # local time of publication
    assert "收支明细" in text and "12,000.00" in text and "8,000.50" in text and "合计" in text
    tfoot = html[html.index("<tfoot>"):html.index("</tfoot>")]
    assert "12,000.00" in tfoot and "8,000.50" in tfoot
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert resp.headers["Cache-Control"] == "private, max-age=60"  # not city-wide: not for shared caches
    assert resp.headers["Referrer-Policy"] == "no-referrer" and "noindex" in resp.headers["X-Robots-Tag"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", pid)  # 128 random bits


async def test_style_hash_matches_the_inline_style(nworld, client):
    import base64
    import hashlib

    notice = await draft(nworld)
    await approve(nworld, notice)
    resp = await client.get(f"/n/{await _public_id(nworld, notice)}")
    html = await resp.text()
    style = html[html.index("<style>") + 7:html.index("</style>")]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in resp.headers["Content-Security-Policy"]


async def test_versions_stay_readable_and_etag_revalidates(nworld, client):
    notice = await draft(nworld, tables=[FINANCE])
    await approve(nworld, notice)
    pid = await _public_id(nworld, notice)
    first = await client.get(f"/n/{pid}")
    etag = first.headers["ETag"]
    again = await client.get(f"/n/{pid}", headers={"If-None-Match": etag})
    assert again.status == 304
    actor = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        n = await service.load(session, notice, actor)
        await service.correct(session, actor, n, title="10月物业费收支公示", body="更正后的说明。",
                              tables=[dict(FINANCE, rows=[["物业费", "12000", ""], ["电梯维修", "", "800"]])],
                              note="电梯维修支出更正为 800 元", now=NOW + timedelta(hours=2), base_url=BASE_URL)
    waiting = Page(await (await client.get(f"/n/{pid}")).text()).plain
    assert "8,000.50" in waiting and "第2版" not in waiting  # a correction nobody approved yet is not public
    assert (await client.get(f"/n/{pid}?v=2")).status == 404
    second = await nworld.actor("hexi")
    async with nworld.db.transaction() as session:
        await service.approve_correction(session, second, await service.load(session, notice, second),
                                         now=NOW + timedelta(hours=3), base_url=BASE_URL)
    changed = await client.get(f"/n/{pid}", headers={"If-None-Match": etag})
    text = Page(await changed.text()).plain
    assert changed.status == 200 and "800.00" in text and "第2版" in text and "版本记录" in text
    assert "更正说明：电梯维修支出更正为 800 元" in text
    old = Page(await (await client.get(f"/n/{pid}?v=1")).text()).plain
    assert "8,000.50" in old and "已被更正" in old and "查看最新版" in old
    assert (await client.get(f"/n/{pid}?v=3")).status == 404
    assert (await client.get(f"/n/{pid}?v=abc")).status == 404
    assert (await client.get(f"/n/{pid}?v=²")).status == 404  # "²".isdigit() is true; int("²") is not


async def test_withdrawn_page_says_why_and_hides_the_content(nworld, client):
    notice = await draft(nworld, body="涉及个人信息的明细")
    await approve(nworld, notice)
    actor = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        await service.withdraw(session, actor, await service.load(session, notice, actor), reason="含个人信息",
                               now=NOW)
    resp = await client.get(f"/n/{await _public_id(nworld, notice)}")
    text = Page(await resp.text()).plain
    assert resp.status == 410 and "已于" in text and "撤回" in text and "含个人信息" in text
    assert "涉及个人信息的明细" not in text


async def test_unknown_and_malformed_ids(client):
    for path in ("/n/AAAAAAAAAAAAAAAAAAAAAA", "/n/short", "/n/../../etc", "/n/" + "x" * 40):
        resp = await client.get(path)
        assert resp.status == 404, path
        assert "script" not in await resp.text()


async def test_city_wide_notice_may_be_cached_publicly(nworld, client):
    actor = await nworld.actor("admin")
    async with nworld.db.transaction() as session:
        notice = await service.create_draft(session, actor, category="general", title="全市停水通知",
                                            body="明日停水。", scope_level="all", scope_ids=[], now=NOW)
        nid = notice.id
    await approve(nworld, nid, "admin", four=False)
    resp = await client.get(f"/n/{await _public_id(nworld, nid)}")
    assert resp.headers["Cache-Control"] == "public, max-age=60" and "X-Robots-Tag" not in resp.headers
    assert "全市" in Page(await resp.text()).plain


async def test_a_scheduled_notice_withdrawn_before_its_time_was_never_public(nworld, client):
    notice = await draft(nworld)
    await approve(nworld, notice, publish_at=NOW + timedelta(days=1))
    pid = await _public_id(nworld, notice)
    assert (await client.get(f"/n/{pid}")).status == 404
    actor = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        await service.withdraw(session, actor, await service.load(session, notice, actor), reason="取消", now=NOW)
    assert (await client.get(f"/n/{pid}")).status == 404


async def test_heads_are_cached_for_the_configured_seconds(nworld, aiohttp_client):
    cached = await _client(nworld, aiohttp_client, "60")
    notice = await draft(nworld)
    pid = await _public_id(nworld, notice)
    assert (await cached.get(f"/n/{pid}")).status == 404  # "not public" is cached too …
    await approve(nworld, notice)
    assert (await cached.get(f"/n/{pid}")).status == 404  # … for up to 60 s in this process
    cached.server.app[PUBLIC_CACHE].heads.clear()
    assert (await cached.get(f"/n/{pid}")).status == 200
    await nworld.db.dispose()  # from here on the database is not even reachable: the head comes from memory
    nworld.services.db.read_sessions = None
    assert (await cached.get(f"/n/{pid}")).status == 200


def test_page_ttl_setting_is_checked():
    from bot.settings import Settings, SettingsError

    assert Settings().notice_page_ttl == 10.0 and Settings().with_env({"LINLI_NOTICE_PAGE_TTL": "0"}).notice_page_ttl == 0
    for bad in ("-1", "abc", "301", "nan"):
        with pytest.raises(SettingsError, match="LINLI_NOTICE_PAGE_TTL"):
            Settings().with_env({"LINLI_NOTICE_PAGE_TTL": bad})
