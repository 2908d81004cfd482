"""Administration of the supply catalog; each function audits its change."""

from sqlalchemy import func, select

from outreach.audit.services import record
from outreach.extensions import db
from outreach.supplies.models import SupplyCategory, SupplyItem
from outreach.supplies.queries import item_handed_out

NAME_MAX = 80
UNIT_MAX = 30
UNITS_PER_PACK_MAX = 10_000
DOSES_PER_UNIT_MAX = 50
MAX_PER_ENCOUNTER_MAX = 10_000
DISPLAY_ORDER_MAX = 9_999
#: Doses in a naloxone kit when none is given: nasal kits usually hold two.
DEFAULT_NALOXONE_DOSES = 2

NAME_MISSING = "Give the item a name."
NAME_TOO_LONG = f"Use at most {NAME_MAX} characters for the name."
NAME_TAKEN = "Another item already has that name."
#: Fields a report reads; they cannot change once the item has been handed out.
REPORTED_FIELDS = ("category", "units_per_pack", "doses_per_unit")
#: Fields the audit event may hold: codes and numbers, never the free-text name or unit.
AUDITED_FIELDS = (*REPORTED_FIELDS, "max_per_encounter", "display_order", "active")


class CatalogError(ValueError):
    """A catalog change that cannot be made, with the field and a message for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def checked_name(name: str | None, item_id: int | None = None) -> str:
    """Return a trimmed, unused item name, or raise CatalogError."""
    name = " ".join((name or "").split())
    if not name:
        raise CatalogError("name", NAME_MISSING)
    if len(name) > NAME_MAX:
        raise CatalogError("name", NAME_TOO_LONG)
    clash = select(SupplyItem.id).where(func.lower(SupplyItem.name) == name.lower())
    if item_id is not None:
        clash = clash.where(SupplyItem.id != item_id)
    if db.session.scalar(clash):
        raise CatalogError("name", NAME_TAKEN)
    return name


def checked_category(category: str | None) -> SupplyCategory:
    """Return a known category, or raise CatalogError."""
    try:
        return SupplyCategory(category)
    except ValueError:
        raise CatalogError("category", "Choose one of the categories.") from None


def checked_unit(unit: str | None) -> str:
    """Return a trimmed unit name ("each" when empty), or raise CatalogError."""
    unit = " ".join((unit or "").split()) or "each"
    if len(unit) > UNIT_MAX:
        raise CatalogError("unit", f"Use at most {UNIT_MAX} characters for the unit.")
    return unit


def checked_number(field: str, value: int | None, low: int, high: int) -> int:
    """Return a whole number within low..high, or raise CatalogError at the field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(field, "Enter a whole number.")
    if not low <= value <= high:
        raise CatalogError(field, f"Use a whole number from {low} to {high}.")
    return value


def checked_doses(category: SupplyCategory, doses: int | None) -> int:
    """Return the doses in one unit: at least 1 for naloxone, 0 for everything else."""
    naloxone = category == SupplyCategory.NALOXONE
    if doses is None:
        return DEFAULT_NALOXONE_DOSES if naloxone else 0
    doses = checked_number("doses_per_unit", doses, 0, DOSES_PER_UNIT_MAX)
    if naloxone and doses < 1:
        raise CatalogError(
            "doses_per_unit", "A naloxone item holds at least 1 dose (nasal kits usually 2)."
        )
    if not naloxone and doses != 0:
        raise CatalogError("doses_per_unit", "Only naloxone items count doses; use 0.")
    return doses


def checked_fields(
    *,
    item_id: int | None,
    name: str,
    category: str,
    unit: str | None,
    units_per_pack: int,
    doses_per_unit: int | None,
    max_per_encounter: int,
    display_order: int,
) -> dict:
    """Return the item's column values after every check, or raise CatalogError."""
    kind = checked_category(category)
    return {
        "name": checked_name(name, item_id),
        "category": kind,
        "unit": checked_unit(unit),
        "units_per_pack": checked_number("units_per_pack", units_per_pack, 1, UNITS_PER_PACK_MAX),
        "doses_per_unit": checked_doses(kind, doses_per_unit),
        "max_per_encounter": checked_number(
            "max_per_encounter", max_per_encounter, 1, MAX_PER_ENCOUNTER_MAX
        ),
        "display_order": checked_number("display_order", display_order, 0, DISPLAY_ORDER_MAX),
    }


def audit_data(item: SupplyItem) -> dict:
    """Return the codes and numbers of an item that the audit event holds."""
    return {field: getattr(item, field) for field in AUDITED_FIELDS}


def supply_item_create(
    *,
    name: str,
    category: str,
    unit: str | None = "each",
    units_per_pack: int = 1,
    doses_per_unit: int | None = None,
    max_per_encounter: int = 200,
    display_order: int = 100,
) -> SupplyItem:
    """Add an active item to the catalog."""
    values = checked_fields(
        item_id=None,
        name=name,
        category=category,
        unit=unit,
        units_per_pack=units_per_pack,
        doses_per_unit=doses_per_unit,
        max_per_encounter=max_per_encounter,
        display_order=display_order,
    )
    item = SupplyItem(**values, active=True)
    db.session.add(item)
    db.session.flush()
    record("supply_item.create", "supply_item", item.id, data=audit_data(item))
    return item


def refuse_rewriting_reports(item: SupplyItem, values: dict) -> None:
    """Refuse to change what reports count for an item that has been handed out."""
    changed = [field for field in REPORTED_FIELDS if getattr(item, field) != values[field]]
    if changed and item_handed_out(item.id):
        raise CatalogError(
            changed[0],
            "This item has been handed out, so this change would rewrite past reports. "
            "Deactivate it and add a new item instead.",
        )


def supply_item_update(
    *,
    item: SupplyItem,
    name: str,
    category: str,
    unit: str | None,
    units_per_pack: int,
    doses_per_unit: int | None,
    max_per_encounter: int,
    display_order: int,
    active: bool,
) -> None:
    """Change an item's name, counting, limits, order or active flag."""
    values = checked_fields(
        item_id=item.id,
        name=name,
        category=category,
        unit=unit,
        units_per_pack=units_per_pack,
        doses_per_unit=doses_per_unit,
        max_per_encounter=max_per_encounter,
        display_order=display_order,
    )
    refuse_rewriting_reports(item, values)
    values["active"] = bool(active)
    changed = sorted(field for field, value in values.items() if getattr(item, field) != value)
    for field, value in values.items():
        setattr(item, field, value)
    record(
        "supply_item.update", "supply_item", item.id, data={**audit_data(item), "changed": changed}
    )
