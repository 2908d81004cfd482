"""Forms of the stock screens: receive, transfer, count, write off, settings, filters."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from outreach.forms import IdempotentForm
from outreach.inventory.checks import LOT_NUMBER_MAX, QUANTITY_MAX
from outreach.inventory.models import (
    ADJUST_REASONS,
    DISPOSE_REASONS,
    KIND_LABELS,
    REASON_LABELS,
    MovementKind,
)
from outreach.supplies.forms import WholeNumberField
from outreach.templating import local_today
from outreach.urls import record_id

CHOOSE = ("", "Choose…")
ANY = ("", "Any")
DATE_MESSAGE = "Enter a date as year-month-day, e.g. 2027-05-31."


def filter_date_in_range(form, field) -> None:
    """Refuse filter dates far outside any ledger: they cannot be turned into UTC moments."""
    if field.data and not date(1900, 1, 1) <= field.data <= date(2999, 12, 31):
        raise ValidationError("Enter a date between 1900 and 2999.")


def optional_int(value) -> int | None:
    """Read a menu choice as an id; anything else is no choice (the service says so)."""
    return record_id(str(value if value is not None else ""))


def id_menu(label: str) -> SelectField:
    """Return a menu of ids (sites, items); checking the choice is the service's job."""
    return SelectField(label, coerce=optional_int, validate_choice=False, default=None)


def quantity_field(label: str, low: int = 1) -> WholeNumberField:
    """Return a whole-number field for a number of units."""
    return WholeNumberField(
        label, render_kw={"min": low, "max": QUANTITY_MAX, "inputmode": "numeric"}
    )


def lot_field() -> StringField:
    """Return the lot number box."""
    return StringField(
        "Lot number",
        render_kw={
            "maxlength": LOT_NUMBER_MAX,
            "autocapitalize": "characters",
            "spellcheck": "false",
        },
    )


class StockForm(IdempotentForm):
    """What every stock change names: a site, an item and (for lot-kept items) a lot."""

    #: Stock comes in (a receipt): the menus offer active sites and items only.
    incoming = False
    site_id = id_menu("Site")
    item_id = id_menu("Item")
    lot_number = lot_field()

    def fill_choices(self, sites: list, items: list, destinations: list) -> None:
        """Fill the site and item menus (``destinations``: where a transfer may go)."""
        for name in ("site_id", "from_site_id"):
            if name in self:
                self[name].choices = [CHOOSE, *sites]
        if "to_site_id" in self:
            self.to_site_id.choices = [CHOOSE, *destinations]
        self.item_id.choices = [CHOOSE, *items]


class ReceiveForm(StockForm):
    """Stock that arrived at a site."""

    incoming = True
    quantity = quantity_field("How many received")
    expires_on = DateField(
        "Expiry date", validators=[Optional()], invalid_value_message=DATE_MESSAGE
    )
    received_on = DateField(
        "Date received",
        validators=[Optional()],
        default=local_today,
        invalid_value_message=DATE_MESSAGE,
    )


class TransferForm(StockForm):
    """Stock moved from one site to another."""

    site_id = None
    from_site_id = id_menu("From site")
    to_site_id = id_menu("To site")
    quantity = quantity_field("How many to move")


class CountForm(StockForm):
    """A physical count that corrects the ledger."""

    counted = quantity_field("How many you counted", low=0)
    reason = SelectField(
        "Reason",
        choices=[CHOOSE, *((code.value, REASON_LABELS[code]) for code in ADJUST_REASONS)],
        default="count",
        validate_choice=False,
    )
    #: Movements the ledger had for this site, item and lot when the form was opened.
    seen_version = HiddenField()


class WriteOffForm(StockForm):
    """Stock taken off the shelf: expired, or disposed of for a reason."""

    kind = RadioField(
        "Why it leaves the shelf",
        choices=[
            (MovementKind.EXPIRED.value, "Expired"),
            (MovementKind.DISPOSED.value, "Disposed of (damaged, recalled…)"),
        ],
        default=MovementKind.EXPIRED.value,
        validate_choice=False,
    )
    reason = SelectField(
        "Reason for disposal",
        choices=[("", "Not disposed"), *((c.value, REASON_LABELS[c]) for c in DISPOSE_REASONS)],
        default="",
        validate_choice=False,
    )
    quantity = quantity_field("How many")


class ItemSettingsForm(FlaskForm):
    """How an item's stock is kept and when supervisors are warned."""

    lot_tracked = BooleanField("Keep stock by lot and expiry date")
    low_stock_threshold = WholeNumberField(
        "Warn when stock on hand is below",
        render_kw={"min": 0, "max": QUANTITY_MAX, "inputmode": "numeric"},
    )


class StockFilterForm(FlaskForm):
    """Which site's stock to show."""

    class Meta:
        csrf = False

    site_id = SelectField("Site", coerce=optional_int, validate_choice=False)


class MovementFilterForm(FlaskForm):
    """Filter the movement history."""

    class Meta:
        csrf = False

    site_id = SelectField("Site", coerce=optional_int, validate_choice=False)
    item_id = SelectField("Item", coerce=optional_int, validate_choice=False)
    kind = SelectField(
        "Kind",
        choices=[ANY, *((kind.value, label) for kind, label in KIND_LABELS.items())],
        default="",
    )
    lot_number = StringField("Lot number", render_kw={"maxlength": LOT_NUMBER_MAX})
    date_from = DateField(
        "From", validators=[Optional(), filter_date_in_range], invalid_value_message=DATE_MESSAGE
    )
    date_to = DateField(
        "To", validators=[Optional(), filter_date_in_range], invalid_value_message=DATE_MESSAGE
    )
    page = WholeNumberField("Page", default=1, validators=[Optional(), NumberRange(1, 1_000_000)])

    def fill_choices(self, sites: list, items: list) -> None:
        """Fill the site and item menus."""
        self.site_id.choices = [ANY, *sites]
        self.item_id.choices = [ANY, *items]
