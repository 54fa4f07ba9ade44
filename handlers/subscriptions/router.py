"""Chat: 「订阅」 shows what a resident receives; 「退订 <类别>」 / 「订阅 <类别>」 mute and unmute a category.

Categories: 公示 (notice), 会议 (meeting: joint-meeting summaries), 调查 (survey), 投诉进度 (ticket). 投诉进度 cannot
be muted: it only ever concerns the resident's own complaint, which they asked us to handle, so it is a reply to
them rather than a broadcast (the outbox ignores mutes for `ticket`). Also handles the TEMPLATESENDJOBFINISH
event: WeChat's final status of a template message updates its delivery row.
"""
from __future__ import annotations

import re

from bot.context import Context
from bot.router import ANY_STATE, Router
from bot.types import SILENT, UNHANDLED, Reply
from storage.repositories import deliveries

LABELS = {"notice": "公示", "meeting": "会议", "survey": "调查", "ticket": "投诉进度"}
ALIASES = {"公示": "notice", "公告": "notice", "通知": "notice", "会议": "meeting", "会议纪要": "meeting",
           "联席会议": "meeting", "调查": "survey", "问卷": "survey", "满意度调查": "survey",
           "投诉进度": "ticket", "投诉": "ticket", "工单": "ticket"}
MUTABLE = ("notice", "meeting", "survey")
COMMAND = re.compile(r"^(订阅|退订|取消订阅)(\s*)(\S{0,8})$")
HOW = "回复「退订 会议」停止接收某类消息，回复「订阅 会议」恢复接收。"


def overview(muted: set[str]) -> str:
    lines = [f"· {LABELS[c]}：{'已退订' if c in muted else '接收中'}" for c in MUTABLE]
    lines.append(f"· {LABELS['ticket']}：始终接收（只涉及您本人提交的投诉）")
    return "您的消息推送设置：\n" + "\n".join(lines) + "\n" + HOW


def build_router() -> Router:
    router = Router("subscriptions", help_lines=["订阅：查看消息推送设置", "退订 类别：停止接收公示、会议或调查的推送"])

    @router.text(COMMAND)
    async def command(ctx: Context):
        verb, spaced, word = ctx.match.group(1), ctx.match.group(2), ctx.match.group(3)
        if ctx.resident.id is None:
            return UNHANDLED
        muted = await deliveries.muted(ctx.session, ctx.resident.id)
        if not word:
            if verb == "订阅":
                return Reply(overview(muted))
            return Reply("请告诉我要退订哪一类：公示、会议、调查，例如回复「退订 调查」。\n\n" + overview(muted))
        category = ALIASES.get(word)
        if category is None:
            if not spaced:  # 「订阅号怎么用」 is a question for someone else, not a command
                return UNHANDLED
            return Reply(f"没有「{word}」这一类消息。可以退订的有：公示、会议、调查。\n{HOW}")
        return Reply(await _change(ctx, category, mute=verb != "订阅"))

    @router.event("templatesendjobfinish", state=ANY_STATE)
    async def job_finished(ctx: Context):
        raw = ctx.message.raw
        try:
            msgid = int(raw.get("MsgID") or raw.get("MsgId") or 0)
        except (TypeError, ValueError):
            return SILENT
        if msgid:
            await deliveries.apply_receipt(ctx.session, msgid, str(raw.get("Status") or ""), ctx.now)
        return SILENT

    return router


async def _change(ctx: Context, category: str, *, mute: bool) -> str:
    label = LABELS[category]
    if category not in MUTABLE:
        if mute:
            return f"「{label}」只推送您本人提交的投诉的处理进展，无法退订；投诉办结后就不会再收到。"
        return f"「{label}」始终会推送给您，无需订阅。"
    if mute:
        changed = await deliveries.mute(ctx.session, ctx.resident.id, category, ctx.now)
        return (f"已退订「{label}」，以后这类消息不再推送给您。回复「订阅 {label}」可恢复。" if changed
                else f"您此前已退订「{label}」。回复「订阅 {label}」可恢复。")
    changed = await deliveries.unmute(ctx.session, ctx.resident.id, category)
    return f"已恢复接收「{label}」。" if changed else f"您正在接收「{label}」，无需重复订阅。"
