"""stock balances: the ledger's running sum per site, item and lot, filled from the ledger

Revision ID: a9_stock_balances
Revises: a8_security
Create Date: 2026-11-27 19:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

#: Frozen copies of outreach.inventory.models.BALANCE_TRIGGER_* as of this revision.
TRIGGER_POSTGRESQL = (
    """
    CREATE OR REPLACE FUNCTION stock_balance_add() RETURNS trigger AS $$
    BEGIN
        INSERT INTO stock_balances (site_id, item_id, lot_key, lot_id, on_hand)
        VALUES (NEW.site_id, NEW.item_id, COALESCE(NEW.lot_id, 0), NEW.lot_id, NEW.quantity)
        ON CONFLICT (site_id, item_id, lot_key)
        DO UPDATE SET on_hand = stock_balances.on_hand + EXCLUDED.on_hand;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER stock_movements_balance AFTER INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_balance_add()
    """,
)
TRIGGER_SQLITE = (
    """
    CREATE TRIGGER stock_movements_balance AFTER INSERT ON stock_movements
    BEGIN
        INSERT INTO stock_balances (site_id, item_id, lot_key, lot_id, on_hand)
        VALUES (NEW.site_id, NEW.item_id, COALESCE(NEW.lot_id, 0), NEW.lot_id, NEW.quantity)
        ON CONFLICT (site_id, item_id, lot_key)
        DO UPDATE SET on_hand = on_hand + excluded.on_hand;
    END
    """,
)


# revision identifiers, used by Alembic.
revision = 'a9_stock_balances'
down_revision = 'a8_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_balances',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('lot_key', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'], name=op.f('fk_stock_balances_item_id_supply_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_stock_balances_lot_id_stock_lots')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stock_balances_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', 'item_id', 'lot_key', name=op.f('pk_stock_balances'))
    )
    op.execute(
        "INSERT INTO stock_balances (site_id, item_id, lot_key, lot_id, on_hand) "
        "SELECT site_id, item_id, COALESCE(lot_id, 0), lot_id, SUM(quantity) "
        "FROM stock_movements GROUP BY site_id, item_id, lot_id"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in TRIGGER_POSTGRESQL if postgresql else TRIGGER_SQLITE:
        op.execute(statement)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS stock_movements_balance" + (
        " ON stock_movements" if op.get_bind().dialect.name == "postgresql" else ""
    ))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS stock_balance_add()")
    op.drop_table('stock_balances')
