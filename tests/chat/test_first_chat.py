"""A resident's first chat, as transcripts against the running bot with every feature (issue 22, 「In the chat」)."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.menu import load_menu
from knowledge.render import SUGGEST_HEAD
from storage.policy_qa_models import Inquiry
from storage.ticket_models import Ticket
from tests.tickets.conftest import bind

README = Path(__file__).resolve().parents[2] / "README.md"
QUOTED = re.compile(r"「([^「」]+)」")
CODE = re.compile(r"`([^`]+)`")
# an example with a placeholder (「查询 编号」「退订 类别」) shows a form, not something to send as it is
PLACEHOLDERS = ("编号", "类别")
# what the bot says when it did not understand or could not answer directly
MISSES = ("您想问的是哪一个", "暂时没有找到这个问题的答案", SUGGEST_HEAD, "没有理解您的意思", "没有看懂")


async def _rows(bot, model):
    async with bot.services.db.transaction() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def file_complaint(bot, openid: str, text: str) -> str:
    """File a one-message complaint; the reply to 「确认」."""
    assert "请核对" in await bot.say(openid, text)
    return await bot.say(openid, "确认")


def readme_examples() -> set[str]:
    """What the README tells a newcomer to type in chat: the quoted words of its chat paragraph and the first
    column of the table of what residents can send."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## 两条命令"):text.index("## 配置")]
    found = set()
    for line in section.splitlines():
        if "在聊天里输入" in line:
            found.update(QUOTED.findall(line))
        if line.startswith("| ") and not line.startswith("| 发送"):
            found.update(CODE.findall(line.split("|")[1]))
    return found


async def test_greetings_and_thanks_get_a_greeting_with_three_things_to_do(bot):
    for said in ("你好", "在吗", "您好！"):
        reply = await bot.say("o_hi", said)
        assert reply.startswith("您好") and reply.count("\n· ") == 3 and "绑定" in reply, (said, reply)
        assert "抱歉" not in reply
    await bind(bot.services, "o_hi")
    for said in ("谢谢", "好的", "👍", "[微笑]", "谢谢您[抱拳]"):
        reply = await bot.say("o_hi", said)
        assert reply.startswith("不客气") and reply.count("\n· ") == 3 and "投诉" in reply, (said, reply)
    english = await bot.say("o_hi", "Hello, how can I report a broken lamp?")
    assert english.startswith("Hello") and "「帮助」" in english and "\n" not in english
    # a greeting in front of a question does not swallow it
    answer = await bot.say("o_hi", "你好，物业费怎么交")
    assert "回复「有用」" in answer and "不客气" not in answer and not answer.startswith("您好")


async def test_every_example_the_bot_suggests_is_answered_directly(bot):
    """帮助, the ASK button, the greeting, the menu and the README: everything they suggest typing gets a direct
    answer — never the 「which one?」 list, a "not found" or "not understood"."""
    await bind(bot.services, "o_ex")
    help_text = await bot.say("o_ex", "帮助")
    ask = (await bot.sim.event("o_ex", "CLICK", "ASK")).text
    greeting = await bot.say("o_ex", "你好")
    examples = set(QUOTED.findall(help_text + ask + greeting)) | readme_examples()
    examples = {e for e in examples if not any(p in e for p in PLACEHOLDERS)}
    assert {"维修基金怎么用", "业委会怎么成立", "开发商评分", "物业评分", "帮助", "我的投诉"} <= examples
    for n, example in enumerate(sorted(examples)):
        openid = f"o_ex{n}"
        await bind(bot.services, openid)
        reply = await bot.say(openid, example)
        assert reply and not any(miss in reply for miss in MISSES), (example, reply)
    for button in load_menu()["button"]:
        for sub in button.get("sub_button", []):
            if "key" in sub:
                reply = (await bot.sim.event("o_ex", "CLICK", sub["key"])).text
                assert reply and not any(miss in reply for miss in MISSES), (sub, reply)
                await bot.say("o_ex", "取消")
                # residents also type what the menu shows
                reply = await bot.say("o_ex", sub["name"])
                assert reply and not any(miss in reply for miss in MISSES), (sub["name"], reply)
                await bot.say("o_ex", "取消")


async def test_the_help_examples_get_the_right_entries(bot):
    kb = bot.services.knowledge.current
    for question, entry_id in (("维修基金怎么用", "maintenance-fund-usage"), ("业委会怎么成立", "owners-assembly-founding")):
        reply = await bot.say("o_right", question)
        assert kb.get(entry_id).answer in reply and "依据：" in reply and "您想问的是哪一个" not in reply


async def test_answers_never_cite_linli_itself(bot):
    reply = await bot.say("o_src", "在邻里公众号里怎么投诉？")
    assert "直接发送“投诉”" in reply and "linli" not in reply and "依据" not in reply
    assert not [e.id for e in bot.services.knowledge.current.entries if "linli" in e.source.lower()]


