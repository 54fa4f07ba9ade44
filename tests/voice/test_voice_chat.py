"""Voice in chat, as WeChat sends it: heard (WeChat's `Recognition`, or the LINLI_ASR backend on the recording
fetched with media/get) it is text wherever text is accepted, with 「您说的是：…」 first and 「不对」 to correct it;
unheard (no backend, a failure, a timeout) it is kept as complaint evidence or handed to staff, never refused."""
from __future__ import annotations

import asyncio
import re

from aiohttp import web
from sqlalchemy import select

from bot.simulator import message_xml
from storage.policy_qa_models import Inquiry
from storage.survey_models import SurveyDraft
from storage.ticket_models import Ticket
from tests.surveys.conftest import add_resident, new_campaign
from tests.tickets.conftest import bind
from tests.voice.conftest import LOADS, standin_model

ECHO = "您说的是："


async def rows(bot, model):
    async with bot.services.db.transaction() as session:
        return list(await session.scalars(select(model)))


async def hear(bot, openid: str, recognition: str = "") -> str:
    response = await bot.sim.voice(openid, recognition)
    assert response.status == 200, response.body
    assert response.text is not None, response.body
    return response.text


async def media_gets(bot) -> int:
    async with bot.sim.session.get(f"{bot.sim.sandbox_url}/sandbox/stats") as resp:
        return (await resp.json())["requests"].get("/cgi-bin/media/get", 0)


# ---- heard by WeChat (Recognition) ----------------------------------------------------------------------------

async def test_recognised_voice_is_a_question(voice_bot):
    bot = await voice_bot()
    reply = await hear(bot, "o_v_q", "联席会议多久开一次？")
    assert reply.startswith(f"{ECHO}「联席会议多久开一次」") and "依据：" in reply and "有用" in reply
    assert "暂时无法处理" not in reply
    assert await media_gets(bot) == 0  # Recognition is enough: the recording is not fetched


async def test_recognised_voice_through_the_complaint_dialog(voice_bot):
    bot = await voice_bot()
    await bind(bot.services, "o_v_c")
    assert "请选择投诉类别" in await hear(bot, "o_v_c", "投诉。")
    assert "请描述问题" in await hear(bot, "o_v_c", "维修。")
    reply = await hear(bot, "o_v_c", "3号楼2单元楼道灯坏了三天了。")
    assert reply.startswith(f"{ECHO}「3号楼2单元楼道灯坏了三天了」") and "照片或位置" in reply
    assert "手机号" in await bot.say("o_v_c", "跳过")
    assert "请核对" in await hear(bot, "o_v_c", "不需要。")
    assert "已受理" in await hear(bot, "o_v_c", "确认。")
    [ticket] = await rows(bot, Ticket)
    assert ticket.category == "repair" and ticket.description == "3号楼2单元楼道灯坏了三天了"


async def test_recognised_voice_answers_a_survey(voice_bot):
    bot = await voice_bot()
    await new_campaign(bot.services)
    me = await add_resident(bot.services, "HX-YYL-YJ-01")
    assert "第 1/9 题" in await bot.say(me.openid, "调查")
    reply = await hear(bot, me.openid, "满意。")
    assert reply.startswith(f"{ECHO}「满意」") and "第 2/9 题" in reply
    reply = await hear(bot, me.openid, "5")
    assert "第 3/9 题" in reply
    [draft] = await rows(bot, SurveyDraft)
    assert draft.answers == {"q1": 4, "q2": 5}


async def test_recognised_voice_in_the_bind_steps(voice_bot):
    bot = await voice_bot()
    openid = "o_v_bind"
    assert "请选择您所在的街道" in await hear(bot, openid, "绑定")
    await bot.dialog(openid, [("1", "请选择您所在的社区"), ("1", "请选择您居住的小区"), ("2", "业主"),
                              ("1", "楼号和房号")])
    reply = await hear(bot, openid, "3号楼2单元501。")
    assert reply.startswith(f"{ECHO}「3号楼2单元501」") and "请核对" in reply
    assert "绑定成功" in await bot.say(openid, "确认")


# ---- 不对 -----------------------------------------------------------------------------------------------------

async def test_wrong_after_a_heard_step_undoes_that_step(voice_bot):
    bot = await voice_bot()
    await bind(bot.services, "o_v_undo")
    await bot.dialog("o_v_undo", [("投诉", "请选择投诉类别"), ("2", "请描述问题")])
    assert "照片或位置" in await hear(bot, "o_v_undo", "楼道等坏了三天了")  # misheard 灯 as 等
    reply = await bot.say("o_v_undo", "不对")
    assert "「楼道等坏了三天了」不算" in reply and "再说一遍" in reply
    # back at the description step: the next description replaces the misheard one
    await bot.dialog("o_v_undo", [("楼道灯坏了三天了", "照片或位置"), ("跳过", "手机号"), ("跳过", "请核对")])
    assert "已受理" in await bot.say("o_v_undo", "确认")
    [ticket] = await rows(bot, Ticket)
    assert ticket.description == "楼道灯坏了三天了"


