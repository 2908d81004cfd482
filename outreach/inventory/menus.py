"""The stock screens' site and item menus: active ones, and inactive ones the ledger holds."""

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.inventory.models import StockBalance
from outreach.inventory.queries import ITEM_ORDER
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site


def choices(model, order: tuple, ledger_column, held: bool, mark: str) -> list[tuple[int, str]]:
    """Return (id, name) of a model's active rows in order; with ``held``, then its inactive
    rows the ledger has lines for (``ledger_column``: their id in the balances), marked."""
    shown = model.active.is_(True)
    if held:
        shown = shown | model.id.in_(select(ledger_column))
    query = select(model.id, model.name, model.active).where(shown)
    rows = db.session.execute(query.order_by(model.active.desc(), *order))
    return [(row_id, name if active else f"{name} ({mark})") for row_id, name, active in rows]


def site_choices(held: bool = False) -> list[tuple[int, str]]:
    """Return the active sites by name for the site menus; with ``held``, also the inactive
    sites whose stock the ledger holds or held, marked "(inactive)"."""
    order = (func.lower(Site.name), Site.id)
    return choices(Site, order, StockBalance.site_id, held, "inactive")


def item_choices(held: bool = False) -> list[tuple[int, str]]:
    """Return the active items in catalog order for the item menus; with ``held``, also the
    retired items whose stock the ledger holds or held, marked "(retired)"."""
    return choices(SupplyItem, ITEM_ORDER, StockBalance.item_id, held, "retired")
