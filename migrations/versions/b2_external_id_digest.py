"""external id digest: keep only a keyed digest of an old system's encounter id

An imported encounter's ``external_id`` only recognises a row imported before, but the old
system's id may hold a name or a date of birth. Ids stored before this revision are replaced
by ``#`` and their HMAC-SHA256 under CLIENT_CODE_KEY, as imports now store them. This is a
frozen copy of ``outreach.imports.services.external_id_digest``; the old ids cannot come back
on downgrade.

Revision ID: b2_external_id_digest
Revises: b1_mi_note_version
Create Date: 2026-11-28 00:30:00.000000

"""
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "b2_external_id_digest"
down_revision = "b1_mi_note_version"
branch_labels = None
depends_on = None

encounters = sa.table("encounters", sa.column("id", sa.Integer), sa.column("external_id"))


def digest(external_id: str, key: bytes) -> str:
    """Return ``#`` and the keyed HMAC-SHA256 of an old system's id."""
    message = b"external_id:" + external_id.encode()
    return "#" + hmac.new(key, message, hashlib.sha256).hexdigest()


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(encounters.c.id, encounters.c.external_id).where(
            encounters.c.external_id.is_not(None), ~encounters.c.external_id.startswith("#")
        )
    ).all()
    if not rows:
        return
    key = (current_app.config.get("CLIENT_CODE_KEY") or "").encode()
    if not key:
        raise RuntimeError("CLIENT_CODE_KEY is needed to replace imported ids by their digests.")
    for row_id, external_id in rows:
        connection.execute(
            encounters.update()
            .where(encounters.c.id == row_id)
            .values(external_id=digest(external_id, key))
        )


def downgrade():
    """Keep the digests: the old ids are kept nowhere, and a digest still skips its row."""
