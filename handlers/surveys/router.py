"""Resident chat for surveys: 「调查」 (or the SURVEY menu key, or 「调查 12」 from an invitation) starts or resumes
the resident's open campaign (a numbered list when there are several); one question at a time; 「返回」 goes
back, 「跳过」 skips an optional question; a summary, then 「确认」.

State: `survey.pick` (choosing a campaign), `survey.q` (answering question `step`), `survey.confirm` (summary).
The answers live in the conversation data and, after every answer, in a draft row, so a dialog that expires or
a server restart resumes where the resident stopped. Thin: parse → rules/voting → reply.
"""
from __future__ import annotations

from bot.context import Context
from bot.router import Router
from bot.types import UNHANDLED, Reply
from handlers import vocabulary
from handlers.surveys import messages, rules, voting
from handlers.surveys.states import Voting
from storage.repositories import surveys as repo
from storage.survey_models import Survey

START_WORDS = ("调查", "满意度调查", "参加调查", "问卷", "填问卷", "满意度")
NUMBERED = r"^(?:调查|问卷)\s*(?:第)?\s*(\d{1,9})\s*号?$"
# every answer is saved as a draft (`_goto`, `_summary`), so leaving keeps it; nothing is submitted, though
CANCEL_NOTE = "您已答的题目已保存（尚未提交），截止前回复「调查」可接着作答。"
NOTHING_OPEN = "目前没有您可以参加的满意度调查。有新的调查时，我们会推送邀请给您。"


def build_router() -> Router:
    router = Router("surveys", help_lines=["调查：参加本小区正在进行的满意度调查（截止前可修改）"],
                    cancel_notes={Voting.q: CANCEL_NOTE, Voting.confirm: CANCEL_NOTE})

    @router.words(*START_WORDS)
    async def start_word(ctx: Context) -> Reply:
        return await start(ctx)

    @router.text(NUMBERED, state=Voting.any)
    @router.text(NUMBERED)
    async def start_numbered(ctx: Context) -> Reply:
        ctx.conversation.clear()
        return await start(ctx, int(ctx.match.group(1)))

    @router.click("SURVEY")
    async def start_button(ctx: Context) -> Reply:
        if ctx.conversation.in_group("survey") and ctx.conversation.state != Voting.pick:
            return await _show_current(ctx, "继续作答：\n")
        ctx.conversation.clear()
        return await start(ctx)

    @router.words(*START_WORDS, state=Voting.any)
    async def start_again(ctx: Context) -> Reply:
        if ctx.conversation.state == Voting.pick:
            ctx.conversation.clear()
            return await start(ctx)
        return await _show_current(ctx, "继续作答：\n")

    @router.state(Voting.pick)
    async def picked(ctx: Context):
        options = ctx.conversation.data.get("options", [])
        n = rules.read_jump(ctx.text, len(options))
        if n is None:
            if rules.normal(ctx.text).isdigit():
                return Reply(f"请回复 1 到 {len(options)} 之间的数字选择调查，或回复「取消」。")
            ctx.conversation.clear()
            return UNHANDLED  # the resident moved on: treat the message afresh
        survey = await repo.get(ctx.session, options[n])
        return await begin(ctx, survey)

    @router.state(Voting.q)
    async def answered(ctx: Context) -> Reply:
        survey = await _current(ctx)
        if isinstance(survey, Reply):
            return survey
        data = ctx.conversation.data
        step = data["step"]
        q = survey.questions[step]
        parsed = rules.parse_answer(q, ctx.text)
        if not parsed.ok:
            return Reply(parsed.hint)
        if parsed.value is rules.BACK:
            if step == 0:
                return Reply("已经是第一题了。\n\n" + _question(survey, 0))
            return await _goto(ctx, survey, step - 1, review=False)
        answers = {**data["answers"], q["id"]: None if parsed.value is rules.SKIP else parsed.value}
        ctx.conversation.update(answers=answers)
        following = rules.first_missing(survey.questions, answers) if data.get("review") else step + 1
        if following is None or following >= len(survey.questions):
            return await _summary(ctx, survey)
        return await _goto(ctx, survey, following, review=data.get("review", False))

    @router.state(Voting.confirm)
    async def confirming(ctx: Context) -> Reply:
        survey = await _current(ctx)
        if isinstance(survey, Reply):
            return survey
        text, total = rules.normal(ctx.text), len(survey.questions)
        if vocabulary.is_yes(text):
            return await _submit(ctx, survey)
        if text in rules.BACK_WORDS:
            return await _goto(ctx, survey, total - 1, review=False)
        jump = rules.read_jump(text, total)
        if jump is not None:
            return await _goto(ctx, survey, jump, review=True)
        return Reply(f"请回复「确认」提交；回复 1 到 {total} 的题号修改该题；回复「取消」暂停（已答内容会保存）。")

    return router


async def start(ctx: Context, survey_id: int | None = None) -> Reply:
    """List the resident's open campaigns, or begin/resume the only one (or the numbered one)."""
    resident = ctx.resident
    if resident.community_id is None:
        return Reply("参与满意度调查需要先绑定您所在的社区和小区，请回复「绑定」。")
    found = await voting.campaigns_for(ctx.session, resident, ctx.now)
    if survey_id is not None:
        found = [s for s in found if s.id == survey_id]
        if not found:
            return Reply(f"没有找到您可以参加的第 {survey_id} 号调查（可能已结束或不包括您的小区）。回复「调查」查看全部。")
    if not found:
        return Reply(NOTHING_OPEN)
    if len(found) == 1:
        return await begin(ctx, found[0])
    drafts = await repo.drafts_of(ctx.session, resident.id)
    lines = ["您有以下正在进行的满意度调查："]
    for n, s in enumerate(found, 1):
        own = await repo.response_of(ctx.session, s.id, ref=resident.ref)
        state = ("已提交，可修改" if own else f"已答 {len(drafts[s.id].answers)} 题" if s.id in drafts
                 else "未参加")
        lines.append(f"{n}. {s.title}（{state}；截止 {messages.local(s.closes_at)}）")
    lines.append("请回复数字选择。")
    ctx.conversation.enter(Voting.pick, options=[s.id for s in found])
    return Reply("\n".join(lines))


