"""feat-reports: the 12345 hotline's imports and work orders (hotline_imports, hotline_orders)

Revision ID: 0013_feat_reports_hotline
Revises: 0012_feat_reports_tables
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0013_feat_reports_hotline"
down_revision = "0012_feat_reports_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotline_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("unplaced", sa.Integer(), nullable=False),
        sa.Column("known", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_imports")),
    )
    op.create_table(
        "hotline_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("caller_name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("hotline_category", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("deadline_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unit", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("area_level", sa.String(length=16), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("placed_by", sa.String(length=64), nullable=True),
        sa.Column("exported_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_hotline_orders_community_id_communities"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["import_id"], ["hotline_imports.id"],
                                name=op.f("fk_hotline_orders_import_id_hotline_imports"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_hotline_orders_ticket_id_tickets"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_hotline_orders_number")),
    )
    with op.batch_alter_table("hotline_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotline_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_hotline_orders_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hotline_orders_community_id"), ["community_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hotline_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_orders_community_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_orders_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_orders_status"))
    op.drop_table("hotline_orders")
    op.drop_table("hotline_imports")
