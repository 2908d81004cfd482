"""Reads of the supply catalog, in the order the screens show it."""

from functools import cache
from itertools import groupby

from sqlalchemy import Row, Select, case, func, select

from outreach import sql
from outreach.encounters.models import EncounterSupply
from outreach.extensions import db
from outreach.supplies.models import CATEGORY_LABELS, SupplyCategory, SupplyItem

#: Position of each category: the order the enum declares them in.
CATEGORY_ORDER = case(
    {category.value: position for position, category in enumerate(SupplyCategory)},
    value=SupplyItem.category,
)


def catalog_order(query: Select) -> Select:
    """Order items by category, then display order, then name."""
    return query.order_by(
        CATEGORY_ORDER, SupplyItem.display_order, func.lower(SupplyItem.name), SupplyItem.id
    )


def all_items() -> list[SupplyItem]:
    """Return every item, active or not, in catalog order."""
    return list(db.session.scalars(catalog_order(select(SupplyItem))))


#: What describes an item on screens and in reports (id, name, category, unit, pack, doses).
DESCRIBING_COLUMNS = (
    SupplyItem.id,
    SupplyItem.name,
    SupplyItem.category,
    SupplyItem.unit,
    SupplyItem.units_per_pack,
    SupplyItem.doses_per_unit,
)
#: What the encounter screen needs of an item (read as plain rows, named like the attributes).
SCREEN_COLUMNS = (*DESCRIBING_COLUMNS, SupplyItem.max_per_encounter)


@cache
def active_items_statement() -> Select:
    """Build (once) the statement of the active items in catalog order."""
    return catalog_order(select(*SCREEN_COLUMNS).where(SupplyItem.active.is_(True)))


def active_items() -> list[Row]:
    """Return the items workers may hand out, in catalog order, as rows with the item's
    attribute names (the encounter screen only reads them)."""
    return list(sql.execute(active_items_statement()))


def by_category(items: list[SupplyItem]) -> list[tuple[str, list[SupplyItem]]]:
    """Group items already in catalog order under their category label."""
    return [
        (CATEGORY_LABELS[SupplyCategory(category)], list(group))
        for category, group in groupby(items, key=lambda item: item.category)
    ]


def active_items_by_category() -> list[tuple[str, list[SupplyItem]]]:
    """Return (category label, items) pairs of the active items, for the encounter screen."""
    return by_category(active_items())


def all_items_by_category() -> list[tuple[str, list[SupplyItem]]]:
    """Return (category label, items) pairs of every item, for the catalog page."""
    return by_category(all_items())


def item_handed_out(item_id: int) -> bool:
    """Tell whether any encounter has handed out this item."""
    query = select(EncounterSupply.item_id).where(EncounterSupply.item_id == item_id).limit(1)
    return db.session.scalar(query) is not None


def catalog_size() -> int:
    """Count the items in the catalog, active or not."""
    return db.session.scalar(select(func.count(SupplyItem.id)))
