"""One ballot per room under concurrency, on SQLite and PostgreSQL: two workers (two engines on one database)
cast the first ballot of the same room at once, many times over; exactly one lands, the other is told the room
has voted, and every confirmed ballot is counted once."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from handlers.owners import voting
from storage.db import Database
from storage.models import Resident
from storage.owner_models import Motion, OwnerBallot, OwnerLink, RosterHolding, RosterRoom
from tests.owners.conftest import NOW, add_owner, load_roster, new_motion


class _Services:
    def __init__(self, db):
        self.db = db


async def test_two_workers_race_for_one_room(db_url):
    main = Database(db_url)
    workers = [Database(db_url), Database(db_url)]
    try:
        from storage.repositories.org import load_demo

        async with main.transaction() as session:
            await load_demo(session)
        services = _Services(main)
        await load_roster(services)
        motion_id = await new_motion(services)
        # two co-owners of every room in building 1 and 2, both verified
        async with main.transaction() as session:
            rooms = list(await session.scalars(select(RosterRoom).order_by(RosterRoom.id)))
        pairs = []
        for room in rooms:
            a = await add_owner(services, room.building, room.room)
            b = await add_owner(services, room.building, room.room)
            async with main.transaction() as session:
                owners = list(await session.scalars(select(RosterHolding.owner_id)
                                                    .where(RosterHolding.room_id == room.id)))
                if not owners:
                    continue
                for resident in (a, b):
                    session.add(OwnerLink(resident_id=resident.id, owner_id=owners[0], status="verified",
                                          method="staff", verified_at=NOW, created_at=NOW))
            pairs.append((room, a, b))

        async def vote(db: Database, resident_id: int, choice: str):
            async with db.transaction() as session:
                motion = await session.get(Motion, motion_id)
                resident = await session.get(Resident, resident_id)
                return await voting.cast_chat(session, motion, resident, choice, NOW)

        new_by_room: dict[str, int] = {}
        for _room, a, b in pairs:  # 王五's two rooms: each of his two links votes for both, again and again
            first, second = await asyncio.gather(vote(workers[0], a.id, "yes"), vote(workers[1], b.id, "no"))
            assert len(first) == len(second) >= 1
            for o in first + second:
                new_by_room[o.label] = new_by_room.get(o.label, 0) + (o.outcome == "new")
                assert o.outcome in ("new", "taken")
        assert len(new_by_room) == len(pairs) and set(new_by_room.values()) == {1}, new_by_room
        async with main.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(OwnerBallot)
                                         .where(OwnerBallot.motion_id == motion_id))
            assert count == len(new_by_room)
    finally:
        for db in (main, *workers):
            await db.dispose()
