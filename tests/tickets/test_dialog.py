"""The resident's side in chat: the filing dialog step by step and in one message, cancel, photos, location,
phone masking, duplicates, 我的投诉 and 查询."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.simulator import message_xml
from storage.ticket_models import Ticket, TicketEvent
from tests.tickets.conftest import bind

NUMBER = re.compile(r"JF20261126-\d{4}")


async def all_tickets(bot) -> list[Ticket]:
    async with bot.services.db.transaction() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def test_step_by_step_with_photos_location_and_masked_phone(tbot):
    await bind(tbot.services, "o_step")
    await tbot.dialog("o_step", [
        ("投诉", "请选择投诉类别"),
        ("2", "请描述问题"),
        ("3号楼2单元楼道灯坏了三天了", "照片或位置"),
    ])
    assert "第 1 张照片" in (await tbot.sim.image("o_step", "http://pic.example/1.jpg")).text
    assert "第 2 张照片" in (await tbot.sim.image("o_step", "http://pic.example/2.jpg")).text
    loc = message_xml("o_step", "location", {"Location_X": "39.0851", "Location_Y": "117.1994", "Scale": "15",
                                             "Label": "天津市河西区谊景花园3号楼"})
    assert "谊景花园3号楼" in (await tbot.sim.post(loc)).text
    await tbot.dialog("o_step", [
        ("好了", "手机号"),
        ("我的电话是13812345678", "138****5678"),
    ])
    reply = await tbot.say("o_step", "确认")
    assert "已受理" in reply and NUMBER.search(reply) and "前签收" in reply
    assert "2026-11-27 10:00" in reply  # one working day to sign (Thursday → Friday)
    assert "2026-12-07 10:00" in reply  # seven working days to resolve at the community
    [ticket] = await all_tickets(tbot)
    assert ticket.category == "repair" and ticket.level == "community" and ticket.status == "received"
    assert [p["pic_url"] for p in ticket.photos] == ["http://pic.example/1.jpg", "http://pic.example/2.jpg"]
    assert all(p["media_id"] for p in ticket.photos)
    assert ticket.location["label"] == "天津市河西区谊景花园3号楼" and ticket.location["lat"] == 39.0851
    assert ticket.phone == "13812345678" and ticket.phone_masked == "138****5678"
    async with tbot.services.db.transaction() as session:
        texts = [e.text for e in (await session.execute(select(TicketEvent))).scalars()]
    assert not any("13812345678" in t for t in texts)
    listing = await tbot.say("o_step", "我的投诉")
    assert ticket.number in listing and "已受理" in listing and "13812345678" not in listing
    shown = await tbot.say("o_step", f"查询 {ticket.number}")
    assert "138****5678" in shown and "13812345678" not in shown and "受理" in shown


async def test_one_message_asks_only_for_what_is_missing(tbot):
    await bind(tbot.services, "o_quick")
    reply = await tbot.say("o_quick", "投诉 楼道灯坏了三天了，电话13900001111")
    assert "请核对" in reply and "维修" in reply and "139****1111" in reply  # nothing asked
    assert "照片" in reply  # photos may still be added at the confirmation
    reply = (await tbot.sim.image("o_quick")).text
    assert "第 1 张照片" in reply and "照片：1 张" in reply
    assert "已受理" in await tbot.say("o_quick", "确认")
    # unclear category: asked for it, the description is kept
    reply = await tbot.say("o_quick", "投诉 这个事情拖了很久一直没人管")
    assert "请选择投诉类别" in reply and "已记下您的描述" in reply
    assert "请核对" in await tbot.say("o_quick", "9")
    assert "已受理" in await tbot.say("o_quick", "确认")
    assert len(await all_tickets(tbot)) == 2


async def test_cancel_midway_files_nothing_and_bad_input_is_explained(tbot):
    await bind(tbot.services, "o_cancel")
    await tbot.dialog("o_cancel", [
        ("投诉", "请选择投诉类别"),
        ("12", "请回复 1 到 9"),
        ("1", "请描述问题"),
        ("灯", "描述太短"),
        ("取消", "已取消"),
    ])
    assert await all_tickets(tbot) == []
    assert "请先回复「绑定」" not in await tbot.say("o_cancel", "我的投诉")


async def test_unbound_resident_is_asked_to_bind_first(tbot):
    reply = await tbot.say("o_unbound", "投诉 电梯坏了")
    assert "绑定" in reply
    assert await all_tickets(tbot) == []


async def test_same_complaint_twice_points_to_the_existing_ticket(tbot):
    await bind(tbot.services, "o_dup")
    await tbot.say("o_dup", "投诉 5号楼电梯坏了一周了没人修")
    first = NUMBER.search(await tbot.say("o_dup", "确认")).group(0)
    await tbot.say("o_dup", "投诉 5号楼电梯坏了一周了 没人修！")
    reply = await tbot.say("o_dup", "确认")
    assert first in reply and "无需重复提交" in reply
    assert len(await all_tickets(tbot)) == 1
    assert "已受理" in await tbot.say("o_dup", "仍要提交")
    assert len(await all_tickets(tbot)) == 2


async def test_questions_about_complaints_are_left_to_the_qa(tbot):
    reply = await tbot.say("o_question", "投诉物业找谁？")
    assert "请选择投诉类别" not in reply and "请核对" not in reply


async def test_other_residents_ticket_is_not_shown(tbot):
    await bind(tbot.services, "o_owner")
    await bind(tbot.services, "o_other")
    await tbot.say("o_owner", "投诉 小区垃圾堆了好几天没人清理")
    number = NUMBER.search(await tbot.say("o_owner", "确认")).group(0)
    reply = await tbot.say("o_other", f"查询 {number}")
    assert "没有找到" in reply and "垃圾" not in reply


async def _staff(tbot, number, action, username="yijing", **params):
    from handlers.tickets import service
    from storage.repositories import tickets as repo
    from tests.tickets.conftest import staff_actor
    async with tbot.services.db.transaction() as session:
        ticket = await repo.by_number(session, number)
        await service.perform(session, tbot.services, ticket, action, await staff_actor(session, username),
                              tbot.services.clock(), **params)


async def test_rating_reopen_then_escalation_in_chat(tbot):
    await bind(tbot.services, "o_rate")
    await tbot.say("o_rate", "投诉 楼道灯坏了三天了")
    number = NUMBER.search(await tbot.say("o_rate", "确认")).group(0)
    assert "3号楼" not in await tbot.say("o_rate", "3号楼的灯")  # not a rating: nothing awaits one
    await _staff(tbot, number, "sign")
    await _staff(tbot, number, "resolve", text="已更换灯泡")
    reply = await tbot.say("o_rate", "2 还是不亮")
    assert "重新办理" in reply and number in reply
    await _staff(tbot, number, "resolve", text="已更换线路")
    reply = await tbot.say("o_rate", "不满意")
    assert f"升级 {number}" in reply and "友谊路街道" in reply
    assert "升级" in await tbot.say("o_rate", f"查询 {number}")
    reply = await tbot.say("o_rate", f"升级 {number}")
    assert "友谊路街道" in reply
    [ticket] = await all_tickets(tbot)
    assert (ticket.level, ticket.status, ticket.rating) == ("street", "escalated", 2)


async def test_good_rating_closes_and_supplement_resumes(tbot):
    await bind(tbot.services, "o_good")
    await tbot.say("o_good", "投诉 地下车库顶上水管漏水很严重")
    number = NUMBER.search(await tbot.say("o_good", "确认")).group(0)
    await _staff(tbot, number, "sign")
    await _staff(tbot, number, "ask", text="请说明是哪个车位附近")
    reply = await tbot.say("o_good", "补充 B2层 108 车位上方")
    assert "已收到您的补充" in reply
    await _staff(tbot, number, "resolve", text="已封堵漏点")
    assert "分" not in await tbot.say("o_good", "满意度")  # another feature's word, not a rating
    assert (await all_tickets(tbot))[0].status == "resolved"
    reply = await tbot.say("o_good", "5 处理很及时")
    assert "5 分" in reply and "已关闭" in reply
    [ticket] = await all_tickets(tbot)
    assert (ticket.status, ticket.rating, ticket.rating_words) == ("closed", 5, "处理很及时")


async def test_erasing_with_an_open_complaint_warns_first_and_marks_the_ticket(tbot):
    await bind(tbot.services, "o_leave")
    await tbot.say("o_leave", "投诉 楼道灯坏了三天了，电话13900001111")
    number = NUMBER.search(await tbot.say("o_leave", "确认")).group()
    warning = await tbot.say("o_leave", "删除我的信息")
    assert number in warning and "尚未办结" in warning and "无法再联系您" in warning and "确认删除" in warning
    assert "已全部删除" in await tbot.say("o_leave", "确认删除")
    [ticket] = await all_tickets(tbot)
    assert ticket.resident_erased_at is not None and ticket.resident_id is None
    assert ticket.phone is None and ticket.phone_masked is None and "楼道灯" not in ticket.description
    async with tbot.services.db.transaction() as session:
        events = list((await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                             .order_by(TicketEvent.id))).scalars())
    assert events[-1].kind == "erased" and not events[-1].public
    assert not any("楼道灯" in e.text or "13900001111" in e.text for e in events)
    await bind(tbot.services, "o_leave")  # the same person binds again: a new resident, without the old complaint
    assert number not in await tbot.say("o_leave", "我的投诉")


async def test_no_warning_without_an_open_complaint(tbot):
    await bind(tbot.services, "o_calm")
    reply = await tbot.say("o_calm", "删除我的信息")
    assert "确认删除" in reply and "尚未办结" not in reply
