"""sec-proto: webhook_nonces, the replay cache of signed (timestamp, nonce) pairs shared by every worker

Revision ID: 0014_sec_replay
Revises: 0013_feat_reports_hotline
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0014_sec_replay"
down_revision = "0013_feat_reports_hotline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_nonces",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_webhook_nonces")),
    )
    op.create_index(op.f("ix_webhook_nonces_expires_at"), "webhook_nonces", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_nonces_expires_at"), table_name="webhook_nonces")
    op.drop_table("webhook_nonces")
