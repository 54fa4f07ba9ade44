"""Public summaries: the only text of a ticket that is ever published (the Open311 export shows it as the
description; without one, only the category). A staff member at the ticket's level or above, inside its
jurisdiction, writes or approves it; it must name nobody (phone numbers, rooms, ID numbers and names are refused,
not silently cut: what was approved is what is published). Setting or withdrawing it is a timeline entry, and the
console and API audit it (`ticket.public_summary`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.privacy.redact import has_personal
from handlers.tickets.operations import TicketError
from handlers.tickets.rules import LEVEL_LABELS, RANK, Actor
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

MAX_CHARS = 300


def refusal(actor: Actor, ticket_level: str, in_scope: bool) -> str | None:
    """None when `actor` may set the public summary of a ticket at `ticket_level`, else why not (Chinese)."""
    if actor.kind != "staff":
        return "只有工作人员可以设置公开摘要"
    if not in_scope:
        return "该工单不在您的辖区内"
    if RANK[actor.level or "community"] < RANK[ticket_level]:
        return f"该工单在{LEVEL_LABELS[ticket_level]}办理，请由{LEVEL_LABELS[ticket_level]}或上级设置公开摘要"
    return None


def problem(text: str) -> str | None:
    """What is wrong with `text` as a public summary (Chinese), or None."""
    if len(text) > MAX_CHARS:
        return f"公开摘要不能超过 {MAX_CHARS} 字"
    if has_personal(text):
        return "公开摘要不能含电话、房号、证件号、姓名等个人信息，请删除后再提交"
    return None


async def set_summary(session: AsyncSession, ticket: Ticket, text: str, actor: Actor, now: datetime) -> str:
    """Approve `text` as the ticket's public summary (empty: withdraw it). Raises TicketError."""
    refused = refusal(actor, ticket.level, actor.sees(ticket.community_id))
    if refused:
        raise TicketError(refused, 403)
    text = " ".join(str(text or "").split())
    if not text:
        if ticket.public_summary is None:
            return "该工单没有公开摘要"
        ticket.public_summary = ticket.public_summary_by = ticket.public_summary_at = None
        repo.add_event(session, ticket, kind="public_summary", actor=actor.name, actor_label=actor.label,
                       public=False, text="撤回公开摘要", at=now)
        return "已撤回公开摘要，公开数据中只显示类别"
    wrong = problem(text)
    if wrong:
        raise TicketError(wrong)
    ticket.public_summary, ticket.public_summary_by, ticket.public_summary_at = text, actor.name[:80], now
    ticket.updated_at = now
    repo.add_event(session, ticket, kind="public_summary", actor=actor.name, actor_label=actor.label,
                   public=False, text=f"公开摘要：{text}", at=now)
    return "已设置公开摘要，将出现在公开数据（Open311）中"
