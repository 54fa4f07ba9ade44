"""What a resident does with tickets after filing: 我的投诉, 查询 <编号> (the public timeline), rating (回访),
不满意, 升级 <编号>, 补充 <编号> …. Each returns the reply text; changes go through `service.perform`.
"""
from __future__ import annotations

from bot.context import Context
from handlers.tickets import media, notify, rules, service
from handlers.tickets.numbering import find_written
from handlers.tickets.rules import CATEGORIES, STATUS_LABELS
from handlers.tickets.states import Mine
from storage.repositories import media as media_repo
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

NOT_FOUND = "没有找到您提交的编号为 {number} 的投诉。回复「我的投诉」查看您的全部投诉。"


MINE_LIMIT = 10


async def my_tickets(ctx: Context) -> str:
    """The resident's latest complaints, numbered: the next message may pick one by its number."""
    found = await repo.of_resident(ctx.session, ctx.resident.ref, limit=MINE_LIMIT)
    if not found:
        return ("您还没有提交过投诉。回复「投诉」即可反映问题，例如「投诉 3号楼电梯坏了」。\n"
                "打电话或来访反映过问题的，回复「关联投诉」即可在这里查看进度。")
    if not ctx.conversation.active or ctx.conversation.in_group("mine"):  # never over a dialog in progress
        ctx.conversation.enter(Mine.listed, numbers=[t.number for t in found])
    lines = ["您最近的投诉："]
    for i, t in enumerate(found, 1):
        place = await notify.level_name(ctx.session, t)
        lines.append(f"{i}. {t.number} {CATEGORIES[t.category]} · {STATUS_LABELS[t.status]}（{place}）"
                     f" {notify.local(t.created_at, False)}")
    awaiting = [t for t in found if t.status == "resolved"]
    lines.append("回复序号（如「1」或「查询 1」）查看办理过程。")
    if awaiting:
        lines.append(f"{awaiting[0].number} 已办结，回复「评价 1–5 的分数」即可评价，例如「评价 5」。")
    return "\n".join(lines)


async def timeline_at(ctx: Context, position: int) -> str:
    """「查询 2」: the second complaint of 「我的投诉」."""
    found = await repo.of_resident(ctx.session, ctx.resident.ref, limit=MINE_LIMIT)
    if not found:
        return "您还没有提交过投诉。回复「投诉」即可反映问题。"
    if not 1 <= position <= len(found):
        return f"您最近有 {len(found)} 件投诉，请回复「查询 1」到「查询 {len(found)}」，或回复「我的投诉」查看列表。"
    return await timeline(ctx, found[position - 1].number)


async def _own(ctx: Context, number: str | None) -> Ticket | None:
    ticket = await repo.by_number(ctx.session, number) if number else None
    return ticket if ticket is not None and ticket.resident_ref == ctx.resident.ref else None


async def timeline(ctx: Context, number: str) -> str:
    ticket = await _own(ctx, number)
    if ticket is None:
        return NOT_FOUND.format(number=number)
    place = await notify.level_name(ctx.session, ticket)
    lines = [f"投诉 {ticket.number}（{CATEGORIES[ticket.category]}）", f"状态：{STATUS_LABELS[ticket.status]} · {place}",
             f"内容：{ticket.description[:120]}"]
    if ticket.phone_masked:
        lines.append(f"回电号码：{ticket.phone_masked}")
    if ticket.waiting_since is not None:
        lines.append(f"等待您补充情况：回复「补充 {ticket.number} 内容」，补充前办理时限暂停。")
    elif ticket.status in rules.OPEN:
        lines.append(f"预计 {notify.local(ticket.resolve_due_at)} 前办结。")
    kept = [m for m in await media_repo.of_ticket(ctx.session, ticket.id)
            if m.source in media_repo.RESIDENT_SOURCES and m.status in ("stored", "failed")]
    if kept:
        lines.append(f"您发送的附件（链接 {media.LINK_HOURS} 小时内有效）：")
        for i, m in enumerate(kept, 1):
            label = media.KIND_LABELS.get(m.kind, "附件")
            lines.append(f"· {label} {i}：" + (media.resident_link(ctx.settings, m, ticket.resident_ref, ctx.now)
                                               if m.status == "stored" else "未能保存，请重新发送给工作人员"))
    lines.append("办理过程：")
    for event in await repo.events(ctx.session, ticket.id, public_only=True):
        text = f"：{event.text}" if event.text else ""
        lines.append(f"· {notify.local(event.at)} {rules.ACTION_LABELS.get(event.kind, event.kind)}{text}")
    if ticket.status == "resolved":
        lines.append("请回复 1–5 的数字评价办理结果；不满意请回复「不满意」。")
        if ticket.escalation_offered:
            lines.append(f"如仍不满意，可回复「升级 {ticket.number}」申请上一级办理。")
    return "\n".join(lines)


