"""Administration forms for the supply catalog."""

from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from outreach.forms import IdempotentForm
from outreach.supplies import services
from outreach.supplies.models import CATEGORY_LABELS

CATEGORY_CHOICES = [
    SelectChoice(category.value, label) for category, label in CATEGORY_LABELS.items()
]
WHOLE_NUMBER = "Enter a whole number."


class WholeNumberField(IntegerField):
    """A whole number; empty is left to the validators, anything else says what is wrong."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the number, treating an empty box as no answer."""
        raw = valuelist[0].strip() if valuelist else ""
        if not raw:
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError(WHOLE_NUMBER) from None


def number(label: str, low: int, high: int, default: int | None = None) -> WholeNumberField:
    """Return a whole-number field, required unless it has no default, with its range."""
    validators = [Optional()] if default is None else [InputRequired(WHOLE_NUMBER)]
    return WholeNumberField(
        label,
        default=default,
        validators=validators,
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class SupplyItemForm(IdempotentForm):
    """A catalog item: what it is, how it is counted, and how much one encounter may give."""

    name = StringField(
        "Name",
        validators=[
            InputRequired(services.NAME_MISSING),
            Length(max=services.NAME_MAX, message=services.NAME_TOO_LONG),
        ],
    )
    category = SelectField("Category", choices=CATEGORY_CHOICES, validators=[InputRequired()])
    unit = StringField("Unit", default="each", validators=[Length(max=services.UNIT_MAX)])
    units_per_pack = number("Units per pack", 1, services.UNITS_PER_PACK_MAX, default=1)
    doses_per_unit = number("Naloxone doses per unit", 0, services.DOSES_PER_UNIT_MAX)
    max_per_encounter = number("Most per encounter", 1, services.MAX_PER_ENCOUNTER_MAX, default=200)
    display_order = number("Display order", 0, services.DISPLAY_ORDER_MAX, default=100)

    def item_fields(self) -> dict:
        """Return the submitted values as the services' keyword arguments."""
        return {
            "name": self.name.data,
            "category": self.category.data,
            "unit": self.unit.data,
            "units_per_pack": self.units_per_pack.data,
            "doses_per_unit": self.doses_per_unit.data,
            "max_per_encounter": self.max_per_encounter.data,
            "display_order": self.display_order.data,
        }


class SupplyItemEditForm(SupplyItemForm):
    """An existing catalog item, which may also be taken out of use."""

    active = BooleanField("Active: workers can hand it out", default=True)
