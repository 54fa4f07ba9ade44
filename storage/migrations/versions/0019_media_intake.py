"""media-intake: media that are kept (ticket_media); phone/walk-in intake linked later (tickets.claimed_at);
paper questionnaires (survey_responses.channel, collector)

Revision ID: 0019_media_intake
Revises: 0018_partners
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0019_media_intake"
down_revision = "0018_partners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.String(length=80), nullable=True),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_media") as batch:
        batch.create_index(batch.f("ix_ticket_media_ticket_id"), ["ticket_id"], unique=False)
        batch.create_index("ix_ticket_media_due", ["status", "next_try_at"], unique=False)
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=8), server_default="wechat", nullable=False))
        batch.add_column(sa.Column("collector", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("entered_by", sa.String(length=80), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("caller_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("building", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("claimed_at", storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("entered_by")
        batch.drop_column("collector")
        batch.drop_column("channel")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("building")
        batch.drop_column("caller_name")
    with op.batch_alter_table("ticket_media") as batch:
        batch.drop_index("ix_ticket_media_due")
        batch.drop_index(batch.f("ix_ticket_media_ticket_id"))
    op.drop_table("ticket_media")
