"""Tables of the dispute tickets (issue 5): complaints worked up the chain 社区 → 街道 → 区县.

- `tickets`: one complaint. `resident_ref` and `resident_id` find the resident's own tickets while they exist; when
  the resident erases their data the ticket stays (figures) but loses everything personal (see
  `handlers/tickets/erasure.py`): a fresh random ref, no id, no text, phone, photos or location, and
  `resident_erased_at` tells staff the resident can no longer be reached. `public_summary` is the only text of a
  ticket ever published (Open311), set by a staff member (`public_summary_by`, audited).
  It sits at a `level` inside the resident's community (jurisdiction), carries its deadlines (working days),
  the clock pause while waiting for the resident, the assignee (staff or partner), the rating, and links.
- `ticket_events`: the timeline; who, when, what, at which level, and whether the resident sees it.
- `ticket_mediations`: people's-mediation records (parties, agreement, date) attached to a ticket.
- `ticket_counters`: one row per local day; the atomic counter behind numbers like JF20261126-0007.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import NEVER_REUSE_IDS, Base, utcnow

BIGID = BigInteger().with_variant(Integer, "sqlite")


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    resident_ref: Mapped[str] = mapped_column(String(32), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id", ondelete="SET NULL"))
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id",
                                                                       ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(16), index=True)
    # how the complaint came in (handlers.tickets.rules.CHANNELS): wechat, phone, visit, hotline (12345), other
    channel: Mapped[str] = mapped_column(String(16), default="wechat", server_default="wechat")
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSON, default=list)  # [{"media_id": ..., "pic_url": ...}]
    location: Mapped[dict | None] = mapped_column(JSON)  # {"lat": .., "lng": .., "label": ..}
    phone: Mapped[str | None] = mapped_column(String(32))  # for the call-back only; shown masked everywhere
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    # a complaint received by phone, at the office or from 12345 (issue 19): who called and where they live
    caller_name: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(16))
    claimed_at: Mapped[datetime | None]  # the caller linked it to their WeChat (关联投诉, same phone, confirmed)
    level: Mapped[str] = mapped_column(String(16), index=True)  # community / street / district
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    level_since: Mapped[datetime]  # when the ticket reached its current level (the clock of that level)
    sign_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    first_sign_due_at: Mapped[datetime]  # the response limit of the first level (response rate)
    responded_at: Mapped[datetime | None]  # first 签收 at any level
    signed_at: Mapped[datetime | None]  # 签收 at the current level
    waiting_since: Mapped[datetime | None]  # clock paused: waiting for the resident
    chased_due_at: Mapped[datetime | None]  # the deadline a 催办 was last sent for (one per deadline)
    overdue_at: Mapped[datetime | None]  # past its deadline at the top level (nothing higher to send it to)
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # property:ID / developer:ID / dept:名称
    assignee_partner: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee_label: Mapped[str | None] = mapped_column(String(128))
    partner_done_at: Mapped[datetime | None]  # the partner reported it done; cleared when sent back or handed over
    phone_shared_at: Mapped[datetime | None]  # the community shared the resident's phone with the partner
    resolved_at: Mapped[datetime | None]
    resolved_level: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(16))  # rated / timeout / staff / merged
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    escalation_offered: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_words: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None]
    public_summary: Mapped[str | None] = mapped_column(Text)  # approved by staff for public output; else none
    public_summary_by: Mapped[str | None] = mapped_column(String(80))
    public_summary_at: Mapped[datetime | None]
    resident_erased_at: Mapped[datetime | None]  # the resident erased their data: nobody to reach any more
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"),
                                                        index=True)
    events: Mapped[list["TicketEvent"]] = relationship(back_populates="ticket", order_by="TicketEvent.id",
                                                       cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        Index("ix_tickets_open_due", "status", "resolve_due_at"),
        Index("ix_tickets_community_created", "community_id", "created_at"),
        NEVER_REUSE_IDS,
    )


class TicketEvent(Base):
    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # created, signed, assigned, reply, note, resolved, ...
    actor: Mapped[str] = mapped_column(String(80))  # resident / staff:<username> / system
    actor_label: Mapped[str] = mapped_column(String(128))  # shown to staff; residents see the level's name
    level: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(JSON)
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketMediation(Base):
    """人民调解 record: the parties, the agreement reached, the date, the mediation committee."""

    __tablename__ = "ticket_mediations"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    parties: Mapped[str] = mapped_column(Text)
    agreement: Mapped[str] = mapped_column(Text)
    mediated_on: Mapped[date] = mapped_column(Date)
    committee: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketCounter(Base):
    """Per local day (YYYYMMDD): the last sequence number handed out."""

    __tablename__ = "ticket_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
