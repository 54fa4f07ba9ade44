"""Private messages address residents by their immutable reference, and ids are never reused: a message scheduled
for a resident who erased their data reaches nobody, never the next resident to follow (who, on SQLite without
AUTOINCREMENT, used to get the erased resident's id and the message)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.delivery import Content, Scope
from storage.delivery_models import Broadcast
from storage.models import Resident
from storage.repositories import broadcasts, deliveries, residents


async def _send_time(world, bid: int, when: datetime) -> None:
    async with world.db.transaction() as session:
        await broadcasts.activate_due(session, when)
    while True:
        async with world.db.transaction() as session:
            if not await deliveries.expand_step(session, bid, 100):
                return


async def test_a_scheduled_private_message_never_reaches_a_newer_resident(world):
    now = datetime.now(timezone.utc)
    [old] = await world.seed(1, prefix="o_leaving")
    bid = await world.broadcast("ticket", scope=Scope.of_residents([old]), send_at=now + timedelta(hours=1),
                                content=Content("您的投诉 JF20261126-0001 已办结：已联系王先生更换门锁。"))
    async with world.db.transaction() as session:  # the resident row goes (unfollow)
        await residents.erase(session, "o_leaving00000")
    [new] = await world.seed(1, prefix="o_newcomer")
    assert new > old  # the erased resident's id is not handed out again
    await _send_time(world, bid, now + timedelta(hours=2))
    assert await world.rows(bid) == []


async def test_the_reference_decides_even_if_an_id_came_back(world):
    """A restored or hand-edited database could still hold a row with an old id: it is not the person the
    message was for, and it is not addressed."""
    now = datetime.now(timezone.utc)
    [old] = await world.seed(1, prefix="o_before")
    bid = await world.broadcast("ticket", scope=Scope.of_residents([old]), send_at=now + timedelta(hours=1))
    async with world.db.transaction() as session:
        await residents.erase(session, "o_before00000")
        session.add(Resident(id=old, openid="o_after", community_id=None, subscribed=True, created_at=now))
    await _send_time(world, bid, now + timedelta(hours=2))
    assert await world.rows(bid) == []


async def test_erasure_cancels_a_message_meant_for_them_alone_and_keeps_the_others(world):
    from handlers.privacy.erasure import erase_resident

    now = datetime.now(timezone.utc)
    me, neighbour = await world.seed(2, prefix="o_pair")
    mine = await world.broadcast("ticket", scope=Scope.of_residents([me]), send_at=now + timedelta(hours=1),
                                 content=Content("您咨询的问题：我家3号楼501漏水怎么办？\n工作人员答复：…"))
    ours = await world.broadcast("survey", scope=Scope.of_residents([me, neighbour]),
                                 content=Content("满意度调查提醒"))
    async with world.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, me), now)
    async with world.db.transaction() as session:
        b_mine, b_ours = await session.get(Broadcast, mine), await session.get(Broadcast, ours)
        assert b_mine.status == "cancelled" and "漏水" not in b_mine.text and b_mine.scope["refs"] == []
        assert b_ours.text == "满意度调查提醒" and len(b_ours.scope["refs"]) == 1
        assert b_ours.scope["residents"] == [neighbour]
    await _send_time(world, ours, now)
    assert [r.resident_id for r in await world.rows(ours)] == [neighbour]


async def test_scopes_store_the_references(world):
    a, b = await world.seed(2, prefix="o_refs")
    bid = await world.broadcast("ticket", scope=Scope.of_residents([b, a, 999999]))
    async with world.db.transaction() as session:
        scope = (await session.get(Broadcast, bid)).scope
        refs = dict((await session.execute(select(Resident.id, Resident.ref).where(Resident.id.in_([a, b])))).all())
    assert scope["refs"] == [refs[b], refs[a]]  # the unknown id addresses nobody
    nobody = await world.broadcast("ticket", scope=Scope.of_residents([]))
    await _send_time(world, nobody, datetime.now(timezone.utc))
    assert await world.rows(nobody) == []  # an empty list of residents is nobody, not everybody
