"""What a linked staff member does from WeChat: 「待办」 and the ticket commands, each through the ticket service
the console uses (`handlers.tickets.service.perform`), with the staff member's jurisdiction loaded as the console
loads it (`load_scope`), so every refusal is the console's. Nothing here reads or writes the resident side of the
same WeChat user (their dialog, their tickets)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import local_text
from handlers.console.authz import load_scope, restrict
from handlers.privacy.redact import mask
from handlers.staff import rules
from handlers.tickets import service
from handlers.tickets.notify import place_names
from handlers.tickets.rules import CATEGORIES, OPEN, STAFF_STATUS_LABELS
from storage.models import Staff
from storage.repositories import staff_link as link_repo
from storage.repositories import tickets as ticket_repo
from storage.ticket_models import Ticket

TODO_LIMIT = 10
PARTNER_NOTE = ("回复「签收 1」「回复 1 内容」（以社区名义答复居民）「办结 1 结果」（报告办结，社区核实后办结）办理；"
                "也可在工作台「承办工单」办理。")
PARTNER_ACTIONS = {"sign": "partner_sign", "reply": "reply", "resolve": "partner_done"}


async def actor_of(session: AsyncSession, staff: Staff):
    scope = await load_scope(session, staff)
    return scope, service.staff_actor(staff, scope.community_ids)


async def todo(session: AsyncSession, staff: Staff) -> str:
    """The staff member's open items (the console's 我的待办), numbered; the numbers are remembered."""
    scope, _actor = await actor_of(session, staff)
    mine = (None if staff.level.value == "admin" else staff.level.value, staff.id)
    stmt = restrict(ticket_repo.listing(mine=mine, sort="due"), scope, Ticket.community_id).limit(TODO_LIMIT)
    tickets = list((await session.execute(stmt)).scalars())
    prefs = await link_repo.settings_of(session, staff.id)
    prefs.todo = [t.id for t in tickets]
    if not tickets:
        return "您目前没有待办工单。"
    lines = [f"您的待办（{len(tickets)} 件）："]
    for i, t in enumerate(tickets, 1):
        due = t.sign_due_at if t.signed_at is None else t.resolve_due_at
        what = "签收" if t.signed_at is None else "办结"
        reported = f"【{t.assignee_label}已报告办结，请核实：办结或退回】" if t.partner_done_at else ""
        lines.append(f"{i}. {t.number}【{STAFF_STATUS_LABELS.get(t.status, t.status)}】{CATEGORIES.get(t.category, '')}："
                     f"{t.description[:30]}（{local_text(due)} 前{what}）{reported}")
    lines.append("回复「签收 1」「回复 1 内容」「办结 1 结果」「退单 1 理由」办理"
                 + ("，「退回 1 理由」退回承办单位" if any(t.partner_done_at for t in tickets) else "")
                 + "；详情请到工作台查看。")
    return "\n".join(lines)


async def partner_todo(session: AsyncSession, staff: Staff) -> str:
    """What was 交办 to the partner organisation and is still open (never the resident's phone or name)."""
    stmt = (select(Ticket).where(Ticket.assignee_partner == staff.partner, Ticket.status.in_(OPEN))
            .order_by(Ticket.resolve_due_at, Ticket.id).limit(TODO_LIMIT))
    tickets = list((await session.execute(stmt)).scalars())
    prefs = await link_repo.settings_of(session, staff.id)
    prefs.todo = [t.id for t in tickets]
    if not tickets:
        return "目前没有交办给贵单位的待办工单。"
    lines = [f"交办给贵单位的工单（{len(tickets)} 件）："]
    for i, t in enumerate(tickets, 1):
        place = (await place_names(session, t.community_id))["community"]
        shared = f"（居民电话 {service.partner_phone(t)}，社区已共享）" if t.phone_shared_at else ""
        shared += "【已报告办结，待社区核实】" if t.partner_done_at else ""
        lines.append(f"{i}. {t.number}（{place}，{CATEGORIES.get(t.category, '')}）：{mask(t.description)[:40]}"
                     f"（{local_text(t.resolve_due_at)} 前办结）{shared}")
    lines.append(PARTNER_NOTE)
    return "\n".join(lines)


async def _ticket(session: AsyncSession, staff: Staff, ref: str) -> Ticket | None:
    prefs = await link_repo.settings_of(session, staff.id)
    ticket_id = rules.pick(ref, list(prefs.todo or []))
    if ticket_id is not None:
        return await ticket_repo.get(session, ticket_id, lock=True)
    found = await ticket_repo.by_number(session, ref)
    return await ticket_repo.get(session, found.id, lock=True) if found is not None else None


async def run(session: AsyncSession, services, staff: Staff, command: rules.Command, now: datetime) -> str:
    """Carry out a staff command; returns the reply. Outside the jurisdiction: the same answer as an unknown
    number (nothing about the ticket leaks)."""
    if staff.partner is not None:
        actor = service.partner_actor(staff)
        action = PARTNER_ACTIONS.get(command.action)
        ticket = await _ticket(session, staff, command.ref)
        if ticket is None or ticket.assignee_partner != staff.partner:
            return f"没有找到交办给贵单位的工单「{command.ref}」。回复「待办」查看。"
        if action is None:
            return (f"工单 {ticket.number}：承办单位不能退单或退回；如不属于贵单位职责，请用「回复」说明，"
                    "由社区重新交办。")
    else:
        _scope, actor = await actor_of(session, staff)
        action = command.action
        ticket = await _ticket(session, staff, command.ref)
        if ticket is None or not actor.sees(ticket.community_id):
            return f"没有找到工单「{command.ref}」，或它不在您的辖区内。回复「待办」查看您的待办。"
    params = {"sign": {}, "reply": {"text": command.text}, "resolve": {"text": command.text},
              "return": {"rule": command.text}, "send_back": {"reason": command.text}}[command.action]
    try:
        said = await service.perform(session, services, ticket, action, actor, now, **params)
    except service.TicketError as refused:
        return f"工单 {ticket.number}：{refused.message}"
    answer = f"工单 {ticket.number}：{said}。"
    if command.action == "resolve":
        prefs = await link_repo.settings_of(session, staff.id)
        prefs.photo_ticket_id, prefs.photo_until = ticket.id, now + rules.PHOTO_TTL
        answer += "如有办结照片，请在 30 分钟内直接发送，将作为办结凭证附在工单上。"
    return answer


async def evidence(session: AsyncSession, services, staff: Staff, media_id: str, pic_url: str,
                   now: datetime) -> str | None:
    """A photo after 「办结 编号」: kept on the ticket as evidence (an internal note with the photo); None when no
    办结 is waiting for one."""
    prefs = await link_repo.settings_of(session, staff.id)
    if prefs.photo_ticket_id is None or prefs.photo_until is None or prefs.photo_until <= now:
        return None
    ticket = await ticket_repo.get(session, prefs.photo_ticket_id, lock=True)
    if staff.partner is not None:
        actor = service.partner_actor(staff)
        mine = ticket is not None and ticket.assignee_partner == staff.partner
    else:
        _scope, actor = await actor_of(session, staff)
        mine = ticket is not None and actor.sees(ticket.community_id)
    if ticket is None or not mine:
        prefs.photo_ticket_id = prefs.photo_until = None
        return None
    try:
        await service.perform(session, services, ticket, "note", actor, now, text="办结凭证照片（微信发送）",
                              photos=[{"media_id": media_id, "pic_url": pic_url}])
    except service.TicketError as refused:
        return f"工单 {ticket.number}：{refused.message}"
    return f"已将照片作为办结凭证附在工单 {ticket.number} 上。可继续发送，30 分钟内有效。"
