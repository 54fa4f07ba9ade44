"""policy Q&A: knowledge gaps, answer ratings, inquiries handed to staff, knowledge-base generation

Revision ID: 0007_policy_qa
Revises: 0001_spine
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0007_policy_qa"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=200), nullable=False),
        sa.Column("example", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("first_asked", storage.models.UTCDateTime(), nullable=False),
        sa.Column("last_asked", storage.models.UTCDateTime(), nullable=False),
        sa.Column("resolved_entry", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_kb_gaps_community_id_communities"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_gaps")),
        sa.UniqueConstraint("question_key", name=op.f("uq_kb_gaps_question_key")),
    )
    op.create_index(op.f("ix_kb_gaps_community_id"), "kb_gaps", ["community_id"])
    op.create_table(
        "kb_ratings",
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("useful", sa.Integer(), nullable=False),
        sa.Column("useless", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_kb_ratings")),
    )
    op.create_table(
        "inquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_ref", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_inquiries_resident_id_residents"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_inquiries_community_id_communities"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries")),
    )
    op.create_index(op.f("ix_inquiries_resident_ref"), "inquiries", ["resident_ref"])
    op.create_index(op.f("ix_inquiries_community_id"), "inquiries", ["community_id"])
    op.create_index(op.f("ix_inquiries_status"), "inquiries", ["status"])
    op.create_table(
        "kb_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("directory", sa.String(length=500), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("requested_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_generation")),
    )


def downgrade() -> None:
    op.drop_table("kb_generation")
    op.drop_table("inquiries")
    op.drop_table("kb_ratings")
    op.drop_table("kb_gaps")
