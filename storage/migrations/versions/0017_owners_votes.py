"""owners-votes: the household roster (rooms with their exclusive area, owners, holdings), residents linked to
roster owners (verification, proxies), motions put to the owners, their frozen rooms, ballots and ballot events

Revision ID: 0017_owners_votes
Revises: 0016_first_console
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0017_owners_votes'
down_revision = '0016_first_console'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('motions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('buildings', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=16), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opens_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('notice_ref', sa.String(length=32), nullable=True),
    sa.Column('disclosure_ref', sa.String(length=32), nullable=True),
    sa.Column('reminded_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_motions_community_id_communities')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_motions_estate_id_estates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_motions'))
    )
    with op.batch_alter_table('motions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_motions_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_motions_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_motions_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_motions_status'), ['status'], unique=False)

    op.create_table('roster_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('phone_masked', sa.String(length=32), nullable=True),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_roster_owners_estate_id_estates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_owners'))
    )
    with op.batch_alter_table('roster_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_owners_estate_id'), ['estate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_owners_phone'), ['phone'], unique=False)

    op.create_table('roster_rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('building', sa.String(length=32), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('area_cents', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_roster_rooms_estate_id_estates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_rooms')),
    sa.UniqueConstraint('estate_id', 'building', 'unit', 'room', name='uq_roster_rooms_place')
    )
    with op.batch_alter_table('roster_rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_rooms_estate_id'), ['estate_id'], unique=False)

    op.create_table('motion_rooms',
    sa.Column('motion_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('building', sa.String(length=32), nullable=False),
    sa.Column('area_cents', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['motion_id'], ['motions.id'], name=op.f('fk_motion_rooms_motion_id_motions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('motion_id', 'room_id', name=op.f('pk_motion_rooms'))
    )
    op.create_table('owner_ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('motion_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('voter_ref', sa.String(length=32), nullable=True),
    sa.Column('proxy', sa.Boolean(), nullable=False),
    sa.Column('collector', sa.String(length=64), nullable=True),
    sa.Column('entered_by', sa.String(length=64), nullable=True),
    sa.Column('cast_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['motion_id'], ['motions.id'], name=op.f('fk_owner_ballots_motion_id_motions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_owner_ballots_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['roster_rooms.id'], name=op.f('fk_owner_ballots_room_id_roster_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_ballots')),
    sa.UniqueConstraint('motion_id', 'room_id', name='uq_owner_ballots_one_per_room'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('owner_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_ballots_motion_id'), ['motion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_ballots_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_ballots_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_ballots_voter_ref'), ['voter_ref'], unique=False)

    op.create_table('owner_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('proxy_name', sa.String(length=64), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('verified_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['roster_owners.id'], name=op.f('fk_owner_links_owner_id_roster_owners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_owner_links_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_links')),
    sa.UniqueConstraint('resident_id', 'owner_id', name='uq_owner_links_pair')
    )
    with op.batch_alter_table('owner_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_links_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_owner_links_resident_id'), ['resident_id'], unique=False)

    op.create_table('roster_holdings',
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['roster_owners.id'], name=op.f('fk_roster_holdings_owner_id_roster_owners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['roster_rooms.id'], name=op.f('fk_roster_holdings_room_id_roster_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'owner_id', name=op.f('pk_roster_holdings'))
    )
    with op.batch_alter_table('roster_holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_holdings_owner_id'), ['owner_id'], unique=False)

    op.create_table('owner_ballot_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('motion_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('choice', sa.String(length=64), nullable=False),
    sa.Column('actor_ref', sa.String(length=64), nullable=True),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['owner_ballots.id'], name=op.f('fk_owner_ballot_events_ballot_id_owner_ballots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_ballot_events'))
    )
    with op.batch_alter_table('owner_ballot_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_ballot_events_ballot_id'), ['ballot_id'], unique=False)
        batch_op.create_index('ix_owner_ballot_events_motion', ['motion_id', 'at'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('owner_ballot_events', schema=None) as batch_op:
        batch_op.drop_index('ix_owner_ballot_events_motion')
        batch_op.drop_index(batch_op.f('ix_owner_ballot_events_ballot_id'))

    op.drop_table('owner_ballot_events')
    with op.batch_alter_table('roster_holdings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_holdings_owner_id'))

    op.drop_table('roster_holdings')
    with op.batch_alter_table('owner_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_links_resident_id'))
        batch_op.drop_index(batch_op.f('ix_owner_links_owner_id'))

    op.drop_table('owner_links')
    with op.batch_alter_table('owner_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_ballots_voter_ref'))
        batch_op.drop_index(batch_op.f('ix_owner_ballots_room_id'))
        batch_op.drop_index(batch_op.f('ix_owner_ballots_resident_id'))
        batch_op.drop_index(batch_op.f('ix_owner_ballots_motion_id'))

    op.drop_table('owner_ballots')
    op.drop_table('motion_rooms')
    with op.batch_alter_table('roster_rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_rooms_estate_id'))

    op.drop_table('roster_rooms')
    with op.batch_alter_table('roster_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_owners_phone'))
        batch_op.drop_index(batch_op.f('ix_roster_owners_estate_id'))

    op.drop_table('roster_owners')
    with op.batch_alter_table('motions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_motions_status'))
        batch_op.drop_index(batch_op.f('ix_motions_estate_id'))
        batch_op.drop_index(batch_op.f('ix_motions_community_id'))
        batch_op.drop_index(batch_op.f('ix_motions_closes_at'))

    op.drop_table('motions')
    
