"""Joint meetings: record → close → publish a 联席会议纪要 notice with only the items that concern residents;
carried-over and overdue follow-ups; reminders 3 and 7 days after closing; the monthly missing-meeting reminder
(console item + push to staff who linked WeChat); `linli meeting missing`."""
from __future__ import annotations

import argparse
import contextlib
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from bot.settings import SettingsError
from handlers.notices import meetings, service
from handlers.notices.cli import add_subcommands
from handlers.notices.jobs import missing_meetings, summary_reminders
from handlers.notices.service import Forbidden, NoticeError
from storage.delivery_models import Broadcast
from storage.models import Staff
from storage.notice_models import MeetingReminder
from storage.repositories import meetings as repo
from storage.repositories import notices as notice_repo
from tests.conftest import in_thread
from tests.notices.conftest import BASE_URL, NOW

ATTENDEES = [{"role": "居委会", "name": "王丽", "organisation": "谊景社区居委会"},
             {"role": "物业服务企业", "name": "李强", "organisation": "津安物业服务有限公司"},
             {"role": "业委会", "name": "陈刚"}, {"role": "居民代表", "name": "赵敏敏"}]


async def record(world, *, held_on="2026-11-05", author="yijing", community="HX-YYL-YJ", items=(), close=True):
    actor = await world.actor(author)
    async with world.db.transaction() as session:
        m = await meetings.create_meeting(session, actor, community_id=world.community[community], held_on=held_on,
                                          chair="王丽", location="社区议事厅", attendees=ATTENDEES, now=NOW)
        for item in items:
            await meetings.add_item(session, actor, m, **item)
        if close:
            await meetings.close(session, actor, m, minutes="会议记录全文……", attendee_count=None, now=NOW)
        return m.id


ITEMS = [dict(topic="3号楼电梯更换", discussion="电梯运行 18 年，故障频繁。", decision="使用维修资金更换，业委会组织表决。",
              concerns_residents=True, followup="组织业主表决", followup_owner="业委会", followup_due="2026-11-30"),
         dict(topic="物业人员排班", discussion="内部事项。", decision="物业调整排班。", concerns_residents=False)]


async def publish(world, meeting_id, author="yijing", now=NOW):
    actor = await world.actor(author)
    async with world.db.transaction() as session:
        m = await meetings.load(session, meeting_id, actor)
        notice = await meetings.publish(session, actor, m, now=now, base_url=BASE_URL)
        return notice.id


async def test_meeting_to_notice_publishes_only_items_that_concern_residents(nworld):
    resident = await nworld.resident("HX-YYL-YJ-02")
    other = await nworld.resident("HX-YYL-PJ-01")
    mid = await record(nworld, items=ITEMS)
    notice_id = await publish(nworld, mid)
    async with nworld.db.transaction() as session:
        notice = await notice_repo.get(session, notice_id)
        version = service.current(notice)
        m = await repo.get(session, mid)
        b = await session.get(Broadcast, version.broadcast_id)
    assert notice.category == "meeting" and notice.state == "published" and notice.source == f"meeting:{mid}"
    assert version.title == "谊景社区2026年11月物业管理工作联席会议纪要"
    assert "3号楼电梯更换" in version.body and "业委会负责，11月30日前完成" in version.body
    assert "物业人员排班" not in version.body  # internal item stays internal
    assert "赵敏敏" not in version.body and "居民代表 1 人" in version.body and "共 4 人" in version.body
    assert m.state == "published" and m.notice_id == notice_id and m.attendee_count == 4
    assert b.category == "meeting"
    assert await nworld.queued(b.id) == {resident} and other not in await nworld.reached(b.id)


async def test_publish_refusals(nworld):
    internal = await record(nworld, held_on="2026-11-01", items=ITEMS[1:])
    with pytest.raises(NoticeError, match="涉及居民"):
        await publish(nworld, internal)
    open_meeting = await record(nworld, items=ITEMS, close=False)
    with pytest.raises(NoticeError, match="请先结束会议"):
        await publish(nworld, open_meeting)
    with pytest.raises(Forbidden):  # another community's worker
        await record(nworld, author="pingjiang")
    actor = await nworld.actor("pingjiang")
    async with nworld.db.transaction() as session:
        with pytest.raises(service.NotFound):
            await meetings.load(session, internal, actor)
    with pytest.raises(NoticeError, match="身份"):
        a = await nworld.actor("yijing")
        async with nworld.db.transaction() as session:
            await meetings.create_meeting(session, a, community_id=nworld.community["HX-YYL-YJ"],
                                          held_on="2026-11-05", chair="王丽", attendees=[{"role": "路人", "name": "x"}],
                                          now=NOW)


