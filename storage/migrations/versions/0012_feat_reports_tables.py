"""feat-reports: the monthly report's issues (report_issues) and the policy Q&A's monthly question counts
(kb_monthly_counts: answered per entry, unanswered per outcome, per community and local month)

Revision ID: 0012_feat_reports_tables
Revises: 0011_feat_reports_ticket_channel
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0012_feat_reports_tables"
down_revision = "0011_feat_reports_ticket_channel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("headline", sa.JSON(), nullable=False),
        sa.Column("built_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_issues")),
        sa.UniqueConstraint("level", "node_id", "month", name="uq_report_issues_scope_month"),
    )
    with op.batch_alter_table("report_issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_issues_month"), ["month"], unique=False)
    op.create_table(
        "kb_monthly_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "community_id", "outcome", "entry_id", name=op.f("pk_kb_monthly_counts")),
    )


def downgrade() -> None:
    op.drop_table("kb_monthly_counts")
    with op.batch_alter_table("report_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_issues_month"))
    op.drop_table("report_issues")
