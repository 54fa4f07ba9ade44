"""Policy Q&A in chat: answers with ratings, candidates by number, gaps counted, questions handed to staff,
answers pushed back, and hot reload across servers."""
from __future__ import annotations

import argparse
import textwrap

from sqlalchemy import select

from handlers.policy_qa import service
from handlers.policy_qa.cli import add_subcommands as kb_reload
from handlers.policy_qa.reload import ReloadWatcher
from knowledge.cli import add_subcommands as kb_commands
from storage.delivery_models import Broadcast
from storage.policy_qa_models import Inquiry, KbGap, KbRating
from tests.conftest import in_thread


async def _rows(bot, model):
    async with bot.services.db.transaction() as session:
        return list(await session.scalars(select(model)))


async def test_answer_then_rating(bot):
    reply = await bot.say("o_qa1", "联席会议多久开一次")
    assert "依据：" in reply and "有用" in reply
    assert "谢谢" in await bot.say("o_qa1", "有用")
    await bot.say("o_qa1", "联席会议多久开一次")
    assert "抱歉没能帮上忙" in await bot.say("o_qa1", "没用")
    [rating] = await _rows(bot, KbRating)
    assert (rating.entry_id, rating.useful, rating.useless) == ("joint-meeting-frequency", 1, 1)


async def test_wrong_after_an_answer_offers_the_next_candidates(bot):
    """Issue 17: a single entry far ahead is answered; 不对 / 没用 then offers the next candidates by number."""
    kb = bot.services.knowledge.current
    question = "联席会议多久开一次"
    ranked = kb.ask(question, top=3)
    assert ranked.outcome == "answer" and len(ranked.matches) == 3
    first, *others = [m.entry for m in ranked.matches]
    assert "依据：" in await bot.say("o_qa9", question)
    reply = await bot.say("o_qa9", "不对")
    assert reply.startswith("抱歉没能帮上忙。您想问的是不是下面这些？")
    assert f"1. {others[0].title}" in reply and f"2. {others[1].title}" in reply and first.title not in reply
    answer = await bot.say("o_qa9", "2")
    assert others[1].answer in answer and "有用" in answer
    [rating] = await _rows(bot, KbRating)
    assert (rating.entry_id, rating.useful, rating.useless) == (first.id, 0, 1)
    # 没用 after the second answer, which came from the list, has no further candidates: hand over instead
    assert "转人工" in await bot.say("o_qa9", "没用")


async def test_candidates_by_number_and_moving_on(bot):
    reply = await bot.say("o_qa2", "维修基金")
    assert "您想问的是哪一个" in reply and "1." in reply
    answer = await bot.say("o_qa2", "2")
    assert "依据：" in answer
    # after candidates, a new question is simply answered (the soft dialog ends)
    await bot.say("o_qa2", "维修基金")
    assert "依据：" in await bot.say("o_qa2", "联席会议多久开一次")
    [gap] = await _rows(bot, KbGap)
    assert (gap.outcome, gap.count) == ("ambiguous", 2)


async def test_unknown_question_is_counted_and_handed_to_staff(bot):
    for asked in ("今天天气怎么样", "今天天气怎么样？", "今天 天气 怎么样！"):
        reply = await bot.say("o_qa3", asked)
        assert "没有找到" in reply and "转人工" in reply
    [gap] = await _rows(bot, KbGap)
    assert gap.count == 3 and gap.outcome == "none"
    handed = await bot.say("o_qa3", "转人工")
    assert "咨询编号 Q" in handed
    [inquiry] = await _rows(bot, Inquiry)
    assert inquiry.question == "今天 天气 怎么样！" and inquiry.status == "open"
    assert len(inquiry.resident_ref) == 32 and "o_qa3" not in inquiry.resident_ref


