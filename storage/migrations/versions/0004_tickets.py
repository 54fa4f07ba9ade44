"""tickets: tickets, timeline events, mediation records, per-day number counters

Revision ID: 0004_tickets
Revises: 0001_spine
Create Date: 2026-11-26 05:24:38.712135
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0004_tickets'
down_revision = '0001_spine'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_counters',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_ticket_counters'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('resident_ref', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.Column('property_company_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('location', sa.JSON(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('phone_masked', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('level_since', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sign_due_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_sign_due_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('waiting_since', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('chased_due_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assignee_staff_id', sa.Integer(), nullable=True),
    sa.Column('assignee_partner', sa.String(length=64), nullable=True),
    sa.Column('assignee_label', sa.String(length=128), nullable=True),
    sa.Column('resolved_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_level', sa.String(length=16), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('closed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sa.String(length=16), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('escalation_offered', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_words', sa.String(length=500), nullable=True),
    sa.Column('rated_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_staff_id'], ['staff.id'], name=op.f('fk_tickets_assignee_staff_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_tickets_community_id_communities')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['tickets.id'], name=op.f('fk_tickets_duplicate_of_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_tickets_estate_id_estates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['property_company_id'], ['property_companies.id'], name=op.f('fk_tickets_property_company_id_property_companies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_tickets_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('number', name=op.f('uq_tickets_number'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_category'), ['category'], unique=False)
        batch_op.create_index('ix_tickets_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_duplicate_of_id'), ['duplicate_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_level'), ['level'], unique=False)
        batch_op.create_index('ix_tickets_open_due', ['status', 'resolve_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_resident_ref'), ['resident_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_status'), ['status'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('actor_label', sa.String(length=128), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_mediations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('parties', sa.Text(), nullable=False),
    sa.Column('agreement', sa.Text(), nullable=False),
    sa.Column('mediated_on', sa.Date(), nullable=False),
    sa.Column('committee', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_mediations_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_mediations'))
    )
    with op.batch_alter_table('ticket_mediations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_mediations_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_mediations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_mediations_ticket_id'))

    op.drop_table('ticket_mediations')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_events_ticket_id'))

    op.drop_table('ticket_events')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_tickets_resident_ref'))
        batch_op.drop_index(batch_op.f('ix_tickets_resident_id'))
        batch_op.drop_index('ix_tickets_open_due')
        batch_op.drop_index(batch_op.f('ix_tickets_level'))
        batch_op.drop_index(batch_op.f('ix_tickets_duplicate_of_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_created_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_community_id'))
        batch_op.drop_index('ix_tickets_community_created')
        batch_op.drop_index(batch_op.f('ix_tickets_category'))

    op.drop_table('tickets')
    op.drop_table('ticket_counters')
