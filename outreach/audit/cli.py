"""``flask audit verify``: check the hash chain."""

import click
from flask.cli import AppGroup

from outreach.audit.services import verify_chain

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
def verify() -> None:
    """Report every audit event that was edited, or whose predecessor was deleted."""
    problems = list(verify_chain())
    for problem in problems:
        click.echo(f"event {problem.event_id}: {problem.problem}")
    if problems:
        raise click.ClickException(f"The audit log was tampered with: {len(problems)} problem(s).")
    click.echo("The audit log is intact.")
