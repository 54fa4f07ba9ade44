"""Addresses from residents or the outside become links only when they are http(s): a `javascript:` photo URL is
text, not an `href`; every template's dynamic `href`/`src` goes through the one filter (`|http_url`) unless it
is one of our own paths."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers import tickets
from handlers.common.links import http_url
from handlers.tickets import service
from storage.models import Resident
from tests.console.conftest import build_world

ROOT = Path(__file__).resolve().parents[2]
# dynamic link targets that are our own paths, never a resident's or the outside's text
OURS = {"item.path", "page_url(page.number - 1)", "page_url(page.number + 1)", "css_href"}
DYNAMIC = re.compile(r"""(?<![\w-])(?:href|src|action)\s*=\s*["']\{\{\s*(?P<expr>[^}]+?)\s*\}\}""")  # not data-action
SET_FILTERED = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*[^%]*\|\s*http_url\s*-?%\}")


@pytest.mark.parametrize("value,expected", [
    ("https://mmbiz.qpic.cn/x.jpg", "https://mmbiz.qpic.cn/x.jpg"),
    ("http://pic.example/1.jpg", "http://pic.example/1.jpg"),
    (" HTTPS://Example.cn/a ", "HTTPS://Example.cn/a"),
    ("javascript:alert(document.cookie)", None),
    ("JavaScript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("\x00javascript:alert(1)", None),
    ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", None),
    ("vbscript:msgbox(1)", None),
    ("//evil.example/x", None),
    ("/console/staff", None),
    ("http://", None),
    ("ftp://example.cn/x", None),
    ("", None),
    (None, None),
    (42, None),
    ("https://example.cn/" + "a" * 3000, None),
])
def test_only_http_urls_pass(value, expected):
    assert http_url(value) == expected


def test_every_dynamic_link_in_every_template_goes_through_the_filter():
    problems = []
    for template in sorted(ROOT.glob("handlers/**/templates/**/*.html")):
        text = template.read_text(encoding="utf-8")
        filtered = set(SET_FILTERED.findall(text))
        for match in DYNAMIC.finditer(text):
            expr = match.group("expr")
            ours = expr in OURS or expr.startswith(("'/", '"/'))  # a literal path of ours, e.g. '/console/...' % id
            if "|http_url" in expr.replace(" ", "") or expr in filtered or ours:
                continue
            problems.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
    assert not problems, "a link target that is neither |http_url nor one of our own paths:\n" + "\n".join(problems)


async def test_a_javascript_photo_url_is_not_a_link(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url, plugins=[tickets.console])
    photos = [{"media_id": "m1", "pic_url": "javascript:alert(document.cookie)"},
              {"media_id": "m2", "pic_url": "data:text/html,<script>alert(1)</script>"},
              {"media_id": "m3", "pic_url": "https://mmbiz.qpic.cn/ok.jpg"}]
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident["YJ"])
        ticket = await service.file_ticket(session, world.services, resident,
                                           service.Filing("repair", "楼道灯坏了", photos=photos), world.clock())
    await world.login("yijing")
    page = await (await world.client.get(f"/console/tickets/{ticket.id}")).text()
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert "https://mmbiz.qpic.cn/ok.jpg" in hrefs
    assert not [h for h in hrefs if h.lower().startswith(("javascript", "data", "vbscript"))]
    assert "照片 1（链接无效，未显示）" in page and "照片 2（链接无效，未显示）" in page
    async with world.services.db.transaction() as session:  # stored as the resident sent it; only display changes
        assert (await session.execute(select(Resident.id).where(Resident.id == world.resident["YJ"]))).scalar()
