"""partners (issue 18): staff link their WeChat (staff_link_codes), their push settings (staff_wechat), and
partner organisations' accounts (staff.partner)

Revision ID: 0018_partners
Revises: 0017_owners_votes
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0018_partners"
down_revision = "0017_owners_votes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_staff_link_codes_staff_id"), "staff_link_codes", ["staff_id"], unique=False)
    op.create_index(op.f("ix_staff_link_codes_secret_hash"), "staff_link_codes", ["secret_hash"], unique=False)
    op.create_index(op.f("ix_staff_link_codes_expires_at"), "staff_link_codes", ["expires_at"], unique=False)
    op.create_table(
        "staff_wechat",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("muted", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("todo", sa.JSON(), nullable=False),
        sa.Column("photo_ticket_id", sa.Integer(), nullable=True),
        sa.Column("photo_until", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("partner", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_staff_openid"), ["openid"], unique=False)
        batch.create_index(batch.f("ix_staff_partner"), ["partner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_index(batch.f("ix_staff_partner"))
        batch.drop_index(batch.f("ix_staff_openid"))
        batch.drop_column("partner")
    op.drop_table("staff_wechat")
    op.drop_index(op.f("ix_staff_link_codes_expires_at"), table_name="staff_link_codes")
    op.drop_index(op.f("ix_staff_link_codes_secret_hash"), table_name="staff_link_codes")
    op.drop_index(op.f("ix_staff_link_codes_staff_id"), table_name="staff_link_codes")
    op.drop_table("staff_link_codes")
