"""The scheduler's sweeps with a controlled clock: 催办 once per deadline, automatic escalation when the resolve
limit passes (working days), the clock paused while waiting for the resident, 超期 at the top, closing unrated."""
from __future__ import annotations

import importlib
from datetime import timedelta

from sqlalchemy import select

from storage.delivery_models import Broadcast
from storage.repositories import tickets as repo
from tests.tickets.conftest import NOW
from tests.tickets.test_service import act, load, new_ticket

jobs = importlib.import_module("handlers.tickets.jobs")  # the package's `jobs` name is the function


async def kinds(services, tid) -> list[str]:
    async with services.db.transaction() as session:
        return [e.kind for e in await repo.events(session, tid)]


async def test_chase_then_escalate_automatically(services):
    tid = await new_ticket(services)
    quiet = {"chased": 0, "escalated": 0, "overdue": 0}
    assert await jobs.deadlines(services, NOW + timedelta(hours=1)) == quiet  # nothing due yet
    late_sign = NOW + timedelta(days=1, minutes=5)  # Friday 10:05: the sign deadline has passed
    assert await jobs.deadlines(services, late_sign) == {"chased": 1, "escalated": 0, "overdue": 0}
    assert await jobs.deadlines(services, late_sign + timedelta(hours=1)) == quiet  # once per deadline
    await act(services, tid, "sign", "yijing", now=late_sign + timedelta(hours=2))
    friday = NOW + timedelta(days=8)  # Friday 2026-12-04: the Monday deadline is one working day away
    assert (await jobs.deadlines(services, friday))["chased"] == 1
    assert (await jobs.deadlines(services, NOW + timedelta(days=10)))["escalated"] == 0  # Sunday: not yet due
    due = (await load(services, tid)).resolve_due_at
    late = due + timedelta(minutes=1)
    assert (await jobs.deadlines(services, late))["escalated"] == 1
    t = await load(services, tid)
    assert (t.level, t.status, t.escalations) == ("street", "escalated", 1)
    assert t.resolve_due_at == services.extras["tickets.sla"].calendar.add(late, 15)
    assert await jobs.deadlines(services, late) == quiet
    assert await kinds(services, tid) == ["created", "chase", "sign", "chase", "escalate"]
    async with services.db.transaction() as session:
        texts = list((await session.execute(select(Broadcast.text).where(Broadcast.source == f"ticket:{tid}")))
                     .scalars())
    assert any("友谊路街道" in x and "自动升级" in x for x in texts)


async def test_waiting_for_the_resident_pauses_escalation(services):
    tid = await new_ticket(services)
    await act(services, tid, "sign", "yijing")
    await act(services, tid, "ask", "yijing", text="请提供照片")
    far = NOW + timedelta(days=30)
    assert await jobs.deadlines(services, far) == {"chased": 0, "escalated": 0, "overdue": 0}
    assert (await load(services, tid)).level == "community"


async def test_the_district_is_marked_overdue_once(services):
    tid = await new_ticket(services)
    await act(services, tid, "escalate", "yijing", reason="复杂")
    await act(services, tid, "escalate", "youyilu", reason="重大")
    await act(services, tid, "sign", "hexi")
    late = (await load(services, tid)).resolve_due_at + timedelta(hours=1)
    assert (await jobs.deadlines(services, late))["overdue"] == 1
    assert (await jobs.deadlines(services, late + timedelta(days=1)))["overdue"] == 0
    t = await load(services, tid)
    assert t.level == "district" and t.overdue_at == late and t.status == "assigned"


async def test_unrated_resolved_tickets_close_after_the_rating_window(services):
    tid = await new_ticket(services)
    await act(services, tid, "sign", "yijing")
    await act(services, tid, "resolve", "yijing", text="已处理")
    assert await jobs.close_unrated(services, NOW + timedelta(days=10)) == 0  # Sunday: 6 working days so far
    assert await jobs.close_unrated(services, NOW + timedelta(days=11, hours=1)) == 1  # Monday, past 7
    t = await load(services, tid)
    assert (t.status, t.closed_reason, t.rating) == ("closed", "timeout", None)
    assert await jobs.close_unrated(services, NOW + timedelta(days=20)) == 0


def test_jobs_are_declared():
    assert {j.name for j in jobs.jobs()} == {"tickets.deadlines", "tickets.close_unrated", "tickets.erase_orphans",
                                              "tickets.media"}
