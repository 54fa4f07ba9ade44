"""Media that are kept (issue 19): the photos, voice and short videos of a complaint, a 补充 or staff evidence.

- `ticket_media`: one file of one ticket. A resident's message carries a WeChat MediaId that WeChat deletes after
  three days; the media sweep (handlers/tickets/media.py) downloads it with `media/get` and stores it
  (LINLI_MEDIA_DIR, or S3-compatible storage with LINLI_MEDIA_URL) under a random `key`. `status`: pending →
  stored, or failed after its attempts (shown on the ticket, never dropped silently); `erased` when the resident's
  data was erased (the stored object is then deleted by the sweep, which clears `key`). `source` says who gave it:
  `complaint` / `supplement` (the resident: erased with the resident) or `staff` (kept with the ticket).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow

MEDIA_STATUSES = ("pending", "stored", "failed", "erased")


class TicketMedia(Base):
    __tablename__ = "ticket_media"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # image / voice / video
    source: Mapped[str] = mapped_column(String(16))  # complaint / supplement / staff
    media_id: Mapped[str | None] = mapped_column(String(128))  # WeChat's MediaId, until stored or erased
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None]  # pending: when the sweep may try (again)
    last_error: Mapped[str | None] = mapped_column(String(200))  # why the last try failed (shown to staff)
    key: Mapped[str | None] = mapped_column(String(200))  # the stored object's name (random), None until stored
    content_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    added_by: Mapped[str | None] = mapped_column(String(80))  # staff:<username> for staff evidence
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    stored_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_ticket_media_due", "status", "next_try_at"),)
