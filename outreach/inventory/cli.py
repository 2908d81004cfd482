"""``flask stock``: stock on hand and warnings from the command line (e.g. a morning cron)."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from outreach.audit.services import record
from outreach.extensions import db
from outreach.inventory.balances import mismatches, rebuild
from outreach.inventory.queries import stock_on_hand, stock_warnings
from outreach.inventory.services import lock_sites
from outreach.users.models import Site
from outreach.users.queries import site_id_named

stock_cli = AppGroup("stock", help="Show stock on hand and stock warnings; check balances.")
#: The longest expiry window ``warnings --days`` takes: ten years, past any shelf life.
EXPIRY_DAYS_MAX = 3650


@stock_cli.command("on-hand")
@click.option("--site", "site_name", help="Only this site (its name).")
def on_hand(site_name: str | None) -> None:
    """List stock on hand by site and item, with lots and expiry."""
    site_id = None
    if site_name:
        site_id = site_id_named(site_name)
        if site_id is None:
            raise click.ClickException(f"--site: no site is called {site_name!r}.")
    rows = stock_on_hand(site_id)
    if not rows:
        click.echo("No stock recorded yet.")
    for row in rows:
        flag = "  NEGATIVE" if row.negative else ""
        click.echo(f"{row.site_name:<20} {row.item_name:<36} {row.on_hand:>7} {row.unit}{flag}")
        for lot in row.lots:
            if lot.lot_id is not None:
                expiry = lot.expires_on.isoformat()
                click.echo(f"{'':<20}   lot {lot.lot_number:<16} exp. {expiry} {lot.on_hand:>7}")


@stock_cli.command("warnings")
@click.option(
    "--days",
    type=click.IntRange(0, EXPIRY_DAYS_MAX),
    help=f"Expiry window, 0 to {EXPIRY_DAYS_MAX} (default STOCK_EXPIRY_WARNING_DAYS).",
)
def warnings(days: int | None) -> None:
    """List low stock, expiring lots and negative stock; exit 1 when there is any."""
    found = stock_warnings(days=days)
    for _, name, unit, quantity, threshold in found.low:
        click.echo(f"low: {name}: {quantity} {unit} on hand, warning below {threshold}")
    for site, name, lot, expires_on, quantity, days_left in found.expiring:
        state = "expired" if days_left < 0 else f"expires in {days_left} days"
        click.echo(
            f"expiry: {name} lot {lot} at {site}: {quantity} on hand, {state} ({expires_on})"
        )
    for site, name, lot, quantity in found.negative:
        click.echo(f"negative: {name}{f' lot {lot}' if lot else ''} at {site}: {quantity}")
    if found:
        raise SystemExit(1)
    click.echo("No stock warnings.")


@stock_cli.command("check-balances")
@click.option("--repair", is_flag=True, help="Rebuild the balances from the ledger if they differ.")
def check_balances(repair: bool) -> None:
    """Compare the running balances with the ledger's sums; exit 1 if any differ."""
    wrong = mismatches()
    for site_id, item_id, lot_key, kept, ledger in wrong:
        lot = f"lot {lot_key}" if lot_key else "no lot"
        click.echo(f"site {site_id} item {item_id} {lot}: balance {kept}, ledger {ledger}")
    if not wrong:
        click.echo("The balances match the ledger.")
        return
    if repair:
        lock_sites(*db.session.scalars(select(Site.id)))
        rebuild()
        record("stock.balances_rebuilt", data={"buckets": len(wrong)})
        db.session.commit()
        click.echo(f"Rebuilt the balances from the ledger ({len(wrong)} differed).")
        return
    raise SystemExit(1)
