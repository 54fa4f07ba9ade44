"""scorecards: disclosure rules per estate, published scorecards and the estates they cover, finished campaigns'
answers pooled per estate

Revision ID: 0008_scorecards
Revises: 0001_spine
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0008_scorecards"
down_revision = "0001_spine"
branch_labels = None
depends_on = "0006_surveys"  # scorecard_survey_totals references surveys


def upgrade() -> None:
    op.create_table(
        "disclosure_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("due_day", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_disclosure_rules_estate_id_estates"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_rules")),
        sa.UniqueConstraint("estate_id", "category", name="uq_disclosure_rules_estate_category"),
    )
    op.create_table(
        "scorecard_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_name", sa.String(length=128), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("area_label", sa.String(length=128), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_publications")),
    )
    with op.batch_alter_table("scorecard_publications", schema=None) as batch_op:
        batch_op.create_index("ix_scorecard_publications_subject", ["kind", "subject_id", "published_at"],
                              unique=False)
    op.create_table(
        "scorecard_publication_estates",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"],
                                name=op.f("fk_scorecard_publication_estates_estate_id_estates"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["publication_id"], ["scorecard_publications.id"],
                                name=op.f("fk_scorecard_publication_estates_publication_id_scorecard_publications"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("publication_id", "estate_id", name=op.f("pk_scorecard_publication_estates")),
    )
    with op.batch_alter_table("scorecard_publication_estates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scorecard_publication_estates_estate_id"), ["estate_id"], unique=False)


    op.create_table(
        "scorecard_survey_totals",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("computed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"],
                                name=op.f("fk_scorecard_survey_totals_survey_id_surveys"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("survey_id", "estate_id", name=op.f("pk_scorecard_survey_totals")),
    )


def downgrade() -> None:
    op.drop_table("scorecard_survey_totals")
    with op.batch_alter_table("scorecard_publication_estates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scorecard_publication_estates_estate_id"))
    op.drop_table("scorecard_publication_estates")
    with op.batch_alter_table("scorecard_publications", schema=None) as batch_op:
        batch_op.drop_index("ix_scorecard_publications_subject")
    op.drop_table("scorecard_publications")
    op.drop_table("disclosure_rules")
