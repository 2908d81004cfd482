"""Turn a submitted encounter form into checked input, putting every problem at its field."""

from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from werkzeug.datastructures import MultiDict

from outreach.clients.codes import CodeError, validate_answers
from outreach.clients.models import Participant
from outreach.clients.services import (
    Demographics,
    code_from_answers,
    current_recipe,
    participant_by_card,
    participants_with_code,
)
from outreach.dbtypes import utcnow
from outreach.encounters.forms import EncounterForm
from outreach.encounters.services import EncounterInput
from outreach.extensions import db
from outreach.supplies.models import SupplyItem
from outreach.templating import program_zone
from outreach.urls import record_id
from outreach.users.models import Role, User

#: Clock drift allowed between a tablet and the server.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass
class NewParticipant:
    """A participant to register together with the encounter."""

    code: str
    demographics: Demographics
    different_person: bool


@dataclass
class SupplyEntry:
    """What was typed for each supply item, and the problems found."""

    values: dict[int, str]
    errors: dict[int, str]
    quantities: dict[int, int]


def read_supplies(formdata: MultiDict, items: list[SupplyItem]) -> SupplyEntry:
    """Read ``supply-<id>`` quantities: whole numbers from 0 to each item's maximum."""
    entry = SupplyEntry(values={}, errors={}, quantities={})
    for item in items:
        raw = (formdata.get(f"supply-{item.id}") or "").strip()
        entry.values[item.id] = raw
        if raw in ("", "0"):
            continue
        if not (raw.isascii() and raw.isdigit()) or int(raw) > item.max_per_encounter:
            entry.errors[item.id] = (
                f"Enter a whole number from 0 to {item.max_per_encounter} for {item.name}."
            )
            continue
        entry.quantities[item.id] = int(raw)
    return entry


def read_participant(form: EncounterForm) -> Participant | NewParticipant | None:
    """Identify the participant the form names, adding errors to the form; nothing is written."""
    mode = form.participant_mode.data
    try:
        if mode == "known":
            return known_participant(form)
        if mode == "card":
            return participant_by_card(form.card_code.data or "")
        if mode == "answers":
            return participant_from_answers(form)
        if mode == "new":
            return new_participant(form)
    except CodeError as error:
        target = form.card_code if error.field == "card_code" else answer_field(form, error.field)
        target.errors = [*target.errors, error.message]
    return None


def answer_field(form: EncounterForm, key: str):
    """Return the form field for a code part, or the first answer field."""
    name = f"answer_{key}"
    if name in form:
        return form[name]
    return form[f"answer_{current_recipe()[0]}"]


def known_participant(form: EncounterForm) -> Participant:
    """Return the participant chosen before the form was opened."""
    participant_id = record_id(form.participant_id.data)
    participant = db.session.get(Participant, participant_id) if participant_id else None
    if participant is None or participant.deleted_at is not None:
        raise CodeError("card_code", "That participant is not on record; find them again.")
    return participant


def answers_of(form: EncounterForm) -> dict[str, str]:
    """Return the recipe answers typed into the form."""
    return {key: form[f"answer_{key}"].data or "" for key in current_recipe()}


def check_answers(form: EncounterForm) -> str | None:
    """Put a message at each bad answer; return the code when all are good."""
    problems = validate_answers(current_recipe(), answers_of(form))
    for key, message in problems.items():
        form[f"answer_{key}"].errors = [*form[f"answer_{key}"].errors, message]
    return None if problems else code_from_answers(answers_of(form))


def participant_from_answers(form: EncounterForm) -> Participant | None:
    """Find the one participant whose code these answers make."""
    code = check_answers(form)
    if code is None:
        return None
    matches = participants_with_code(code)
    if len(matches) == 1:
        return matches[0]
    first = answer_field(form, current_recipe()[0])
    if not matches:
        message = "No participant has this code. Check the answers, or choose New participant."
    else:
        cards = ", ".join(match.card_code for match in matches)
        message = f"{len(matches)} people share this code ({cards}); use their card code."
    first.errors = [*first.errors, message]
    return None