async def test_not_found_but_in_scope_offers_suggestions_by_number(bot):
    reply = await bot.say("o_qa7", "之前投诉了半个月没动静")
    assert reply.startswith("没有找到确切的答案。您可能想问：") and "1. " in reply
    assert "回复数字查看；都不是请回复「转人工」" in reply
    titles = [line.split(". ", 1)[1] for line in reply.splitlines() if line[:1].isdigit()]
    assert 1 <= len(titles) <= 3 and "投诉之后多长时间能处理？" in titles
    answer = await bot.say("o_qa7", str(titles.index("投诉之后多长时间能处理？") + 1))
    assert "有用" in answer and "依据" not in answer  # a how-to-use-linli entry cites no source
    assert "谢谢" in await bot.say("o_qa7", "有用")
    [gap] = await _rows(bot, KbGap)
    assert (gap.outcome, gap.count) == ("none", 1)  # still counted as a gap
    [rating] = await _rows(bot, KbRating)
    assert rating.entry_id == "complaint-timeline" and rating.useful == 1


async def test_suggestions_then_transfer_or_a_new_question(bot):
    assert "您可能想问" in await bot.say("o_qa8", "之前投诉了半个月没动静")
    assert "咨询编号 Q" in await bot.say("o_qa8", "转人工")
    [inquiry] = await _rows(bot, Inquiry)
    assert inquiry.question == "之前投诉了半个月没动静"
    # a number beyond the list, or words, end the soft dialog: the message is routed afresh
    assert "您可能想问" in await bot.say("o_qa8", "之前投诉了半个月没动静")
    assert "依据：" in await bot.say("o_qa8", "联席会议多久开一次")
    assert "您可能想问" in await bot.say("o_qa8", "之前投诉了半个月没动静")
    assert "依据：" not in await bot.say("o_qa8", "9")


async def test_other_services_get_no_suggestions_in_chat(bot):
    reply = await bot.say("o_qa9", "水费在哪交")
    assert "没有找到这个问题的答案" in reply and "您可能想问" not in reply
    assert "依据：" not in await bot.say("o_qa9", "1")  # no list to pick from


async def test_bare_transfer_asks_for_the_question_then_staff_answer_is_pushed(bot):
    assert "写下您的问题" in await bot.say("o_qa4", "转人工")
    assert "太短" in await bot.say("o_qa4", "啊")
    assert "咨询编号" in await bot.say("o_qa4", "我家楼上漏水物业不管怎么办")
    async with bot.services.db.transaction() as session:
        inquiry = await session.scalar(select(Inquiry))
        await service.answer_inquiry(session, inquiry, "请先联系物业报修，三日内未处理可回复「投诉」。", "staff:yijing",
                                     bot.services.clock())
    [broadcast] = await _rows(bot, Broadcast)
    assert broadcast.category == "ticket" and "工作人员答复" in broadcast.text
    assert broadcast.scope["residents"] == [inquiry.resident_id]
    [answered] = await _rows(bot, Inquiry)
    assert answered.status == "answered" and answered.answered_by == "staff:yijing"


async def test_gaps_are_stored_redacted_and_erasure_removes_questions_and_answers(bot):
    # (手机, not 电话: 电话 is 便民热线's alias, and a question far closest to one entry is answered since issue 17)
    asked = "我是3号楼2单元501的王先生，手机13812345678，楼顶的鸽子怎么处理"
    assert "转人工" in await bot.say("o_qa9", asked)
    [gap] = await _rows(bot, KbGap)
    assert "13812345678" not in gap.example and "501" not in gap.example and "王先生" not in gap.example
    assert "鸽子" in gap.example and "13812345678" not in gap.question_key
    assert "咨询编号" in await bot.say("o_qa9", "转人工")
    async with bot.services.db.transaction() as session:
        inquiry = await session.scalar(select(Inquiry))
        await service.answer_inquiry(session, inquiry, "请王先生联系物业。", "staff:yijing", bot.services.clock())
    assert "已全部删除" in (await bot.say("o_qa9", "删除我的信息") and await bot.say("o_qa9", "确认删除"))
    [gap] = await _rows(bot, KbGap)
    [inquiry] = await _rows(bot, Inquiry)
    [broadcast] = await _rows(bot, Broadcast)
    assert "鸽子" not in gap.example and "鸽子" not in gap.question_key and gap.count == 1 and gap.example_ref is None
    assert inquiry.question == "" and inquiry.answer is None and inquiry.resident_id is None
    assert inquiry.status == "answered" and inquiry.answered_by == "staff:yijing"
    assert "鸽子" not in broadcast.text and "王先生" not in broadcast.text and broadcast.scope["refs"] == []


