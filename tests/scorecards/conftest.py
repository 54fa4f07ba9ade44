"""Scorecard fixtures: services on a migrated database with the demo organisation (and the console tests' second
district) plus the known data set of `dataset.py`, a fixed clock, and a console world with the plugin mounted."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import build_services, create_app
from handlers import common, scorecards
from storage.models import Community, Staff
from storage.orgimport import apply_org_plan, parse_org_bytes
from storage.repositories import staff as staff_repo
from storage.repositories.org import load_demo
from tests.scorecards import dataset
from tests.support import BASE, fixed_clock, ready_staff

NOW = dataset.NOW


@pytest.fixture
async def services(db_url):
    from tests.console.conftest import EXTRA_ORG

    svc = build_services(BASE.with_(database_url=db_url), clock=fixed_clock(NOW), load_knowledge=False)
    async with svc.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
    yield svc
    await svc.db.dispose()


@pytest.fixture
async def data(services) -> dict:
    async with services.db.transaction() as session:
        return await dataset.load(session)


@pytest.fixture
async def world(aiohttp_client, db_url):
    """The console tests' world (demo + 南开区, API tokens for every staff) with the scorecards plugin, the
    scorecards chat router and the known data set."""
    from tests.console.conftest import CODES, EXTRA_ORG, World

    clock = fixed_clock(NOW)
    settings = BASE.with_(database_url=db_url, scorecard_min_responses=3, scorecard_min_tickets=3)
    services = build_services(settings, clock=clock, load_knowledge=False)
    async with services.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
        await ready_staff(session)
        data = await dataset.load(session)
    app = create_app(settings, services=services,
                     routers=[common.build_router(), scorecards.build_router(), common.fallback_router()],
                     plugins=[scorecards.console])
    world = World(await aiohttp_client(app), services, clock=clock)
    world.data = data  # type: ignore[attr-defined]
    async with services.db.transaction() as session:
        for short, code in CODES.items():
            world.community[short] = await session.scalar(select(Community.id).where(Community.code == code))
        for staff in (await session.execute(select(Staff))).scalars():
            world.staff[staff.username] = staff.id
            _, world.tokens[staff.username] = await staff_repo.create_api_token(session, staff.id, "test", NOW)
    return world
