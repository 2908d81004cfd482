"""``flask import encounters FILE.csv [--dry-run]``: import past encounters from another system."""

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.imports.services import ImportReport, import_file

import_cli = AppGroup("import", help="Import data from another system.")


def echo_errors(report: ImportReport) -> None:
    """Print every problem, one a line, then a summary, on standard error."""
    for error in report.errors:
        where = f"line {error.line}" + (f", {error.column}" if error.column else "")
        click.echo(f"{where}: {error.reason}", err=True)
    rows = len({error.line for error in report.errors})
    click.echo(
        f"{len(report.errors)} problem(s) on {rows} line(s) of {report.rows_read:,} row(s) read; "
        "nothing was imported.",
        err=True,
    )


def echo_counts(report: ImportReport) -> None:
    """Print what was (or in a dry run would be) written."""
    verb = "would be created" if report.dry_run else "created"
    click.echo(f"Rows read: {report.rows_read:,}")
    click.echo(f"Encounters {verb}: {report.encounters_created:,}")
    click.echo(f"Skipped as already imported: {report.skipped:,}")
    click.echo(f"Participants {verb}: {report.participants_created:,}")
    click.echo(f"Referrals {verb}: {report.referrals_created:,}")
    if report.dry_run:
        click.echo("Dry run: nothing was written.")


@import_cli.command("encounters")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and count; write nothing.")
def import_encounters_command(file: Path, dry_run: bool) -> None:
    """Import past encounters from a CSV file: every row, or none if any row is bad."""
    try:
        report = import_file(data=file.read_bytes(), dry_run=dry_run, actor=None)
        if report.ok and not dry_run:
            db.session.commit()
    except IntegrityError:
        db.session.rollback()
        click.echo(
            "Another import wrote some of these encounters at the same time; nothing was "
            "imported. Run the command again: rows imported since are skipped.",
            err=True,
        )
        raise SystemExit(1) from None
    if not report.ok or dry_run:
        db.session.rollback()
    if not report.ok:
        echo_errors(report)
        raise SystemExit(1)
    echo_counts(report)
