"""How fast partner organisations (承办单位: property companies, developers, departments) handle what is 交办 to
them, from the ticket timeline (issue 18).

A **handling** starts when a ticket is 交办 to a partner organisation (`assign` with a partner) and belongs to that
organisation until the ticket is 交办 to someone else or leaves the community's hands (resolved, closed, rejected,
merged, escalated or returned upwards).
- response: the first 签收 (`partner_sign`), reply or done report (`partner_done`) by an account of that
  organisation; response hours = 交办 → response.
- done: the organisation reported it done (`partner_done`). A send-back by the community (退回承办单位, one of
  `SEND_BACK`, or 交办 again to the same organisation after its done report) cancels the done report: the one that
  counts is the last report after the last send-back. Resolution hours = 交办 → that report.
- overdue: the ticket's resolve deadline at 交办 passed before the organisation reported done (still open past it,
  reported after it, or taken away from it after it).

`handlings(events)` (one ticket) and `summarise(handlings, now)` are pure; `load(session, …)` reads the timeline
of the tickets handed in a period. The monthly report (`handlers.reports`) shows them per organisation, the
scorecards per property company and developer.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Iterable, Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Developer, PropertyCompany, Staff
from storage.ticket_models import Ticket, TicketEvent

# the timeline kinds that send a partner's done report back (退回承办单位; a separate action may add its kind here)
SEND_BACK = frozenset({"send_back"})  # 退回承办单位 (operations._send_back)
RESPONSES = frozenset({"partner_sign", "reply", "partner_done"})
ENDS = frozenset({"resolve", "close", "reject", "link", "escalate", "return"})  # the ticket leaves the partner
KINDS = frozenset({"assign"}) | SEND_BACK | RESPONSES | ENDS


@dataclass(frozen=True)
class Event:
    """One timeline event, as far as partners are concerned. `partner`: for `assign`, the organisation it was
    handed to (None: a staff member); for the other kinds, the organisation of the account that acted (None: staff,
    resident or system)."""

    at: datetime
    kind: str
    partner: str | None = None
    due_at: datetime | None = None  # assign: the ticket's resolve deadline when it was handed


@dataclass(frozen=True)
class Handling:
    partner: str
    handed_at: datetime
    due_at: datetime | None = None
    responded_at: datetime | None = None
    done_at: datetime | None = None
    sent_back: int = 0
    ended_at: datetime | None = None  # taken away from the organisation (or the ticket left the community)

    @property
    def response_hours(self) -> float | None:
        return None if self.responded_at is None else (self.responded_at - self.handed_at).total_seconds() / 3600

    @property
    def resolution_hours(self) -> float | None:
        return None if self.done_at is None else (self.done_at - self.handed_at).total_seconds() / 3600

    def overdue(self, now: datetime) -> bool:
        if self.due_at is None:
            return False
        if self.done_at is not None:
            return self.done_at > self.due_at
        return (self.ended_at or now) > self.due_at


def handlings(events: Iterable[Event]) -> list[Handling]:
    """The handlings of one ticket from its timeline events (oldest first)."""
    out: list[Handling] = []
    current: Handling | None = None

    def close(at: datetime) -> None:
        nonlocal current
        if current is not None:
            out.append(replace(current, ended_at=at))
            current = None

    for e in sorted(events, key=lambda e: e.at):
        if e.kind == "assign":
            if current is not None and e.partner == current.partner:
                if current.done_at is not None:  # handed again after its done report: a send-back
                    current = replace(current, done_at=None, sent_back=current.sent_back + 1)
                continue
            close(e.at)
            if e.partner:
                current = Handling(e.partner, e.at, e.due_at)
        elif current is None:
            continue
        elif e.kind in ENDS:
            close(e.at)
        elif e.kind in SEND_BACK:
            if current.done_at is not None:
                current = replace(current, done_at=None, sent_back=current.sent_back + 1)
        elif e.kind in RESPONSES and e.partner == current.partner:
            current = replace(current, responded_at=current.responded_at or e.at)
            if e.kind == "partner_done":
                current = replace(current, done_at=e.at)
    if current is not None:
        out.append(current)
    return out


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% of the values at or below it), one decimal."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


@dataclass
class PartnerFigures:
    """One organisation's figures over a set of handlings."""

    handed: int = 0
    signed: int = 0  # responded (签收, replied or reported done)
    done: int = 0
    overdue: int = 0
    sent_back: int = 0
    response_hours: list[float] = field(default_factory=list, repr=False)
    resolution_hours: list[float] = field(default_factory=list, repr=False)

    def add(self, h: Handling, now: datetime) -> None:
        self.handed += 1
        self.sent_back += h.sent_back
        self.overdue += h.overdue(now)
        if h.response_hours is not None:
            self.signed += 1
            self.response_hours.append(h.response_hours)
        if h.resolution_hours is not None:
            self.done += 1
            self.resolution_hours.append(h.resolution_hours)

    @property
    def median_response_hours(self) -> float | None:
        return _median(self.response_hours)

    @property
    def p90_response_hours(self) -> float | None:
        return percentile(self.response_hours, 90)

    @property
    def median_resolution_hours(self) -> float | None:
        return _median(self.resolution_hours)

    @property
    def p90_resolution_hours(self) -> float | None:
        return percentile(self.resolution_hours, 90)

    @property
    def on_time_rate(self) -> float | None:
        """Handlings not overdue among those handed, % with one decimal."""
        return round((self.handed - self.overdue) / self.handed * 100, 1) if self.handed else None

    def as_dict(self) -> dict:
        return {"handed": self.handed, "signed": self.signed, "done": self.done, "overdue": self.overdue,
                "sent_back": self.sent_back, "median_response_hours": self.median_response_hours,
                "p90_response_hours": self.p90_response_hours,
                "median_resolution_hours": self.median_resolution_hours,
                "p90_resolution_hours": self.p90_resolution_hours, "on_time_rate": self.on_time_rate}


