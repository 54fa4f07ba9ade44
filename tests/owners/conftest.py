"""Owners fixtures: a bot with the owners' router and a controlled clock, the demo org with a roster for 谊景花园,
residents bound as owners, and motions created through the service."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from handlers import common, owners, registration
from handlers.owners import motions, roster, roster_file
from handlers.owners.router import build_router
from storage.models import Estate, Resident, ResidentRole
from tests.owners.support import ESTATE, csv_bytes
from tests.support import fixed_clock

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Tianjin
_SEQ = itertools.count(1)
ROSTER = [
    [ESTATE, "1", "1", "101", "89.50", "张三", "13800000001"],
    [ESTATE, "1", "1", "101", "89.50", "李四", "13800000002"],  # co-owners of 1-1-101
    [ESTATE, "1", "1", "102", "120.25", "王五", "13800000003"],
    [ESTATE, "2", "", "201", "75", "王五", "13800000003"],  # 王五 holds two rooms
    [ESTATE, "2", "", "202", "60.10", "赵六", "13800000004"],
    [ESTATE, "2", "", "203", "60.10", "", ""],  # the developer's
]


def routers():
    return [common.build_router(), registration.build_router(), build_router(), common.fallback_router()]


async def add_owner(services, building: str, room: str, *, role: str = "owner", estate: str = ESTATE) -> Resident:
    n = next(_SEQ)
    async with services.db.transaction() as session:
        estate_id, community_id = (await session.execute(
            select(Estate.id, Estate.community_id).where(Estate.code == estate))).one()
        row = Resident(openid=f"o_ow_{n:05d}", community_id=community_id, estate_id=estate_id,
                       role=ResidentRole(role), building=building, room=room, bound_at=NOW - timedelta(days=3))
        session.add(row)
        await session.flush()
        return row


async def load_roster(services, rows=ROSTER) -> int:
    async with services.db.transaction() as session:
        await roster.apply_plan(session, roster_file.parse(csv_bytes(rows), "r.csv"), NOW)
        return (await session.scalar(select(Estate.id).where(Estate.code == ESTATE)))


async def console_world(aiohttp_client, db_url):
    """The console with the owners' pages on a fresh database holding ROSTER; `world.estate_id` is its estate."""
    from handlers.owners import console
    from tests.console.conftest import build_world

    world = await build_world(aiohttp_client, db_url, plugins=[console])
    await load_roster(world.services, ROSTER)
    async with world.services.db.transaction() as session:
        world.estate_id = await session.scalar(select(Estate.id).where(Estate.code == ESTATE))
    return world


async def new_motion(services, *, kind="ordinary", buildings=(), opens=NOW - timedelta(hours=1),
                     closes=NOW + timedelta(days=7), title="续聘物业服务企业") -> int:
    async with services.db.transaction() as session:
        estate = await session.scalar(select(Estate).where(Estate.code == ESTATE))
        draft = motions.check_draft(title, "是否同意续聘津安物业服务有限公司，合同期三年。", kind, opens, closes,
                                    list(buildings), ["1", "2"])
        motion = await motions.create(session, estate, draft, author="staff:yyl_street", now=NOW)
        return motion.id


@pytest.fixture
async def owners_bot(start_bot, settings):
    return await start_bot(settings, clock=fixed_clock(NOW), routers=routers(), plugins=[])


__all__ = ["owners", "NOW"]