async def test_follow_ups_carry_over_and_show_when_overdue(nworld):
    first = await record(nworld, held_on="2026-10-15", items=ITEMS)
    yj = nworld.community["HX-YYL-YJ"]
    async with nworld.db.transaction() as session:
        assert await repo.overdue(session, date(2026, 11, 30)) == []  # due that day: not yet overdue
        late = await repo.overdue(session, date(2026, 12, 1))
        assert [(i.topic, m.id) for i, m, _ in late] == [("3号楼电梯更换", first)]
    second = await record(nworld, held_on="2026-11-12", close=False)
    async with nworld.db.transaction() as session:
        m = await repo.get(session, second)
        carried = m.items[0]
        assert carried.topic == "上次会议待落实：3号楼电梯更换" and carried.carried_from_id is not None
        late = await repo.overdue(session, date(2026, 12, 1), communities=select_ids([yj]))
        assert [(i.id, mm.id) for i, mm, _ in late] == [(carried.id, second)]  # only the latest copy
        assert await repo.overdue(session, date(2026, 12, 1), communities=select_ids([nworld.community["HX-YYL-PJ"]])
                                  ) == []
    actor = await nworld.actor("yijing")
    async with nworld.db.transaction() as session:
        await meetings.complete_followup(session, actor, carried.id, note="已完成表决", now=NOW)
    async with nworld.db.transaction() as session:
        assert await repo.overdue(session, date(2026, 12, 1)) == []
        original = (await repo.get(session, first)).items[0]
        assert original.followup_done_at is not None and original.followup_note == "已完成表决"
    third = await record(nworld, held_on="2026-12-10", close=False)
    async with nworld.db.transaction() as session:
        assert (await repo.get(session, third)).items == []  # nothing open any more


def select_ids(ids):
    from sqlalchemy import literal, union_all

    return union_all(*[select(literal(i)) for i in ids])


async def _link_wechat(world, username: str, openid: str) -> int:
    resident = await world.resident("HX-YYL-YJ-01", openid=openid)
    async with world.db.transaction() as session:
        await session.execute(update(Staff).where(Staff.username == username).values(openid=openid))
    return resident


async def test_summary_reminders_after_3_and_7_days(nworld):
    staff_resident = await _link_wechat(nworld, "yijing", "o_staff_yijing")
    mid = await record(nworld, items=ITEMS)  # closed at NOW
    services = nworld.services
    assert await summary_reminders(services, NOW + timedelta(days=2, hours=23)) == 0
    assert await summary_reminders(services, NOW + timedelta(days=3, minutes=1)) == 1
    assert await summary_reminders(services, NOW + timedelta(days=4)) == 0  # once per stage
    assert await summary_reminders(services, NOW + timedelta(days=7, minutes=1)) == 1
    assert await summary_reminders(services, NOW + timedelta(days=9)) == 0
    async with nworld.db.transaction() as session:
        rows = list(await session.scalars(select(MeetingReminder).order_by(MeetingReminder.id)))
        pushes = list(await session.scalars(select(Broadcast).where(Broadcast.source.like("meeting-reminder:%"))))
    assert [r.key for r in rows] == [f"summary:{mid}:1", f"summary:{mid}:2"] and all(r.pushed == 1 for r in rows)
    assert "已结束 3 天" in rows[0].text and "已结束 7 天" in rows[1].text
    assert [p.scope["residents"] for p in pushes] == [[staff_resident], [staff_resident]]
    await publish(nworld, mid, now=NOW + timedelta(days=9))
    async with nworld.db.transaction() as session:
        assert await repo.reminders(session, None) == []  # published: the reminders are done


async def test_monthly_missing_meeting_reminder(nworld):
    staff_resident = await _link_wechat(nworld, "yijing", "o_staff_yj2")
    services = nworld.services
    await record(nworld, community="HX-YYL-PJ", author="pingjiang", held_on="2026-11-03")
    day19 = NOW.replace(day=19)
    assert await missing_meetings(services, day19) == 0  # before the reminder day
    day20 = NOW.replace(day=20, hour=1)  # 09:00 in Tianjin
    assert await missing_meetings(services, day20) == 4  # YJ, LS, FS (Hexi) and XY (Nankai); PJ met
    assert await missing_meetings(services, day20 + timedelta(hours=24)) == 0  # once a month
    async with nworld.db.transaction() as session:
        rows = {r.community_id: r for r in await session.scalars(select(MeetingReminder))}
        pushes = list(await session.scalars(select(Broadcast).where(Broadcast.source.like("meeting-missing:%"))))
    assert nworld.community["HX-YYL-PJ"] not in rows and nworld.community["HX-YYL-YJ"] in rows
    assert rows[nworld.community["HX-YYL-YJ"]].pushed == 1 and rows[nworld.community["HX-MJ-LS"]].pushed == 0
    assert [p.scope["residents"] for p in pushes] == [[staff_resident]]
    await record(nworld, held_on="2026-11-21")  # YJ holds its meeting: its reminder is done
    async with nworld.db.transaction() as session:
        open_ids = {r.community_id for r, _ in await repo.reminders(session, None)}
    assert nworld.community["HX-YYL-YJ"] not in open_ids and nworld.community["HX-MJ-LS"] in open_ids
    with pytest.raises(SettingsError, match="1–28"):
        services.settings.with_env({"LINLI_MEETING_REMINDER_DAY": "31"})


async def test_cli_meeting_missing(nworld, monkeypatch):
    await record(nworld, held_on="2026-11-03")
    monkeypatch.setenv("LINLI_DATABASE_URL", nworld.services.settings.database_url)
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="command"))

    def run(argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            args = parser.parse_args(argv)
            code = args.func(args)
        return code, out.getvalue()

    code, out = in_thread(run, ["meeting", "missing", "--month", "2026-11"])
    assert code == 0 and "HX-MJ-LS" in out and "蓝水社区" in out and "HX-YYL-YJ" not in out
    code, out = in_thread(run, ["meeting", "missing", "--month", "2026-10"])
    assert "HX-YYL-YJ" in out
    code, out = in_thread(run, ["meeting", "list"])
    assert code == 0 and "2026-11-03" in out and "谊景社区" in out
    code, out = in_thread(run, ["meeting", "missing", "--month", "2026-13"])
    assert code == 2
