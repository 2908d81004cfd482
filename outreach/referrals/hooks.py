"""Where referrals plug into other features: the encounter form, encounter changes, participants."""

from datetime import date

from werkzeug.datastructures import MultiDict

from outreach.clients.models import Participant
from outreach.clients.panels import ParticipantPanel, register_panel
from outreach.encounters.models import Encounter
from outreach.encounters.sections import (
    SectionContext,
    SectionInput,
    register_listener,
    register_section,
)
from outreach.extensions import db
from outreach.referrals import agencies, services
from outreach.referrals.forms import TYPE_CHOICES
from outreach.referrals.models import DEFAULT_FOLLOW_UP_DAYS, Agency
from outreach.referrals.queries import participant_referrals
from outreach.security import Permission, has_permission
from outreach.urls import record_id
from outreach.users.models import User

#: Referral rows offered on the encounter form.
ENCOUNTER_ROWS = 3
FIELDS = ("type", "agency", "follow_up")


class ReferralSection:
    """The "Referrals" part of the encounter form: up to three type/agency/follow-up rows."""

    key = "referrals"
    template = "referrals/_encounter_section.html"
    rows = range(ENCOUNTER_ROWS)
    type_choices = TYPE_CHOICES

    def field_name(self, row: int, field: str) -> str:
        """Return the form name of a row's field, e.g. ``referrals-0-type``."""
        return f"{self.key}-{row}-{field}"

    def agencies(self) -> list[Agency]:
        """Return the active agencies for the agency menus."""
        return agencies.active_agencies()

    def default_days(self) -> dict[str, int]:
        """Return each type's usual days to follow-up, for the form's script and hint."""
        return {kind.value: days for kind, days in DEFAULT_FOLLOW_UP_DAYS.items()}

    def today(self) -> date:
        """Return today's date in the program's time zone."""
        return services.local_today()

    def read(self, formdata: MultiDict, context: SectionContext) -> SectionInput:
        """Check each filled-in row; put a message at each bad field; write nothing."""
        section_input = SectionInput(payload=[])
        if not has_permission(context.user, Permission.MAKE_REFERRALS):
            return section_input
        today = services.local_today()
        for row in self.rows:
            values = {
                field: (formdata.get(self.field_name(row, field)) or "").strip() for field in FIELDS
            }
            section_input.values.update({f"{row}-{f}": v for f, v in values.items()})
            errors, referral = self.read_row(values, context.has_participant, today)
            section_input.errors.update({f"{row}-{field}": m for field, m in errors.items()})
            if referral is not None and not errors:
                section_input.payload.append(referral)
        return section_input

    def read_row(self, values: dict, followed_up: bool, today: date) -> tuple[dict, dict | None]:
        """Check one row; return its errors and, when filled in, what to save."""
        if not values["type"]:
            if values["agency"] or values["follow_up"]:
                return {"type": "Choose the type of referral, or clear this row."}, None
            return {}, None
        errors = {}
        kind = services.checked_type(values["type"])
        if kind is None:
            errors["type"] = services.TYPE_UNKNOWN
        agency_id = None
        if values["agency"]:
            agency_key = record_id(values["agency"])
            agency = db.session.get(Agency, agency_key) if agency_key else None
            if problem := services.agency_problem(agency, kind):
                errors["agency"] = problem
            else:
                agency_id = agency.id
        follow_up = None
        if followed_up and kind is not None:
            follow_up = self.read_date(values["follow_up"], errors)
            if follow_up is None and "follow_up" not in errors:
                follow_up = services.default_follow_up(kind, today)
            if follow_up and (problem := services.follow_up_problem(follow_up, today)):
                errors["follow_up"] = problem
        return errors, {"referral_type": kind, "agency_id": agency_id, "follow_up_on": follow_up}

    @staticmethod
    def read_date(raw: str, errors: dict) -> date | None:
        """Read a ``YYYY-MM-DD`` date, noting an error for anything else."""
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors["follow_up"] = "Enter the follow-up date as a date, such as 2026-03-31."
            return None

    def save(self, encounter: Encounter, section_input: SectionInput, user: User) -> None:
        """Write the checked referrals for the saved encounter, in its transaction."""
        for referral in section_input.payload or []:
            services.referral_create(encounter=encounter, by=user, **referral)


def panel_data(participant: Participant, user: User) -> dict | None:
    """Load the participant's referrals, open first, for those who make referrals."""
    if not has_permission(user, Permission.MAKE_REFERRALS):
        return None
    return {
        "referrals": participant_referrals(participant.id),
        "participant": participant,
        "today": services.local_today(),
    }


def register() -> None:
    """Add the referral section, the encounter listener and the participant panel."""
    register_section(ReferralSection())
    register_listener(services.referrals_follow_encounter)
    register_panel(
        ParticipantPanel(
            key="referrals",
            template="referrals/_participant_panel.html",
            load=panel_data,
            order=50,
        )
    )
