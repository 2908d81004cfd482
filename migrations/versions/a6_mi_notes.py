"""MI notes (encrypted free text) and the change talk heard

Revision ID: a6_mi_notes
Revises: a5_referrals
Create Date: 2026-11-28 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import outreach.dbtypes


# revision identifiers, used by Alembic.
revision = 'a6_mi_notes'
down_revision = 'a5_referrals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mi_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('focus', sa.String(length=12), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('importance', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('readiness', sa.Integer(), nullable=True),
    sa.Column('sustain_talk', sa.String(length=6), nullable=True),
    sa.Column('goal', sa.LargeBinary(), nullable=True),
    sa.Column('next_steps', sa.LargeBinary(), nullable=True),
    sa.Column('summary', sa.LargeBinary(), nullable=True),
    sa.Column('key_version', sa.String(length=16), nullable=False),
    sa.Column('created_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', outreach.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("focus IN ('safer_use', 'reducing_use', 'treatment', 'testing', 'housing', 'other')", name=op.f('ck_mi_notes_focus')),
    sa.CheckConstraint("stage IN ('precontemplation', 'contemplation', 'preparation', 'action', 'maintenance', 'recurrence')", name=op.f('ck_mi_notes_stage')),
    sa.CheckConstraint("sustain_talk IS NULL OR sustain_talk IN ('none', 'some', 'strong')", name=op.f('ck_mi_notes_sustain_talk')),
    sa.CheckConstraint('confidence IS NULL OR (confidence >= 0 AND confidence <= 10)', name=op.f('ck_mi_notes_confidence')),
    sa.CheckConstraint('importance IS NULL OR (importance >= 0 AND importance <= 10)', name=op.f('ck_mi_notes_importance')),
    sa.CheckConstraint('readiness IS NULL OR (readiness >= 0 AND readiness <= 10)', name=op.f('ck_mi_notes_readiness')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_mi_notes_author_id_users')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_mi_notes_encounter_id_encounters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_mi_notes_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mi_notes')),
    sa.UniqueConstraint('encounter_id', name=op.f('uq_mi_notes_encounter_id'))
    )
    with op.batch_alter_table('mi_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mi_notes_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mi_notes_participant_id'), ['participant_id'], unique=False)

    op.create_table('mi_change_talk',
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.CheckConstraint("code IN ('desire', 'ability', 'reasons', 'need', 'commitment', 'activation', 'taking_steps')", name=op.f('ck_mi_change_talk_code')),
    sa.ForeignKeyConstraint(['note_id'], ['mi_notes.id'], name=op.f('fk_mi_change_talk_note_id_mi_notes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('note_id', 'code', name=op.f('pk_mi_change_talk'))
    )


def downgrade():
    op.drop_table('mi_change_talk')
    with op.batch_alter_table('mi_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mi_notes_participant_id'))
        batch_op.drop_index(batch_op.f('ix_mi_notes_author_id'))

    op.drop_table('mi_notes')
