"""Global words, unsupported message types, and the final fallback."""
from __future__ import annotations

from bot.context import Context
from bot.router import ANY_STATE, NO_STATE, Router
from bot.types import SILENT, UNHANDLED, Reply
from bot.webhook import unsupported_text
from handlers import vocabulary
from handlers.common import rules

HELP_WORDS = ("帮助", "菜单", "help", "?", "？", "功能")
CANCEL_WORDS = ("取消", "退出", "算了", "不办了")
UNHEARD = "没能听清这段语音。请再说一遍，或直接打字回复。"


def help_text(ctx: Context) -> str:
    lines = ctx.services.extras.get("help_lines", [])
    body = "\n".join(f"· {line}" for line in lines)
    return f"您可以直接发送以下文字：\n{body}\n\n有政策问题也可以直接提问，例如「物业费怎么公示」。"


def build_router() -> Router:
    router = Router("common", help_lines=["帮助：查看本说明", "取消：退出正在进行的操作"])

    @router.words(*HELP_WORDS, state=ANY_STATE)
    async def show_help(ctx: Context) -> Reply:
        return Reply(help_text(ctx))

    @router.click("HELP")
    async def help_button(ctx: Context) -> Reply:
        return Reply(help_text(ctx))

    @router.text(state=ANY_STATE)
    async def misheard(ctx: Context):
        """「不对」 right after a voice message heard as text (bot/voice.py): undo the dialog step it advanced when
        the state before it is kept, else just ask again (what it filed or submitted stands)."""
        heard = ctx.previous_heard
        if heard is None or not vocabulary.is_misheard(ctx.text):
            return UNHANDLED
        ctx.forget_heard = True
        undo = heard.get("undo")
        if isinstance(undo, dict):
            ctx.conversation.restore(undo.get("state"), undo.get("data") or {})
            return Reply(f"好的，刚才听到的「{heard.get('text', '')}」不算。请再说一遍，或直接打字回复。")
        return Reply("抱歉，可能听错了。请再说一遍，或直接打字告诉我们。")

    @router.words(*CANCEL_WORDS, state=ANY_STATE)
    async def cancel(ctx: Context) -> Reply:
        if not ctx.conversation.active:
            return Reply("当前没有正在进行的操作。回复「帮助」查看可以办理的事项。")
        note = cancel_note(ctx, ctx.conversation.state)
        ctx.conversation.clear()
        return Reply(f"已取消当前操作。{note}需要时回复「帮助」查看可以办理的事项。")

    @router.text(state=NO_STATE)
    async def greeting(ctx: Context):
        kind = rules.classify(ctx.text)
        if kind is None:
            return UNHANDLED  # anything but a bare greeting / thank-you goes on to the features
        return Reply(rules.greeting_reply(kind, ctx.resident.community_id is not None))

    return router


def cancel_note(ctx: Context, state: str | None) -> str:
    """What a feature tells the resident about the dialog they leave (Router.cancel_notes: by state or group)."""
    notes: dict[str, str] = ctx.services.extras.get("cancel_notes", {})
    for prefix, note in notes.items():
        if state and (state == prefix or state.startswith(prefix + ".")):
            return note
    return ""


def fallback_router() -> Router:
    """Registered last: whatever no feature took."""
    router = Router("fallback")

    @router.message("voice", state=ANY_STATE)
    async def unheard_voice(ctx: Context) -> Reply:
        # a voice no one could turn into text (bot/voice.py) where no feature keeps it (a complaint keeps it as
        # evidence, a question goes to staff): the dialog goes on, the resident types it
        return Reply(UNHEARD)

    @router.message("image", "video", "shortvideo", "location", "link", "file", "unknown", state=ANY_STATE)
    async def unsupported(ctx: Context) -> Reply:
        return Reply(unsupported_text(ctx.message.kind))

    @router.message("event", state=ANY_STATE)
    async def other_event(ctx: Context) -> Reply:
        return SILENT  # VIEW, LOCATION, job-finish and unknown events need no answer

    @router.message("text", state="*")
    async def in_dialog(ctx: Context) -> Reply:
        return Reply("没有看懂您的回复。请按上一条消息的提示回复，或回复「取消」退出当前操作。")

    @router.message("text")
    async def anything_else(ctx: Context) -> Reply:
        return Reply("抱歉，没有理解您的意思。\n" + help_text(ctx))

    return router
