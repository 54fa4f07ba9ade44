"""关联投诉: a resident links the complaints staff recorded for them (by phone, at the office, from 12345) to their
WeChat: they send the call-back number they gave, see the complaints of their community registered with it and
not yet linked (number, category, date: nothing else), and confirm. From then on the ticket is in their 我的投诉
and its progress is pushed to them. Only bound residents, only their own community, only tickets nobody linked.
"""
from __future__ import annotations

from bot.context import Context
from bot.types import Reply
from handlers import vocabulary
from handlers.tickets import notify, rules
from handlers.tickets.rules import CATEGORIES, CHANNELS, STATUS_LABELS
from handlers.tickets.states import Claim
from storage.repositories import tickets as repo

NOT_BOUND = "关联投诉前请先回复「绑定」选择您所在的社区和小区。"
ASK_PHONE = ("请发送您打电话、来访或拨打 12345 反映问题时留下的手机号（如 13812345678），"
             "我们会找出以这个号码登记的投诉。回复「取消」可退出。")


async def begin(ctx: Context, rest: str) -> Reply:
    if ctx.resident.community_id is None:
        ctx.conversation.clear()
        return Reply(NOT_BOUND)
    phone = rules.find_phone(rest) if rest else None
    if phone is None:
        ctx.conversation.enter(Claim.phone)
        return Reply(ASK_PHONE)
    return await _look_up(ctx, phone)


async def on_phone(ctx: Context) -> Reply:
    phone = rules.find_phone(ctx.text)
    if phone is None:
        return Reply("没有识别出手机号。" + ASK_PHONE)
    return await _look_up(ctx, phone)


async def _look_up(ctx: Context, phone: str) -> Reply:
    found = await repo.unclaimed_by_phone(ctx.session, ctx.resident.community_id, phone)
    if not found:
        ctx.conversation.clear()
        return Reply(f"本社区没有以 {rules.mask_phone(phone)} 登记、尚未关联的投诉。如果号码没错，请联系社区工作人员核对。")
    ctx.conversation.enter(Claim.confirm, ids=[t.id for t in found], phone=phone)
    lines = [f"以 {rules.mask_phone(phone)} 登记的投诉："]
    for i, t in enumerate(found, 1):
        lines.append(f"{i}. {t.number} {CATEGORIES[t.category]} · {CHANNELS.get(t.channel, t.channel)}受理 · "
                     f"{STATUS_LABELS[t.status]}（{notify.local(t.created_at, False)}）")
    lines.append("确认是您反映的，请回复「确认」：这些投诉将出现在「我的投诉」里，办理进展会推送给您。不是请回复「取消」。")
    return Reply("\n".join(lines))


async def on_confirm(ctx: Context) -> Reply:
    data = ctx.conversation.data
    if vocabulary.is_no(ctx.text):
        ctx.conversation.clear()
        return Reply("已取消，没有关联任何投诉。")
    if not vocabulary.is_yes(ctx.text):
        return Reply("请回复「确认」关联这些投诉，或回复「取消」。")
    linked = await repo.claim(ctx.session, data.get("ids") or [], ctx.resident.ref, ctx.resident.id,
                              str(data.get("phone") or ""), ctx.now)
    ctx.conversation.clear()
    if not linked:
        return Reply("这些投诉已被关联或已变更，没有关联。请联系社区工作人员核对。")
    numbers = []
    for ticket_id in linked:
        ticket = await repo.get(ctx.session, ticket_id)
        if ticket is None:
            continue
        numbers.append(ticket.number)
        repo.add_event(ctx.session, ticket, kind="claimed", actor="resident", actor_label="居民", public=False,
                       text="居民在公众号中以登记的电话号码关联了这件投诉，此后办理进展推送给居民。", at=ctx.now)
    return Reply(f"已关联 {len(numbers)} 件投诉：{'、'.join(numbers)}。回复「我的投诉」查看，办理进展会推送给您。")