def summarise(items: Iterable[Handling], now: datetime) -> dict[str, PartnerFigures]:
    """organisation (property:ID / developer:ID / dept:名称) → its figures."""
    out: dict[str, PartnerFigures] = {}
    for h in items:
        out.setdefault(h.partner, PartnerFigures()).add(h, now)
    return out


@dataclass(frozen=True)
class Handed:
    """A handling with the ticket it belongs to (for grouping by community or estate)."""

    ticket_id: int
    community_id: int
    estate_id: int | None
    handling: Handling


def _aware(value) -> datetime | None:
    """A deadline kept in an event's data (ISO text), as an aware UTC datetime."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


async def load(session: AsyncSession, communities: Select | list[int] | None, since: datetime, until: datetime,
               partners: Iterable[str] | None = None) -> list[Handed]:
    """The handlings that started in [since, until) on tickets of `communities` (None = all), optionally only
    those of some organisations. Reads the timeline of the tickets 交办 in the period (one query), the tickets'
    deadlines and the partner accounts (who acted for which organisation)."""
    handed = (select(TicketEvent.ticket_id).join(Ticket, Ticket.id == TicketEvent.ticket_id)
              .where(TicketEvent.kind == "assign", TicketEvent.at >= since, TicketEvent.at < until))
    if communities is not None:
        handed = handed.where(Ticket.community_id.in_(communities))
    handed = handed.distinct()  # a subquery throughout: no list of ids however many tickets were handed
    tickets = {r.id: r for r in (await session.execute(
        select(Ticket.id, Ticket.community_id, Ticket.estate_id, Ticket.resolve_due_at, Ticket.assignee_partner,
               Ticket.assignee_label).where(Ticket.id.in_(handed)))).all()}
    if not tickets:
        return []
    accounts = {f"staff:{u}": p for u, p in (await session.execute(
        select(Staff.username, Staff.partner).where(Staff.partner.is_not(None)))).all()}
    rows = (await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.kind, TicketEvent.actor, TicketEvent.data)
        .where(TicketEvent.ticket_id.in_(handed), TicketEvent.kind.in_(sorted(KINDS)))
        .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id))).all()
    timelines: dict[int, list[Event]] = {}
    for ticket_id, at, kind, actor, data in rows:
        t, data = tickets[ticket_id], data or {}
        if kind == "assign":
            partner = data.get("partner")
            if partner is None and t.assignee_partner and data.get("assignee") == t.assignee_label:
                partner = t.assignee_partner  # before the event kept the organisation's code
            event = Event(at, kind, partner, _aware(data.get("due")) or t.resolve_due_at)
        else:
            event = Event(at, kind, accounts.get(actor))
        timelines.setdefault(ticket_id, []).append(event)
    wanted = None if partners is None else set(partners)
    out = []
    for ticket_id, events in timelines.items():
        t = tickets[ticket_id]
        for h in handlings(events):
            if since <= h.handed_at < until and (wanted is None or h.partner in wanted):
                out.append(Handed(ticket_id, t.community_id, t.estate_id, h))
    return out


KIND_LABELS = {"property": "物业服务企业", "developer": "开发建设单位", "dept": "职能部门"}


async def names(session: AsyncSession, partners: Iterable[str]) -> dict[str, tuple[str, str]]:
    """organisation code → (kind label, name): companies and developers by id, departments by their own name."""
    codes = set(partners)
    ids: dict[str, set[int]] = {"property": set(), "developer": set()}
    for code in codes:
        kind, _, rest = code.partition(":")
        if kind in ids and rest.isdigit():
            ids[kind].add(int(rest))
    found: dict[str, str] = {}
    for kind, model in (("property", PropertyCompany), ("developer", Developer)):
        if ids[kind]:
            rows = await session.execute(select(model.id, model.name).where(model.id.in_(sorted(ids[kind]))))
            found.update({f"{kind}:{i}": name for i, name in rows.all()})
    out = {}
    for code in codes:
        kind, _, rest = code.partition(":")
        out[code] = (KIND_LABELS.get(kind, kind), found.get(code, rest if kind == "dept" else code))
    return out


async def by_partner(session: AsyncSession, communities: Select | list[int] | None, since: datetime,
                     until: datetime, now: datetime) -> list[tuple[str, str, PartnerFigures]]:
    """(kind label, organisation, figures) of every organisation handed tickets in [since, until), by kind, then
    most handed first."""
    figures = summarise((x.handling for x in await load(session, communities, since, until)), now)
    labels = await names(session, figures)
    order = list(KIND_LABELS.values())
    rows = [(*labels[code], f) for code, f in figures.items()]
    return sorted(rows, key=lambda r: (order.index(r[0]) if r[0] in order else 9, -r[2].handed, r[1]))
