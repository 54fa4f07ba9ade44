"""notice versions name who approved them (four eyes on every published text, corrections included); a correction
waits unpublished (published_at null) until a second person approves it

Revision ID: 0010_notice_version_approval
Revises: 0005_notices
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0010_notice_version_approval"
down_revision = "0005_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice_versions") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("approved_at", storage.models.UTCDateTime(timezone=True), nullable=True))
    # the record as it was: the first version was approved by the notice's approver; corrections were published
    # by the staff member who wrote them
    op.execute("UPDATE notice_versions SET approved_by = (SELECT approver FROM notices "
               "WHERE notices.id = notice_versions.notice_id), approved_at = published_at "
               "WHERE version = 1 AND published_at IS NOT NULL")
    op.execute("UPDATE notice_versions SET approved_by = created_by, approved_at = published_at "
               "WHERE version > 1 AND published_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("notice_versions") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
