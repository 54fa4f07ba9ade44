"""Residents binding and leaving, through the real webhook."""
from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Conversation, ProcessedMessage, Resident


async def test_bind_dialog_by_numbers(bot):
    openid = "o_bind_0001"
    first = await bot.say(openid, "绑定")
    assert "请选择您所在的街道" in first
    await bot.dialog(openid, [
        ("1", "请选择您所在的社区"),
        ("1", "请选择您居住的小区"),
        ("2", "业主"),
        ("1", "楼号和房号"),
        ("3-2-501", "请核对"),
        ("确认", "绑定成功"),
    ])
    async with bot.services.db.transaction() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == openid))
    assert resident.community_id is not None and resident.estate_id is not None
    assert (resident.building, resident.room) == ("3", "2-501")
    assert resident.role.value == "owner" and resident.consent_at is not None
    info = await bot.say(openid, "我的信息")
    assert "友谊路街道" in info and "业主" in info and "3-2-501" in info


async def test_wrong_number_gets_a_hint_and_cancel_leaves(bot):
    openid = "o_bind_0002"
    await bot.say(openid, "绑定")
    hint = await bot.say(openid, "99")
    assert "请回复 1 到" in hint
    assert "已取消" in await bot.say(openid, "取消")
    assert "当前没有正在进行的操作" in await bot.say(openid, "取消")


async def test_scan_community_poster_binds_to_that_community(bot):
    openid = "o_scan_0001"
    response = await bot.sim.event(openid, "subscribe", "qrscene_HX-YYL-YJ")
    assert "谊景社区" in response.text and "请选择您居住的小区" in response.text
    await bot.dialog(openid, [("1", "业主"), ("2", "楼号"), ("跳过", "请核对"), ("确认", "绑定成功")])
    async with bot.services.db.transaction() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == openid))
    assert resident.role.value == "tenant" and resident.room is None


async def test_a_question_in_the_middle_of_the_list_is_answered_not_met_with_the_list_again(bot):
    # a newcomer who scanned the poster asks something instead of picking an estate: the question is answered
    # (the binding dialog ends; 「绑定」 starts it again), while a wrong or unclear pick still gets the list
    openid = "o_scan_0002"
    await bot.sim.event(openid, "subscribe", "qrscene_HX-YYL-YJ")
    assert "请回复 1 到" in await bot.say(openid, "5")
    assert "请回复 1 到" in await bot.say(openid, "嗯")
    reply = await bot.say(openid, "维修基金怎么用")
    assert "请回复 1 到" not in reply and "维修" in reply, reply
    assert "请回复 1 到" not in await bot.say(openid, "1")  # the dialog is over: 1 picks nothing now
    assert "请回复数字" in await bot.say(openid, "绑定")  # it starts afresh
    assert "请回复 1 到" in await bot.say(openid, "选第9个")  # an ordinal is a pick, if a wrong one
    assert "请回复 1 到" not in await bot.say(openid, "我想问一下楼道里的垃圾谁管")  # moved on from that list too
    await bot.sim.event(openid, "SCAN", "HX-YYL-YJ")
    await bot.dialog(openid, [("1", "业主")])
    assert "请回复 1（业主）或 2（租户）" in await bot.say(openid, "3")
    assert "请回复 1（业主）或 2（租户）" not in await bot.say(openid, "我想先问问物业费怎么交")  # the role step as well


async def test_unfollow_erases_personal_data(bot):
    openid = "o_leave_0001"
    await bot.say(openid, "绑定")
    await bot.sim.event(openid, "unsubscribe")
    async with bot.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Resident).where(Resident.openid == openid)) == 0
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
        left = await session.scalar(
            select(func.count()).select_from(ProcessedMessage).where(ProcessedMessage.openid == openid)
        )
    assert left == 0


async def test_erase_on_request_needs_confirmation(bot):
    openid = "o_erase_0001"
    await bot.say(openid, "绑定")
    await bot.say(openid, "取消")
    assert "确认删除" in await bot.say(openid, "删除我的信息")
    assert "如确需删除" in await bot.say(openid, "好")
    assert "已全部删除" in await bot.say(openid, "确认删除")
    async with bot.services.db.transaction() as session:
        assert await session.scalar(select(Resident).where(Resident.openid == openid)) is None