async def begin(ctx: Context, survey: Survey) -> Reply:
    try:
        own = await voting.check(ctx.session, survey, ctx.resident, ctx.now,
                                 household_key=ctx.settings.household_secret)
    except voting.VoteRefused as refused:
        ctx.conversation.clear()
        return Reply(refused.message)
    draft = await repo.draft(ctx.session, survey.id, ctx.resident.id)
    base = {"sid": survey.id, "v": survey.questions_version}
    if draft is not None and draft.questions_version == survey.questions_version and draft.answers:
        answers = {k: v for k, v in draft.answers.items()}
        missing = rules.first_missing(survey.questions, answers)
        ctx.conversation.enter(Voting.q, **base, answers=answers, step=0, review=False)
        if missing is None:
            return await _summary(ctx, survey, "继续上次的作答。\n")
        step = min(draft.step, missing)
        return await _goto(ctx, survey, step, prefix=f"继续上次的作答（已答 {len(answers)} 题）。\n\n")
    if own is not None:
        ctx.conversation.enter(Voting.q, **base, answers=dict(own.answers), step=0, review=False)
        head = (f"您已于 {messages.local(own.updated_at)} 提交过「{survey.title}」。截止 "
                f"{messages.local(survey.closes_at)} 前可以修改，以最后一次提交为准。\n")
        return await _summary(ctx, survey, head)
    ctx.conversation.enter(Voting.q, **base, answers={}, step=0, review=False)
    intro = (f"【{survey.title}】\n调查对象：{survey.subject_name}\n共 {len(survey.questions)} 题，"
             f"截止 {messages.local(survey.closes_at)}。您的回答匿名统计。\n\n")
    return Reply(intro + _question(survey, 0))


def _question(survey: Survey, step: int) -> str:
    return rules.question_text(survey.questions[step], step, len(survey.questions))


async def _current(ctx: Context) -> Survey | Reply:
    """The campaign of the dialog, or a reply ending the dialog when it closed or its questions changed."""
    data = ctx.conversation.data
    survey = await repo.get(ctx.session, data.get("sid", 0))
    if survey is None or not voting.is_open(survey, ctx.now):
        ctx.conversation.clear()
        return Reply("这项调查已经结束，未提交的回答不再计入。感谢关注！")
    if survey.questions_version != data.get("v"):
        await repo.drop_drafts(ctx.session, survey.id, ctx.resident.id)
        ctx.conversation.enter(Voting.q, sid=survey.id, v=survey.questions_version, answers={}, step=0,
                               review=False)
        return Reply("调查题目刚刚作了调整，请从第一题重新作答。\n\n" + _question(survey, 0))
    return survey


async def _goto(ctx: Context, survey: Survey, step: int, *, review: bool = False, prefix: str = "") -> Reply:
    ctx.conversation.update(Voting.q, step=step, review=review)
    await repo.save_draft(ctx.session, survey.id, ctx.resident.id, step, ctx.conversation.data["answers"],
                          survey.questions_version, ctx.now)
    return Reply(prefix + _question(survey, step))


async def _summary(ctx: Context, survey: Survey, prefix: str = "") -> Reply:
    answers = ctx.conversation.data["answers"]
    ctx.conversation.update(Voting.confirm, step=len(survey.questions) - 1, review=False)
    await repo.save_draft(ctx.session, survey.id, ctx.resident.id, len(survey.questions), answers,
                          survey.questions_version, ctx.now)
    return Reply(prefix + rules.summary_text(survey.questions, answers))


async def _show_current(ctx: Context, prefix: str) -> Reply:
    survey = await _current(ctx)
    if isinstance(survey, Reply):
        return survey
    if ctx.conversation.state == Voting.confirm:
        return await _summary(ctx, survey, prefix)
    return Reply(prefix + _question(survey, ctx.conversation.data.get("step", 0)))


async def _submit(ctx: Context, survey: Survey) -> Reply:
    data = ctx.conversation.data
    try:
        cast = await voting.submit(ctx.session, survey, ctx.resident, data["answers"], data["v"], ctx.now,
                                   household_key=ctx.settings.household_secret)
    except voting.VoteRefused as refused:
        if refused.restart:
            await repo.drop_drafts(ctx.session, survey.id, ctx.resident.id)
            ctx.conversation.enter(Voting.q, sid=survey.id, v=survey.questions_version, answers={}, step=0,
                                   review=False)
            return Reply(refused.message + "\n\n" + _question(survey, 0))
        ctx.conversation.clear()
        return Reply(refused.message)
    ctx.conversation.clear()
    until = messages.local(survey.closes_at)
    if cast.outcome == "new":
        return Reply(f"提交成功，感谢您的参与！\n{until} 前回复「调查」可以修改您的回答，以最后一次提交为准。")
    if cast.outcome == "changed":
        return Reply(f"已更新您的回答，以本次提交为准。{until} 前仍可修改。")
    return Reply("您的回答没有变化，已保留原来的提交。")
