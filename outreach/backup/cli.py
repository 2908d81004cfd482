"""``flask backup create`` and ``flask backup restore``."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from outreach.audit.services import chain_head, record
from outreach.backup.services import BackupError, backup_create, backup_restore
from outreach.extensions import db

backup_cli = AppGroup("backup", help="Back up the database, or restore a backup.")


@backup_cli.command("create")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: instance/backups/outreach-<date>-<time>.db or .dump).",
)
def create(out: Path | None) -> None:
    """Write a consistent copy of the database while the app keeps running."""
    # Every event up to this one is in the copy, which is taken after it.
    head = chain_head()
    try:
        path = backup_create(out=out, instance_dir=Path(current_app.instance_path))
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    record("backup.create", data={"bytes": path.stat().st_size})
    db.session.commit()
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
    click.echo(
        "Keep it with SECRET_KEY, CLIENT_CODE_KEY and NOTES_KEY, encrypted, off this machine."
    )
    if head:
        click.echo(f"Audit head in this backup: {head[0]}:{head[1]}")
        click.echo("Keep this line off this machine: a restore test checks it with --head.")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds records.")
def restore(file: Path, force: bool) -> None:
    """Load a backup into an empty database (or, with --force, replace what is there)."""
    try:
        backup_restore(source=file, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    record("backup.restore", data={"forced": force})
    db.session.commit()
    click.echo(
        f"Restored {file}. Next: flask db upgrade, then flask audit verify --head with the"
        " head printed when the backup was made."
    )
