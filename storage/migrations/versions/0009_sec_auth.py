"""sec-auth: demo accounts must change their password, API tokens expire, an atomic login limiter with known
browsers replaces the per-(username, address) attempt log

- `staff.must_change_password` (demo accounts: the console shows only the password change until done);
- `staff_api_tokens.expires_at`: tokens that exist already get the default lifetime (90 days) from now, so a
  running integration is not cut off by the upgrade;
- `staff_login_throttle` (one row per account, client or browser key, locked while deciding) and
  `staff_login_devices` replace `staff_login_attempts` (the audit log keeps every login and failure).

Revision ID: 0009_sec_auth
Revises: 0003_console
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009_sec_auth"
down_revision = "0003_console"
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))

    with op.batch_alter_table("staff_api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=True))
    tokens = sa.table("staff_api_tokens", sa.column("expires_at", storage.models.UTCDateTime(timezone=True)))
    until = datetime.now(timezone.utc) + timedelta(days=EXISTING_TOKEN_DAYS)
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=until))
    with op.batch_alter_table("staff_api_tokens", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=storage.models.UTCDateTime(timezone=True),
                              nullable=False)

    with op.batch_alter_table("staff_login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_login_attempts_user_ip_at")
        batch_op.drop_index("ix_staff_login_attempts_ip_at")
    op.drop_table("staff_login_attempts")

    op.create_table(
        "staff_login_throttle",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_login_throttle")),
    )
    with op.batch_alter_table("staff_login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_throttle_last_failure_at"), ["last_failure_at"],
                              unique=False)

    op.create_table(
        "staff_login_devices",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_staff_login_devices_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_login_devices")),
    )
    with op.batch_alter_table("staff_login_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_devices_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_login_devices_last_used_at"), ["last_used_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_login_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_devices_last_used_at"))
        batch_op.drop_index(batch_op.f("ix_staff_login_devices_staff_id"))
    op.drop_table("staff_login_devices")
    with op.batch_alter_table("staff_login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_throttle_last_failure_at"))
    op.drop_table("staff_login_throttle")

    op.create_table(
        "staff_login_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_attempts")),
    )
    with op.batch_alter_table("staff_login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_staff_login_attempts_ip_at", ["ip", "at"], unique=False)
        batch_op.create_index("ix_staff_login_attempts_user_ip_at", ["username", "ip", "at"], unique=False)

    with op.batch_alter_table("staff_api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
