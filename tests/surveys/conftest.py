"""Survey fixtures: the demo organisation, residents placed by code, campaigns created and opened through the
service and the job sweep with a controlled clock, and a bot with the surveys router."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from handlers import common, surveys
from handlers.surveys import service
from handlers.surveys.jobs import sweep
from storage.models import Community, Estate, Resident, ResidentRole
from storage.repositories.org import load_demo
from tests.support import fixed_clock, ready_staff

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Tianjin
_SEQ = itertools.count(1)


def routers():
    return [common.build_router(), surveys.build_router(), common.fallback_router()]


async def add_resident(services, estate_code: str | None, *, role: str | None = "owner", building: str | None = "3",
                       room: str | None = None, openid: str | None = None, community_code: str | None = None
                       ) -> Resident:
    """A resident bound to the estate with `estate_code` (or just a community, or unbound when both None)."""
    n = next(_SEQ)
    async with services.db.transaction() as session:
        estate_id = community_id = None
        if estate_code:
            estate_id, community_id = (await session.execute(
                select(Estate.id, Estate.community_id).where(Estate.code == estate_code))).one()
        elif community_code:
            community_id = await session.scalar(select(Community.id).where(Community.code == community_code))
        row = Resident(openid=openid or f"o_sv_{n:05d}", community_id=community_id, estate_id=estate_id,
                       role=ResidentRole(role) if role else None, building=building if community_id else None,
                       room=(room or f"{100 + n}") if community_id else None,
                       bound_at=NOW - timedelta(days=5) if community_id else None)
        session.add(row)
        await session.flush()
        return row


async def new_campaign(services, *, template="property", subject="WY-JA", level="community", codes=("HX-YYL-YJ",),
                       opens_at=None, closes_at=None, open_now=True, now=NOW, **kw):
    """Create (and by default schedule and open through the job sweep) a campaign; returns its id."""
    from storage.repositories import surveys as repo

    async with services.db.transaction() as session:
        ids = list((await repo.ids_for_codes(session, level, list(codes))).values())
        survey = await service.create(
            session, template=template, subject=subject, scope_level=level, scope_ids=ids,
            opens_at=opens_at or now - timedelta(hours=1), closes_at=closes_at or now + timedelta(days=7),
            created_by="staff:test", now=now, **kw)
        if open_now or opens_at:
            await service.schedule(session, survey, now)
        survey_id = survey.id
    if open_now:
        await sweep(services, now)
    return survey_id


@pytest.fixture
async def demo_services(settings):
    from bot.app import build_services

    services = build_services(settings, clock=fixed_clock(NOW), load_knowledge=False)
    async with services.db.transaction() as session:
        await load_demo(session)
    yield services
    await services.db.dispose()


@pytest.fixture
async def survey_bot(start_bot, settings):
    clock = fixed_clock(NOW)
    return await start_bot(settings, clock=clock, routers=routers(), plugins=[])


@pytest.fixture
async def console_world(aiohttp_client, db_url):
    """The console's test world (demo + a second district, tokens for every staff) with the surveys plugin."""
    from bot.app import build_services, create_app
    from storage.models import Staff
    from storage.orgimport import apply_org_plan, parse_org_bytes
    from storage.repositories import staff as staff_repo
    from tests.console.conftest import CODES, EXTRA_ORG, World
    from tests.support import BASE

    clock = fixed_clock(NOW)
    settings = BASE.with_(database_url=db_url)
    services = build_services(settings, clock=clock, load_knowledge=False)
    async with services.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
        await ready_staff(session)
    app = create_app(settings, services=services, routers=routers(), plugins=[surveys.console])
    world = World(await aiohttp_client(app), services, clock=clock)
    async with services.db.transaction() as session:
        for short, code in CODES.items():
            world.community[short] = await session.scalar(select(Community.id).where(Community.code == code))
        for staff in (await session.execute(select(Staff))).scalars():
            world.staff[staff.username] = staff.id
            _, world.tokens[staff.username] = await staff_repo.create_api_token(session, staff.id, "test", NOW)
    return world
