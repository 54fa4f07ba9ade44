"""Chat side of policy Q&A: answer, offer the top three, or say plainly that we do not know; count what the
knowledge base lacks, take 有用/没用 ratings, and hand a question to staff (转人工).

Soft dialog states (the resident may simply move on; anything else is routed afresh):
  qa.answered   {entry, question[, ids, titles]}   after an answer: 有用 / 没用 (不对: the next candidates, when
                                    the answer came with any, offered by number) / 转人工
  qa.pick       {ids, titles, question}  after three candidates: a number, or 转人工
  qa.unanswered {question[, ids, titles]}  after "not found" (with up to three suggestions when the question
                                    looks in scope): a number for a suggestion, or 转人工
  qa.human      {}                  after a bare 转人工: the next text is the question for staff

A voice message that could not be turned into text (bot/voice.py), outside a dialog or in one of these, goes to
the 转人工 queue as an inquiry marked 【语音】 with its MediaId.
"""
from __future__ import annotations

from bot.context import Context
from bot.router import Router
from bot.types import UNHANDLED, Reply
from handlers.choices import numbered, pick
from handlers.policy_qa import rules, service
from handlers.policy_qa.states import QA
from knowledge.render import SUGGEST_HEAD, SUGGEST_TAIL

RATE_HINT = "这个回答有帮助吗？回复「有用」或「没用」；仍有疑问可回复「转人工」。"


def build_router() -> Router:
    router = Router("policy_qa", help_lines=["直接提问：例如「维修基金怎么用」「业委会怎么成立」", "转人工：把问题交给社区工作人员答复"])

    @router.click("ASK")
    @router.words("政策问答", "我要提问", "提问")  # what the menu button shows, typed
    async def ask_button(ctx: Context) -> Reply:
        return Reply("请直接输入您的问题，例如「物业费收支要公示吗」「联席会议多久开一次」。")

    @router.words(*rules.HUMAN)
    async def human(ctx: Context) -> Reply:
        ctx.conversation.enter(QA.human)
        return Reply("请用一条消息写下您的问题，我们会转给社区工作人员，答复会推送给您。回复「取消」可放弃。")

    @router.state(QA.human)
    async def human_question(ctx: Context) -> Reply:
        if len(ctx.text) < 4:
            return Reply("问题太短了，请写清楚您想咨询的事情（至少 4 个字），或回复「取消」。")
        return await _hand_over(ctx, ctx.text)

    @router.message("voice")
    @router.message("voice", state=QA.any)
    async def voice(ctx: Context) -> Reply:
        """A voice nobody could turn into text (bot/voice.py; a heard one is a text question): staff listen to it."""
        ctx.conversation.clear()
        inquiry = await service.open_inquiry(ctx, rules.voice_question(ctx.message.media_id))
        return Reply(f"没能把这段语音转成文字，已转给{_staff(ctx)}收听，咨询编号 Q{inquiry.id}，答复会推送给您。")

    @router.state(QA.answered)
    async def after_answer(ctx: Context):
        data = ctx.conversation.data
        if rules.is_word(ctx.text, rules.USEFUL + rules.USELESS):
            useful = rules.is_word(ctx.text, rules.USEFUL)
            await service.rate(ctx, data["entry"], useful)
            ctx.conversation.clear()
            if useful:
                return Reply("谢谢您的反馈！")
            if data.get("ids"):  # the answer was one of several candidates: offer the next ones
                ctx.conversation.enter(QA.pick, ids=data["ids"], titles=data["titles"],
                                       question=data.get("question", ""))
                return Reply(f"抱歉没能帮上忙。您想问的是不是下面这些？\n{numbered(data['titles'])}\n"
                             "请回复数字；都不是的话，换个说法再问，或回复「转人工」。")
            return _not_helped(ctx, data.get("question", ""), "抱歉没能帮上忙，我们会改进这条回答。")
        if rules.is_word(ctx.text, rules.HUMAN):
            return await _hand_over(ctx, data.get("question", ""))
        ctx.conversation.clear()
        return UNHANDLED

    @router.state(QA.pick)
    async def picked(ctx: Context):
        return await _pick_or_hand_over(ctx)

    @router.state(QA.unanswered)
    async def unanswered(ctx: Context):
        return await _pick_or_hand_over(ctx)

    @router.text()
    async def question(ctx: Context) -> Reply:
        return await _answer_question(ctx)

    return router


