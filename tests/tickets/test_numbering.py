"""Ticket numbers under concurrent filing: two independent workers (each its own engine and pool, as two
`linli serve` processes would have) file at once; no two tickets share a number and none is skipped."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.context import Services
from handlers.tickets import numbering, service
from storage.db import Database
from storage.models import Resident
from storage.ticket_models import Ticket
from tests.tickets.conftest import NOW, bind

PER_WORKER = 15


async def test_concurrent_filing_on_two_workers(services):
    residents = [await bind(services, f"o_num_{i}") for i in range(2 * PER_WORKER)]
    workers = [Services(settings=services.settings, db=Database(services.settings.database_url),
                        extras=services.extras) for _ in range(2)]

    async def file(worker: Services, resident_id: int, i: int):
        async with worker.db.transaction() as session:
            resident = await session.get(Resident, resident_id)
            await service.file_ticket(session, worker, resident, service.Filing("repair", f"第{i}号楼电梯坏了"),
                                      NOW + timedelta(milliseconds=i))

    try:
        await asyncio.gather(*(file(workers[i % 2], r.id, i) for i, r in enumerate(residents)))
    finally:
        for w in workers:
            await w.db.dispose()
    async with services.db.transaction() as session:
        numbers = list((await session.execute(select(Ticket.number))).scalars())
    assert len(numbers) == len(set(numbers)) == 2 * PER_WORKER
    assert sorted(numbers) == [numbering.format_number("20261126", n) for n in range(1, 2 * PER_WORKER + 1)]


async def test_numbers_follow_the_beijing_date(services):
    resident = await bind(services, "o_midnight")
    late_evening_utc = NOW.replace(hour=16, minute=30)  # 00:30 on the 27th in Beijing
    async with services.db.transaction() as session:
        resident = await session.get(Resident, resident.id)
        t = await service.file_ticket(session, services, resident, service.Filing("repair", "夜里水管爆了"),
                                      late_evening_utc)
    assert t.number == "JF20261127-0001"
    assert numbering.find_number("查询 jf20261127-0001") == "JF20261127-0001"


async def test_benchmark_seed_keeps_numbers_unique(services):
    import random

    from handlers.tickets.bench import seed
    from storage.models import Community
    async with services.db.transaction() as session:
        ids = list((await session.execute(select(Community.id))).scalars())
        assert await seed(session, 300, ids, random.Random(1), now=NOW) == 300
    resident = await bind(services, "o_after_seed")
    async with services.db.transaction() as session:
        resident = await session.get(Resident, resident.id)
        await service.file_ticket(session, services, resident, service.Filing("repair", "电梯坏了好几天"), NOW)
        numbers = list((await session.execute(select(Ticket.number))).scalars())
    assert len(numbers) == len(set(numbers)) == 301
