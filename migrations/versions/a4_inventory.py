"""supply inventory: stock lots, the stock ledger, lot tracking and low-stock thresholds

Revision ID: a4_inventory
Revises: 441662bfbc88
Create Date: 2026-11-27 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import outreach.dbtypes


# revision identifiers, used by Alembic.
revision = 'a4_inventory'
down_revision = '441662bfbc88'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supply_items', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('lot_tracked', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('low_stock_threshold', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_supply_items_low_stock_threshold'),
            'low_stock_threshold IS NULL OR low_stock_threshold >= 0',
        )
    op.execute("UPDATE supply_items SET lot_tracked = TRUE WHERE category = 'naloxone'")
    with op.batch_alter_table('supply_items', schema=None) as batch_op:
        batch_op.alter_column('lot_tracked', server_default=None)

    op.create_table('stock_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('lot_number', sa.String(length=30), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('created_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'], name=op.f('fk_stock_lots_item_id_supply_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_lots')),
    sa.UniqueConstraint('item_id', 'lot_number', name='uq_stock_lots_item_lot')
    )
    with op.batch_alter_table('stock_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_lots_item_id'), ['item_id'], unique=False)

    op.create_table('stock_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=11), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('occurred_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=11), nullable=True),
    sa.Column('encounter_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('counterpart_id', sa.Integer(), nullable=True),
    sa.Column('overdrawn', sa.Boolean(), nullable=False),
    sa.CheckConstraint("(kind = 'received' AND quantity > 0) OR (kind IN ('expired', 'disposed') AND quantity < 0) OR (kind = 'distributed' AND reverses_id IS NULL AND quantity < 0) OR (kind = 'distributed' AND reverses_id IS NOT NULL AND quantity > 0) OR (kind IN ('transferred', 'adjusted') AND quantity <> 0)", name=op.f('ck_stock_movements_sign')),
    sa.CheckConstraint("kind IN ('received', 'distributed', 'transferred', 'adjusted', 'expired', 'disposed')", name=op.f('ck_stock_movements_kind')),
    sa.CheckConstraint("reason IS NOT NULL OR kind NOT IN ('adjusted', 'disposed')", name=op.f('ck_stock_movements_reason_given')),
    sa.CheckConstraint("reason IS NULL OR reason IN ('count', 'entry_error', 'found', 'lost', 'damaged', 'recalled', 'other')", name=op.f('ck_stock_movements_reason')),
    sa.CheckConstraint('quantity <> 0', name=op.f('ck_stock_movements_quantity')),
    sa.ForeignKeyConstraint(['counterpart_id'], ['stock_movements.id'], name=op.f('fk_stock_movements_counterpart_id_stock_movements')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_stock_movements_encounter_id_encounters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'], name=op.f('fk_stock_movements_item_id_supply_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_stock_movements_lot_id_stock_lots')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_stock_movements_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['reverses_id'], ['stock_movements.id'], name=op.f('fk_stock_movements_reverses_id_stock_movements')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stock_movements_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movements')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_stock_movements_reverses_id'))
    )
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movements_bucket', ['site_id', 'item_id', 'lot_id', 'quantity'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movements_encounter_id'), ['encounter_id'], unique=False)
        batch_op.create_index('ix_stock_movements_item_occurred', ['item_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movements_occurred_at'), ['occurred_at'], unique=False)


def downgrade():
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movements_occurred_at'))
        batch_op.drop_index('ix_stock_movements_item_occurred')
        batch_op.drop_index(batch_op.f('ix_stock_movements_encounter_id'))
        batch_op.drop_index('ix_stock_movements_bucket')

    op.drop_table('stock_movements')
    with op.batch_alter_table('stock_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_lots_item_id'))

    op.drop_table('stock_lots')
    with op.batch_alter_table('supply_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_supply_items_low_stock_threshold'), type_='check')
        batch_op.drop_column('low_stock_threshold')
        batch_op.drop_column('lot_tracked')
