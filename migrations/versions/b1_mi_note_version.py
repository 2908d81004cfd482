"""mi note version: an edit made from a stale page is refused instead of overwriting

Revision ID: b1_mi_note_version
Revises: a9_stock_balances
Create Date: 2026-11-27 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "b1_mi_note_version"
down_revision = "a9_stock_balances"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mi_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("mi_notes", schema=None) as batch_op:
        batch_op.drop_column("version")
