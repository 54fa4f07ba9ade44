"""Ticket fixtures: a running bot with the tickets router, residents bound to demo communities, a fixed clock
on a known working day (Thursday 2026-11-26, 10:00 Beijing time), and helpers to act as staff."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.app import build_services
from handlers import common, registration, tickets
from handlers.tickets import service
from storage.models import Community, Estate, Resident, Staff
from storage.repositories.org import load_demo
from tests.support import BASE, fixed_clock

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)  # Thursday 10:00 in Beijing


def routers():
    return [common.build_router(), registration.build_router(), tickets.build_router(), common.fallback_router()]


async def bind(services, openid: str, community_code: str = "HX-YYL-YJ") -> Resident:
    """A resident bound to the first estate of the community (as after the 绑定 dialog)."""
    async with services.db.transaction() as session:
        community = (await session.execute(select(Community).where(Community.code == community_code))).scalar_one()
        estate = (await session.execute(select(Estate).where(Estate.community_id == community.id)
                                        .order_by(Estate.id))).scalars().first()
        resident = (await session.execute(select(Resident).where(Resident.openid == openid))).scalar_one_or_none()
        if resident is None:
            resident = Resident(openid=openid, created_at=NOW)
            session.add(resident)
        resident.community_id, resident.estate_id = community.id, estate.id
        resident.bound_at = NOW
        await session.flush()
        return resident


async def staff_actor(session, username: str) -> service.Actor:
    from handlers.console.authz import load_scope

    staff = (await session.execute(select(Staff).where(Staff.username == username))).scalar_one()
    scope = await load_scope(session, staff)
    return service.staff_actor(staff, scope.community_ids)


async def partner_account(session, username: str, code: str, name: str | None = None) -> Staff:
    """A partner organisation's account (`linli staff create --partner CODE`) that logs in with TEST_PASSWORD."""
    from handlers.console.staff_service import create_account
    from tests.support import TEST_PASSWORD, test_password_hash

    staff = await create_account(session, username=username, display_name=name or f"{code} 承办人",
                                 level="community", node=None, password=TEST_PASSWORD, partner=code)
    staff.password_hash, staff.must_change_password = test_password_hash(), False
    return staff


async def handed_to_partner(session, services, resident: Resident, partner: str, text: str, now: datetime, *,
                            phone: str | None = None, sign: bool = False, by: str = "yijing"):
    """A complaint of `resident`, (signed and) 交办 by `by` to `partner` (property / developer / dept:名称)."""
    ticket = await service.file_ticket(session, services, resident, service.Filing("repair", text, phone=phone), now)
    actor = await staff_actor(session, by)
    for action, params in ((("sign", {}),) if sign else ()) + (("assign", {"partner": partner}),):
        await service.perform(session, services, ticket, action, actor, now, **params)
    return ticket


@pytest.fixture
def clock():
    return fixed_clock(NOW)


@pytest.fixture
async def tbot(start_bot, settings, clock):
    return await start_bot(settings, clock=clock, routers=routers(), plugins=[])


@pytest.fixture
async def services(db_url, clock):
    """Services on a migrated database with the demo organisation, without a web server."""
    svc = build_services(BASE.with_(database_url=db_url), clock=clock, load_knowledge=False)
    async with svc.db.transaction() as session:
        await load_demo(session)
    yield svc
    await svc.db.dispose()
