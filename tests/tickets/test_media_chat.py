"""In the chat: a complaint's photo and short video are queued for keeping (ticket_media, source complaint); a
photo sent outside any dialog while one complaint waits for the resident's 补充 becomes that 补充 and is queued
too; with no complaint waiting, a photo is not taken as one."""
from __future__ import annotations

from sqlalchemy import select

from bot.simulator import message_xml
from handlers.tickets import service
from storage.media_models import TicketMedia
from storage.ticket_models import Ticket
from tests.tickets.conftest import NOW, bind, staff_actor


async def media_rows(services) -> list[tuple[str, str, str]]:
    async with services.db.reading() as session:
        return [tuple(r) for r in (await session.execute(
            select(TicketMedia.kind, TicketMedia.source, TicketMedia.status).order_by(TicketMedia.id))).all()]


async def test_complaint_photo_video_and_a_later_supplement_photo_are_queued(tbot):
    await bind(tbot.services, "o_media")
    assert "已收到" not in (await tbot.sim.image("o_media")).text  # nothing waits: not a 补充
    await tbot.dialog("o_media", [("投诉", "请选择投诉类别"), ("2", "请描述问题"), ("3号楼楼道灯坏了三天了", "照片或位置")])
    assert "第 1 张照片" in (await tbot.sim.image("o_media")).text
    video = message_xml("o_media", "shortvideo", {"MediaId": "vdMedia_0001", "ThumbMediaId": "th_0001"})
    assert "已收到视频" in (await tbot.sim.post(video)).text
    await tbot.dialog("o_media", [("好了", "手机号"), ("跳过", "视频：1 段")])
    assert "已受理" in await tbot.say("o_media", "确认")
    assert await media_rows(tbot.services) == [("image", "complaint", "pending"), ("video", "complaint", "pending")]
    async with tbot.services.db.transaction() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        actor = await staff_actor(session, "yijing")
        await service.perform(session, tbot.services, ticket, "sign", actor, NOW)
        await service.perform(session, tbot.services, ticket, "ask", actor, NOW, text="请拍一张灯的照片")
    reply = (await tbot.sim.image("o_media")).text
    assert "已收到您的补充" in reply
    assert (await media_rows(tbot.services))[-1] == ("image", "supplement", "pending")
