"""``flask retention purge``: remove old and removed records for good."""

import click
from flask import current_app
from flask.cli import AppGroup

from outreach.extensions import db
from outreach.retention.services import PurgeResult, retention_purge

retention_cli = AppGroup("retention", help="Remove records past the retention period.")


def describe(result: PurgeResult, dry_run: bool) -> list[str]:
    """Return the lines that tell the operator what went (or would go)."""
    verb = "Would remove" if dry_run else "Removed"
    lines = []
    for name, count in sorted(result.removed.items()):
        lines.append(f"  {name}: {count}")
    if result.cascaded:
        lines.append(
            "  with them: "
            + ", ".join(f"{name} {count}" for name, count in sorted(result.cascaded.items()))
        )
    if result.unlinked:
        lines.append(
            "  kept, unlinked: "
            + ", ".join(f"{name} {count}" for name, count in sorted(result.unlinked.items()))
        )
    if not lines:
        return [f"{verb} nothing: no record is due."]
    return [f"{verb} permanently:", *lines]


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would go and change nothing.")
def purge(dry_run: bool) -> None:
    """Remove removed records, encounters older than RETENTION_DAYS and orphaned participants."""
    days = current_app.config["RETENTION_DAYS"]
    result = retention_purge(days=days)
    if result.cutoff is None:
        click.echo("RETENTION_DAYS is 0: encounters are kept whatever their age.")
    else:
        click.echo(f"Retention {days} days: encounters before {result.cutoff:%Y-%m-%d} go.")
    for line in describe(result, dry_run):
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was changed.")
    else:
        db.session.commit()
