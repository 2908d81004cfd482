"""CSV import: encounters.external_id

Revision ID: a7_imports
Revises: a6_mi_notes
Create Date: 2026-11-28 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7_imports'
down_revision = 'a6_mi_notes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_encounters_external_id'), ['external_id'])


def downgrade():
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_encounters_external_id'), type_='unique')
        batch_op.drop_column('external_id')
