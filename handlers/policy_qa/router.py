"""Chat side of policy Q&A: answer, offer the top three, or say plainly that we do not know."""
from __future__ import annotations

from bot.context import Context
from bot.router import Router
from bot.types import UNHANDLED, Reply
from handlers.choices import numbered, pick


def build_router() -> Router:
    router = Router("policy_qa", help_lines=["直接提问：例如「维修基金怎么用」「业委会怎么成立」"])

    @router.click("ASK")
    async def ask_button(ctx: Context) -> Reply:
        return Reply("请直接输入您的问题，例如「物业费收支要公示吗」「联席会议多久开一次」。")

    @router.state("qa.pick")
    async def picked(ctx: Context) -> Reply:
        ids = ctx.conversation.data.get("ids", [])
        index = pick(ctx.text, ctx.conversation.data.get("titles", []))
        ctx.conversation.clear()
        if index is None:
            return UNHANDLED  # the resident moved on: treat the message as a fresh one
        entry = ctx.services.knowledge.current.get(ids[index])
        return Reply(_render_entry(entry)) if entry else Reply("该条目已更新，请重新提问。")

    @router.text()
    async def question(ctx: Context) -> Reply:
        return await _answer_question(ctx)

    return router


async def _answer_question(ctx: Context) -> Reply:
    holder = ctx.services.knowledge
    if holder is None:
        return Reply("政策问答暂不可用，请稍后再试。")
    answer = holder.current.ask(ctx.text, top=3)
    if answer.outcome == "answer":
        ctx.conversation.clear()
        return Reply(_render_entry(answer.matches[0].entry))
    if answer.outcome == "ambiguous":
        titles = [m.entry.title for m in answer.matches[:3]]
        ctx.conversation.enter("qa.pick", ids=[m.entry.id for m in answer.matches[:3]], titles=titles)
        return Reply(f"您想问的是哪一个？\n{numbered(titles)}\n请回复数字；都不是的话，换个说法再问一次。")
    ctx.conversation.clear()
    return Reply("抱歉，暂时没有找到这个问题的答案。您可以换个说法再问，或回复「帮助」查看可以办理的事项。")


def _render_entry(entry) -> str:
    return f"{entry.answer}\n\n依据：{entry.source}"