async def test_help_lists_both_scorecards_and_the_scorecard_reply_names_its_word(bot):
    help_text = await bot.say("o_help", "帮助")
    assert "开发商评分" in help_text and "物业评分" in help_text
    await bind(bot.services, "o_help")
    for word in ("物业评分", "开发商评分"):
        reply = await bot.say("o_help", word)
        assert "本词" not in reply, reply
        if "暂未公布" in reply:
            assert f"回复「{word}」" in reply


async def test_my_complaints_by_number_query_by_position_and_any_form_of_the_number(bot):
    await bind(bot.services, "o_list")
    first = re.search(r"JF\d{8}-\d{4}", await file_complaint(bot, "o_list", "投诉 5号楼电梯坏了一周了没人修"))
    second = re.search(r"JF\d{8}-\d{4}", await file_complaint(bot, "o_list", "投诉 楼下广场舞噪音太大每晚到十点"))
    listed = await bot.say("o_list", "我的投诉")
    assert "1. " in listed and "回复序号" in listed
    top = re.search(r"1\. (JF\d{8}-\d{4})", listed).group(1)  # the newest first
    assert top == second.group()
    shown = await bot.say("o_list", "1")
    assert shown.startswith(f"投诉 {top}") and "办理过程" in shown
    assert (await bot.say("o_list", "查询 2")).startswith(f"投诉 {first.group()}")
    assert "查询 1」到「查询 2" in await bot.say("o_list", "查询 7")
    day, seq = first.group()[2:10], int(first.group()[-4:])
    for written in (f"查询 jf{day}-{seq}", f"查询 {day}-{seq}", f"jf{day}-{seq}", f"查询 JF{day}{seq:04d}"):
        assert (await bot.say("o_list", written)).startswith(f"投诉 {first.group()}"), written
    # after the list, words are a fresh message (the list does not trap the resident)
    await bot.say("o_list", "我的投诉")
    assert "依据" in await bot.say("o_list", "联席会议多久开一次")


async def test_no_and_skip_words_are_understood_at_every_optional_step(bot):
    await bind(bot.services, "o_no")
    await bot.dialog("o_no", [
        ("投诉", "请选择投诉类别"), ("维修", "请描述问题"), ("3号楼2单元楼道灯坏了三天了", "如有照片或位置"),
        ("没有", "如需工作人员回电"), ("不用了", "请核对您的投诉"), ("好的", "已受理您的投诉"),
    ])
    [ticket] = [t for t in await _rows(bot, Ticket) if "楼道灯" in t.description]
    assert ticket.phone is None


async def test_wrong_after_a_list_is_not_a_new_question_and_transfer_sends_the_question(bot):
    asked = "维修基金"
    assert "您想问的是哪一个" in await bot.say("o_wrong", asked)
    reply = await bot.say("o_wrong", "没用")
    assert "抱歉" in reply and f"「{asked}」" in reply and "转人工" in reply and "您想问的是哪一个" not in reply
    assert "咨询编号 Q" in await bot.say("o_wrong", "转人工")
    # after an answer rated 没用 the next candidates are offered; 转人工 then sends the question, nothing to retype
    question = "联席会议多久开一次"
    assert "依据" in await bot.say("o_wrong", question)
    reply = await bot.say("o_wrong", "没用")
    assert "下面这些" in reply and "1. " in reply and "转人工" in reply
    assert "咨询编号 Q" in await bot.say("o_wrong", "我要转人工")
    assert [i.question for i in await _rows(bot, Inquiry)] == [asked, question]


async def test_unanswered_question_is_offered_to_staff(bot):
    reply = await bot.say("o_gap", "小区里的流浪猫谁来管")
    assert "转人工" in reply
    assert "咨询编号 Q" in await bot.say("o_gap", "转人工")
    [inquiry] = await _rows(bot, Inquiry)
    assert inquiry.question == "小区里的流浪猫谁来管"


async def test_one_message_complaint_keeps_its_text_and_is_never_cut(bot):
    await bind(bot.services, "o_long")
    long_text = "3号楼楼道灯坏了，" + "晚上老人上下楼看不见，很危险，" * 40
    assert len(long_text) > 500
    reply = await bot.say("o_long", "投诉 " + long_text)
    assert f"描述太长了（{len(long_text)} 字），请精简到 500 字以内" in reply and "请描述问题" in reply
    assert not [t for t in await _rows(bot, Ticket) if "晚上老人" in t.description]
    # the step-by-step dialog answers the same
    assert f"描述太长了（{len(long_text)} 字）" in await bot.say("o_long", long_text)
    await bot.dialog("o_long", [("3号楼楼道灯坏了，晚上看不见", "请核对"), ("确认", "已受理")])
    await bot.dialog("o_long", [("投诉 5号楼电梯坏了，一周了没人修！", "请核对"), ("确认", "已受理")])
    descriptions = [t.description for t in await _rows(bot, Ticket)]
    assert "3号楼楼道灯坏了，晚上看不见" in descriptions and "5号楼电梯坏了，一周了没人修！" in descriptions
