"""The public page of a notice, `/n/<public_id>[?v=<version>]`, for WeChat's built-in browser on a phone.

One small HTML document: no scripts, no external assets, the style inline (allowed by its hash in the CSP). Ids
are 128-bit random tokens, so a link tells nothing about other notices. Drafts and scheduled notices answer 404
until published; a withdrawn notice answers 410 with the reason and without its content. Every version stays
readable (`?v=1`), with the version history at the bottom.

Fast path: the notice's head (id, state, version, updated_at) is read in a read-only session (`Database.reading()`,
no write lock on SQLite) and kept per process for `LINLI_NOTICE_PAGE_TTL` seconds (default 10; a correction or
withdrawal shows within that time, well inside the minute `Cache-Control` already allows browsers); the rendered
page is cached per (notice, version, updated_at), and the ETag lets a re-visit answer 304. `Cache-Control`:
public for city-wide notices, private otherwise.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections import OrderedDict
from pathlib import Path

import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from bot.context import Services
from bot.localtime import chinese_text
from handlers.common import links
from handlers.notices import rules
from storage.notice_models import Notice
from storage.repositories import notices as repo

PUBLIC_SERVICES = web.AppKey("notices.public.services", Services)
PUBLIC_CACHE = web.AppKey("notices.public.cache", object)
_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_VERSION = re.compile(r"[0-9]{1,6}")
CSS = (
    "body{margin:0;background:#f6f7f9;color:#1f2328;font:16px/1.7 -apple-system,'PingFang SC','Microsoft YaHei',"
    "sans-serif}main{max-width:720px;margin:0 auto;padding:16px;background:#fff;min-height:100vh}"
    "h1{font-size:1.35em;line-height:1.4;margin:.2em 0 .4em}h2{font-size:1.1em}h3,h4{font-size:1em}"
    ".tag{color:#0b6e4f;font-size:.85em;margin:0}.meta{color:#59636e;font-size:.85em}"
    ".banner{background:#eef6ff;border-left:4px solid #2f6fdf;padding:8px 12px;margin:12px 0}"
    ".warn{background:#fff5e6;border-color:#d97a00}.wrap{overflow-x:auto}"
    "table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #d0d7de;padding:6px 8px;"
    "text-align:left;white-space:nowrap}th{background:#f2f4f7}.num{text-align:right;font-variant-numeric:"
    "tabular-nums}tfoot td{font-weight:600;background:#fafbfc}blockquote{margin:0;padding-left:12px;"
    "border-left:3px solid #d0d7de;color:#59636e}a{color:#2f6fdf}code{background:#f2f4f7;padding:0 4px}"
    ".history{font-size:.85em;color:#59636e}footer{margin-top:32px;font-size:.8em;color:#8c959f}"
)
CSP = ("default-src 'none'; style-src 'sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
       + "'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
links.register(_ENV)
MISSING = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
           'content="width=device-width, initial-scale=1"><title>{0}</title></head><body><p>{0}</p></body></html>')


_local = chinese_text


def _table_view(raw: dict) -> dict:
    table = rules.table_from(raw)
    sums = rules.totals(table)
    money = table.money
    rows = [[rules.format_amount(rules.parse_amount(c)) if money[j] and c else c for j, c in enumerate(r)]
            for r in table.rows]
    shown = ["合计" if j == 0 and s is None else (rules.format_amount(s) if s is not None else "")
             for j, s in enumerate(sums)]
    return {"title": table.title, "columns": table.columns, "money": money, "rows": rows, "totals": shown,
            "has_totals": any(s is not None for s in sums)}


def render_page(notice: Notice, number: int, scope: str) -> str:
    """The page of version `number` (pure: no database)."""
    versions = sorted(notice.versions, key=lambda v: v.version)
    version = next(v for v in versions if v.version == number)
    return _ENV.get_template("notices/public.html").render(
        css=Markup(CSS), title=version.title, category=rules.CATEGORIES.get(notice.category, notice.category),
        publisher=notice.publisher, published=_local(notice.published_at), this_version=_local(version.published_at),
        scope=scope, city_wide=notice.scope_level == "all", version=version, latest=notice.version,
        old=number != notice.version, body=Markup(rules.render_markdown(version.body)),
        tables=[_table_view(t) for t in version.tables or []], withdrawn=notice.state == "withdrawn",
        withdrawn_at=_local(notice.withdrawn_at), reason=notice.withdraw_reason,
        versions=[{"number": v.version, "when": _local(v.published_at), "note": v.note} for v in versions
                  if v.published_at is not None])


def _missing(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=MISSING.format(text), content_type="text/html", charset="utf-8",
                        headers=_headers(private=True, max_age=30))


def _headers(*, private: bool, max_age: int = 60) -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": f"{'private' if private else 'public'}, max-age={max_age}",
            **({"X-Robots-Tag": "noindex, nofollow"} if private else {})}


_UNKNOWN = object()


class PageCache:
    """Per-process caches: each notice's head (id, state, version, updated_at, …) for `ttl` seconds, so a page
    read a thousand times after a push costs one query per `ttl`; and rendered pages per ETag (LRU)."""

    def __init__(self, ttl: float, pages: int = 512, heads: int = 4096):
        self.ttl, self.page_limit, self.head_limit = ttl, pages, heads
        self.heads: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self.pages: OrderedDict[str, str] = OrderedDict()

    def head(self, public_id: str, now: float):
        found = self.heads.get(public_id)
        return found[1] if found is not None and found[0] > now else _UNKNOWN

    def keep_head(self, public_id: str, head, now: float) -> None:
        if self.ttl > 0:
            self.heads[public_id] = (now + self.ttl, head)
            self.heads.move_to_end(public_id)
            if len(self.heads) > self.head_limit:
                self.heads.popitem(last=False)

    def keep_page(self, etag: str, html: str) -> None:
        self.pages[etag] = html
        if len(self.pages) > self.page_limit:
            self.pages.popitem(last=False)


async def _head(services: Services, public_id: str):
    """The notice's head if it was ever published, else None."""
    async with services.db.reading() as session:
        head = (await session.execute(select(Notice.id, Notice.state, Notice.version, Notice.updated_at,
                                             Notice.scope_level, Notice.published_at)
                                      .where(Notice.public_id == public_id))).first()
    if head is None or head.published_at is None or head.state not in rules.LIVE + ("withdrawn",):
        return None
    return tuple(head)


