"""Console fixtures: an app with the console mounted, the demo organisation plus a second district, residents
in several communities, and helpers to log in (cookie + CSRF) and to call the API with a token."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from bot.app import build_services, create_app
from storage.models import Community, Estate, Resident, Staff
from storage.orgimport import apply_org_plan, parse_org_bytes
from storage.repositories import staff as staff_repo
from storage.repositories.org import load_demo
from tests.support import BASE, TEST_PASSWORD, fixed_clock, ready_staff

PASSWORD = TEST_PASSWORD  # every account's (tests.support.ready_staff)
LOCAL_WECHAT = "http://127.0.0.1:9"  # a loopback API address: tests are never production
_SEQ = itertools.count(1)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
EXTRA_ORG = """
districts:
  - code: NK
    name: 南开区
    streets:
      - code: NK-XF
        name: 学府街道
        communities:
          - code: NK-XF-XY
            name: 学苑社区
            estates:
              - {code: NK-XF-XY-01, name: 学苑里, households: 300}
staff:
  - {username: nankai, name: 南开区演示账号, level: district, node: NK}
  - {username: pingjiang, name: 平江社区账号, level: community, node: HX-YYL-PJ}
"""
COMMUNITY_NAMES = {"YJ": "谊景社区", "PJ": "平江社区", "LS": "蓝水社区", "FS": "芳水社区", "XY": "学苑社区"}
CODES = {"YJ": "HX-YYL-YJ", "PJ": "HX-YYL-PJ", "LS": "HX-MJ-LS", "FS": "HX-MJ-FS", "XY": "NK-XF-XY"}
# which communities each demo account may see
SEES = {"yijing": {"YJ"}, "youyilu": {"YJ", "PJ"}, "hexi": {"YJ", "PJ", "LS", "FS"},
        "admin": {"YJ", "PJ", "LS", "FS", "XY"}}


@dataclass
class World:
    client: object
    services: object
    community: dict[str, int] = field(default_factory=dict)  # short name → id
    resident: dict[str, int] = field(default_factory=dict)  # short name → resident id
    ref: dict[str, str] = field(default_factory=dict)  # short name → resident ref
    staff: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    clock: object = None

    async def login(self, username: str, password: str = PASSWORD, client=None) -> str:
        """Log in; returns the CSRF token of the session."""
        client = client or self.client
        page = await client.get("/console/login")
        nonce = csrf_in(await page.text())
        resp = await client.post("/console/login", data={"username": username, "password": password,
                                                         "_csrf": nonce}, allow_redirects=False)
        assert resp.status == 303, (resp.status, await resp.text())
        home = await client.get("/console/")
        assert home.status == 200
        return csrf_in(await home.text())

    async def logout(self, csrf: str) -> None:
        await self.client.post("/console/logout", data={"_csrf": csrf}, allow_redirects=False)
        self.client.session.cookie_jar.clear()

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def add_resident(self, short: str, **kw) -> Resident:
        async with self.services.db.transaction() as session:
            cid = self.community[short] if short else None
            estate = None
            if cid:
                from sqlalchemy import select
                estate = (await session.execute(select(Estate.id).where(Estate.community_id == cid))).scalar()
            n = next(_SEQ)
            row = Resident(openid=f"o_test_{short or 'none'}_{n}", community_id=cid, estate_id=estate,
                           building="3" if cid else None, room=f"{101 + n}" if cid else None,
                           bound_at=NOW - timedelta(days=2) if cid else None, followed_at=NOW - timedelta(days=3),
                           last_message_at=NOW - timedelta(days=1), **kw)
            session.add(row)
            await session.flush()
            return row


def csrf_in(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


async def build_world(aiohttp_client, db_url: str, plugins=None, environ=None, **settings_changes) -> World:
    clock = fixed_clock(NOW)
    settings = BASE.with_(**{"database_url": db_url, "wechat_api_base": LOCAL_WECHAT, **settings_changes}).with_env(
        environ or {})
    services = build_services(settings, clock=clock, load_knowledge=False)
    async with services.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
        await ready_staff(session)
    app = create_app(settings, services=services, routers=[], plugins=plugins)
    client = await aiohttp_client(app)
    world = World(client, services, clock=clock)
    from sqlalchemy import select
    async with services.db.transaction() as session:
        for short, code in CODES.items():
            world.community[short] = (await session.execute(select(Community.id).where(Community.code == code))
                                      ).scalar_one()
        for staff in (await session.execute(select(Staff))).scalars():
            world.staff[staff.username] = staff.id
            _, world.tokens[staff.username] = await staff_repo.create_api_token(session, staff.id, "test", NOW)
    for short in CODES:
        row = await world.add_resident(short)
        world.resident[short], world.ref[short] = row.id, row.ref
    unbound = await world.add_resident("")
    world.resident["none"], world.ref["none"] = unbound.id, unbound.ref
    return world


@pytest.fixture
async def world(aiohttp_client, db_url) -> World:
    return await build_world(aiohttp_client, db_url)
