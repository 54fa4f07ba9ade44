"""The webhook through the real aiohttp server: modes, retries, deadline, bad input, restarts."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from bot.protocol import signature
from bot.router import Router
from bot.simulator import text_xml
from bot.states import StatesGroup, state
from bot.types import Reply
from storage.models import Conversation, ProcessedMessage
from tests.support import AES_KEY, OLD_AES_KEY


class Echo(StatesGroup, prefix="echo"):
    count = state()


def echo_router(delay: float = 0.0, long: bool = False) -> Router:
    router = Router("echo")

    @router.text()
    async def echo(ctx):
        if delay:
            await asyncio.sleep(delay)
        ctx.conversation.update(Echo.count, n=ctx.conversation.data.get("n", 0) + 1)
        if long:
            return Reply("\n".join(f"第{i}条：" + "物业服务" * 50 for i in range(12)))
        return Reply(f"你说：{ctx.text}（第{ctx.conversation.data['n']}次）")

    return router


async def _count(bot, model, *where):
    async with bot.services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_url_verification(bot):
    sim = bot.sim
    ts, nonce = str(int(time.time())), "123456"
    good = {"signature": signature(sim.token, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "echo-ok"}
    async with sim.session.get(sim.url, params=good) as resp:
        assert resp.status == 200 and await resp.text() == "echo-ok"
    async with sim.session.get(sim.url, params={**good, "signature": "0" * 40}) as resp:
        assert resp.status == 403


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
async def test_three_modes(start_bot, settings, mode):
    aes = AES_KEY if mode != "plaintext" else None
    bot = await start_bot(settings.with_(wechat_aes_key=aes), aes_key=aes, routers=[echo_router()])
    if mode == "compatible":  # plaintext fields and ciphertext side by side in one body
        xml = text_xml("o_mode", "你好")
        query, body = bot.sim.sign(xml)
        body = body.replace("</xml>", xml[len("<xml>"):-len("</xml>")] + "</xml>")
        async with bot.sim.session.post(bot.sim.url, params=query, data=body.encode()) as resp:
            reply = bot.sim.read_reply(resp.status, await resp.text(), query)
    else:
        reply = await bot.sim.text("o_mode", "你好")
    assert reply.status == 200 and reply.text == "你说：你好（第1次）"



async def test_key_rotation_accepts_the_previous_key(start_bot, settings):
    rotated = settings.with_(wechat_aes_key=AES_KEY, wechat_aes_key_previous=OLD_AES_KEY)
    bot = await start_bot(rotated, aes_key=OLD_AES_KEY, routers=[echo_router()])  # WeChat still uses the old key
    reply = await bot.sim.text("o_rot", "旧密钥")
    assert reply.text == "你说：旧密钥（第1次）"  # and the reply was encrypted with the old key: we read it



async def test_a_message_delivered_three_times_has_one_effect(start_bot, settings):
    bot = await start_bot(settings, routers=[echo_router()])
    xml = text_xml("o_dup", "只算一次", msg_id=7001)
    replies = [await bot.sim.post(xml) for _ in range(3)]
    assert {r.text for r in replies} == {"你说：只算一次（第1次）"}
    assert await _count(bot, ProcessedMessage) == 1
    # and concurrently, as when WeChat retries while the first is still being handled
    slow = await start_bot(settings, routers=[echo_router(delay=0.3)], demo=False)
    xml = text_xml("o_dup2", "并发", msg_id=7002)
    replies = await asyncio.gather(*(slow.sim.post(xml) for _ in range(3)))
    assert {r.text for r in replies} == {"你说：并发（第1次）"}
    async with slow.services.db.transaction() as session:
        state = await session.get(Conversation, "o_dup2")
    assert state.data["n"] == 1




async def test_duplicates_landing_on_two_workers_have_one_effect(start_bot, settings):
    first = await start_bot(settings, routers=[echo_router(delay=0.2)])
    second = await start_bot(settings, routers=[echo_router(delay=0.2)], demo=False)
    xml = text_xml("o_two", "两个进程", msg_id=7003)
    replies = await asyncio.gather(first.sim.post(xml), second.sim.post(xml), first.sim.post(xml))
    assert {r.text for r in replies} == {"你说：两个进程（第1次）"}
    async with first.services.db.transaction() as session:
        assert (await session.get(Conversation, "o_two")).data["n"] == 1




async def test_a_slow_handler_answers_success_then_pushes(start_bot, settings, sandbox):
    bot = await start_bot(settings.with_(reply_budget=0.2), routers=[echo_router(delay=0.6)])
    await bot.sim._interaction("o_slow", "message")
    xml = text_xml("o_slow", "慢慢来", msg_id=9001)
    reply = await bot.sim.post(xml)
    assert reply.status == 200 and reply.body == "success"
    pushed = await _wait_for_push(bot, "o_slow")
    assert [m["payload"]["text"]["content"] for m in pushed] == ["你说：慢慢来（第1次）"]
    # WeChat's retry of the same message gets `success`: no second answer, no second push, no second effect
    again = await bot.sim.post(xml)
    assert again.body == "success"
    await asyncio.sleep(0.3)
    assert len(await bot.sim.pushed("o_slow")) == 1
    async with bot.services.db.transaction() as session:
        assert (await session.get(Conversation, "o_slow")).data["n"] == 1


async def _wait_for_push(bot, openid):
    for _ in range(60):
        pushed = await bot.sim.pushed(openid)
        if pushed:
            return pushed
        await asyncio.sleep(0.05)
    return []


async def test_a_long_answer_is_split_and_the_rest_pushed(start_bot, settings):
    bot = await start_bot(settings, routers=[echo_router(long=True)])
    reply = await bot.sim.text("o_long", "长")
    assert len(reply.body.encode()) < 2600 and "余下部分随后发送" in reply.text
    pushed = await _wait_for_push(bot, "o_long")
    assert pushed and all(len(m["payload"]["text"]["content"].encode()) <= 2000 for m in pushed)



async def test_bad_requests_get_clear_answers_never_500(bot):
    sim = bot.sim
    xml = text_xml("o_bad", "hi")
    query, body = sim.sign(xml)
    async def post(params, data):
        async with sim.session.post(sim.url, params=params, data=data) as resp:
            return resp.status, await resp.text()

    assert (await post({**query, "signature": "f" * 40}, body.encode()))[0] == 403
    stale_q, stale_body = sim.sign(xml, timestamp=int(time.time()) - 3600)
    assert (await post(stale_q, stale_body.encode()))[0] == 403
    assert (await post(query, b"<xml><broken"))[0] == 400
    assert (await post(query, b""))[0] == 400
    assert (await post(query, b"\xff\xfe not utf8"))[0] == 400
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            "<xml><FromUserName>&b;</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>")
    assert (await post(query, bomb.encode()))[0] == 400
    assert (await post(query, b"<xml>" + b"a" * 200_000 + b"</xml>"))[0] == 413
    assert (await post({}, body.encode()))[0] == 403


async def test_resident_text_cannot_inject_into_the_reply(start_bot, settings):
    bot = await start_bot(settings, routers=[echo_router()])
    evil = "]]></Content><MsgType><![CDATA[image]]></MsgType><Content><![CDATA["
    reply = await bot.sim.text("o_evil", evil)
    assert reply.msg_type == "text" and reply.text == f"你说：{evil}（第1次）"



async def test_unknown_message_types_get_a_polite_reply(bot):
    video = await bot.sim.post(
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o_vid]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[m]]></MediaId>"
        "<MsgId>8001</MsgId></xml>"
    )
    assert video.status == 200 and "视频" in video.text
    location = await bot.sim.post(
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o_vid]]></FromUserName>"
        "<CreateTime>2</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>39.1</Location_X>"
        "<Location_Y>117.2</Location_Y><Scale>15</Scale><Label><![CDATA[天津]]></Label><MsgId>8002</MsgId></xml>"
    )
    assert "位置" in location.text
    view = await bot.sim.event("o_vid", "VIEW", "https://example.invalid/")
    assert view.status == 200 and view.body == "success"


async def test_conversation_state_survives_a_restart(start_bot, settings):
    first = await start_bot(settings)
    await first.say("o_restart", "绑定")
    await first.say("o_restart", "1")
    await first.server.close()
    await first.services.db.dispose()
    second = await start_bot(settings, demo=False)
    assert "请选择您居住的小区" in await second.say("o_restart", "1")




async def test_health_and_readiness(bot):
    async with bot.sim.session.get(bot.server.make_url("/healthz")) as resp:
        assert resp.status == 200
    async with bot.sim.session.get(bot.server.make_url("/readyz")) as resp:
        assert resp.status == 200 and (await resp.json())["database"] == "ok"


async def test_readiness_reports_an_unreachable_database(start_bot, settings):
    bot = await start_bot(settings.with_(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"), demo=False)
    async with bot.sim.session.get(bot.server.make_url("/readyz")) as resp:
        assert resp.status == 503
    reply = await bot.sim.text("o_nodb", "你好")
    assert reply.status == 200 and "系统繁忙" in reply.text



async def test_an_expired_dialog_is_forgotten_and_overwritten(start_bot, settings):
    from datetime import datetime, timedelta, timezone

    from tests.support import fixed_clock

    clock = fixed_clock(datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc))
    bot = await start_bot(settings, clock=clock)
    assert "请选择您所在的街道" in await bot.say("o_expire", "绑定")
    clock.state["now"] += timedelta(seconds=settings.conversation_ttl + 1)
    # the old dialog has expired: "1" is not a street choice any more but a fresh message
    assert "请选择您所在的社区" not in (await bot.say("o_expire", "1") or "")
    assert "请选择您所在的街道" in await bot.say("o_expire", "绑定")
    assert "请选择您所在的社区" in await bot.say("o_expire", "1")
