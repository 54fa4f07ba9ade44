"""Tables of staff in the loop (issue 18): staff link their WeChat and work from it.

- `staff_link_codes`: a single-use, short-lived secret that links a WeChat user to a staff account: a 6-digit
  code the staff member sends in chat (`kind` "code") or the token named by a temporary QR code's scene (`kind`
  "qr"). Only the SHA-256 of the secret is kept; `used_at` makes it single-use.
- `staff_wechat`: a linked staff member's WeChat settings: when they linked, which push kinds they switched off,
  their quiet hours (Beijing time, "HH:MM"), the tickets of their last 「待办」 list (so 「签收 2」 names the second),
  and the ticket a photo is attached to after 「办结 编号」 (until `photo_until`).

The WeChat openid itself stays on `staff.openid` (what the pushes address). Neither table holds an openid.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class StaffLinkCode(Base):
    __tablename__ = "staff_link_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # code / qr
    secret_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class StaffWeChat(Base):
    __tablename__ = "staff_wechat"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    linked_at: Mapped[datetime | None]
    muted: Mapped[list] = mapped_column(JSON, default=list)  # push kinds switched off (bot.delivery.staff.KINDS)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00" (Beijing time)
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # "07:30"
    todo: Mapped[list] = mapped_column(JSON, default=list)  # ticket ids of the last 「待办」, in order
    photo_ticket_id: Mapped[int | None] = mapped_column(Integer)
    photo_until: Mapped[datetime | None]
