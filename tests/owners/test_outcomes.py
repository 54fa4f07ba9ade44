"""Outcomes on both databases, through paper ballots and the close job: the area majority passes but the
headcount fails, the reverse, and a matter of items 6–8 that an ordinary majority would carry but three quarters
do not; each stored result equals the recount from the stored ballots."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.owners import jobs, motions, voting
from storage.owner_models import Motion, RosterRoom
from tests.owners.conftest import NOW, load_roster, new_motion

SCENARIOS = {
    # 102 + 201 are 王五's (195.25 m², one owner) against 101 (张三李四) and 202 (赵六)
    "area_passes_heads_fail": ("ordinary", {"102": "yes", "201": "yes", "101": "no", "202": "no"},
                               (True, False)),
    "heads_pass_area_fails": ("ordinary", {"101": "yes", "202": "yes", "102": "no", "201": "no"}, (False, True)),
    # 284.75 of 344.85 m² (82.6%) but 2 of 3 owners (66.7%): carried by a simple majority, not by three quarters
    "special_needs_three_quarters": ("special", {"101": "yes", "102": "yes", "201": "yes", "202": "no"},
                                     (True, False)),
    "ordinary_same_ballots_pass": ("ordinary", {"101": "yes", "102": "yes", "201": "yes", "202": "no"},
                                   (True, True)),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_outcome(name, settings):
    from bot.app import build_services
    from storage.repositories.org import load_demo

    services = build_services(settings, load_knowledge=False)
    try:
        async with services.db.transaction() as session:
            await load_demo(session)
        kind, votes, (pass_area, pass_heads) = SCENARIOS[name]
        await load_roster(services)
        mid = await new_motion(services, kind=kind, closes=NOW + timedelta(hours=2))
        async with services.db.transaction() as session:
            motion = await session.get(Motion, mid)
            for room_label, choice in votes.items():
                room = await session.scalar(select(RosterRoom).where(RosterRoom.room == room_label))
                await voting.cast_paper(session, motion, room.id, choice, collector="楼长", staff="staff:t",
                                        proxy=False, now=NOW)
        await jobs.sweep(services, NOW + timedelta(hours=3))
        async with services.db.transaction() as session:
            motion = await session.get(Motion, mid)
            assert motion.result["quorum"] is True
            assert (motion.result["pass_area"], motion.result["pass_heads"]) == (pass_area, pass_heads)
            assert motion.result["passed"] is (pass_area and pass_heads)
            assert motion.rule["kind"] == kind and motion.rule["pass"]["share"] == ("3/4" if kind == "special"
                                                                                    else "1/2")
            recount = await motions.recount(session, motion)
            assert recount == {k: motion.result[k] for k in recount}
    finally:
        await services.db.dispose()


async def test_an_unknown_city_closes_nothing(settings, caplog):
    from bot.app import build_services
    from storage.repositories.org import load_demo

    services = build_services(settings.with_(owners_city="atlantis"), load_knowledge=False)
    try:
        async with services.db.transaction() as session:
            await load_demo(session)
        await load_roster(services)
        mid = await new_motion(services, closes=NOW + timedelta(hours=2))
        report = await jobs.sweep(services, NOW + timedelta(hours=3))
        assert report.closed == [] and "atlantis" in caplog.text
        async with services.db.transaction() as session:
            assert (await session.get(Motion, mid)).status == "open"
    finally:
        await services.db.dispose()
