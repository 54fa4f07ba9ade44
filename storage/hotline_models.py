"""Tables of the 12345 hotline import and export (issue 21).

- `hotline_imports`: one row per imported file (who, when, its digest, what became of its rows).
- `hotline_orders`: one row per hotline work order (unique `number`, so re-importing a file changes nothing). A
  placed order has its ticket (channel `hotline`); an order whose address matched nothing, or several places, waits
  here (`status` unmatched / ambiguous, with the `candidates`) for staff of the importing jurisdiction
  (`area_level`, `area_id`; none: admins) to place it by hand. The caller's name and phone are kept for the
  call-back and shown masked; the hotline's deadline is kept beside ours. `exported_at`: when its result last went
  back to the hotline.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class HotlineImport(Base):
    __tablename__ = "hotline_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the file
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)  # tickets filed
    unplaced: Mapped[int] = mapped_column(Integer, default=0)  # orders waiting to be placed by hand
    known: Mapped[int] = mapped_column(Integer, default=0)  # orders imported before (unchanged)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class HotlineOrder(Base):
    __tablename__ = "hotline_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_imports.id", ondelete="SET NULL"))
    line: Mapped[int] = mapped_column(Integer)  # its row in the imported file
    received_at: Mapped[datetime]
    caller_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    hotline_category: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))  # ours (handlers.tickets.rules.CATEGORIES)
    deadline_at: Mapped[datetime | None]  # the hotline's own deadline
    unit: Mapped[str | None] = mapped_column(String(128))  # 承办单位 as the hotline named it
    status: Mapped[str] = mapped_column(String(16), index=True)  # placed / unmatched / ambiguous
    candidates: Mapped[list] = mapped_column(JSON, default=list)  # [{"community_id", "estate_id", "label"}]
    area_level: Mapped[str | None] = mapped_column(String(16))  # who may place it: the importer's node
    area_id: Mapped[int | None] = mapped_column(Integer)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    placed_at: Mapped[datetime | None]
    placed_by: Mapped[str | None] = mapped_column(String(64))
    exported_at: Mapped[datetime | None]
