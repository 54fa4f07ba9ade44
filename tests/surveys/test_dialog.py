"""The chat dialog: one question at a time, invalid answers get a hint, 跳过/返回, summary and 确认, resume after
a restart or an expired dialog, changing a vote, several campaigns listed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.survey_models import SurveyDraft, SurveyResponse, SurveyResponseEvent
from tests.surveys.conftest import NOW, add_resident, new_campaign, routers

ALL_FOURS = [("4", "第 3/9 题"), ("4", "第 4/9 题"), ("4", "第 5/9 题"), ("4", "第 6/9 题")]


async def count(services, model, **where):
    async with services.db.transaction() as session:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return await session.scalar(stmt)


async def test_full_dialog_with_invalid_answer_skip_back_and_confirm(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01")
    await survey_bot.dialog(me.openid, [
        ("调查", "第 1/9 题（评分）：服务态度"),
        ("很好", "请回复 1 到 5 之间的一个数字"),           # not a valid answer: a hint, nothing stored
        ("6", "请回复 1 到 5 之间的一个数字"),
        ("跳过", "本题必答"),
        ("５", "第 2/9 题"),                                 # full-width digit
        ("返回", "第 1/9 题"),                               # back one question
        ("满意", "第 2/9 题"),                               # a label is an answer too (4)
        *ALL_FOURS,
        ("2", "第 7/9 题（单选）：续聘意愿"),
        ("4", "请回复 1 到 3 之间的一个数字"),
        ("1", "第 8/9 题（多选）"),
        ("1 9", "请回复 1 到 7 之间的数字"),
        ("1，3、3", "第 9/9 题（意见）"),
        ("跳过", "请核对您的回答"),
    ])
    summary = await survey_bot.say(me.openid, "返回")
    assert "第 9/9 题" in summary
    summary = await survey_bot.say(me.openid, "电梯老是坏，希望尽快修")
    assert "1. 服务态度：4 分 满意" in summary and "8. 最需改进：服务态度、保洁" in summary
    assert "9. 意见建议：电梯老是坏" in summary
    assert "提交成功" in await survey_bot.say(me.openid, "确认")
    async with services.db.transaction() as session:
        row = await session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == sid))
    assert row.answers == {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": 4, "q6": 2, "q7": 1, "q8": [1, 3],
                           "q9": "电梯老是坏，希望尽快修"}
    assert row.resident_ref == me.ref and row.voter_key.startswith("h:")
    assert await count(services, SurveyDraft) == 0  # the draft is gone once submitted


async def test_optional_skip_is_stored_as_unanswered(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-02")
    await survey_bot.dialog(me.openid, [("调查", "第 1/9 题"), ("5", "第 2/9"), *[("3", "题")] * 5, ("3", "第 8/9"),
                                        ("跳过", "第 9/9"), ("无", "请核对"), ("确认", "提交成功")])
    async with services.db.transaction() as session:
        answers = await session.scalar(select(SurveyResponse.answers).where(SurveyResponse.survey_id == sid))
    assert answers["q8"] is None and answers["q9"] is None and answers["q7"] == 3


async def test_resume_after_restart_and_after_the_dialog_expired(start_bot, settings, survey_bot):
    services = survey_bot.services
    await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01")
    await survey_bot.dialog(me.openid, [("调查", "第 1/9 题"), ("5", "第 2/9 题"), ("4", "第 3/9 题")])
    # A new server process on the same database: the dialog continues where it stopped.
    from tests.support import fixed_clock
    clock = fixed_clock(NOW + timedelta(minutes=5))
    second = await start_bot(settings, clock=clock, routers=routers(), plugins=[], demo=False)
    assert "第 4/9 题" in await second.say(me.openid, "3")
    # The dialog expires (hours later): 「调查」 resumes from the draft row at the next unanswered question.
    clock.state["now"] = NOW + timedelta(hours=5)
    reply = await second.say(me.openid, "调查")
    assert "继续上次的作答（已答 3 题）" in reply and "第 4/9 题" in reply
    # 取消 pauses; 调查 resumes again.
    await second.dialog(me.openid, [("2", "第 5/9 题"), ("取消", "已取消"), ("调查", "第 5/9 题")])


async def test_changing_a_vote_keeps_the_earlier_one_in_the_audit_trail(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01")
    await survey_bot.dialog(me.openid, [("调查", "第 1/9"), *[("2", "题")] * 6, ("2", "第 8/9"), ("跳过", "第 9/9"),
                                        ("跳过", "请核对"), ("确认", "提交成功")])
    reply = await survey_bot.say(me.openid, "调查")
    assert "您已于" in reply and "1. 服务态度：2 分 不满意" in reply
    await survey_bot.dialog(me.openid, [("1", "第 1/9 题"), ("5", "1. 服务态度：5 分 非常满意"),
                                        ("确认", "已更新您的回答")])
    await survey_bot.dialog(me.openid, [("调查", "您已于"), ("确认", "没有变化")])
    async with services.db.transaction() as session:
        rows = list(await session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == sid)))
        events = list(await session.scalars(select(SurveyResponseEvent).order_by(SurveyResponseEvent.id)))
    assert len(rows) == 1 and rows[0].answers["q1"] == 5 and rows[0].revision == 2
    assert [(e.action, e.answers["q1"]) for e in events] == [("submit", 2), ("change", 5)]


async def test_several_open_campaigns_are_listed(survey_bot):
    services = survey_bot.services
    first = await new_campaign(services)
    await new_campaign(services, template="developer", subject="KF-JC")
    me = await add_resident(services, "HX-YYL-YJ-01")
    reply = await survey_bot.say(me.openid, "调查")
    assert "1. 津安物业服务有限公司物业服务质量满意度调查（未参加" in reply and "2. 津城置业" in reply
    await survey_bot.dialog(me.openid, [("3", "请回复 1 到 2"), ("2", "房屋质量")])
    assert "服务态度" in await survey_bot.say(me.openid, f"调查 {first}")  # the number from an invitation
    assert "已经" not in await survey_bot.say(me.openid, "帮助")  # global words still work inside the dialog


async def test_nothing_open_and_unbound(survey_bot):
    services = survey_bot.services
    me = await add_resident(services, "HX-YYL-YJ-01")
    assert "目前没有" in await survey_bot.say(me.openid, "调查")
    await new_campaign(services)
    assert "请回复「绑定」" in await survey_bot.say("o_sv_unbound", "调查")


async def test_cancel_tells_the_resident_the_answers_so_far_are_kept(survey_bot):
    services = survey_bot.services
    await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01")
    await survey_bot.dialog(me.openid, [("调查", "第 1/9 题"), ("5", "第 2/9 题"), ("4", "第 3/9 题")])
    cancelled = await survey_bot.say(me.openid, "取消")
    assert "已取消" in cancelled and "已答的题目已保存（尚未提交）" in cancelled and "「调查」" in cancelled
    assert await count(services, SurveyResponse) == 0  # kept as a draft, not submitted
    assert await count(services, SurveyDraft) == 1
    reply = await survey_bot.say(me.openid, "调查")
    assert "继续上次的作答（已答 2 题）" in reply and "第 3/9 题" in reply
    assert "已答的题目已保存" in await survey_bot.say(me.openid, "取消")
    nothing = await survey_bot.say(me.openid, "取消")  # no dialog left: nothing said about survey answers
    assert "当前没有正在进行的操作" in nothing and "已答的题目" not in nothing