async def _render(services: Services, public_id: str, number: int) -> str:
    async with services.db.reading() as session:
        notice = await repo.by_public_id(session, public_id)
        scope = "、".join(await repo.scope_names(session, notice.scope_level, list(notice.scope_ids)))
        return render_page(notice, number, scope if notice.scope_level != "all" else "全市")


async def notice_page(request: web.Request) -> web.Response:
    public_id = request.match_info["public_id"]
    if not _ID.match(public_id):
        return _missing(404, "公示不存在或尚未发布。")
    raw_v = request.query.get("v", "")
    if raw_v and not _VERSION.fullmatch(raw_v):  # ASCII digits only ("²".isdigit() is true, int("²") fails)
        return _missing(404, "没有这个版本。")
    services, cache = request.app[PUBLIC_SERVICES], request.app[PUBLIC_CACHE]
    now = asyncio.get_running_loop().time()
    head = cache.head(public_id, now)
    if head is _UNKNOWN:
        head = await _head(services, public_id)
        cache.keep_head(public_id, head, now)
    if head is None:
        return _missing(404, "公示不存在或尚未发布。")
    notice_id, state, current, updated_at, scope_level, _published = head
    number = int(raw_v) if raw_v and state != "withdrawn" else current
    if not 1 <= number <= current:
        return _missing(404, "没有这个版本。")
    etag = f'W/"{notice_id}-{number}-{state}-{int(updated_at.timestamp() * 1000)}"'
    headers = {**_headers(private=scope_level != "all"), "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    html = cache.pages.get(etag)
    if html is None:
        html = await _render(services, public_id, number)
        cache.keep_page(etag, html)
    return web.Response(status=410 if state == "withdrawn" else 200, text=html, content_type="text/html",
                        charset="utf-8", headers=headers)


def setup_routes(app: web.Application, services: Services) -> None:
    """Mount `/n/{public_id}` on the linli app."""
    app[PUBLIC_SERVICES] = services
    app[PUBLIC_CACHE] = PageCache(services.settings.notice_page_ttl)
    app.router.add_get("/n/{public_id}", notice_page)