async def _answer_question(ctx: Context) -> Reply:
    holder = ctx.services.knowledge
    if holder is None:
        return Reply("政策问答暂不可用，请稍后再试，或回复「转人工」。")
    answer = holder.current.answer(ctx.text, top=3)
    if answer.outcome == "answer":
        entry = answer.matches[0].entry
        await service.record_answer(ctx, entry)
        others = answer.matches[1:3]  # 不对 / 没用 offers these next
        ctx.conversation.enter(QA.answered, entry=entry.id, question=ctx.text, ids=[m.entry.id for m in others],
                               titles=[m.entry.title for m in others])
        return Reply(f"{_render_entry(entry)}\n\n{RATE_HINT}")
    await service.record_gap(ctx, answer.outcome)
    if answer.outcome == "ambiguous":
        titles = [m.entry.title for m in answer.matches[:3]]
        ctx.conversation.enter(QA.pick, ids=[m.entry.id for m in answer.matches[:3]], titles=titles,
                               question=ctx.text)
        return Reply(f"您想问的是哪一个？\n{numbered(titles)}\n请回复数字；都不是的话，换个说法再问，或回复「转人工」。")
    if answer.matches:  # not found, but the question looks like ours: suggest the nearest entries
        titles = [m.entry.title for m in answer.matches[:3]]
        ctx.conversation.enter(QA.unanswered, ids=[m.entry.id for m in answer.matches[:3]], titles=titles,
                               question=ctx.text)
        return Reply(f"{SUGGEST_HEAD}\n{numbered(titles)}\n{SUGGEST_TAIL}")
    ctx.conversation.enter(QA.unanswered, question=ctx.text)
    return Reply("抱歉，暂时没有找到这个问题的答案。回复「转人工」，我们会把这个问题转给社区工作人员答复；"
                 "也可以换个说法再问，或回复「帮助」查看可以办理的事项。")


async def _pick_or_hand_over(ctx: Context):
    """After a numbered list (candidates or suggestions): 转人工, a number, or anything else as a new message."""
    data = ctx.conversation.data
    if rules.is_word(ctx.text, rules.HUMAN):
        return await _hand_over(ctx, data.get("question", ""))
    if rules.is_word(ctx.text, rules.USELESS):  # 没用 / 都不是: none of the list fits, not a new question
        return _not_helped(ctx, data.get("question", ""), "抱歉，这几条都没有答到您的问题。")
    index = pick(ctx.text, data.get("titles", []), by_name=False)  # words are a new question
    ctx.conversation.clear()
    if index is None:
        return UNHANDLED  # the resident moved on: treat the message as a fresh one
    entry = ctx.services.knowledge.current.get(data["ids"][index])
    if entry is None:
        return Reply("该条目已更新，请重新提问。")
    await service.record_answer(ctx, entry)
    ctx.conversation.enter(QA.answered, entry=entry.id, question=data.get("question", ""))
    return Reply(f"{_render_entry(entry)}\n\n{RATE_HINT}")


def _not_helped(ctx: Context, question: str, head: str) -> Reply:
    """The resident was not helped: keep their question so that 「转人工」 sends it without typing it again."""
    if not question.strip():
        ctx.conversation.clear()
        return Reply(f"{head}需要工作人员答复请回复「转人工」。")
    ctx.conversation.enter(QA.unanswered, question=question)
    return Reply(f"{head}回复「转人工」，我们会把您的问题「{_quote(question)}」转给社区工作人员答复；"
                 "也可以换个说法再问。")


def _quote(question: str) -> str:
    question = " ".join(question.split())
    return question if len(question) <= 30 else question[:30] + "…"


async def _hand_over(ctx: Context, question: str) -> Reply:
    if not question.strip():
        ctx.conversation.enter(QA.human)
        return Reply("请用一条消息写下您的问题，我们会转给社区工作人员。")
    inquiry = await service.open_inquiry(ctx, question)
    ctx.conversation.clear()
    return Reply(f"已将您的问题转给{_staff(ctx)}，咨询编号 Q{inquiry.id}。工作时间内会尽快答复，答复将推送给您。")


def _staff(ctx: Context) -> str:
    return "社区工作人员" if ctx.resident.community_id else "工作人员（您尚未绑定社区，绑定后答复更快：回复「绑定」）"


def _render_entry(entry) -> str:
    """The answer and, when it rests on one, the real source (a law, a regulation); linli's own how-to entries
    cite none."""
    return f"{entry.answer}\n\n依据：{entry.source}" if entry.source.strip() else entry.answer
