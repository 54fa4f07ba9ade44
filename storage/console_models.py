"""Tables of the staff console: login sessions, API tokens, the login limiter and known browsers, the audit log.

Secrets are never stored: a session id or API token is 256 random bits handed to the client once; the database
keeps only its SHA-256 (a fast hash is right for high-entropy secrets: nothing to brute-force).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
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
    expires_at: Mapped[datetime]  # LINLI_API_TOKEN_DAYS after creation
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]  # revoked by hand, by a password change or reset, or deactivation


class LoginThrottle(Base):
    """The login limiter's state for one key: `account:<username>`, `client:<address>` or `device:<hash>`.
    `failures` counts password checks that failed (an attempt is counted before its check and refunded when
    it succeeds); past the key's free failures the key is blocked until `blocked_until`, the wait doubling with
    each further failure up to a cap (handlers/console/throttle.py). Rows are locked while a decision is taken,
    so parallel guesses cannot all pass."""

    __tablename__ = "staff_login_throttle"
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(index=True)
    blocked_until: Mapped[datetime | None]


class LoginDevice(Base):
    """A browser that has logged in to an account before (its `linli_device` cookie, stored hashed): its
    failures are counted on its own key, so an attacker's failures on the account never lock the owner's own
    browser out."""

    __tablename__ = "staff_login_devices"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


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
