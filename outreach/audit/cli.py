"""``flask audit verify``: check the hash chain, and the head recorded at an earlier check."""

import re

import click
from flask.cli import AppGroup

from outreach.audit.services import chain_head, head_problem, verify_chain

audit_cli = AppGroup("audit", help="Check the audit log.")
HEAD = re.compile(r"(\d{1,18}):([0-9a-f]{64})")


def parse_head(context, parameter, value: str | None) -> tuple[int, str] | None:
    """Read ``ID:HASH`` as ``flask audit verify`` prints it."""
    if value is None:
        return None
    found = HEAD.fullmatch(value.strip().lower())
    if found is None:
        raise click.BadParameter("give the head as printed by an earlier check: ID:HASH.")
    return int(found.group(1)), found.group(2)


@audit_cli.command("verify")
@click.option(
    "--head",
    "recorded",
    callback=parse_head,
    help="The head (ID:HASH) an earlier check printed: also catches newer events deleted.",
)
def verify(recorded: tuple[int, str] | None) -> None:
    """Report every audit event that was edited, or whose predecessor was deleted."""
    problems = list(verify_chain())
    if recorded and (problem := head_problem(*recorded)):
        problems.append(problem)
    for problem in problems:
        click.echo(f"event {problem.event_id}: {problem.problem}")
    if problems:
        raise click.ClickException(f"The audit log was tampered with: {len(problems)} problem(s).")
    click.echo("The audit log is intact.")
    if head := chain_head():
        click.echo(f"Head: {head[0]}:{head[1]}")
        click.echo("Keep this line away from this server; pass it to --head at the next check.")
