"""Telling people: progress pushed to the resident (and to residents of linked duplicates), and alerts to staff
who follow the account, all through the delivery engine in the caller's transaction.

Staff alerts go through `bot.delivery.staff.push_to_staff`: a staff member who linked WeChat (`staff.openid`,
still following the account) gets them there, unless they switched the kind off or are in their quiet hours (held
until those end); each carries the ticket's console link. Everyone sees the ticket in the console.
"""
from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Content, Scope, create_broadcast
from bot.delivery.staff import push_to_staff
from bot.localtime import local_text
from handlers.tickets.rules import LEVEL_LABELS, STATUS_LABELS
from storage.models import Community, District, Staff, StaffLevel, Street
from storage.ticket_models import Ticket

local = local_text  # the ticket messages' time format


_NAMES: dict[int, tuple[float, dict[str, str]]] = {}
NAMES_SECONDS = 60.0  # org renames show up within a minute


async def place_names(session: AsyncSession, community_id: int) -> dict[str, str]:
    """{"community": 谊景社区, "street": 友谊路街道, "district": 河西区} for the ticket's jurisdiction (cached)."""
    found = _NAMES.get(community_id)
    if found is not None and found[0] > time.monotonic():
        return found[1]
    row = (await session.execute(
        select(Community.name, Street.name, District.name)
        .join(Street, Street.id == Community.street_id).join(District, District.id == Street.district_id)
        .where(Community.id == community_id))).one_or_none()
    if row is None:
        return dict(LEVEL_LABELS)
    names = {"community": row[0], "street": row[1], "district": row[2]}
    _NAMES[community_id] = (time.monotonic() + NAMES_SECONDS, names)
    return names


async def level_name(session: AsyncSession, ticket: Ticket, level: str | None = None) -> str:
    return (await place_names(session, ticket.community_id))[level or ticket.level]


async def to_resident(session: AsyncSession, ticket: Ticket, text: str, *, actor: str, now: datetime,
                      also_linked: list[Ticket] = (), skip_self: bool = False) -> int:
    """Push `text` about `ticket` to its resident (and to the residents of tickets merged into it)."""
    everyone = [*([] if skip_self else [ticket]), *also_linked]
    recipients = [t for t in everyone if t.resident_id is not None]
    for t in recipients:
        body = text if t is ticket else f"（与您的投诉 {t.number} 合并办理）\n{text}"
        await create_broadcast(
            session, category="ticket", scope=Scope.of_residents([t.resident_id]),
            content=Content(text=body, title=f"投诉进度 {ticket.number}", summary=STATUS_LABELS[ticket.status]),
            created_by=actor[:64], source=f"ticket:{t.id}", now=now)
    return len(recipients)


def base_of(services) -> str:
    """The public address of the console, for links in staff pushes ("" when unknown)."""
    settings = getattr(services, "settings", None)
    return settings.base_url.rstrip("/") if settings is not None else ""


def ticket_link(services, ticket: Ticket) -> str:
    return f"{base_of(services)}/console/tickets/{ticket.id}"


async def level_staff(session: AsyncSession, ticket: Ticket, level: str) -> list[Staff]:
    """The active staff of `level` whose jurisdiction covers the ticket's community."""
    cid = ticket.community_id
    street_of = select(Community.street_id).where(Community.id == cid).scalar_subquery()
    district_of = (select(Street.district_id).join(Community, Community.street_id == Street.id)
                   .where(Community.id == cid).scalar_subquery())
    node = {"community": Staff.community_id == cid, "street": Staff.street_id == street_of,
            "district": Staff.district_id == district_of}[level]
    stmt = select(Staff).where(Staff.level == StaffLevel(level), node, Staff.active.is_(True)).order_by(Staff.id)
    return list((await session.execute(stmt)).scalars())


async def to_staff(session: AsyncSession, ticket: Ticket, level: str, text: str, *, now: datetime,
                   kind: str = "ticket_update", services=None) -> int:
    """Alert the linked staff of `level` over the ticket's community (the assignee alone when the ticket is
    交办 to a staff member at that level); returns how many were reached. `kind` is the staff push kind each
    person may switch off (bot.delivery.staff.KINDS)."""
    people = await level_staff(session, ticket, level)
    if ticket.assignee_staff_id is not None and kind in ("ticket_chase", "ticket_update"):
        people = [s for s in people if s.id == ticket.assignee_staff_id] or people
    return await push_to_staff(session, people, kind=kind, title=f"工单提醒 {ticket.number}", text=text,
                               link=ticket_link(services, ticket), now=now, source=f"ticket:{ticket.id}:staff",
                               created_by="system:tickets")


async def to_assignee(session: AsyncSession, ticket: Ticket, staff: Staff, text: str, *, now: datetime,
                      services=None) -> int:
    """Tell the staff member a ticket was 交办 to (if they linked WeChat and keep the kind on)."""
    return await push_to_staff(session, [staff], kind="ticket_assigned", title=f"交办工单 {ticket.number}",
                               text=text, link=ticket_link(services, ticket), now=now,
                               source=f"ticket:{ticket.id}:assignee", created_by="system:tickets")


def partner_link(services, ticket: Ticket) -> str:
    """The partner's own page of the ticket (handlers/tickets/console_partner.py)."""
    return f"{base_of(services)}/console/partner/tickets/{ticket.id}"


async def to_partner(session: AsyncSession, ticket: Ticket, text: str, *, now: datetime, services=None) -> int:
    """Tell the linked accounts of the partner organisation a ticket was 交办 to (`ticket.assignee_partner`);
    each push links to the partner's console page of the ticket."""
    if not ticket.assignee_partner:
        return 0
    stmt = select(Staff).where(Staff.partner == ticket.assignee_partner, Staff.active.is_(True)).order_by(Staff.id)
    people = list((await session.execute(stmt)).scalars())
    return await push_to_staff(session, people, kind="ticket_assigned", title=f"交办工单 {ticket.number}", text=text,
                               link=partner_link(services, ticket), now=now, source=f"ticket:{ticket.id}:partner",
                               created_by="system:tickets")
