"""security: two-factor login (TOTP secrets, recovery codes)

Revision ID: a8_security
Revises: a7_imports
Create Date: 2026-11-28 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import outreach.dbtypes


# revision identifiers, used by Alembic.
revision = 'a8_security'
down_revision = 'a7_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('totp_factors',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=True),
    sa.Column('confirmed_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.Column('pending_secret', sa.String(length=255), nullable=True),
    sa.Column('pending_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(secret IS NULL AND confirmed_at IS NULL) OR (secret IS NOT NULL AND confirmed_at IS NOT NULL)', name=op.f('ck_totp_factors_confirmed')),
    sa.CheckConstraint('(pending_secret IS NULL AND pending_at IS NULL) OR (pending_secret IS NOT NULL AND pending_at IS NOT NULL)', name=op.f('ck_totp_factors_pending')),
    sa.CheckConstraint('last_step IS NULL OR last_step >= 0', name=op.f('ck_totp_factors_last_step')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_totp_factors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_totp_factors'))
    )
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))

    op.drop_table('recovery_codes')
    op.drop_table('totp_factors')
