"""first-console: a draft notice submitted for review (提交审核): notices.submitted_at, notices.submitted_by

Revision ID: 0016_first_console
Revises: 0014_sec_replay
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0016_first_console"
down_revision = "0014_sec_replay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("submitted_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("submitted_by", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_notices_submitted_at"), ["submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_index(batch.f("ix_notices_submitted_at"))
        batch.drop_column("submitted_by")
        batch.drop_column("submitted_at")
