"""The database schema of the spine: jurisdictions, partners, residents, staff, and the webhook's bookkeeping.

Feature issues add their own tables in their own modules; all share `Base` so Alembic sees one metadata.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone
from typing import ClassVar, TypeAlias

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_ref() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on both engines: stored as UTC, read back as aware UTC values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one (UTC)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}
    __table__: ClassVar[Table]  # every model here maps one table (SQLAlchemy types it as the wider FromClause)


class District(Base):
    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    streets: Mapped[list["Street"]] = relationship(back_populates="district", order_by="Street.id")


class Street(Base):
    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    district: Mapped[District] = relationship(back_populates="streets")
    communities: Mapped[list["Community"]] = relationship(back_populates="street", order_by="Community.id")


class Community(Base):
    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    street: Mapped[Street] = relationship(back_populates="communities")
    estates: Mapped[list["Estate"]] = relationship(back_populates="community", order_by="Estate.id")


class PropertyCompany(Base):
    """物业服务企业."""

    __tablename__ = "property_companies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))


class Developer(Base):
    """开发建设单位."""

    __tablename__ = "developers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))


class Estate(Base):
    """小区: the unit residents live in; linked to its property-service company and developer."""

    __tablename__ = "estates"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    developer_id: Mapped[int | None] = mapped_column(ForeignKey("developers.id"))
    households: Mapped[int | None] = mapped_column(Integer)
    community: Mapped[Community] = relationship(back_populates="estates")
    property_company: Mapped[PropertyCompany | None] = relationship()
    developer: Mapped[Developer | None] = relationship()


OrgModel: TypeAlias = type[District] | type[Street] | type[Community] | type[Estate]
# the jurisdiction levels by their names in scopes, URLs and org files; each has id, code and name
ORG_MODELS: dict[str, OrgModel] = {"district": District, "street": Street, "community": Community, "estate": Estate}


class ResidentRole(str, enum.Enum):
    owner = "owner"  # 业主
    tenant = "tenant"  # 租户

    @property
    def label(self) -> str:
        return {"owner": "业主", "tenant": "租户"}[self.value]


# Tables whose ids address residents or their records: on SQLite their ids come from AUTOINCREMENT, so the id of
# a deleted (erased) row is never handed out again (PostgreSQL's sequences never reuse ids anyway).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Resident(Base):
    """A follower of the account. `ref` is the immutable random reference that outside records (tickets, votes,
    broadcasts addressed to them) use; erasure deletes the row, and records that outlive it get a fresh random
    ref of their own, so nothing links them back to the person or to each other."""

    __tablename__ = "residents"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[ResidentRole | None] = mapped_column(Enum(ResidentRole, native_enum=False, length=16))
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    bound_at: Mapped[datetime | None]
    consent_at: Mapped[datetime | None]
    followed_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    community: Mapped[Community | None] = relationship()
    estate: Mapped[Estate | None] = relationship()


class StaffLevel(str, enum.Enum):
    community = "community"
    street = "street"
    district = "district"
    admin = "admin"

    @property
    def label(self) -> str:
        return {"community": "社区", "street": "街道", "district": "区县", "admin": "管理员"}[self.value]


class Staff(Base):
    """A staff account at one level of the jurisdiction tree (the console issue adds sessions and tokens)."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    level: Mapped[StaffLevel] = mapped_column(Enum(StaffLevel, native_enum=False, length=16))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    openid: Mapped[str | None] = mapped_column(String(64), index=True)  # linked WeChat (handlers/staff)
    # a partner organisation's account (issue 18): property:ID / developer:ID / dept:名称, the form of
    # tickets.assignee_partner; such an account has no node, sees no jurisdiction, and only what was 交办 to it
    partner: Mapped[str | None] = mapped_column(String(64), index=True)
    # an owners' committee's account (业主委员会, issue 20): bound to one estate; it drafts that estate's motions
    # and sees their turnout and results, nothing else (handlers.console.guard.committee_allowed)
    committee_estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set for demo accounts (their password is published): the console shows nothing but the password change
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ProcessedMessage(Base):
    """One row per inbound message or event handled; the unique key is what makes WeChat's retries harmless."""

    __tablename__ = "processed_messages"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reply: Mapped[dict | None] = mapped_column(JSON)
    pushed: Mapped[bool] = mapped_column(Boolean, default=False)


class WebhookNonce(Base):
    """A `(timestamp, nonce)` pair WeChat signed, kept until its timestamp leaves the accepted window: every worker
    sees it, so one captured signature cannot be replayed with another body (`bot.replay`)."""

    __tablename__ = "webhook_nonces"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<timestamp>:<nonce>"
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the body first signed with the pair
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Conversation(Base):
    """A resident's multi-turn dialog: state name + data, with an expiry, readable by any worker."""

    __tablename__ = "conversations"
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WeChatToken(Base):
    """The access token shared by every worker, and the lease of whoever is refreshing it."""

    __tablename__ = "wechat_tokens"
    appid: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(String(1024))
    expires_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)