async def test_wrong_after_a_heard_survey_answer_asks_that_question_again(voice_bot):
    bot = await voice_bot()
    await new_campaign(bot.services)
    me = await add_resident(bot.services, "HX-YYL-YJ-01")
    assert "第 1/9 题" in await bot.say(me.openid, "调查")
    assert "第 2/9 题" in await hear(bot, me.openid, "满意")  # the resident said 不满意
    assert "「满意」不算" in await bot.say(me.openid, "不对")
    assert "第 2/9 题" in await bot.say(me.openid, "2")  # the answer to question 1, again
    [draft] = await rows(bot, SurveyDraft)
    assert draft.answers == {"q1": 2}  # the draft row is rewritten by the answer given again


async def test_wrong_spoken_after_a_heard_question_and_not_twice(voice_bot):
    bot = await voice_bot()
    await hear(bot, "o_v_q2", "联席会议多久开一次")
    reply = await hear(bot, "o_v_q2", "不对。")  # said, not typed
    assert reply.startswith(f"{ECHO}「不对」") and "不算" in reply
    # the memory lasts one turn: a second 不对 is an ordinary message again, not another undo
    assert "不算" not in await bot.say("o_v_q2", "不对")


async def test_wrong_after_a_heard_message_that_closed_the_dialog_asks_again(voice_bot):
    bot = await voice_bot()
    await bind(bot.services, "o_v_done")
    await bot.say("o_v_done", "投诉 楼道灯坏了三天了")
    assert "已受理" in await hear(bot, "o_v_done", "确认")
    reply = await bot.say("o_v_done", "不对")
    assert "可能听错了" in reply and "不算" not in reply
    assert len(await rows(bot, Ticket)) == 1  # what was filed stands


async def test_wrong_without_a_heard_message_keeps_its_old_meaning(voice_bot):
    bot = await voice_bot()
    await hear(bot, "o_v_old", "联席会议多久开一次")
    await bot.say("o_v_old", "有用")  # a typed message in between: the heard one is forgotten
    await bot.say("o_v_old", "联席会议多久开一次")
    assert "抱歉没能帮上忙" in await bot.say("o_v_old", "不对")  # policy_qa's 不对: the answer did not help


# ---- heard by the configured backend (no Recognition) ---------------------------------------------------------

async def test_local_standin_engine_hears_the_recording(voice_bot, tmp_path):
    bot = await voice_bot(asr="local", asr_model=standin_model(tmp_path, "楼道灯坏了三天了"))
    await bind(bot.services, "o_v_local")
    await bot.dialog("o_v_local", [("投诉", "请选择投诉类别"), ("2", "请描述问题")])
    assert LOADS == []  # loaded lazily, at the first voice message
    reply = await hear(bot, "o_v_local")
    assert reply.startswith(f"{ECHO}「楼道灯坏了三天了」") and "照片或位置" in reply
    assert await media_gets(bot) == 1
    await hear(bot, "o_v_local")  # 楼道灯坏了三天了 again: not a media step answer
    assert len(LOADS) == 1 and await media_gets(bot) == 2


async def test_http_speech_service_hears_the_recording(voice_bot, aiohttp_server):
    received = []

    async def recognise(request: web.Request) -> web.Response:
        received.append((request.content_type, request.query.get("format"), await request.read()))
        return web.json_response({"text": "联席会议多久开一次"})

    app = web.Application()
    app.router.add_post("/asr", recognise)
    service = await aiohttp_server(app)
    bot = await voice_bot(asr="http", asr_url=str(service.make_url("/asr")))
    reply = await hear(bot, "o_v_http")
    assert reply.startswith(f"{ECHO}「联席会议多久开一次」") and "依据：" in reply
    [(content_type, fmt, body)] = received
    assert content_type == "audio/amr" and fmt == "amr" and body.startswith(b"#!AMR\n")


async def test_a_slow_backend_answer_is_pushed_after_the_webhook_budget(voice_bot, tmp_path):
    bot = await voice_bot(asr="local", asr_model=standin_model(tmp_path, "联席会议多久开一次", delay=0.8),
                          reply_budget=0.3, asr_timeout=5.0)
    response = await bot.sim.voice("o_v_late")
    assert response.status == 200 and response.body == "success"  # WeChat is answered in time
    for _ in range(50):
        pushed = await bot.sim.pushed("o_v_late")
        if pushed:
            break
        await asyncio.sleep(0.1)
    text = pushed[0]["payload"]["text"]["content"]
    assert text.startswith(f"{ECHO}「联席会议多久开一次」") and "依据：" in text


# ---- not heard: no backend, a failure, a timeout --------------------------------------------------------------

