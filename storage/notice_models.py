"""Tables of disclosure notices (公示) and joint meetings (联席会议), issue 6.

- `notices`: one disclosure: category, scope (level + ids, optional roles), publisher, author and approver, state
  (draft → scheduled → published → corrected | withdrawn), unguessable `public_id` for its page `/n/<public_id>`.
- `notice_versions`: every version's title, Markdown body, tables and summary; a correction adds a row, nothing is
  overwritten once published. `broadcast_id` is the delivery engine's broadcast that carried the version.
- `notice_targets`: the communities (and, for estate scope, estates) a notice reaches, resolved when it is saved,
  so "notices for this resident" and "notices in this jurisdiction" are plain indexed queries.
- `meetings`, `meeting_attendees`, `meeting_items`: the monthly joint meeting of a community, its attendees by
  role, and its agenda items with decision and follow-up (carried over to the next meeting while open).
- `meeting_reminders`: console items for staff (missing monthly meeting, unpublished summary), unique per key so
  the sweeps that create them are idempotent.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, utcnow


class Notice(Base):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(16), index=True)  # property finance subsidy committee meeting general
    state: Mapped[str] = mapped_column(String(16), index=True)  # draft scheduled published corrected withdrawn
    scope_level: Mapped[str] = mapped_column(String(16))  # all district street community estate
    scope_ids: Mapped[list] = mapped_column(JSON, default=list)
    roles: Mapped[list] = mapped_column(JSON, default=list)  # [] = everyone; ["owner"] = owners only
    publisher: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(64))  # "staff:<username>" or a system source
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    approver: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)  # the current version
    source: Mapped[str | None] = mapped_column(String(64))  # e.g. "meeting:3", "survey:7"
    publish_at: Mapped[datetime | None]  # chosen publication time (scheduled)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    withdrawn_at: Mapped[datetime | None]
    withdraw_reason: Mapped[str | None] = mapped_column(String(256))
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)  # 提交审核: waiting in the 待审核 queue
    submitted_by: Mapped[str | None] = mapped_column(String(64))  # "staff:<username>"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    versions: Mapped[list["NoticeVersion"]] = relationship(
        back_populates="notice", order_by="NoticeVersion.version", cascade="all, delete-orphan")


class NoticeVersion(Base):
    __tablename__ = "notice_versions"
    __table_args__ = (UniqueConstraint("notice_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    tables: Mapped[list] = mapped_column(JSON, default=list)  # [{"title", "columns", "money", "rows"}]
    summary: Mapped[str] = mapped_column(String(256), default="")
    note: Mapped[str | None] = mapped_column(String(256))  # why this version (corrections)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]  # None on a correction waiting for its second person
    approved_by: Mapped[str | None] = mapped_column(String(64))  # who approved this version's text (four eyes)
    approved_at: Mapped[datetime | None]
    broadcast_id: Mapped[int | None] = mapped_column(Integer)  # broadcasts.id (another migration branch: no FK)
    recipients: Mapped[int | None] = mapped_column(Integer)  # corrections: residents told
    notice: Mapped[Notice] = relationship(back_populates="versions")


class NoticeTarget(Base):
    __tablename__ = "notice_targets"
    __table_args__ = (Index("ix_notice_targets_community", "community_id", "notice_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))  # None: all estates


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_community_held", "community_id", "held_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open closed published
    minutes: Mapped[str | None] = mapped_column(Text)
    attendee_count: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    attendees: Mapped[list["MeetingAttendee"]] = relationship(
        order_by="MeetingAttendee.id", cascade="all, delete-orphan")
    items: Mapped[list["MeetingItem"]] = relationship(
        order_by="MeetingItem.position", cascade="all, delete-orphan", foreign_keys="MeetingItem.meeting_id")


class MeetingAttendee(Base):
    __tablename__ = "meeting_attendees"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # 居委会 物业服务企业 业委会 居民代表 其他
    name: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(128))


class MeetingItem(Base):
    __tablename__ = "meeting_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(200))
    discussion: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")
    concerns_residents: Mapped[bool] = mapped_column(Boolean, default=False)
    followup: Mapped[str | None] = mapped_column(String(200))  # what is to be done
    followup_owner: Mapped[str | None] = mapped_column(String(64))
    followup_due: Mapped[date | None] = mapped_column(Date, index=True)
    followup_done_at: Mapped[datetime | None]
    followup_note: Mapped[str | None] = mapped_column(String(200))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_items.id", ondelete="SET NULL"))
    carried_to_id: Mapped[int | None] = mapped_column(Integer)  # the copy in the next meeting, once carried


class MeetingReminder(Base):
    __tablename__ = "meeting_reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)  # "missing:<community>:<YYYY-MM>", "summary:<id>:<n>"
    kind: Mapped[str] = mapped_column(String(16))  # missing / summary
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    pushed: Mapped[int] = mapped_column(Integer, default=0)  # staff reached through WeChat
