"""Creating broadcasts and expanding them: scopes, roles, muted categories, batches."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot.delivery import Content, Scope, create_broadcast
from storage.delivery_models import Delivery, DeliveryMute
from storage.repositories import deliveries


async def _expand(world, bid, batch=7):
    steps = 0
    while True:
        async with world.db.transaction() as session:
            more = await deliveries.expand_step(session, bid, batch)
        steps += 1
        if not more:
            return steps


async def _recipients(world, bid):
    rows = await world.rows(bid)
    return {r.resident_id: (r.status, r.reason) for r in rows}


async def test_scope_by_jurisdiction_and_role(world):
    yj1 = await world.seed(4, estate="HX-YYL-YJ-01", prefix="o_a", in_sandbox=False)
    yj2 = await world.seed(3, estate="HX-YYL-YJ-02", prefix="o_b", role="tenant", in_sandbox=False)
    pj = await world.seed(2, estate="HX-YYL-PJ-01", prefix="o_c", in_sandbox=False)
    ls = await world.seed(5, estate="HX-MJ-LS-01", prefix="o_d", in_sandbox=False)
    o = world.org
    cases = [
        (Scope("estate", [o["estates"]["HX-YYL-YJ-02"].id]), yj2),
        (Scope("community", [o["communities"]["HX-YYL-YJ"].id]), yj1 + yj2),
        (Scope("community", [o["communities"]["HX-YYL-YJ"].id], roles=["owner"]), yj1),
        (Scope("street", [o["streets"]["HX-YYL"].id]), yj1 + yj2 + pj),
        (Scope("district", [o["streets"]["HX-MJ"].district_id]), yj1 + yj2 + pj + ls),
        (Scope("all", roles=["tenant"]), yj2),
        (Scope.of_residents([yj1[0], ls[2]]), [yj1[0], ls[2]]),
    ]
    for scope, expected in cases:
        bid = await world.broadcast(scope=scope)
        await _expand(world, bid, batch=3)
        got = await _recipients(world, bid)
        assert sorted(got) == sorted(expected), scope
        assert set(got.values()) == {("queued", None)}


async def test_expansion_in_batches_makes_one_row_per_resident(world):
    ids = await world.seed(50, in_sandbox=False)
    bid = await world.broadcast()
    steps = await _expand(world, bid, batch=7)
    assert steps == (max(ids) + 6) // 7
    async with world.db.transaction() as session:
        n = await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.broadcast_id == bid))
        distinct = await session.scalar(select(func.count(func.distinct(Delivery.resident_id))).where(
            Delivery.broadcast_id == bid))
    assert n == distinct == 50
    assert await _expand(world, bid) == 1  # expanding again adds nothing


async def test_muted_categories_are_recorded_as_skipped(world):
    ids = await world.seed(3, in_sandbox=False)
    now = datetime.now(timezone.utc)
    async with world.db.transaction() as session:
        session.add(DeliveryMute(resident_id=ids[0], category="notice", created_at=now))
        session.add(DeliveryMute(resident_id=ids[1], category="ticket", created_at=now))  # has no effect
    notice = await world.broadcast("notice")
    meeting = await world.broadcast("meeting")
    ticket = await world.broadcast("ticket", scope=Scope.of_residents(ids))
    for bid in (notice, meeting, ticket):
        await _expand(world, bid)
    assert (await _recipients(world, notice))[ids[0]] == ("skipped", "muted")
    assert set((await _recipients(world, meeting)).values()) == {("queued", None)}
    assert set((await _recipients(world, ticket)).values()) == {("queued", None)}


@pytest.mark.parametrize("bad, message", [
    (dict(category="party"), "类别"),
    (dict(scope=Scope("city", [1])), "范围"),
    (dict(scope=Scope("community")), "辖区"),
    (dict(scope=Scope(roles=["boss"])), "身份"),
    (dict(content=Content("  ")), "内容"),
    (dict(send_at=datetime(2030, 1, 1)), "时区"),
])
async def test_bad_broadcasts_are_refused(bad, message):
    kw = {**dict(category="notice", scope=Scope(), content=Content("x"), created_by="t"), **bad}
    with pytest.raises(ValueError, match=message):
        await create_broadcast(None, **kw)  # checked before anything touches the session