def new_participant(form: EncounterForm) -> NewParticipant | None:
    """Check a new participant's answers; refuse a code in use unless it is another person."""
    code = check_answers(form)
    if code is None:
        return None
    existing = participants_with_code(code)
    if existing and not form.different_person.data:
        cards = ", ".join(match.card_code for match in existing)
        form.different_person.errors = [
            f"Someone already has this code (card {cards}). If it is the same person, use "
            "Card code; if it is a different person, tick this box."
        ]
        return None
    return NewParticipant(code, form.demographics(), bool(form.different_person.data))


def check_time(form: EncounterForm, user: User):
    """Return the encounter time in UTC if it is not in the future nor backdated too far."""
    local = form.occurred_at.data
    if local is None:
        return None
    if not 1900 <= local.year <= 2999:
        # Such a time is no encounter's, and near the year 1 or 9999 it has no UTC moment.
        form.occurred_at.errors = [*form.occurred_at.errors, "Enter a year from 1900 to 2999."]
        return None
    occurred = local.replace(tzinfo=program_zone()).astimezone(UTC)
    now = utcnow()
    if occurred > now + FUTURE_TOLERANCE:
        form.occurred_at.errors = [*form.occurred_at.errors, "The time cannot be in the future."]
        return None
    days = current_app.config["WORKER_BACKDATE_DAYS"]
    if user.role == Role.WORKER and occurred < now - timedelta(days=days):
        form.occurred_at.errors = [
            *form.occurred_at.errors,
            f"Workers can log encounters up to {days} days back; ask a supervisor for older ones.",
        ]
        return None
    return occurred


def collected_syringes(form: EncounterForm) -> tuple[int, Decimal | None]:
    """Return the syringes collected, estimating from litres when asked."""
    if form.collection_method.data != "estimated":
        return form.syringes_collected.data or 0, None
    litres = form.sharps_litres.data
    if form.sharps_litres.errors:
        return 0, None
    if litres is None:
        form.sharps_litres.errors = [
            *form.sharps_litres.errors,
            "Enter the container's volume in litres to estimate.",
        ]
        return 0, None
    factor = Decimal(current_app.config["SYRINGES_PER_LITRE"])
    return int((litres * factor).quantize(Decimal(1), ROUND_HALF_UP)), litres


def check_reversals(form: EncounterForm) -> None:
    """Refuse reversal details without a reversal."""
    if not form.reversals.data and (form.reversal_doses.data or 0) > 0:
        form.reversal_doses.errors = [
            *form.reversal_doses.errors,
            "Doses used are recorded with a reversal: enter the number of reversals too.",
        ]


def read_encounter(
    form: EncounterForm, supplies: SupplyEntry, user: User
) -> tuple[EncounterInput | None, NewParticipant | None]:
    """Check the whole form; return the input (and any new participant) or None with errors."""
    form_ok = form.validate()
    who = (
        read_participant(form)
        if form.participant_mode.data in {"known", "card", "answers", "new"}
        else None
    )
    occurred = check_time(form, user) if form_ok or form.occurred_at.data else None
    syringes, litres = collected_syringes(form)
    check_reversals(form)
    if form.errors or supplies.errors or not form_ok:
        return None, None
    data = EncounterInput(
        occurred_at=occurred,
        site_id=form.site_id.data,
        contact_type=form.contact_type.data,
        participant=who if isinstance(who, Participant) else None,
        people_count=form.people_count.data or 1
        if form.participant_mode.data == "anonymous"
        else 1,
        supplies=supplies.quantities,
        syringes_collected=syringes,
        collection_method=form.collection_method.data,
        sharps_litres=litres,
        secondary_people=form.secondary_people.data or 0,
        reversals=form.reversals.data or 0,
        reversal_doses=form.reversal_doses.data or 0,
        reversal_outcome=form.reversal_outcome.data or None,
        reversal_ems_called={"yes": True, "no": False}.get(form.reversal_ems_called.data or ""),
        services=list(form.services.data or []),
    )
    return data, who if isinstance(who, NewParticipant) else None
