"""Tables of the staff console: login sessions, API tokens, login attempts (for the limiter) and the audit log.

Secrets are never stored: a session id or API token is 256 random bits handed to the client once; the database
keeps only its SHA-256 (a fast hash is right for high-entropy secrets: nothing to brute-force).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class StaffSession(Base):
    """A browser login. `flash` holds the one-shot message shown on the next page."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    flash: Mapped[dict | None] = mapped_column(JSON)


class ApiToken(Base):
    """A per-account bearer token for `/api/v1/`. `prefix` (the first characters) identifies it in lists."""

    __tablename__ = "staff_api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One password check; failures inside the window lock out the username+address pair (and, past a higher
    bar, the address)."""

    __tablename__ = "staff_login_attempts"
    __table_args__ = (Index("ix_staff_login_attempts_user_ip_at", "username", "ip", "at"),
                      Index("ix_staff_login_attempts_ip_at", "ip", "at"))
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """Who did what, when, from where. `username` is a snapshot so entries outlive renamed or removed accounts;
    `community_id` (when the action concerns one community) lets jurisdictions see their own activity."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(256), default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"),
                                                     index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(8), default="web")  # web | api | cli
    detail: Mapped[dict | None] = mapped_column(JSON)
