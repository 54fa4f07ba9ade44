"""Tables of the owners' roster and owners' votes (issue 20).

- `roster_rooms`: one row per exclusive part (专有部分) of an estate, addressed by building, unit and room labels,
  with its area in hundredths of a m² (`area_cents`: exact on both engines). Unique per (estate, building, unit,
  room), so a re-import updates rather than duplicates.
- `roster_owners`: an owner of the estate as the roster names them (name, phone kept for verification, shown only
  masked); `roster_holdings` links owners and rooms (several owners per room, several rooms per owner).
- `owner_links`: a resident (WeChat user) claiming to be a roster owner, or named their proxy (委托); `status`
  unverified / verified, `method` phone / staff / proxy; a pending phone code is kept hashed with its expiry and
  attempts. The row goes with the resident.
- `motions`: a matter put to the owners (表决事项) of one estate, or some of its buildings, with its kind and window;
  at the close the rule applied and the result are stored (`rule`, `result`), and the rooms in scope are frozen
  in `motion_rooms` (area and holder), so a recount from the stored ballots gives the same numbers whatever
  happens to the roster later.
- `motion_attachments`: files of a motion (its full text, a repair fund's quotes: PDF, JPEG, PNG), uploaded by
  staff before the motion opens; the bytes are in the media store (storage/media_store.py) under `key`.
- `owner_ballots`: one row per (motion, room), enforced by a unique constraint: the first confirmed ballot of a
  room holds its place; a change by the same voter before the close updates it, and every cast and change is in
  `owner_ballot_events`.
- `owner_evidence`: a photo (e.g. of the 房产证) a resident waiting for staff verification sent in chat: downloaded
  from WeChat like ticket media, shown only to staff with jurisdiction over the estate, and deleted (object and
  row) when staff approve or reject, after `handlers.owners.evidence.KEEP_DAYS`, and with the resident (the row is
  first marked `discard`, then the sweep deletes the object and the row).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import NEVER_REUSE_IDS, Base, utcnow


class RosterRoom(Base):
    __tablename__ = "roster_rooms"
    __table_args__ = (UniqueConstraint("estate_id", "building", "unit", "room", name="uq_roster_rooms_place"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16), default="")
    room: Mapped[str] = mapped_column(String(32))
    area_cents: Mapped[int] = mapped_column(Integer)  # 专有部分面积 × 100
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RosterOwner(Base):
    __tablename__ = "roster_owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # for verification only; shown masked
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RosterHolding(Base):
    __tablename__ = "roster_holdings"
    room_id: Mapped[int] = mapped_column(ForeignKey("roster_rooms.id", ondelete="CASCADE"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("roster_owners.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


class OwnerLink(Base):
    __tablename__ = "owner_links"
    __table_args__ = (UniqueConstraint("resident_id", "owner_id", name="uq_owner_links_pair"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("roster_owners.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="unverified")  # unverified / verified
    method: Mapped[str | None] = mapped_column(String(16))  # phone / staff / proxy
    proxy_name: Mapped[str | None] = mapped_column(String(64))  # a proxy (委托): the family member's name
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(64))  # "phone" or "staff:<username>"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Motion(Base):
    __tablename__ = "motions"
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    buildings: Mapped[list] = mapped_column(JSON, default=list)  # building labels; empty: the whole estate
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # ordinary / special (art. 278 items 6–8)
    topic: Mapped[str] = mapped_column(String(16), default="general")  # general / repair_fund / election
    # repair_fund: {"works", "budget", "quotes": [...]}; election: {"candidates": [...], "seats": n}
    details: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)  # scheduled/open/closed
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    rule: Mapped[dict | None] = mapped_column(JSON)  # the rule applied (rules.Rule.as_dict)
    result: Mapped[dict | None] = mapped_column(JSON)  # rules.Tally.as_dict + per-building turnout
    notice_ref: Mapped[str | None] = mapped_column(String(32))
    disclosure_ref: Mapped[str | None] = mapped_column(String(32))  # repair fund: the later spending notice
    reminded_at: Mapped[datetime | None]


class MotionRoom(Base):
    __tablename__ = "motion_rooms"
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the roster room at the close
    building: Mapped[str] = mapped_column(String(32))
    area_cents: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(200))  # rules.holder_key at the close


class OwnerBallot(Base):
    __tablename__ = "owner_ballots"
    __table_args__ = (UniqueConstraint("motion_id", "room_id", name="uq_owner_ballots_one_per_room"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("roster_rooms.id"), index=True)
    choice: Mapped[str] = mapped_column(String(64))  # yes / no / abstain; election: "c:0,2" or abstain
    channel: Mapped[str] = mapped_column(String(16))  # chat / paper
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    voter_ref: Mapped[str | None] = mapped_column(String(32), index=True)  # the resident's ref (chat)
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)  # cast by a proxy (委托)
    collector: Mapped[str | None] = mapped_column(String(64))  # paper: who collected the ballot
    entered_by: Mapped[str | None] = mapped_column(String(64))  # paper: staff:<username>
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnerBallotEvent(Base):
    __tablename__ = "owner_ballot_events"
    __table_args__ = (Index("ix_owner_ballot_events_motion", "motion_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("owner_ballots.id", ondelete="CASCADE"), index=True)
    motion_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))  # cast / changed
    choice: Mapped[str] = mapped_column(String(64))
    actor_ref: Mapped[str | None] = mapped_column(String(64))  # the voter's ref, or staff:<username>
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MotionAttachment(Base):
    __tablename__ = "motion_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(8), default="text")  # text (the full text) / quote (repair fund)
    name: Mapped[str] = mapped_column(String(120))  # the title staff gave it (or the file's name)
    content_type: Mapped[str] = mapped_column(String(64))  # as proved by the file's first bytes
    size: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))  # the media store's key (storage.media_store.new_key)
    uploaded_by: Mapped[str] = mapped_column(String(64))  # staff:<username>
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnerEvidence(Base):
    __tablename__ = "owner_evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    media_id: Mapped[str | None] = mapped_column(String(128))  # WeChat's MediaId until downloaded
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending/stored/failed/discard
    key: Mapped[str | None] = mapped_column(String(200))  # the media store's key once stored
    content_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
