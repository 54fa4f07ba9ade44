"""Synthetic tickets for benchmarks (`bench/dashboard.py` calls `seed`): a realistic mix of levels, statuses,
deadlines and ratings over the last 60 days (or `days`), inserted in bulk, with the day counters moved past them so
tickets filed afterwards keep unique numbers."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.tickets.calendar import calendar_for
from handlers.tickets.numbering import day_of, format_number
from handlers.tickets.rules import CATEGORIES
from storage.models import Estate
from storage.repositories import tickets as repo
from storage.ticket_models import TicketCounter

TEXTS = ["楼道灯坏了", "电梯故障停运", "水管漏水", "垃圾清运不及时", "车位被占用", "物业费公示不清", "夜间噪音扰民",
         "门禁损坏", "绿化带无人修剪", "业委会换届拖延"]


async def seed(session: AsyncSession, count: int, community_ids: list[int], rng: random.Random,
               now: datetime | None = None, days: int = 60) -> int:
    now = now or datetime.now(timezone.utc)
    cal = calendar_for(None)
    estates: dict[int, list[tuple[int, int | None]]] = {}
    for eid, cid, pc in (await session.execute(select(Estate.id, Estate.community_id,
                                                      Estate.property_company_id))).all():
        estates.setdefault(cid, []).append((eid, pc))
    per_day: Counter[str] = Counter()
    rows = []
    for i in range(count):
        cid = rng.choice(community_ids)
        estate, company = rng.choice(estates.get(cid) or [(None, None)])
        created = now - timedelta(minutes=rng.randrange(60 * 24 * days))
        day = day_of(created)
        per_day[day] += 1
        level = rng.choices(("community", "street", "district"), (80, 15, 5))[0]
        limit = {"community": 7, "street": 15, "district": 30}[level]
        status = rng.choices(("received", "assigned", "resolved", "closed", "escalated", "rejected"),
                             (10, 25, 10, 45, 5, 5))[0]
        sign_due = cal.add(created, 1)
        signed = created + timedelta(hours=rng.uniform(0.5, 40)) if status != "received" else None
        resolved = signed + timedelta(days=rng.uniform(0.5, limit * 1.3)) if status in ("resolved", "closed") \
            else None
        rows.append({
            "number": format_number(day, 90000 + per_day[day]), "resident_ref": f"bench{i:027d}",
            "resident_id": None, "community_id": cid, "estate_id": estate, "property_company_id": company,
            "category": rng.choice(list(CATEGORIES)), "description": rng.choice(TEXTS), "photos": [],
            "level": level, "status": status, "created_at": created, "updated_at": resolved or signed or created,
            "level_since": created, "sign_due_at": sign_due, "resolve_due_at": cal.add(created, limit),
            "first_sign_due_at": sign_due, "responded_at": signed, "signed_at": signed, "resolved_at": resolved,
            "resolved_level": level if resolved else None, "closed_at": resolved if status == "closed" else None,
            "closed_reason": "rated" if status == "closed" else None, "reopened": 0, "escalations": 0,
            "escalation_offered": False,
            "rating": rng.choices((5, 4, 3, 2, 1), (50, 25, 10, 10, 5))[0] if status == "closed" else None})
    await repo.insert_many(session, rows)
    for day in per_day:  # synthetic numbers use 9xxxx; real filings that day continue after them
        counter = await session.get(TicketCounter, day)
        if counter is None:
            session.add(TicketCounter(day=day, value=90000 + per_day[day]))
        else:
            counter.value = max(counter.value, 90000 + per_day[day])
    await session.flush()
    return count
