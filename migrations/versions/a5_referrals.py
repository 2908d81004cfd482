"""referrals: agency directory, referrals, status history

Revision ID: a5_referrals
Revises: a4_inventory
Create Date: 2026-11-27 16:42:52.545403

"""
from alembic import op
import sqlalchemy as sa

import outreach.dbtypes


# revision identifiers, used by Alembic.
revision = 'a5_referrals'
down_revision = 'a4_inventory'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=120), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.String(length=1000), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('name', name=op.f('uq_agencies_name'))
    )

    op.create_table('agency_services',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('referral_type', sa.String(length=13), nullable=False),
    sa.CheckConstraint("referral_type IN ('moud', 'treatment', 'withdrawal', 'mental_health', 'hiv', 'hcv', 'sti', 'prep', 'primary_care', 'wound_care', 'housing', 'food', 'legal', 'id_documents', 'benefits', 'other')", name=op.f('ck_agency_services_referral_type')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_services_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agency_id', 'referral_type', name=op.f('pk_agency_services'))
    )
    with op.batch_alter_table('agency_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_services_referral_type'), ['referral_type'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('referral_type', sa.String(length=13), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('linked_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'linked' AND linked_on IS NOT NULL) OR (status <> 'linked' AND linked_on IS NULL)", name=op.f('ck_referrals_linked_on_when_linked')),
    sa.CheckConstraint("referral_type IN ('moud', 'treatment', 'withdrawal', 'mental_health', 'hiv', 'hcv', 'sti', 'prep', 'primary_care', 'wound_care', 'housing', 'food', 'legal', 'id_documents', 'benefits', 'other')", name=op.f('ck_referrals_referral_type')),
    sa.CheckConstraint("status IN ('referred', 'scheduled', 'linked', 'not_linked', 'declined')", name=op.f('ck_referrals_status')),
    sa.CheckConstraint('linked_on IS NULL OR linked_on >= referred_on', name=op.f('ck_referrals_linked_after')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_referrals_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_referrals_created_by_id_users')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_referrals_encounter_id_encounters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_referrals_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_encounter_id'), ['encounter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index('ix_referrals_status_follow_up', ['status', 'follow_up_on'], unique=False)

    op.create_table('referral_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=10), nullable=True),
    sa.Column('to_status', sa.String(length=10), nullable=False),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason_code', sa.String(length=18), nullable=True),
    sa.Column('reason_text', sa.String(length=200), nullable=True),
    sa.CheckConstraint("from_status IS NULL OR from_status IN ('referred', 'scheduled', 'linked', 'not_linked', 'declined')", name=op.f('ck_referral_status_changes_from_status')),
    sa.CheckConstraint("reason_code IS NULL OR reason_code IN ('appointment_made', 'waitlist', 'could_not_reach', 'missed_appointment', 'not_eligible', 'no_capacity', 'transport', 'documents', 'cost', 'changed_mind', 'other_service', 'other')", name=op.f('ck_referral_status_changes_reason_code')),
    sa.CheckConstraint("to_status IN ('referred', 'scheduled', 'linked', 'not_linked', 'declined')", name=op.f('ck_referral_status_changes_to_status')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_referral_status_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_status_changes_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_status_changes'))
    )
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_status_changes_referral_id'), ['referral_id'], unique=False)


def downgrade():
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_status_changes_referral_id'))

    op.drop_table('referral_status_changes')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_status_follow_up')
        batch_op.drop_index(batch_op.f('ix_referrals_participant_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_encounter_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_agency_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('agency_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_services_referral_type'))

    op.drop_table('agency_services')
    op.drop_table('agencies')
