"""feat-reports: tickets.channel — how a complaint came in (wechat, phone, visit, hotline = 12345, other)

Existing tickets all came through the chat, so the column is added NOT NULL with the server default 'wechat'
(issue 19's phone and walk-in intake and issue 21's 12345 import set the other values).

Revision ID: 0011_feat_reports_ticket_channel
Revises: 0004_tickets
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_feat_reports_ticket_channel"
down_revision = "0004_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), server_default="wechat", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("channel")
