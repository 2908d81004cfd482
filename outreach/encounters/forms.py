"""The encounter form."""

from wtforms import (
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from outreach.clients.forms import (
    YES_NO_CHOICES,
    DemographicsMixin,
    IdentifyMixin,
    add_answer_fields,
)
from outreach.encounters.models import ContactType, DeleteReason, ReversalOutcome, Service
from outreach.forms import IdempotentForm
from outreach.users.forms import CheckboxesField, ConfirmForm

CONTACT_TYPE_CHOICES = [
    (ContactType.STREET, "Street"),
    (ContactType.MOBILE, "Mobile van"),
    (ContactType.FIXED_SITE, "Fixed site"),
    (ContactType.DELIVERY, "Delivery"),
    (ContactType.VIRTUAL, "Phone or virtual"),
    (ContactType.EVENT, "Event"),
]
SERVICE_CHOICES = [
    (Service.HIV_TEST, "HIV test"),
    (Service.HCV_TEST, "HCV test"),
    (Service.WOUND_CARE, "Wound care"),
    (Service.NALOXONE_TRAINING, "Naloxone training"),
    (Service.FTS_TRAINING, "Test strip training"),
    (Service.EDUCATION, "Education"),
    (Service.VACCINATION, "Vaccination"),
    (Service.OTHER, "Other service"),
]
OUTCOME_CHOICES = [
    ("", "Not asked"),
    (ReversalOutcome.SURVIVED, "Survived"),
    (ReversalOutcome.DIED, "Died"),
    (ReversalOutcome.UNKNOWN, "Don't know"),
]
COLLECTION_CHOICES = [("counted", "Counted"), ("estimated", "Estimated from sharps container")]
DELETE_REASON_CHOICES = [
    (DeleteReason.DUPLICATE, "Duplicate of another encounter"),
    (DeleteReason.ENTERED_IN_ERROR, "Entered in error"),
    (DeleteReason.WRONG_PARTICIPANT, "Wrong participant"),
    (DeleteReason.TEST_RECORD, "Test or training record"),
]


class LitresField(DecimalField):
    """A volume in litres: a finite number with at most ``places`` decimals, else a message."""

    NOT_A_VOLUME = "Enter the volume as a number of litres, like 1.5."

    def process_formdata(self, valuelist) -> None:
        """Read the number, refusing NaN, infinities and more decimals than are kept."""
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.NOT_A_VOLUME) from error
        if self.data is None:
            return
        if not self.data.is_finite():
            self.data = None
            raise ValueError(self.NOT_A_VOLUME)
        if self.data.normalize().as_tuple().exponent < -self.places:
            self.data = None
            raise ValueError(f"Enter litres with at most {self.places} decimals, like 1.25.")


def count_field(label: str, maximum: int = 10_000, message: str | None = None) -> IntegerField:
    """Return a whole-number field from 0 to a sane maximum."""
    return IntegerField(
        label,
        default=0,
        validators=[
            Optional(),
            NumberRange(0, maximum, message or f"Enter a whole number from 0 to {maximum:,}."),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": maximum},
    )


@add_answer_fields
class EncounterForm(IdempotentForm, IdentifyMixin, DemographicsMixin):
    """One encounter: who, when, where, supplies, collection, reversals, services."""

    participant_id = HiddenField()
    version = HiddenField()
    occurred_at = DateTimeLocalField(
        "Date and time",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired("Enter the date and time.")],
    )
    site_id = SelectField("Site", coerce=int, validators=[InputRequired("Choose the site.")])
    contact_type = SelectField(
        "Contact type", choices=CONTACT_TYPE_CHOICES, validators=[InputRequired()]
    )
    collection_method = RadioField(
        "Returned syringes", choices=COLLECTION_CHOICES, default="counted"
    )
    syringes_collected = count_field("Syringes collected (counted)", 100_000)
    sharps_litres = LitresField(
        "Sharps container volume (litres)",
        places=2,
        validators=[Optional(), NumberRange(0, 200, "Enter litres from 0 to 200.")],
        render_kw={"inputmode": "decimal", "step": "0.1", "min": 0},
    )
    secondary_people = count_field("Other people these supplies are for", 100)
    reversals = count_field("Overdose reversals reported", 20)
    reversal_doses = count_field("Naloxone doses used", 50)
    reversal_outcome = SelectField("Outcome", choices=OUTCOME_CHOICES, default="")
    reversal_ems_called = SelectField("EMS called", choices=YES_NO_CHOICES, default="")
    services = CheckboxesField("Services given", choices=SERVICE_CHOICES)


class DeleteForm(ConfirmForm):
    """Why a supervisor removes an encounter."""

    reason = RadioField(
        "Reason", choices=DELETE_REASON_CHOICES, validators=[InputRequired("Choose a reason.")]
    )
