"""The notice life cycle against a real database: scoping of pushes, mutes, jurisdiction, approval, scheduling with a
controlled clock, corrections (versions, who is told) and withdrawal."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.errors import Conflict
from handlers.notices import service
from handlers.notices.jobs import publish_scheduled
from handlers.notices.service import Forbidden, NoticeError
from storage.delivery_models import Broadcast, Delivery
from storage.repositories import deliveries
from storage.repositories import notices as repo
from tests.notices.conftest import BASE_URL, NOW

FINANCE = {"columns": ["项目", "收入（元）", "支出（元）"], "rows": [["物业费", "12000", ""], ["电梯维修", "", "8000.5"]]}


async def draft(world, author="yijing", *, level="community", ids=None, category="finance", **kw):
    actor = await world.actor(author)
    async with world.db.transaction() as session:
        notice = await service.create_draft(
            session, actor, category=category, title=kw.pop("title", "10月物业费收支公示"),
            body=kw.pop("body", "## 2026年10月收支\n详见下表。"), scope_level=level,
            scope_ids=ids if ids is not None else [world.community["HX-YYL-YJ"]], now=NOW, **kw)
        return notice.id


async def approve(world, notice_id, approver="youyilu", **kw):
    actor = await world.actor(approver)
    async with world.db.transaction() as session:
        notice = await service.load(session, notice_id, actor)
        await service.approve(session, actor, notice, now=kw.pop("now", NOW), base_url=BASE_URL, **kw)
        version = service.current(notice)
        return notice.state, version.broadcast_id


async def test_community_notice_reaches_only_that_community(nworld):
    yj = [await nworld.resident("HX-YYL-YJ-01"), await nworld.resident("HX-YYL-YJ-03", "tenant")]
    pj = await nworld.resident("HX-YYL-PJ-01")
    other_district = await nworld.resident("NK-XF-XY-01")
    state, broadcast = await approve(nworld, await draft(nworld))
    assert state == "published"
    assert await nworld.queued(broadcast) == set(yj)
    reached = await nworld.reached(broadcast)
    assert pj not in reached and other_district not in reached  # never even a skipped row
    async with nworld.db.transaction() as session:
        b = await session.get(Broadcast, broadcast)
    assert b.category == "notice" and b.link.startswith(f"{BASE_URL}/n/") and "物业费" in b.title
    assert b.summary == "2026年10月收支\n详见下表。"


async def test_street_notice_reaches_all_its_communities_estate_notice_only_the_estate(nworld):
    yj1, yj2 = await nworld.resident("HX-YYL-YJ-01"), await nworld.resident("HX-YYL-YJ-02")
    pj = await nworld.resident("HX-YYL-PJ-02")
    ls = await nworld.resident("HX-MJ-LS-01")
    street = await draft(nworld, "youyilu", level="street", ids=[nworld.street["HX-YYL"]], category="general")
    _, broadcast = await approve(nworld, street, "hexi")
    assert await nworld.queued(broadcast) == {yj1, yj2, pj}
    estate = await draft(nworld, level="estate", ids=[nworld.estate["HX-YYL-YJ-02"]], category="property")
    _, broadcast = await approve(nworld, estate)
    assert await nworld.queued(broadcast) == {yj2}
    assert ls not in await nworld.reached(broadcast)


async def test_owner_only_notice_skips_tenants(nworld):
    owner, tenant = await nworld.resident("HX-YYL-YJ-01"), await nworld.resident("HX-YYL-YJ-01", "tenant")
    _, broadcast = await approve(nworld, await draft(nworld, category="committee", roles=["owner"]))
    assert await nworld.queued(broadcast) == {owner} and tenant not in await nworld.reached(broadcast)


async def test_muted_residents_are_skipped_per_category(nworld):
    keen, muted_notices, muted_meetings = [await nworld.resident("HX-YYL-YJ-01") for _ in range(3)]
    async with nworld.db.transaction() as session:
        await deliveries.mute(session, muted_notices, "notice", NOW)
        await deliveries.mute(session, muted_meetings, "meeting", NOW)
    _, broadcast = await approve(nworld, await draft(nworld))
    reached = await nworld.reached(broadcast)
    assert reached[muted_notices] == ("skipped", "muted")
    assert reached[keen][0] == reached[muted_meetings][0] == "queued"


async def test_jurisdiction_is_enforced(nworld):
    with pytest.raises(Forbidden):  # a community worker cannot publish to the neighbouring community
        await draft(nworld, ids=[nworld.community["HX-YYL-PJ"]])
    with pytest.raises(Forbidden):  # ... nor to a whole street that includes their own
        await draft(nworld, level="street", ids=[nworld.street["HX-YYL"]])
    with pytest.raises(Forbidden):  # a district outside Hexi
        await draft(nworld, "hexi", level="district", ids=[nworld.district["NK"]])
    with pytest.raises(Forbidden):
        await draft(nworld, "hexi", level="all", ids=[])
    with pytest.raises(NoticeError, match="找不到"):
        await draft(nworld, ids=[999999])
    notice = await draft(nworld)
    nankai, pingjiang = await nworld.actor("nankai"), await nworld.actor("pingjiang")
    with pytest.raises(Forbidden):  # another district's staff cannot approve it
        async with nworld.db.transaction() as session:
            await service.approve(session, nankai, await repo.get(session, notice), now=NOW, base_url=BASE_URL)
    with pytest.raises(service.NotFound):  # another community does not even see the draft
        async with nworld.db.transaction() as session:
            await service.load(session, notice, pingjiang)


async def test_four_eyes_and_levels(nworld):
    notice = await draft(nworld)
    with pytest.raises(Forbidden, match="自己撰写"):
        await approve(nworld, notice, "yijing")
    subsidy = await draft(nworld, category="subsidy")
    with pytest.raises(Forbidden, match="街道"):
        await approve(nworld, subsidy, "yijing")
    assert (await approve(nworld, subsidy, "youyilu"))[0] == "published"
    assert (await approve(nworld, notice, "yijing", four=False))[0] == "published"
    with pytest.raises(NoticeError, match="不能审核发布"):
        await approve(nworld, notice)


async def test_scheduled_publication_with_a_controlled_clock(nworld):
    resident = await nworld.resident("HX-YYL-YJ-01")
    notice = await draft(nworld)
    at = NOW + timedelta(hours=22)  # 08:00 the next morning in Tianjin
    state, broadcast = await approve(nworld, notice, publish_at=at)
    assert state == "scheduled" and broadcast is None
    assert await publish_scheduled(nworld.services, NOW + timedelta(hours=21)) == []
    async with nworld.db.transaction() as session:
        assert (await repo.for_resident(session, community_id=nworld.community["HX-YYL-YJ"], estate_id=None,
                                        role="owner")) == []  # not visible before its time
    assert await publish_scheduled(nworld.services, at + timedelta(seconds=30)) == [notice]
    assert await publish_scheduled(nworld.services, at + timedelta(seconds=90)) == []  # idempotent sweep
    async with nworld.db.transaction() as session:
        n = await repo.get(session, notice)
        assert n.state == "published" and n.published_at == at + timedelta(seconds=30)
        broadcasts = await repo.broadcasts_of(session, notice)
    assert len(broadcasts) == 1 and await nworld.queued(broadcasts[0].id) == {resident}


async def _mark_sent(world, broadcast_id, resident_ids):
    await world.reached(broadcast_id)
    async with world.db.transaction() as session:
        await session.execute(update(Delivery).where(Delivery.broadcast_id == broadcast_id,
                                                     Delivery.resident_id.in_(resident_ids)).values(status="sent"))
        await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(status="done"))


async def test_correction_keeps_versions_and_tells_those_who_received_it(nworld):
    got_it, missed = await nworld.resident("HX-YYL-YJ-01"), await nworld.resident("HX-YYL-YJ-02")
    await nworld.resident("HX-YYL-PJ-01")
    notice = await draft(nworld, tables=[FINANCE])
    _, first = await approve(nworld, notice)
    await _mark_sent(nworld, first, [got_it])
    actor = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        n = await service.load(session, notice, actor)
        with pytest.raises(NoticeError, match="更正的内容和原因"):
            await service.correct(session, actor, n, title="x", body="y", tables=None, note=" ", now=NOW,
                                  base_url=BASE_URL)
        fixed = dict(FINANCE, rows=[["物业费", "12000", ""], ["电梯维修", "", "800.50"]])
        version = await service.correct(session, actor, n, title="10月物业费收支公示（更正）", body="详见下表。",
                                        tables=[fixed], note="电梯维修支出应为 800.50 元",
                                        now=NOW + timedelta(hours=1), base_url=BASE_URL)
        assert version.published_at is None and n.version == 1  # waits for a second person
    await approve_correction(nworld, notice, "hexi")
    async with nworld.db.transaction() as session:
        version = (await repo.get(session, notice)).versions[1]
        assert version.version == 2 and version.recipients == 1
    async with nworld.db.transaction() as session:
        n = await repo.get(session, notice)
        assert n.state == "corrected" and [v.version for v in n.versions] == [1, 2]
        assert n.versions[0].tables[0]["rows"][1][2] == "8000.50"  # the old version is kept as published
        assert n.versions[1].tables[0]["rows"][1][2] == "800.50"
        b = await session.get(Broadcast, n.versions[1].broadcast_id)
    assert b.title.startswith("【更正】") and "800.50" in b.text
    assert await nworld.queued(b.id) == {got_it} and missed not in await nworld.reached(b.id)


async def test_correction_while_the_first_push_is_still_sending_replaces_it(nworld):
    residents = {await nworld.resident("HX-YYL-YJ-01"), await nworld.resident("HX-YYL-YJ-02")}
    notice = await draft(nworld)
    _, first = await approve(nworld, notice)
    actor = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        version = await service.correct(session, actor, await service.load(session, notice, actor), title="更正",
                                        body="正文", tables=None, note="日期有误", now=NOW, base_url=BASE_URL,
                                        four=False)  # a deployment without four eyes publishes at once
    async with nworld.db.transaction() as session:
        assert (await session.get(Broadcast, first)).status == "cancelled"
    assert await nworld.queued(version.broadcast_id) == residents  # the whole scope gets the corrected version


async def approve_correction(world, notice_id, approver):
    actor = await world.actor(approver)
    async with world.db.transaction() as session:
        notice = await service.load(session, notice_id, actor)
        return await service.approve_correction(session, actor, notice, now=NOW + timedelta(hours=2),
                                                base_url=BASE_URL)


async def test_four_eyes_the_meeting_category_is_no_way_around_it(nworld):
    """Security issue 15.9: choosing the exempt category does not let an author publish their own text; only minutes
    a recorded meeting produced skip the second person."""
    notice = await draft(nworld, category="meeting", title="关于停车费上调的说明")
    with pytest.raises(Forbidden, match="另一位工作人员"):
        await approve(nworld, notice, "yijing")
    state, _ = await approve(nworld, notice, "youyilu")
    assert state == "published"


async def test_four_eyes_every_correction_needs_a_second_person_and_the_record_names_who_approved_which_version(
        nworld):
    await nworld.resident("HX-YYL-YJ-01")
    notice = await draft(nworld)
    await approve(nworld, notice, "youyilu")
    writer = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        n = await service.load(session, notice, writer)
        await service.correct(session, writer, n, title="10月物业费收支公示", body="金额改为 9000 元。", tables=None,
                              note="改金额", now=NOW, base_url=BASE_URL)
        with pytest.raises(Conflict):  # one waiting correction at a time
            await service.correct(session, writer, n, title="x", body="y", tables=None, note="z", now=NOW,
                                  base_url=BASE_URL)
    with pytest.raises(Forbidden, match="另一位工作人员"):
        await approve_correction(nworld, notice, "youyilu")  # the writer cannot approve their own correction
    async with nworld.db.transaction() as session:  # residents still see version 1 only
        n = await repo.get(session, notice)
        assert n.version == 1 and n.state == "published" and n.approver == "staff:youyilu"
    await approve_correction(nworld, notice, "hexi")
    async with nworld.db.transaction() as session:
        n = await repo.get(session, notice)
        first, second = n.versions
        assert (first.created_by, first.approved_by) == ("staff:yijing", "staff:youyilu")
        assert (second.created_by, second.approved_by) == ("staff:youyilu", "staff:hexi")
        assert n.version == 2 and n.state == "corrected" and n.approver == "staff:hexi"


async def test_a_waiting_correction_can_be_discarded(nworld):
    notice = await draft(nworld)
    await approve(nworld, notice, "youyilu")
    actor = await nworld.actor("youyilu")
    async with nworld.db.transaction() as session:
        n = await service.load(session, notice, actor)
        await service.correct(session, actor, n, title="t", body="b", tables=None, note="n", now=NOW,
                              base_url=BASE_URL)
        await service.discard_correction(session, actor, n, now=NOW)
    async with nworld.db.transaction() as session:
        assert [v.version for v in (await repo.get(session, notice)).versions] == [1]


async def test_withdrawal_stops_pushes_and_hides_it(nworld):
    await nworld.resident("HX-YYL-YJ-01")
    notice = await draft(nworld)
    _, broadcast = await approve(nworld, notice)
    actor = await nworld.actor("yijing")  # the author may withdraw (no four-eyes for stopping a mistake)
    async with nworld.db.transaction() as session:
        n = await service.load(session, notice, actor)
        with pytest.raises(NoticeError, match="原因"):
            await service.withdraw(session, actor, n, reason="", now=NOW)
        await service.withdraw(session, actor, n, reason="金额有误，核对后重新公示", now=NOW)
    async with nworld.db.transaction() as session:
        assert (await session.get(Broadcast, broadcast)).status == "cancelled"
        assert await repo.for_resident(session, community_id=nworld.community["HX-YYL-YJ"], estate_id=None,
                                       role="owner") == []
        n = await repo.get(session, notice)
        assert n.state == "withdrawn" and n.withdraw_reason.startswith("金额有误")
        with pytest.raises(NoticeError, match="已撤回"):
            await service.withdraw(session, actor, n, reason="again", now=NOW)


async def test_community_staff_cannot_correct_or_withdraw_a_street_notice(nworld):
    notice = await draft(nworld, "youyilu", level="street", ids=[nworld.street["HX-YYL"]], category="general")
    await approve(nworld, notice, "hexi")
    actor = await nworld.actor("yijing")
    async with nworld.db.transaction() as session:
        n = await service.load(session, notice, actor)  # visible: it reaches their residents
        with pytest.raises(Forbidden):
            await service.withdraw(session, actor, n, reason="不对", now=NOW)
        with pytest.raises(Forbidden):
            await service.correct(session, actor, n, title="t", body="b", tables=None, note="n", now=NOW,
                                  base_url=BASE_URL)


async def test_publish_system_notice_for_other_features(nworld):
    resident = await nworld.resident("HX-MJ-LS-02")
    async with nworld.db.transaction() as session:
        notice = await service.publish_system_notice(
            session, category="general", title="2026年满意度调查结果", body="参与 312 户，满意率 91%。",
            scope_level="community", scope_ids=[nworld.community["HX-MJ-LS"]], author="system:surveys",
            source="survey:7", tables=[{"columns": ["项目", "满意率"], "rows": [["保洁", "93%"]]}], now=NOW,
            settings=nworld.services.settings)
        assert notice.state == "published" and notice.source == "survey:7" and notice.approver == "system:surveys"
        bid = service.current(notice).broadcast_id
        b = await session.get(Broadcast, bid)
        assert b.link == f"{BASE_URL}/n/{notice.public_id}"
    assert await nworld.queued(bid) == {resident}


async def test_bad_input_is_explained(nworld):
    for kw, message in ((dict(title=" "), "标题"), (dict(category="weather"), "类别"),
                        (dict(tables=[{"columns": ["项目", "金额"], "rows": [["a", "x"]], "money": [0, 1]}]), "金额"),
                        (dict(level="planet"), "范围层级"), (dict(roles=["landlord"]), "业主")):
        with pytest.raises(NoticeError, match=message):
            await draft(nworld, **kw)
    async with nworld.db.transaction() as session:
        assert (await session.execute(select(Broadcast))).first() is None