async def test_no_backend_voice_in_a_complaint_is_evidence_and_the_dialog_goes_on(voice_bot):
    bot = await voice_bot()
    await bind(bot.services, "o_v_none")
    await bot.dialog("o_v_none", [("投诉", "请选择投诉类别"), ("2", "请描述问题")])
    reply = await hear(bot, "o_v_none")
    assert "已作为问题描述加入投诉" in reply and "照片或位置" in reply and ECHO not in reply
    reply = await hear(bot, "o_v_none")
    assert "已作为语音附件加入投诉" in reply and "好了" in reply
    await bot.dialog("o_v_none", [("好了", "手机号")])
    reply = await bot.say("o_v_none", "跳过")
    assert "语音：2 段" in reply
    assert "已受理" in await bot.say("o_v_none", "确认")
    [ticket] = await rows(bot, Ticket)
    assert [p["kind"] for p in ticket.photos] == ["voice", "voice"] and all(p["media_id"] for p in ticket.photos)
    assert "请收听语音附件" in ticket.description
    assert await media_gets(bot) == 0


async def test_no_backend_voice_outside_a_dialog_goes_to_staff(voice_bot):
    bot = await voice_bot()
    response = await bot.sim.post(message_xml("o_v_staff", "voice", {"MediaId": "vMedia_0042", "Format": "amr"}))
    assert "已转给" in response.text and re.search(r"咨询编号 Q\d+", response.text)
    assert "暂时无法处理" not in response.text
    [inquiry] = await rows(bot, Inquiry)
    assert inquiry.question.startswith("【语音】") and inquiry.question.endswith("MediaId：vMedia_0042")
    assert inquiry.status == "open"


async def test_no_backend_voice_in_a_survey_asks_to_type_and_the_survey_goes_on(voice_bot):
    bot = await voice_bot()
    await new_campaign(bot.services)
    me = await add_resident(bot.services, "HX-YYL-YJ-02")
    await bot.say(me.openid, "调查")
    reply = await hear(bot, me.openid)
    assert "没能听清" in reply and "打字" in reply
    assert "第 2/9 题" in await bot.say(me.openid, "4")
    assert await rows(bot, Inquiry) == []


async def test_a_failing_engine_sends_the_voice_to_staff(voice_bot, tmp_path):
    bot = await voice_bot(asr="local", asr_model=standin_model(tmp_path, mode="fail"))
    reply = await hear(bot, "o_v_fail")
    assert "没能把这段语音转成文字" in reply and "咨询编号" in reply
    assert len(await rows(bot, Inquiry)) == 1


async def test_a_backend_over_its_timeout_counts_as_unheard(voice_bot, tmp_path):
    bot = await voice_bot(asr="local", asr_model=standin_model(tmp_path, "太晚了", delay=1.5), asr_timeout=0.3)
    await bind(bot.services, "o_v_slow")
    await bot.say("o_v_slow", "投诉 楼道灯坏了三天了")
    reply = await hear(bot, "o_v_slow")
    assert "已作为语音附件加入投诉" in reply and "请核对" in reply and "太晚了" not in reply


async def test_a_silent_recording_and_a_broken_speech_service_count_as_unheard(voice_bot, aiohttp_server, tmp_path):
    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "model not ready"}, status=503)

    app = web.Application()
    app.router.add_post("/asr", broken)
    service = await aiohttp_server(app)
    bot = await voice_bot(asr="http", asr_url=str(service.make_url("/asr")))
    assert "咨询编号" in await hear(bot, "o_v_503")
    silent = await voice_bot(asr="local", asr_model=standin_model(tmp_path, "  "))
    assert "咨询编号" in await hear(silent, "o_v_silent")


async def test_media_api_failure_counts_as_unheard(voice_bot, tmp_path):
    bot = await voice_bot(asr="local", asr_model=standin_model(tmp_path, "不会听到"))
    async with bot.sim.session.post(f"{bot.sim.sandbox_url}/sandbox/faults",
                                    json={"endpoint": "media/get", "errcode": 40007, "count": 1}) as resp:
        assert resp.status == 200
    reply = await hear(bot, "o_v_media")
    assert "咨询编号" in reply and LOADS == []  # the engine was not even needed


async def test_metrics_count_how_voices_were_heard(voice_bot, tmp_path):
    from tests.bot.test_metrics import delta, scrape

    bot = await voice_bot(asr="local", asr_model=standin_model(tmp_path, "联席会议多久开一次"))
    before = await scrape(bot)
    await hear(bot, "o_v_metrics", "联席会议多久开一次")
    await hear(bot, "o_v_metrics")
    after = await scrape(bot)
    assert delta(after, before, "linli_voice_messages_total", outcome="recognition") == 1
    assert delta(after, before, "linli_voice_messages_total", outcome="asr") == 1
    assert delta(after, before, "linli_voice_messages_total", outcome="failed") == 0
