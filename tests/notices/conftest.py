"""Fixtures for notices and meetings: the demo organisation plus a second district, residents in several estates,
staff actors, and a helper that expands a broadcast into its delivery rows (who would be reached, who skipped)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.context import Services
from handlers.console.authz import load_scope
from handlers.notices.service import Actor
from storage.db import Database
from storage.delivery_models import Delivery
from storage.models import Community, Estate, Resident, ResidentRole, Staff, Street
from storage.orgimport import apply_org_plan, parse_org_bytes
from storage.repositories import deliveries
from storage.repositories.org import load_demo
from tests.console.conftest import EXTRA_ORG
from tests.support import fixed_clock, ready_staff

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)  # 10:00 in Tianjin
BASE_URL = "https://linli.example.cn"
_SEQ = itertools.count(1)


@dataclass
class NWorld:
    services: Services
    clock: object
    community: dict[str, int] = field(default_factory=dict)  # code → id
    estate: dict[str, int] = field(default_factory=dict)
    street: dict[str, int] = field(default_factory=dict)
    district: dict[str, int] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.services.db

    async def resident(self, estate_code: str, role: str = "owner", openid: str | None = None) -> int:
        async with self.db.transaction() as session:
            estate = await session.scalar(select(Estate).where(Estate.code == estate_code))
            row = Resident(openid=openid or f"o_n_{next(_SEQ)}", community_id=estate.community_id,
                           estate_id=estate.id, role=ResidentRole(role), subscribed=True, bound_at=NOW)
            session.add(row)
            await session.flush()
            return row.id

    async def actor(self, username: str) -> Actor:
        async with self.db.transaction() as session:
            staff = await session.scalar(select(Staff).where(Staff.username == username))
            scope = await load_scope(session, staff)
        return Actor(f"staff:{username}", staff.level, staff.id, scope.community_ids)

    async def reached(self, broadcast_id: int) -> dict[int, tuple[str, str | None]]:
        """Expand the broadcast fully; resident id → (status, reason) of their delivery row."""
        while True:
            async with self.db.transaction() as session:
                if not await deliveries.expand_step(session, broadcast_id, 1000):
                    break
        async with self.db.transaction() as session:
            rows = await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id))
            return {d.resident_id: (d.status, d.reason) for d in rows}

    async def queued(self, broadcast_id: int) -> set[int]:
        return {r for r, (status, _) in (await self.reached(broadcast_id)).items() if status == "queued"}


async def build(db_url: str) -> NWorld:
    from bot.settings import Settings

    clock = fixed_clock(NOW)
    settings = Settings(database_url=db_url, public_url=BASE_URL)
    services = Services(settings=settings, db=Database(db_url), clock=clock)
    async with services.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
    world = NWorld(services, clock)
    async with services.db.transaction() as session:
        world.community = {c.code: c.id for c in await session.scalars(select(Community))}
        world.estate = {e.code: e.id for e in await session.scalars(select(Estate))}
        world.street = {s.code: s.id for s in await session.scalars(select(Street))}
        from storage.models import District
        world.district = {d.code: d.id for d in await session.scalars(select(District))}
    return world


@pytest.fixture
async def nworld(db_url):
    world = await build(db_url)
    yield world
    await world.db.dispose()


@pytest.fixture
async def cworld(aiohttp_client, db_url):
    """The console world of tests/console (demo org + Nankai, residents, tokens) with this feature's plugin and
    public page mounted."""
    from bot.app import build_services, create_app
    from handlers import notices
    from storage.repositories import staff as staff_repo
    from tests.console.conftest import CODES, World
    from tests.console.conftest import NOW as CNOW
    from tests.support import BASE

    clock = fixed_clock(CNOW)
    settings = BASE.with_(database_url=db_url, public_url="http://linli.example.cn")  # http: cookies not Secure
    services = build_services(settings, clock=clock, load_knowledge=False)
    async with services.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
        await ready_staff(session)
    app = create_app(settings, services=services, routers=[], plugins=[notices.console])
    notices.setup_routes(app, services)
    world = World(await aiohttp_client(app), services, clock=clock)
    async with services.db.transaction() as session:
        for short, code in CODES.items():
            world.community[short] = await session.scalar(select(Community.id).where(Community.code == code))
        for staff in await session.scalars(select(Staff)):
            world.staff[staff.username] = staff.id
            _, world.tokens[staff.username] = await staff_repo.create_api_token(session, staff.id, "test", CNOW)
    for short in CODES:
        row = await world.add_resident(short)
        world.resident[short], world.ref[short] = row.id, row.ref
    return world
