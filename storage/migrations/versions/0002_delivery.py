"""delivery: broadcasts, deliveries, mutes, windows, leases, buckets

Revision ID: 0002_delivery
Revises: 0001_spine
Create Date: 2026-11-26 04:46:13.763719
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0002_delivery'
down_revision = '0001_spine'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('summary', sa.String(length=256), nullable=True),
    sa.Column('link', sa.String(length=512), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('send_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('started_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('finished_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('paused_until', storage.models.UTCDateTime(), nullable=True),
    sa.Column('pause_reason', sa.String(length=64), nullable=True),
    sa.Column('expand_cursor', sa.BigInteger(), nullable=False),
    sa.Column('expand_upto', sa.BigInteger(), nullable=True),
    sa.Column('expanded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcasts_status'), ['status'], unique=False)

    op.create_table('delivery_buckets',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_delivery_buckets'))
    )
    op.create_table('delivery_leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', storage.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_delivery_leases'))
    )
    op.create_table('delivery_receipts',
    sa.Column('msgid', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('received_at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('msgid', name=op.f('pk_delivery_receipts'))
    )
    op.create_table('cs_windows',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_cs_windows_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_cs_windows'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('errcode', sa.Integer(), nullable=True),
    sa.Column('msgid', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', storage.models.UTCDateTime(), nullable=True),
    sa.Column('resent', sa.Boolean(), nullable=False),
    sa.Column('sent_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('final_status', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], name=op.f('fk_deliveries_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_deliveries_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('broadcast_id', 'resident_id', name=op.f('uq_deliveries_broadcast_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_claim', ['broadcast_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_msgid'), ['msgid'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_resident_id'), ['resident_id'], unique=False)

    op.create_table('delivery_mutes',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_delivery_mutes_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'category', name=op.f('pk_delivery_mutes'))
    )



def downgrade() -> None:
    
    op.drop_table('delivery_mutes')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_resident_id'))
        batch_op.drop_index(batch_op.f('ix_deliveries_msgid'))
        batch_op.drop_index('ix_deliveries_claim')

    op.drop_table('deliveries')
    op.drop_table('cs_windows')
    op.drop_table('delivery_receipts')
    op.drop_table('delivery_leases')
    op.drop_table('delivery_buckets')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcasts_status'))

    op.drop_table('broadcasts')

