"""surveys: campaigns, areas, responses, audit, drafts, quotas, log

Revision ID: 0006_surveys
Revises: 0001_spine
Create Date: 2026-11-26 05:22:07.859343
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0006_surveys'
down_revision = '0001_spine'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('template', sa.String(length=16), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('subject_name', sa.String(length=128), nullable=False),
    sa.Column('scope_level', sa.String(length=16), nullable=False),
    sa.Column('scope_ids', sa.JSON(), nullable=False),
    sa.Column('owners_only', sa.Boolean(), nullable=False),
    sa.Column('per_household', sa.Boolean(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('questions_version', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opens_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('quota_per_estate', sa.Integer(), nullable=True),
    sa.Column('reminders_max', sa.Integer(), nullable=False),
    sa.Column('reminder_gap_hours', sa.Integer(), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('invited_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_reminded_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('eligible_snapshot', sa.JSON(), nullable=True),
    sa.Column('published_ref', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_status'), ['status'], unique=False)
        batch_op.create_index('ix_surveys_template_subject', ['template', 'subject_type', 'subject_id'], unique=False)

    op.create_table('survey_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_log_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_log'))
    )
    with op.batch_alter_table('survey_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_log_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_quotas',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('estate_key', sa.Integer(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_quotas_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'estate_key', name=op.f('pk_survey_quotas'))
    )
    op.create_table('survey_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_survey_areas_community_id_communities')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_survey_areas_estate_id_estates')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_areas_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_areas'))
    )
    with op.batch_alter_table('survey_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_areas_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_areas_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_drafts',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('questions_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_survey_drafts_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_drafts_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'resident_id', name=op.f('pk_survey_drafts'))
    )
    op.create_table('survey_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('voter_key', sa.String(length=160), nullable=False),
    sa.Column('resident_ref', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('questions_version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_survey_responses_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('survey_id', 'resident_ref', name='uq_survey_responses_person'),
    sa.UniqueConstraint('survey_id', 'voter_key', name='uq_survey_responses_voter')
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_resident_id'), ['resident_id'], unique=False)

    op.create_table('survey_response_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_ref', sa.String(length=32), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_response_events_response_id_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_response_events_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response_events'))
    )
    with op.batch_alter_table('survey_response_events', schema=None) as batch_op:
        batch_op.create_index('ix_survey_response_events_survey_at', ['survey_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('survey_response_events', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_events_survey_at')

    op.drop_table('survey_response_events')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_resident_id'))

    op.drop_table('survey_responses')
    op.drop_table('survey_drafts')
    with op.batch_alter_table('survey_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_areas_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_areas_community_id'))

    op.drop_table('survey_areas')
    op.drop_table('survey_quotas')
    with op.batch_alter_table('survey_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_log_survey_id'))

    op.drop_table('survey_log')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_template_subject')
        batch_op.drop_index(batch_op.f('ix_surveys_status'))

    op.drop_table('surveys')
