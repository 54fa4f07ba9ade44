"""A linked staff member works from WeChat: 待办, 签收, 回复, 办结 (with a photo as evidence), 退单 — through the
console's ticket service and jurisdiction. Residents never see these words in 帮助, and a resident typing them
gets the ordinary resident answer."""
from __future__ import annotations

import re

from sqlalchemy import select

from storage.ticket_models import Ticket, TicketEvent
from tests.staff.test_pushes import file
from tests.tickets.conftest import bind

STAFF_WORDS = ("待办", "签收", "办结", "退单", "退回")


async def ticket(loop, ticket_id: int) -> Ticket:
    async with loop.services.db.transaction() as session:
        return await session.get(Ticket, ticket_id)


async def events(loop, ticket_id: int) -> list[TicketEvent]:
    async with loop.services.db.transaction() as session:
        return list((await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                            .order_by(TicketEvent.id))).scalars())


async def test_todo_sign_reply_resolve_with_photo(loop):
    await bind(loop.services, "o_res")
    first = await file(loop, "o_res")
    second = await file(loop, "o_res", "投诉 5号楼电梯又坏了，困了人，电话13900002222")
    await loop.link("yijing", "o_yj")
    todo = await loop.bot.say("o_yj", "待办")
    assert "您的待办（2 件）" in todo and first.number in todo and second.number in todo
    assert re.search(r"1\. JF", todo) and "待签收" in todo
    number_of = {first.number: todo.index(first.number), second.number: todo.index(second.number)}
    one = min(number_of, key=number_of.get)  # the ticket listed first (earliest deadline)
    one_id = first.id if one == first.number else second.id
    await loop.bot.dialog("o_yj", [
        ("签收 1", f"工单 {one}："),
        ("签收 1", "不能"),  # already signed: the console's rule, the console's words
        ("回复 1 已联系物业，明天上午维修", "已答复居民"),
    ])
    t = await ticket(loop, one_id)
    assert t.signed_at is not None and t.status == "assigned"
    kinds = [e.kind for e in await events(loop, one_id)]
    assert "reply" in kinds and any(e.text == "已联系物业，明天上午维修" for e in await events(loop, one_id))
    reply = await loop.bot.say("o_yj", f"办结 {one} 灯已更换，已请居民确认")
    assert "已办结" in reply and "照片" in reply
    assert (await ticket(loop, one_id)).status == "resolved"
    photo = (await loop.bot.sim.image("o_yj", "http://pic.example/done.jpg")).text
    assert "办结凭证" in photo and one in photo
    evidence = [e for e in await events(loop, one_id) if e.kind == "note"]
    assert evidence and evidence[-1].data["photos"][0]["pic_url"] == "http://pic.example/done.jpg"
    assert evidence[-1].public is False
    # long after, a photo is no longer evidence (goes to the ordinary handling)
    loop.advance(hours=1)
    later = (await loop.bot.sim.image("o_yj", "http://pic.example/late.jpg")).text or ""
    assert "办结凭证" not in later


async def test_return_needs_a_reason_and_moves_the_ticket_up(loop):
    await bind(loop.services, "o_res")
    t = await file(loop, "o_res")
    await loop.link("yijing", "o_yj")
    await loop.bot.dialog("o_yj", [
        ("待办", t.number),
        ("退单 1", "退单理由"),
        ("退单 1 属于供热公司职责，非社区职责", "已转至"),
    ])
    assert (await ticket(loop, t.id)).level == "street"
    assert "没有待办" in await loop.bot.say("o_yj", "待办")


async def test_refused_outside_the_jurisdiction_exactly_like_the_console(loop):
    await bind(loop.services, "o_res")
    t = await file(loop, "o_res")  # 谊景社区
    await loop.link("lanshui1", "o_ls")  # 蓝水社区: another street
    await loop.link("youyilu", "o_yyl")  # 友谊路街道: sees it, but it is the community's to handle
    for said in (f"签收 {t.number}", f"回复 {t.number} 我们来处理", f"办结 {t.number} 好了",
                 f"退单 {t.number} 不归我们"):
        assert "不在您的辖区内" in await loop.bot.say("o_ls", said)
    assert "没有待办" in await loop.bot.say("o_ls", "待办")
    assert t.number not in await loop.bot.say("o_ls", "待办")
    refused = await loop.bot.say("o_yyl", f"签收 {t.number}")
    assert "请由社区操作" in refused
    fresh = await ticket(loop, t.id)
    assert fresh.status == "received" and fresh.signed_at is None
    assert "不在您的辖区内" in await loop.bot.say("o_ls", "签收 JF20991231-9999")  # unknown: the same answer


async def test_residents_never_see_staff_words_and_get_the_resident_answer(loop):
    await bind(loop.services, "o_res")
    help_text = await loop.bot.say("o_res", "帮助")
    assert not any(word in help_text for word in STAFF_WORDS)
    todo = await loop.bot.say("o_res", "待办")
    assert "您的待办" not in todo and "没有待办" not in todo
    sign = await loop.bot.say("o_res", "签收 1")
    assert "辖区" not in sign and "已签收" not in sign and "请写明工单序号" not in sign
    back = await loop.bot.say("o_res", "退回 1 没修好")
    assert "辖区" not in back and "已退回" not in back and "退回理由" not in back
    await loop.link("yijing", "o_yj")
    staff_help = await loop.bot.say("o_yj", "帮助")
    assert all(word in staff_help for word in STAFF_WORDS) and "您可以直接发送以下文字" in staff_help


async def test_a_staff_member_with_a_published_password_must_change_it_first(loop):
    await bind(loop.services, "o_res")
    await file(loop, "o_res")
    await loop.link("yijing", "o_yj")
    from sqlalchemy import update

    from storage.models import Staff
    async with loop.services.db.transaction() as session:
        await session.execute(update(Staff).where(Staff.username == "yijing").values(must_change_password=True))
    assert "修改初始密码" in await loop.bot.say("o_yj", "签收 1")
    assert "修改初始密码" in await loop.bot.say("o_yj", "待办")


async def test_staff_commands_leave_the_residents_dialog_alone(loop):
    from storage.models import Conversation
    await bind(loop.services, "o_both")
    await loop.link("yijing", "o_both")
    assert "请选择投诉类别" in await loop.bot.say("o_both", "投诉")
    # inside the resident's dialog the words are the dialog's input, not staff commands: the dialog goes on
    assert "您的待办" not in await loop.bot.say("o_both", "待办")
    async with loop.services.db.transaction() as session:
        state = (await session.get(Conversation, "o_both")).state
    assert state.startswith("tickets.")
    await loop.bot.say("o_both", "取消")
    assert "没有待办" in await loop.bot.say("o_both", "待办")
    async with loop.services.db.transaction() as session:
        assert await session.get(Conversation, "o_both") is None  # the staff word opened no dialog
