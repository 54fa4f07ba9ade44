"""The one place where tickets change. Chat, console, API, command line and the scheduler all call these
functions; each checks `rules.refusal`, changes the ticket, appends a timeline event (who, when, public or
internal) and pushes public changes to the resident through the delivery engine — in the caller's transaction.

Entry points: `file_ticket` (a resident in the chat), `file_received` (a complaint that came another way: by
phone, at the office, from the 12345 hotline), `find_duplicate`, and `perform(session, services, ticket, action,
actor, now, **params)` for every other action (sign, assign, reply, note, ask, supplement, resolve, escalate, return,
reject, close, rate, unsatisfied, link, mediation, chase). Bad input raises `TicketError` (Chinese message).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.privacy.redact import mask
from handlers.tickets import media, notify, rules
from handlers.tickets.intake import MAX_DESCRIPTION
from handlers.tickets.numbering import next_number
from handlers.tickets.operations import ACTIONS, RATING_LABELS, STAFF_ACTIONS, Op, TicketError
from handlers.tickets.rules import CATEGORIES, CHANNELS, Actor, TicketView
from handlers.tickets.sla import sla_of
from storage.models import Estate, Resident, Staff, new_ref
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

__all__ = ["ACTIONS", "RATING_LABELS", "STAFF_ACTIONS", "TicketError", "Filing", "Received", "file_ticket",
           "file_received", "find_duplicate", "perform", "allowed", "staff_actor", "partner_actor", "partner_phone",
           "resident_actor", "view"]



@dataclass
class Filing:
    category: str
    description: str
    photos: list[dict] = field(default_factory=list)
    location: dict | None = None
    phone: str | None = None


@dataclass
class Received:
    """A complaint that did not come through the chat. `received_at` starts the clock; `due_at`, an outside
    deadline (the 12345 hotline's), wins over ours when it is earlier."""

    community_id: int
    category: str
    description: str
    channel: str
    received_at: datetime
    estate_id: int | None = None
    phone: str | None = None
    due_at: datetime | None = None
    caller_name: str | None = None
    building: str | None = None
    actor: str = "system"
    actor_label: str = "工作人员登记"


def view(ticket: Ticket, actor: Actor) -> TicketView:
    return TicketView(level=ticket.level, status=ticket.status, resident_ref=ticket.resident_ref,
                      waiting=ticket.waiting_since is not None, reopened=ticket.reopened,
                      escalation_offered=ticket.escalation_offered, in_scope=actor.sees(ticket.community_id),
                      resident_gone=ticket.resident_erased_at is not None, assignee_partner=ticket.assignee_partner,
                      partner_reported=ticket.partner_done_at is not None)


def staff_actor(staff: Staff, communities: frozenset[int] | None) -> Actor:
    return Actor("staff", f"staff:{staff.username}", f"{staff.display_name}（{staff.level.label}）",
                 staff.level.value, staff.id, communities=communities)


def partner_actor(staff: Staff) -> Actor:
    """A partner organisation's account: acts only on tickets 交办 to its organisation (rules.BY_PARTNER)."""
    return Actor("partner", f"staff:{staff.username}", f"{staff.display_name}（承办单位）", None, staff.id,
                 communities=frozenset(), partner=staff.partner)


def partner_phone(ticket: Ticket) -> str | None:
    """The resident's phone as the partner it was 交办 to may read it: in full only while the community shares it
    (`phone_shared_at`) and the resident has not erased their data; otherwise masked (or None)."""
    if ticket.phone_shared_at is not None and ticket.resident_erased_at is None and ticket.phone:
        return ticket.phone
    return ticket.phone_masked if ticket.resident_erased_at is None else None


def resident_actor(ref: str) -> Actor:
    return Actor("resident", "resident", "居民", resident_ref=ref)


def allowed(ticket: Ticket, action: str, actor: Actor) -> bool:
    return rules.refusal(action, actor, view(ticket, actor)) is None


async def find_duplicate(session: AsyncSession, services, ref: str, category: str, description: str,
                         now: datetime) -> Ticket | None:
    """The resident's unfinished ticket about the same thing, filed within the duplicate window."""
    since = now - timedelta(hours=sla_of(services).duplicate_hours)
    for ticket in await repo.recent_of_resident(session, ref, since):
        if rules.is_duplicate(category, description, ticket.category, ticket.description):
            return ticket
    return None


async def file_ticket(session: AsyncSession, services, resident: Resident, filing: Filing,
                      now: datetime) -> Ticket:
    """Open a ticket at the community level of the resident's community (the resident must be bound)."""
    if resident.community_id is None:
        raise TicketError("请先绑定您所在的社区，再提交投诉。")
    if filing.category not in CATEGORIES:
        raise TicketError("投诉类别有误")
    sla = sla_of(services)
    sign_due, resolve_due = sla.deadlines(now, "community", filing.category)
    estate = await session.get(Estate, resident.estate_id) if resident.estate_id else None
    phone = filing.phone
    ticket = Ticket(
        number=await next_number(session, now), resident_ref=resident.ref, resident_id=resident.id,
        community_id=resident.community_id, estate_id=resident.estate_id,
        property_company_id=estate.property_company_id if estate else None, category=filing.category,
        description=filing.description.strip(), photos=list(filing.photos)[:9], location=filing.location,
        phone=phone, phone_masked=rules.mask_phone(phone), level="community", status="received",
        created_at=now, updated_at=now, level_since=now, sign_due_at=sign_due, resolve_due_at=resolve_due,
        first_sign_due_at=sign_due, reopened=0, escalations=0, escalation_offered=False)
    session.add(ticket)
    await session.flush()
    media.enqueue(session, ticket.id, ticket.photos, "complaint", now)  # kept beyond WeChat's three days
    repo.add_event(session, ticket, kind="created", actor="resident", actor_label="居民", public=True,
                   text=f"{CATEGORIES[ticket.category]}：{mask(ticket.description)[:60]}", at=now)
    await notify.to_staff(session, ticket, "community",
                          f"新投诉 {ticket.number}（{CATEGORIES[ticket.category]}），请于 {notify.local(sign_due)} "
                          f"前签收。", now=now, kind="ticket_new", services=services)
    return ticket


async def file_received(session: AsyncSession, services, received: Received, now: datetime) -> Ticket:
    """Open a ticket at the community level for a complaint received by phone, at the office or from the
    hotline. It has no resident (an anonymous ref of its own); its channel says how it came in."""
    if received.category not in CATEGORIES:
        raise TicketError("投诉类别有误")
    if received.channel not in CHANNELS:
        raise TicketError("受理渠道有误")
    sla = sla_of(services)
    sign_due, resolve_due = sla.deadlines(received.received_at, "community", received.category)
    if received.due_at is not None and received.due_at < resolve_due:
        resolve_due = received.due_at
        sign_due = min(sign_due, resolve_due)
    estate = await session.get(Estate, received.estate_id) if received.estate_id else None
    at = received.received_at
    ticket = Ticket(
        number=await next_number(session, now), resident_ref=new_ref(), resident_id=None,
        community_id=received.community_id, estate_id=estate.id if estate else None,
        property_company_id=estate.property_company_id if estate else None, category=received.category,
        channel=received.channel, description=received.description.strip()[:MAX_DESCRIPTION], photos=[],
        location=None, phone=received.phone, phone_masked=rules.mask_phone(received.phone), level="community",
        caller_name=received.caller_name, building=received.building,
        status="received", created_at=at, updated_at=now, level_since=at, sign_due_at=sign_due,
        resolve_due_at=resolve_due, first_sign_due_at=sign_due, reopened=0, escalations=0, escalation_offered=False)
    session.add(ticket)
    await session.flush()
    repo.add_event(session, ticket, kind="created", actor=received.actor, actor_label=received.actor_label,
                   public=False, text=f"{CHANNELS[received.channel]}受理 {CATEGORIES[ticket.category]}："
                   f"{mask(ticket.description)[:60]}", at=now)
    await notify.to_staff(session, ticket, "community",
                          f"新投诉 {ticket.number}（{CHANNELS[received.channel]}，{CATEGORIES[ticket.category]}），"
                          f"请于 {notify.local(sign_due)} 前签收。", now=now, kind="ticket_new",
                          services=services)
    return ticket


async def perform(session: AsyncSession, services, ticket: Ticket, action: str, actor: Actor, now: datetime,
                  **params) -> str:
    """Take `action` on `ticket` as `actor`; returns a short Chinese confirmation. Raises TicketError."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise TicketError("未知的操作", 404)
    rule_action = action
    if action == "unsatisfied":
        rule_action = "reopen" if ticket.reopened == 0 else "rate"
    refused = rules.refusal(rule_action, actor, view(ticket, actor))
    if refused:
        raise TicketError(refused[1], refused[0])
    result = await handler(Op(session, services, ticket, actor, now), **params)
    ticket.updated_at = now
    return result


