"""``flask supplies``: add, list and seed the supply catalog."""

import click
from flask.cli import AppGroup

from outreach.extensions import db
from outreach.supplies import services
from outreach.supplies.models import SupplyCategory
from outreach.supplies.queries import all_items_by_category, catalog_size

supplies_cli = AppGroup("supplies", help="Add and list supply catalog items.")

#: A starter catalog: (name, category, unit, units per pack, doses per unit, most per encounter).
DEFAULT_ITEMS: list[tuple[str, SupplyCategory, str, int, int, int]] = [
    ("Syringes 1 mL (box of 10)", SupplyCategory.SYRINGES, "box", 10, 0, 100),
    ("Syringe 1 mL (single)", SupplyCategory.SYRINGES, "each", 1, 0, 500),
    ("Cookers", SupplyCategory.INJECTION_EQUIPMENT, "each", 1, 0, 200),
    ("Cottons", SupplyCategory.INJECTION_EQUIPMENT, "each", 1, 0, 200),
    ("Sterile water", SupplyCategory.INJECTION_EQUIPMENT, "ampoule", 1, 0, 200),
    ("Alcohol pads", SupplyCategory.INJECTION_EQUIPMENT, "each", 1, 0, 500),
    ("Tourniquets", SupplyCategory.INJECTION_EQUIPMENT, "each", 1, 0, 50),
    ("Sharps container", SupplyCategory.INJECTION_EQUIPMENT, "each", 1, 0, 10),
    ("Glass pipes", SupplyCategory.SMOKING, "each", 1, 0, 50),
    ("Pipe mouthpieces", SupplyCategory.SMOKING, "each", 1, 0, 100),
    ("Naloxone nasal kit (2 doses)", SupplyCategory.NALOXONE, "kit", 1, 2, 20),
    ("Fentanyl test strips", SupplyCategory.TEST_STRIPS, "strip", 1, 0, 100),
    ("Xylazine test strips", SupplyCategory.TEST_STRIPS, "strip", 1, 0, 100),
    ("Wound care kit", SupplyCategory.WOUND_CARE, "kit", 1, 0, 20),
    ("Condoms", SupplyCategory.SAFER_SEX, "each", 1, 0, 200),
    ("Hygiene kit", SupplyCategory.HYGIENE, "kit", 1, 0, 10),
]

#: CLI option of each service field, so errors name what the user typed.
OPTION_NAMES = {
    "name": "NAME",
    "category": "--category",
    "unit": "--unit",
    "units_per_pack": "--units-per-pack",
    "doses_per_unit": "--doses-per-unit",
    "max_per_encounter": "--max-per-encounter",
    "display_order": "--display-order",
}


def fail(error: services.CatalogError) -> None:
    """Stop the command with the field's option and message, exit status 1."""
    raise click.ClickException(f"{OPTION_NAMES.get(error.field, error.field)}: {error.message}")


@supplies_cli.command("add")
@click.argument("name")
@click.option(
    "--category", required=True, type=click.Choice([category.value for category in SupplyCategory])
)
@click.option("--unit", default="each", show_default=True, help='e.g. "box", "kit".')
@click.option("--units-per-pack", type=int, default=1, show_default=True)
@click.option("--doses-per-unit", type=int, help="Naloxone only; defaults to 2 for naloxone.")
@click.option("--max-per-encounter", type=int, default=200, show_default=True)
@click.option("--display-order", type=int, default=100, show_default=True)
def add_item(name: str, category: str, **numbers) -> None:
    """Add an item to the catalog."""
    try:
        item = services.supply_item_create(name=name, category=category, **numbers)
    except services.CatalogError as error:
        fail(error)
    db.session.commit()
    click.echo(f"Added {item.name} ({item.category_label}, {describe(item)}).")


def describe(item) -> str:
    """Say briefly how an item is counted."""
    text = item.unit if item.units_per_pack == 1 else f"{item.unit} of {item.units_per_pack}"
    if item.doses_per_unit:
        text += f", {item.doses_per_unit} doses"
    return f"{text}, at most {item.max_per_encounter} per encounter"


@supplies_cli.command("list")
def list_items() -> None:
    """List the catalog by category."""
    groups = all_items_by_category()
    if not groups:
        click.echo("The catalog is empty. Add items, or run: flask supplies seed-defaults")
    for label, items in groups:
        click.echo(f"{label}:")
        for item in items:
            state = "" if item.active else "  (inactive)"
            click.echo(f"  {item.id:>4}  {item.name:<36} {describe(item)}{state}")


@supplies_cli.command("seed-defaults")
def seed_defaults() -> None:
    """Add a starter catalog, only when the catalog is empty."""
    count = catalog_size()
    if count:
        click.echo(f"The catalog has {count} item(s) already; nothing added.")
        return
    for order, (name, category, unit, per_pack, doses, most) in enumerate(DEFAULT_ITEMS, 1):
        services.supply_item_create(
            name=name,
            category=category,
            unit=unit,
            units_per_pack=per_pack,
            doses_per_unit=doses,
            max_per_encounter=most,
            display_order=order * 10,
        )
    db.session.commit()
    click.echo(f"Added {len(DEFAULT_ITEMS)} items. Review them with: flask supplies list")
