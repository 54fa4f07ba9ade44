"""owner-evidence: photos a resident waiting for staff verification sent in chat (e.g. of the 房产证), kept only
until staff decide or a few days pass

Revision ID: 0022_owner_evidence
Revises: 0021_partner_console
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0022_owner_evidence"
down_revision = "0021_partner_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owner_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("owner_evidence") as batch:
        batch.create_index(batch.f("ix_owner_evidence_resident_id"), ["resident_id"], unique=False)
        batch.create_index(batch.f("ix_owner_evidence_estate_id"), ["estate_id"], unique=False)
        batch.create_index(batch.f("ix_owner_evidence_status"), ["status"], unique=False)
        batch.create_index(batch.f("ix_owner_evidence_next_try_at"), ["next_try_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("owner_evidence") as batch:
        batch.drop_index(batch.f("ix_owner_evidence_next_try_at"))
        batch.drop_index(batch.f("ix_owner_evidence_status"))
        batch.drop_index(batch.f("ix_owner_evidence_estate_id"))
        batch.drop_index(batch.f("ix_owner_evidence_resident_id"))
    op.drop_table("owner_evidence")