async def _awaiting(ctx: Context, number: str | None) -> Ticket | None:
    if number:
        ticket = await _own(ctx, number)
        return ticket if ticket is not None and ticket.status == "resolved" else None
    found = await repo.awaiting_resident(ctx.session, ctx.resident.ref)
    return found[0] if found else None


async def rate(ctx: Context, score: int, words: str, number: str | None = None) -> str | None:
    """None when the resident has no resolved ticket to rate (the message was meant for someone else)."""
    ticket = await _awaiting(ctx, number)
    if ticket is None:
        return None
    return await _act(ctx, ticket, "rate", score=score, words=words)


async def unsatisfied(ctx: Context, words: str = "", number: str | None = None) -> str | None:
    ticket = await _awaiting(ctx, number)
    if ticket is None:
        return None
    return await _act(ctx, ticket, "unsatisfied", words=words)


async def escalate(ctx: Context, number: str | None) -> str:
    if number is None:
        offered = [t for t in await repo.awaiting_resident(ctx.session, ctx.resident.ref) if t.escalation_offered]
        if len(offered) != 1:
            return "请回复「升级 编号」，例如「升级 JF20261126-0007」。"
        number = offered[0].number
    ticket = await _own(ctx, number)
    if ticket is None:
        return NOT_FOUND.format(number=number)
    return await _act(ctx, ticket, "escalate")


async def supplement(ctx: Context, text: str) -> str:
    written = find_written(text)
    number = written[0] if written else None
    body = text.replace(written[1], "", 1).strip(" ：:，,") if written else text.strip()
    if number is None:
        waiting = await repo.waiting_for(ctx.session, ctx.resident.ref)
        if len(waiting) != 1:
            return "请回复「补充 编号 补充内容」，例如「补充 JF20261126-0007 漏水在3单元顶楼」。"
        ticket = waiting[0]
    else:
        ticket = await _own(ctx, number)
        if ticket is None:
            return NOT_FOUND.format(number=number)
    return await _act(ctx, ticket, "supplement", text=body)


async def supplement_media(ctx: Context) -> str | None:
    """A photo or video as the 补充 of the one complaint waiting for it; None when no (or more than one) waits."""
    waiting = await repo.waiting_for(ctx.session, ctx.resident.ref)
    if len(waiting) != 1 or not ctx.message.media_id:
        return None
    kind = "image" if ctx.message.kind == "image" else "video"
    item = {"media_id": ctx.message.media_id, "pic_url": ctx.message.pic_url, "kind": kind}
    label = "照片" if kind == "image" else "视频"
    return await _act(ctx, waiting[0], "supplement", text=f"（居民补充了一段{label}）" if kind == "video"
                      else "（居民补充了一张照片）", photos=[item])


async def _act(ctx: Context, ticket: Ticket, action: str, **params) -> str:
    try:
        return await service.perform(ctx.session, ctx.services, ticket, action,
                                     service.resident_actor(ctx.resident.ref), ctx.now, **params)
    except service.TicketError as exc:
        return exc.message
