"""Forms of the referral pages: agencies, a referral from a participant's page, status changes."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from outreach.forms import IdempotentForm
from outreach.referrals import agencies
from outreach.referrals.models import (
    REASON_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    ReferralStatus,
)
from outreach.users.forms import CheckboxesField

TYPE_CHOICES = [(kind.value, label) for kind, label in TYPE_LABELS.items()]
REASON_CHOICES = [("", "No reason given")] + [
    (code.value, label) for code, label in REASON_LABELS.items()
]
STATUS_CHOICES = [(status.value, label) for status, label in STATUS_LABELS.items()]
DATE_MESSAGE = "Enter a date, such as 2026-03-31."


class LenientDateField(DateField):
    """A date from an ``<input type="date">``; empty is no answer; anything else says what."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the date, treating an empty box as no answer."""
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_MESSAGE) from None


def date_field(label: str) -> LenientDateField:
    """Return an optional date field."""
    return LenientDateField(label, validators=[Optional()])


def text_field(label: str, maximum: int) -> StringField:
    """Return an optional one-line text field; the service checks the length and contents."""
    return StringField(label, render_kw={"maxlength": maximum})


class AgencyForm(IdempotentForm):
    """An agency: name, what it takes, its own contact details and notes for workers."""

    name = text_field("Name", agencies.NAME_MAX)
    types = CheckboxesField("Referrals it takes", choices=TYPE_CHOICES, validate_choice=False)
    phone = text_field("Agency phone", agencies.PHONE_MAX)
    email = text_field("Agency e-mail", agencies.EMAIL_MAX)
    website = text_field("Agency website", agencies.WEBSITE_MAX)
    address = text_field("Agency address", agencies.ADDRESS_MAX)
    notes = TextAreaField("Notes for workers", render_kw={"maxlength": agencies.NOTES_MAX})

    def agency_fields(self) -> dict:
        """Return the submitted values as the services' keyword arguments."""
        return {
            "name": self.name.data,
            "types": self.types.data or [],
            "phone": self.phone.data,
            "email": self.email.data,
            "website": self.website.data,
            "address": self.address.data,
            "notes": self.notes.data,
        }


class AgencyEditForm(AgencyForm):
    """An existing agency, which may also be taken out of the workers' lists."""

    active = BooleanField("Active: workers can refer to it", default=True)


class ReferralForm(IdempotentForm):
    """A referral added from a participant's page, to one of their recent encounters."""

    encounter_id = SelectField("Made at the encounter", coerce=int, validate_choice=False)
    referral_type = SelectField(
        "Type", validate_choice=False, render_kw={"data-referral-type": True}
    )
    agency_id = SelectField("Agency", validate_choice=False)
    follow_up_on = LenientDateField(
        "Follow-up date",
        validators=[Optional()],
        render_kw={"data-referral-follow-up": True},
    )


class StatusForm(IdempotentForm):
    """A status change: the new status, its date, and an optional reason."""

    status = SelectField("New status", choices=STATUS_CHOICES, validate_choice=False)
    #: The status the worker saw, so a change made meanwhile is not overwritten.
    expected_status = HiddenField()
    linked_on = date_field("Date the participant reached the service")
    follow_up_on = date_field("Next follow-up")
    reason_code = SelectField("Reason", choices=REASON_CHOICES, validate_choice=False)
    reason_text = text_field("A few words more (optional)", 200)
    #: Where to go afterwards: "queue" or "detail".
    back = HiddenField(default="detail")
    worker = HiddenField()
    type = HiddenField()
    site = HiddenField()

    def limit_statuses(self, statuses: tuple[ReferralStatus, ...]) -> None:
        """Offer only the statuses the referral may move to."""
        self.status.choices = [(status.value, STATUS_LABELS[status]) for status in statuses]


class QueueFilterForm(FlaskForm):
    """The follow-up queue's filters (a GET form)."""

    class Meta:
        csrf = False

    worker = SelectField("Worker", validate_choice=False)
    type = SelectField("Type", validate_choice=False)
    site = SelectField("Site", validate_choice=False)