async def test_an_open_question_is_withdrawn_and_the_resident_warned(bot):
    await bot.say("o_qa10", "转人工")
    await bot.say("o_qa10", "我家楼上漏水物业不管怎么办")
    warning = await bot.say("o_qa10", "删除我的信息")
    assert "转人工咨询尚未答复" in warning
    await bot.say("o_qa10", "确认删除")
    [inquiry] = await _rows(bot, Inquiry)
    assert inquiry.status == "withdrawn" and inquiry.question == ""


def _kb_dir(tmp_path, answer: str):
    (tmp_path / "kb").mkdir(exist_ok=True)
    (tmp_path / "kb" / "local.yaml").write_text(textwrap.dedent(f"""\
        - id: local-garbage-day
          title: 小区哪天收大件垃圾？
          questions: [大件垃圾什么时候收, 旧家具怎么扔]
          keywords: [大件垃圾]
          answer: {answer}
          source: 本社区公告
        """), encoding="utf-8")
    return tmp_path / "kb"


async def test_reload_swaps_the_knowledge_base_in_every_server(bot, tmp_path):
    directory = _kb_dir(tmp_path, "每周六上午在北门收大件垃圾。")
    watcher = ReloadWatcher(bot.services)
    assert await watcher.check() is False  # at start: bundled, nothing to do
    async with bot.services.db.transaction() as session:
        await service.request_reload(session, str(directory), "test", bot.services.clock())
    assert await watcher.check() is True
    assert "每周六上午在北门" in await bot.say("o_qa5", "大件垃圾什么时候收")
    assert await watcher.check() is False  # same generation: no second reload


async def test_a_broken_knowledge_base_is_refused_and_the_old_one_stays(bot, tmp_path):
    directory = _kb_dir(tmp_path, "''")
    async with bot.services.db.transaction() as session:
        try:
            await service.request_reload(session, str(directory), "test", bot.services.clock())
        except service.KnowledgeBaseError as exc:
            assert any("answer" in p for p in exc.problems)
        else:
            raise AssertionError("a knowledge base with an empty answer was accepted")
    assert "依据：" in await bot.say("o_qa6", "联席会议多久开一次")


async def test_kb_reload_command(bot, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", bot.services.settings.database_url)
    monkeypatch.setenv("LINLI_KB_ROOT", str(tmp_path))  # only knowledge bases under the root may be loaded
    parser = argparse.ArgumentParser()
    kb_reload(kb_commands(parser.add_subparsers(dest="command")))
    outside = parser.parse_args(["kb", "reload", "--kb", str(tmp_path.parent)])
    assert in_thread(outside.func, outside) == 1 and "只能加载以下目录之内的知识库" in capsys.readouterr().err
    good = parser.parse_args(["kb", "reload", "--kb", str(_kb_dir(tmp_path, "每周六。"))])
    assert in_thread(good.func, good) == 0 and "第 1 版" in capsys.readouterr().out
    (tmp_path / "kb" / "bad.yaml").write_text("- id: x\n  title: t\n", encoding="utf-8")
    bad = parser.parse_args(["kb", "reload", "--kb", str(tmp_path / "kb")])
    assert in_thread(bad.func, bad) == 1 and "未重新加载" in capsys.readouterr().err
