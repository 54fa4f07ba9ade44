"""owner-attachments: files of an owners' motion (full text, a repair fund's quotes); owners' committee accounts
(staff.committee_estate_id)

Revision ID: 0020_owner_attachments
Revises: 0019_media_intake
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0020_owner_attachments"
down_revision = "0019_media_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "motion_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("motion_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["motion_id"], ["motions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("motion_attachments") as batch:
        batch.create_index(batch.f("ix_motion_attachments_motion_id"), ["motion_id"], unique=False)
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("committee_estate_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_staff_committee_estate_id_estates"), "estates",
                                 ["committee_estate_id"], ["id"])
        batch.create_index(batch.f("ix_staff_committee_estate_id"), ["committee_estate_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_index(batch.f("ix_staff_committee_estate_id"))
        batch.drop_constraint(batch.f("fk_staff_committee_estate_id_estates"), type_="foreignkey")
        batch.drop_column("committee_estate_id")
    with op.batch_alter_table("motion_attachments") as batch:
        batch.drop_index(batch.f("ix_motion_attachments_motion_id"))
    op.drop_table("motion_attachments")
