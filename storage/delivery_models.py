"""Tables of the delivery engine (issue 3): the durable outbox and what the senders share.

- `broadcasts`: what is sent (content), to whom (scope, roles), why (category, source), by whom, when, and the
  broadcast's life (scheduled → sending → done; paused on WeChat's daily quota; expansion cursor).
- `deliveries`: one row per recipient and broadcast: status (queued, sending, sent, failed, skipped), channel,
  WeChat errcode and msgid, attempts, the sender's lease, and whether it was re-sent after a crash.
  `resident_id` is set to NULL when a resident is erased (unfollow): counts survive, the person does not.
  A broadcast addressed to particular residents names them by their immutable `residents.ref` (`scope.refs`),
  never only by id, so a message scheduled for someone who left can never reach anyone else.
- `delivery_mutes`: categories a resident muted with 「退订 <类别>」.
- `cs_windows`: each resident's customer-service window (opened by their last message) and how much was used.
- `delivery_receipts`: TEMPLATESENDJOBFINISH results that arrived before the sender stored the msgid.
- `delivery_leases` (single scheduler) and `delivery_buckets` (the rate limit shared by all workers).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import NEVER_REUSE_IDS, Base, utcnow

BIGID = BigInteger().with_variant(Integer, "sqlite")


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(16))  # notice / meeting / survey / ticket
    source: Mapped[str | None] = mapped_column(String(64))  # the feature's reference, e.g. "notice:12"
    scope: Mapped[dict] = mapped_column(JSON)  # {"level": ..., "ids": [...], "roles": [...], "residents": [...]}
    # the community ids the broadcast was created for (null: the whole city); staff see and retry it only when
    # every one of them is in their jurisdiction, whatever becomes of the residents it addressed
    reach: Mapped[list | None] = mapped_column(JSON)
    title: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(String(256))
    link: Mapped[str | None] = mapped_column(String(512))
    created_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # scheduled, sending, paused, done, cancelled
    send_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    expand_cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # last resident id expanded
    expand_upto: Mapped[int | None] = mapped_column(BigInteger)  # highest resident id at start; None = not begun
    expanded: Mapped[bool] = mapped_column(Boolean, default=False)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "resident_id"),
        Index("ix_deliveries_claim", "broadcast_id", "status", "id"),
        NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(8))  # queued, sending, sent, failed, skipped
    reason: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))  # custom, subscribe, template
    errcode: Mapped[int | None] = mapped_column(Integer)
    msgid: Mapped[int | None] = mapped_column(BigInteger, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    resent: Mapped[bool] = mapped_column(Boolean, default=False)  # re-claimed after its sender vanished
    sent_at: Mapped[datetime | None]
    final_status: Mapped[str | None] = mapped_column(String(32))  # from TEMPLATESENDJOBFINISH


class DeliveryMute(Base):
    __tablename__ = "delivery_mutes"
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CsWindow(Base):
    __tablename__ = "cs_windows"
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    opened_at: Mapped[datetime]
    used: Mapped[int] = mapped_column(Integer, default=0)


class DeliveryReceipt(Base):
    __tablename__ = "delivery_receipts"
    msgid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryLease(Base):
    __tablename__ = "delivery_leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class DeliveryBucket(Base):
    __tablename__ = "delivery_buckets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime]


__all__ = ["Broadcast", "Delivery", "DeliveryMute", "CsWindow", "DeliveryReceipt", "DeliveryLease", "DeliveryBucket",
           ]
