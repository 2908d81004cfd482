"""Checks of stock input: each refusal names its form field and says what is wrong."""

import re
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app

from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.inventory import queries
from outreach.inventory.models import MovementReason, StockLot
from outreach.supplies.models import SupplyItem
from outreach.templating import program_zone
from outreach.urls import MAX_ID as ID_MAX
from outreach.users.models import Site

QUANTITY_MAX = 100_000
LOT_NUMBER_MAX = 30
#: A lot code as printed on the box: letters, digits, dots, dashes, slashes, with a digit.
LOT_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9./-]*")

LOT_NEEDED = "This item is kept by lot: enter the lot number printed on the box."
LOT_NOT_KEPT = "This item is not kept by lot; leave the lot number empty."
LOT_SHAPE = (
    f"Enter the lot number as printed on the box: up to {LOT_NUMBER_MAX} letters and digits "
    "(dots, dashes and slashes allowed), with at least one digit."
)


class StockError(ValueError):
    """A stock change that cannot be made: the first field and message, and all of them."""

    def __init__(self, field: str, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.errors = errors or {field: message}


class Checks:
    """Run field checks, collecting every refusal so the form shows them all at once."""

    def __init__(self):
        self.errors: dict[str, str] = {}

    def run(self, check, *args, **kwargs):
        """Return what the check returns, or None after noting its refusal."""
        try:
            return check(*args, **kwargs)
        except StockError as error:
            for field, message in error.errors.items():
                self.errors.setdefault(field, message)
            return None

    def refuse(self, field: str, message: str) -> None:
        """Note a refusal at a field."""
        self.errors.setdefault(field, message)

    def done(self) -> None:
        """Raise StockError with every refusal noted, if any."""
        if self.errors:
            field, message = next(iter(self.errors.items()))
            raise StockError(field, message, dict(self.errors))


def is_id(value) -> bool:
    """Tell whether a value can be a row id (a positive 32-bit integer)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


def checked_site(site_id: int | None, field: str, incoming: bool = False) -> Site:
    """Return a site (an active one when stock comes in), or raise StockError at the field.

    Stock left at a deactivated site can still be counted, written off or moved away.
    """
    site = db.session.get(Site, site_id) if is_id(site_id) else None
    if site is None:
        raise StockError(field, "Choose one of the sites.")
    if incoming and not site.active:
        raise StockError(field, f"{site.name} is inactive: choose an active site.")
    return site


def checked_item(item_id: int | None, incoming: bool = False) -> SupplyItem:
    """Return a catalog item (an active one when stock comes in), or raise StockError."""
    item = db.session.get(SupplyItem, item_id) if is_id(item_id) else None
    if item is None:
        raise StockError("item_id", "Choose one of the supply items.")
    if incoming and not item.active:
        raise StockError("item_id", f"{item.name} is retired from the catalog: it is not received.")
    return item


def checked_quantity(value: int | None, field: str, low: int = 1, what: str = "how many") -> int:
    """Return a whole number from low to QUANTITY_MAX, or raise StockError at the field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StockError(field, f"Enter {what} as a whole number.")
    if not low <= value <= QUANTITY_MAX:
        raise StockError(field, f"Enter {what} as a whole number from {low} to {QUANTITY_MAX}.")
    return value


def normal_lot_number(lot_number: str | None) -> str:
    """Return a lot number in upper case without spaces ("" when none was given)."""
    return "".join((lot_number or "").split()).upper()


def checked_lot_number(item: SupplyItem, lot_number: str | None) -> str:
    """Return a well-formed lot number, "" for an item not kept by lot; or raise StockError."""
    number = normal_lot_number(lot_number)
    if not item.lot_tracked:
        if number:
            raise StockError("lot_number", LOT_NOT_KEPT)
        return ""
    if not number:
        raise StockError("lot_number", LOT_NEEDED)
    shaped = LOT_NUMBER.fullmatch(number) and any(char.isdigit() for char in number)
    if not shaped or len(number) > LOT_NUMBER_MAX:
        raise StockError("lot_number", LOT_SHAPE)
    return number


def existing_lot(item: SupplyItem, lot_number: str | None, site: Site | None) -> StockLot | None:
    """Return the recorded lot a movement at a site names, or None for stock without a lot.

    An item kept by lot has stock without a lot only where some is recorded (encounters that
    handed out more than its lots held, stock from before it was kept by lot): elsewhere its
    lot number is needed.
    """
    number = normal_lot_number(lot_number)
    if not number:
        if item.lot_tracked and not (site and queries.bucket_on_hand(site.id, item.id, None)):
            raise StockError("lot_number", LOT_NEEDED)
        return None
    lot = queries.find_lot(item.id, number)
    if lot is None:
        raise StockError(
            "lot_number",
            f"No lot {number[:LOT_NUMBER_MAX]} of {item.name} is recorded. "
            "Check the number on the box, or receive the lot first.",
        )
    return lot


def lot_for_receipt(
    item: SupplyItem, lot_number: str | None, expires_on: date | None
) -> tuple[str, StockLot | None]:
    """Check the lot being received: return its number ("" for none) and the recorded lot."""
    number = checked_lot_number(item, lot_number)
    if not number:
        if expires_on is not None:
            raise StockError("expires_on", "Only items kept by lot record an expiry date here.")
        return "", None
    lot = queries.find_lot(item.id, number)
    if lot is not None:
        if expires_on is not None and expires_on != lot.expires_on:
            raise StockError(
                "expires_on",
                f"Lot {number} is recorded as expiring {lot.expires_on.isoformat()}. "
                "Check the date on the box, or leave it empty.",
            )
        return number, lot
    if expires_on is None:
        raise StockError("expires_on", "Enter the expiry date printed on the box for a new lot.")
    if expires_on < queries.local_today():
        raise StockError("expires_on", "This date has passed: expired stock is not received.")
    return number, None


def receipt_time(received_on: date | None) -> datetime:
    """Return when a receipt happened: now for today, else noon (program time) of its day.

    Refuses a day ahead of today or more than ``STOCK_BACKDATE_DAYS`` back.
    """
    today = queries.local_today()
    if received_on is None or received_on == today:
        return utcnow()
    if received_on > today:
        raise StockError("received_on", "The date cannot be in the future.")
    days = current_app.config["STOCK_BACKDATE_DAYS"]
    if received_on < today - timedelta(days=days):
        raise StockError("received_on", f"Receipts can be dated up to {days} days back.")
    noon = datetime.combine(received_on, time(12), tzinfo=program_zone())
    return noon.astimezone(UTC)


def checked_reason(reason: str | None, allowed: tuple[MovementReason, ...]) -> MovementReason:
    """Return a reason code that fits the change, or raise StockError."""
    if reason not in {code.value for code in allowed}:
        raise StockError("reason", "Choose why.")
    return MovementReason(reason)


class CountChanged(StockError):
    """The ledger changed between opening the count form and saving it."""

    def __init__(self, on_hand: int, version: int):
        super().__init__(
            "counted",
            f"Stock moved while you counted: the ledger now says {on_hand}. "
            "Check your count and save again.",
        )
        self.on_hand = on_hand
        self.version = version
