"""partner console (issue 18): when a partner organisation reported a ticket done (tickets.partner_done_at, cleared
when the community sends it back or hands it over again) and whether the community shared the resident's phone
with the partner (tickets.phone_shared_at)

Revision ID: 0021_partner_console
Revises: 0020_owner_attachments
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0021_partner_console"
down_revision = "0020_owner_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("partner_done_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("phone_shared_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_tickets_assignee_partner"), ["assignee_partner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index(batch.f("ix_tickets_assignee_partner"))
        batch.drop_column("phone_shared_at")
        batch.drop_column("partner_done_at")
