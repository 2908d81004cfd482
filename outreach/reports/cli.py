"""``flask report monthly``: make a report from the command line."""

from pathlib import Path

import click
from flask.cli import AppGroup

from outreach.extensions import db
from outreach.reports.periods import Month
from outreach.reports.services import report_make
from outreach.users.queries import site_id_named

report_cli = AppGroup("report", help="Make reports.")


@report_cli.command("monthly")
@click.option("--month", "month_text", required=True, help="YYYY-MM")
@click.option("--site", "site_name", default=None, help="Site name (default: all sites).")
@click.option(
    "--format",
    "output",
    type=click.Choice(["pdf", "csv"]),
    default=None,
    help="pdf or csv (default: the --out file's ending, else pdf).",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def monthly(month_text: str, site_name: str | None, output: str | None, out_path: Path) -> None:
    """Write the monthly report for a month (and site) to a file."""
    output = output or ("csv" if out_path.suffix.lower() == ".csv" else "pdf")
    try:
        month = Month.parse(month_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from error
    site_id = site_id_named(site_name) if site_name else None
    if site_name and site_id is None:
        raise click.BadParameter(f"There is no site called {site_name!r}.", param_hint="--site")
    content, _, _ = report_make(month=month, site_id=site_id, output=output)
    out_path.write_bytes(content)
    db.session.commit()
    click.echo(f"Wrote {output.upper()} report for {month.label} to {out_path}.")
