"""``flask mi``: notes key fingerprint and key rotation."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from outreach.audit.services import record
from outreach.extensions import db
from outreach.mi.crypto import NotesKeyError, keyring
from outreach.mi.models import MINote
from outreach.mi.services import mi_note_reseal

mi_cli = AppGroup("mi", help="Motivational interviewing notes: encryption keys.")

#: Notes re-encrypted per transaction.
BATCH = 200


@mi_cli.command("key-version")
def key_version() -> None:
    """Print the fingerprint of the current notes key and how many notes use each key."""
    ring = keyring()
    click.echo(f"Current notes key: {ring.current.version}")
    counts = db.session.execute(
        select(MINote.key_version, func.count()).group_by(MINote.key_version)
    ).all()
    for version, count in counts:
        if version == ring.current.version:
            state = "current"
        elif version in ring.keys:
            state = "old key in NOTES_KEYS_OLD"
        else:
            state = "NO KEY CONFIGURED"
        click.echo(f"  {version}: {count} note(s) ({state})")


@mi_cli.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every note not yet under the current NOTES_KEY; exits 1 if any cannot be."""
    current = keyring().current.version
    done, failed, after = 0, [], 0
    while True:
        notes = db.session.scalars(
            select(MINote)
            .where(MINote.key_version != current, MINote.id > after)
            .order_by(MINote.id)
            .limit(BATCH)
        ).all()
        if not notes:
            break
        for note in notes:
            try:
                done += int(mi_note_reseal(note=note))
            except NotesKeyError:
                failed.append(note.id)
        after = notes[-1].id
        db.session.flush()
        db.session.commit()
    record("mi_note.rotate_key", data={"key": current, "notes": done, "failed": len(failed)})
    db.session.commit()
    click.echo(f"Re-encrypted {done} note(s) with the current key {current}.")
    if failed:
        shown = ", ".join(str(note_id) for note_id in failed[:20])
        raise click.ClickException(
            f"{len(failed)} note(s) could not be decrypted with NOTES_KEY or NOTES_KEYS_OLD "
            f"(ids {shown}{', …' if len(failed) > 20 else ''}). Add the key they were "
            "written with to NOTES_KEYS_OLD and run this again."
        )
