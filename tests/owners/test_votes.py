"""Owners' votes end to end through the webhook, on SQLite and PostgreSQL: verification by the roster's phone
(the pushed code) and by staff (as owner and as proxy), the unverified refused, co-owners of one room (the first
confirmed ballot counts, the other told), one owner of several rooms, changing a ballot (audited), paper and chat
ballots for the same room, the close by the job with the result published as a notice and equal to a recount."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from handlers.owners import jobs, motions, rules, verify, voting
from handlers.owners.rules import BallotFact, RoomShare
from storage.delivery_models import Broadcast
from storage.notice_models import Notice, NoticeVersion
from storage.owner_models import Motion, OwnerBallot, OwnerBallotEvent, OwnerLink, RosterRoom
from tests.owners.conftest import NOW, add_owner, load_roster, new_motion


async def pushed_code(services, resident) -> str:
    async with services.db.transaction() as session:
        texts = list(await session.scalars(select(Broadcast.text).where(
            Broadcast.source == f"owners:code:{resident.ref}").order_by(Broadcast.id)))
    return re.search(r"验证码：(\d{6})", texts[-1]).group(1)


async def verify_by_phone(bot, resident, phone: str) -> None:
    await bot.dialog(resident.openid, [("核验", "手机号码"), (phone, "验证码已通过本服务号推送")])
    code = await pushed_code(bot.services, resident)
    await bot.dialog(resident.openid, [(code, "核验成功")])


async def test_verify_by_phone_then_vote_and_co_owner_is_told(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await new_motion(services)
    zhang = await add_owner(services, "1", "1-101")
    li = await add_owner(services, "1", "1-101")
    await owners_bot.dialog(zhang.openid, [("表决", "未核验")])
    await owners_bot.dialog(zhang.openid, [("核验", "手机号码"), ("13900000000", "没有登记这个电话号码"),
                                           ("13800000001", "验证码已通过本服务号推送"), ("000000", "")])
    code = await pushed_code(services, zhang)
    await owners_bot.dialog(zhang.openid, [(code, "核验成功"), ("核验", "已核验")])
    await owners_bot.dialog(zhang.openid, [
        ("表决", "续聘物业服务企业"), ("也许", "请回复 1（同意）"),
        ("1", "1号楼1单元101室（89.50 平方米）"), ("确认", "已计入")])
    await verify_by_phone(owners_bot, li, "13800000002")
    await owners_bot.dialog(li.openid, [("表决", "已由其他共有人"), ("2", "【反对】"), ("确认", "以最先确认的一票为准")])
    # 张三 changes his ballot before the close: audited
    await owners_bot.dialog(zhang.openid, [("表决", "您已表决：同意"), ("反对", "【反对】"), ("确认", "已改为本次意见")])
    async with services.db.transaction() as session:
        ballots = list(await session.scalars(select(OwnerBallot).where(OwnerBallot.motion_id == mid)))
        assert [(b.choice, b.voter_ref) for b in ballots] == [("no", zhang.ref)]
        events = [(e.event, e.choice) for e in await session.scalars(select(OwnerBallotEvent).order_by(
            OwnerBallotEvent.id))]
        assert events == [("cast", "yes"), ("changed", "no")]


async def test_wrong_codes_run_out(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    me = await add_owner(services, "2", "202")
    # 张三's phone is on the roster, but not for the room this resident bound to: no code
    await owners_bot.dialog(me.openid, [("核验", "手机号码"), ("13800000001", "没有登记这个电话号码"),
                                        ("13800000004", "验证码")])
    for _ in range(verify.MAX_TRIES):
        await owners_bot.dialog(me.openid, [("999999", "不正确")])
    code = await pushed_code(services, me)
    await owners_bot.dialog(me.openid, [(code, "已失效")])
    await owners_bot.dialog(me.openid, [("核验", "手机号码"), ("人工核验", "已提交人工核验申请")])


async def test_staff_approval_as_owner_and_as_proxy_and_one_owner_of_two_rooms(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await new_motion(services)
    wang = await add_owner(services, "1", "1-102")
    son = await add_owner(services, "2", "201")  # 王五's son, bound to his father's flat
    for resident in (wang, son):
        await owners_bot.dialog(resident.openid, [("核验", "手机号码"), ("人工核验", "已提交人工核验申请")])
    async with services.db.transaction() as session:
        links = {link.resident_id: link for link in await session.scalars(select(OwnerLink))}
        await verify.approve(session, links[wang.id], staff="staff:yj_comm", proxy_name=None, now=NOW)
        await verify.approve(session, links[son.id], staff="staff:yj_comm", proxy_name="王小五", now=NOW)
    # 王五 holds 1-1-102 and 2-201: one confirmation names both rooms with their areas
    await owners_bot.dialog(wang.openid, [("表决", "2号楼201室（75.00 平方米）"), ("1", "1号楼1单元102室（120.25 平方米）"),
                                          ("确认", "已计入")])
    await owners_bot.dialog(son.openid, [("表决", "已由其他共有人或纸质表决票表决"), ("2", "受托代理"),
                                         ("确认", "以最先确认的一票为准")])
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerBallot)
                                    .where(OwnerBallot.motion_id == mid)) == 2
        assert await verify.status_of(session, son) == "业主委托代理人（已登记）"


async def test_paper_then_chat_for_the_same_room(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await new_motion(services)
    zhao = await add_owner(services, "2", "202")
    await verify_by_phone(owners_bot, zhao, "13800000004")
    async with services.db.transaction() as session:
        motion = await session.get(Motion, mid)
        room = await session.scalar(select(RosterRoom).where(RosterRoom.room == "202"))
        cast = await voting.cast_paper(session, motion, room.id, "no", collector="楼长刘阿姨", staff="staff:yj_comm",
                                       proxy=False, now=NOW)
        assert cast.outcome == "new"
        again = await voting.cast_paper(session, motion, room.id, "abstain", collector="楼长刘阿姨",
                                        staff="staff:yj_comm", proxy=False, now=NOW)
        assert again.outcome == "changed"  # staff correcting a paper ballot
    await owners_bot.dialog(zhao.openid, [("表决", "已由其他共有人或纸质表决票表决"), ("1", "同意"),
                                          ("确认", "以最先确认的一票为准")])
    async with services.db.transaction() as session:
        ballot = await session.scalar(select(OwnerBallot).where(OwnerBallot.motion_id == mid))
        assert (ballot.channel, ballot.choice, ballot.collector) == ("paper", "abstain", "楼长刘阿姨")


async def test_close_publishes_the_result_equal_to_an_independent_recount(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await new_motion(services, closes=NOW + timedelta(hours=2))
    voters = {"13800000001": ("1", "1-101", "1"), "13800000003": ("1", "1-102", "1"),
              "13800000004": ("2", "202", "2")}
    for phone, (building, room, choice) in voters.items():
        me = await add_owner(services, building, room)
        await verify_by_phone(owners_bot, me, phone)
        await owners_bot.dialog(me.openid, [("表决", "请回复"), (choice, "请确认"), ("确认", "已计入")])
    async with services.db.transaction() as session:  # turnout while open: no choices in it
        shown = await motions.turnout(session, await session.get(Motion, mid))
        assert shown["voted_rooms"] == 4 and shown["voted_heads"] == 3 and shown["heads"] == 4
        assert "yes" not in repr(shown) and "同意" not in repr(shown)
    report = await jobs.sweep(services, NOW + timedelta(hours=3))
    assert report.closed == [mid]
    assert (await jobs.sweep(services, NOW + timedelta(hours=4))).closed == []  # once
    async with services.db.transaction() as session:
        motion = await session.get(Motion, mid)
        # independent recount: areas typed here from the roster, heads by hand (王五's two rooms are one owner)
        rooms = [RoomShare(1, "1", rules.Decimal("89.50"), "a"), RoomShare(2, "1", rules.Decimal("120.25"), "b"),
                 RoomShare(3, "2", rules.Decimal("75.00"), "b"), RoomShare(4, "2", rules.Decimal("60.10"), "c"),
                 RoomShare(5, "2", rules.Decimal("60.10"), "d")]
        cast = [BallotFact(1, "yes", 1), BallotFact(2, "yes", 2), BallotFact(3, "yes", 3), BallotFact(4, "no", 4)]
        expected = rules.tally(rooms, cast, "ordinary", rules.load_rule("tianjin")).as_dict()
        assert {k: motion.result[k] for k in expected} == expected
        assert motion.result["area"] == {"total": "404.95", "voted": "344.85", "yes": "284.75", "no": "60.10",
                                         "abstain": "0.00"}
        assert motion.result["heads"] == {"total": 4, "voted": 3, "yes": 2, "no": 1, "abstain": 0}
        assert motion.result["passed"] and motion.rule["kind"] == "ordinary"
        assert await motions.recount(session, motion) == {k: motion.result[k] for k in expected}
        notice = await session.get(Notice, int(motion.notice_ref.split(":")[1]))
        text = await session.scalar(select(NoticeVersion).where(NoticeVersion.notice_id == notice.id))
        assert notice.state == "published" and notice.source == f"motion:{mid}"
        assert "结果：**通过**" in text.body and "2号楼" in str(text.tables) and "404.95" in text.body
        assert "三分之二" in text.body and "超过半数" in text.body


async def test_my_info_shows_the_owner_as_unverified_until_verified(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    me = await add_owner(services, "2", "202")
    await owners_bot.dialog(me.openid, [("我的信息", "身份：业主（未核验，回复「核验」核验业主身份）")])
    await verify_by_phone(owners_bot, me, "13800000004")
    await owners_bot.dialog(me.openid, [("我的信息", "身份：业主（已核验）")])


async def test_reminders_go_only_to_verified_owners_who_have_not_voted(owners_bot):
    services = owners_bot.services
    await load_roster(services)
    mid = await new_motion(services)
    voted = await add_owner(services, "2", "202")
    waiting = await add_owner(services, "1", "1-102")
    unverified = await add_owner(services, "1", "1-101")
    await verify_by_phone(owners_bot, voted, "13800000004")
    await verify_by_phone(owners_bot, waiting, "13800000003")
    await owners_bot.dialog(voted.openid, [("表决", "请回复"), ("1", "请确认"), ("确认", "已计入")])
    report = await jobs.sweep(services, NOW + timedelta(hours=13))
    assert report.reminded == [(mid, 1)]
    assert (await jobs.sweep(services, NOW + timedelta(hours=14))).reminded == []  # once a day
    async with services.db.transaction() as session:
        sent = await session.scalar(select(Broadcast).where(Broadcast.source.like(f"motion:{mid}:remind:%")))
        assert sent.scope["residents"] == [waiting.id] and unverified.id not in sent.scope["residents"]


async def test_erasure_keeps_the_ballot_anonymous_and_drops_the_links(owners_bot):
    from handlers.privacy.erasure import erase_resident
    from storage.models import Resident

    services = owners_bot.services
    await load_roster(services)
    mid = await new_motion(services)
    me = await add_owner(services, "2", "202")
    await verify_by_phone(owners_bot, me, "13800000004")
    await owners_bot.dialog(me.openid, [("表决", "请回复"), ("2", "请确认"), ("确认", "已计入")])
    async with services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, me.id), NOW)
    async with services.db.transaction() as session:
        ballot = await session.scalar(select(OwnerBallot).where(OwnerBallot.motion_id == mid))
        assert ballot.choice == "no" and ballot.resident_id is None and ballot.voter_ref != me.ref
        events = list(await session.scalars(select(OwnerBallotEvent.actor_ref)))
        assert events == [ballot.voter_ref]
        assert await session.scalar(select(func.count()).select_from(OwnerLink)) == 0
