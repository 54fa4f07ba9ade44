"""Committee elections and repair-fund motions, on SQLite and PostgreSQL: candidates voted in chat (up to the
seats), each needing the double majority, the result naming who is elected; a repair-fund motion shows its works,
budget and quotes, and once passed its spending is disclosed as a notice linked to it (once)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.errors import Conflict, Invalid
from handlers.owners import jobs, motions
from storage.models import Estate
from storage.notice_models import Notice, NoticeVersion
from storage.owner_models import Motion, OwnerBallot
from tests.owners.conftest import NOW, add_owner, load_roster
from tests.owners.support import ESTATE
from tests.owners.test_votes import verify_by_phone

VOTERS = {"13800000001": ("1", "1-101"), "13800000003": ("1", "1-102"), "13800000004": ("2", "202")}


async def make(services, topic: str, details: dict, closes=NOW + timedelta(hours=2)) -> int:
    async with services.db.transaction() as session:
        estate = await session.scalar(select(Estate).where(Estate.code == ESTATE))
        draft = motions.check_draft("第一届业主委员会选举" if topic == "election" else "更换2号楼电梯", "说明。", "special",
                                    NOW - timedelta(hours=1), closes, [], ["1", "2"], topic=topic, details=details)
        assert draft.kind == "ordinary"  # art. 278 items 2 and 5 are ordinary matters
        return (await motions.create(session, estate, draft, author="staff:yyl_street", now=NOW)).id


def test_topic_details_are_checked():
    with pytest.raises(Invalid) as caught:
        motions.check_draft("t", "b", "ordinary", NOW, NOW + timedelta(days=1), [], [], topic="election",
                            details={"candidates": ["甲", "甲"], "seats": 1})
    assert "重复" in caught.value.message
    with pytest.raises(Invalid) as caught:
        motions.check_draft("t", "b", "ordinary", NOW, NOW + timedelta(days=1), [], [], topic="election",
                            details={"candidates": ["甲", "乙"], "seats": 3})
    assert "名额" in caught.value.message
    with pytest.raises(Invalid) as caught:
        motions.check_draft("t", "b", "ordinary", NOW, NOW + timedelta(days=1), [], [], topic="repair_fund",
                            details={"works": "", "budget": "48 万元"})
    assert "工程" in caught.value.message


async def test_committee_election_in_chat(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await make(services, "election", {"candidates": ["刘一", "陈二", "张三"], "seats": 2})
    picks = {"13800000001": "1 3", "13800000003": "1、3", "13800000004": "2"}
    for phone, (building, room) in VOTERS.items():
        me = await add_owner(services, building, room)
        await verify_by_phone(owners_bot, me, phone)
        await owners_bot.dialog(me.openid, [("表决", "候选人（应选 2 名）"), ("1 2 3", "最多 2 个"),
                                            (picks[phone], "请确认"), ("确认", "已计入")])
    async with services.db.transaction() as session:
        choices = sorted(set(await session.scalars(select(OwnerBallot.choice).where(OwnerBallot.motion_id == mid))))
        assert choices == ["c:0,2", "c:1"]
    await jobs.sweep(services, NOW + timedelta(hours=3))
    async with services.db.transaction() as session:
        motion = await session.get(Motion, mid)
        # 刘一 and 张三: 张三李四 (89.50) and 王五 (120.25 + 75.00) of 344.85 m², 2 of 3 owners; 陈二: 赵六 only
        assert motion.result["elected"] == ["刘一", "张三"] and motion.result["verdict"] == "当选：刘一、张三"
        assert [c["heads"] for c in motion.result["candidates"]] == [2, 1, 2]
        assert await motions.recount(session, motion) == {k: motion.result[k] for k in await motions.recount(
            session, motion)}
        text = await session.scalar(select(NoticeVersion).where(NoticeVersion.notice_id == int(
            motion.notice_ref.split(":")[1])))
        assert "当选：刘一、张三" in text.body and text.tables[0]["title"] == "候选人得票"


async def test_repair_fund_motion_and_its_spending_disclosed_once(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await make(services, "repair_fund", {"works": "更换2号楼电梯一部", "budget": "48 万元",
                                               "quotes": ["甲公司 47.5 万元", "乙公司 49 万元"]})
    for phone, (building, room) in VOTERS.items():
        me = await add_owner(services, building, room)
        await verify_by_phone(owners_bot, me, phone)
        await owners_bot.dialog(me.openid, [("表决", "预算：48 万元"), ("1", "同意"), ("确认", "已计入")])
    async with services.db.transaction() as session:
        motion = await session.get(Motion, mid)
        with pytest.raises(Conflict):
            await motions.disclose(session, motion, "已支出 47.5 万元", author="staff:x", now=NOW)
    await jobs.sweep(services, NOW + timedelta(hours=3))
    async with services.db.transaction() as session:
        motion = await session.get(Motion, mid)
        assert motion.result["passed"]
        ref = await motions.disclose(session, motion, "已支付甲公司 47.5 万元，工程于 12 月验收。", author="staff:yj",
                                     now=NOW + timedelta(days=30), settings=services.settings)
        notice = await session.get(Notice, int(ref.split(":")[1]))
        assert notice.category == "finance" and notice.source == f"motion:{mid}:spending"
        with pytest.raises(Conflict):
            await motions.disclose(session, motion, "again", author="staff:x", now=NOW)
