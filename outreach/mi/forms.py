"""Read the MI fields of a form into checked input, putting every problem at its field."""

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField

from outreach.encounters.sections import SectionInput
from outreach.forms import IdempotentForm
from outreach.mi.models import (
    CHANGE_TALK_LABELS,
    FOCUS_LABELS,
    RULERS,
    STAGE_LABELS,
    SUSTAIN_LABELS,
    TEXT_FIELDS,
    ChangeTalk,
    Focus,
    Stage,
    SustainTalk,
)
from outreach.mi.services import MINoteInput
from outreach.textguard import check_free_text

#: Every MI form field is named ``mi-<key>``.
PREFIX = "mi-"
#: The longest each free-text field may be, in characters.
TEXT_LIMITS = {"goal": 300, "next_steps": 600, "summary": 1200}
TEXT_LABELS = {
    "goal": "The participant's goal, in their words",
    "next_steps": "Agreed next steps",
    "summary": "Short summary",
}
#: What a ruler chip sends: "0" to "10" (anything else is refused, never parsed).
RULER_VALUES = frozenset(str(number) for number in range(11))
RULER_LABELS = {
    "importance": ("Importance", "How important is this change to you, from 0 to 10?"),
    "confidence": ("Confidence", "How confident are you that you could make it, from 0 to 10?"),
    "readiness": ("Readiness", "How ready are you to start, from 0 to 10?"),
}
TEXT_HINTS = {
    "goal": "Their own words. No names, contact details or dates of birth.",
    "next_steps": "What you agreed, for the next conversation.",
    "summary": "A few lines for the next worker; only the author and supervisors read it.",
}
#: Everything the MI templates need to draw the fields and name the codes.
CHOICES = {
    "focus": FOCUS_LABELS,
    "stage": STAGE_LABELS,
    "change_talk": CHANGE_TALK_LABELS,
    "sustain_talk": SUSTAIN_LABELS,
    "rulers": RULER_LABELS,
    "text": TEXT_LABELS,
    "text_hints": TEXT_HINTS,
    "text_limits": TEXT_LIMITS,
}
ANONYMOUS = (
    "MI notes are kept only for encounters with a participant: identify the participant, "
    "or clear this field."
)
NEED_FOCUS = "Choose the behaviour the participant chose to talk about."
NEED_STAGE = "Choose the stage of change."
BAD_CHOICE = "Choose one of the options shown."
BAD_RULER = "Choose a number from 0 to 10, or Not asked."


class NoteForm(IdempotentForm):
    """The CSRF token and idempotency key of the add-a-note page (MI fields are read raw)."""


class NoteEditForm(FlaskForm):
    """The CSRF token of the edit page, and the version of the note it was opened at."""

    version = HiddenField()


def name(key: str) -> str:
    """Return the form field name of an MI field."""
    return PREFIX + key


def raw_values(formdata: MultiDict) -> dict:
    """Return what was typed or chosen in each MI field, as typed."""
    values: dict = {key: (formdata.get(name(key)) or "").strip() for key in ("focus", "stage")}
    values.update({key: (formdata.get(name(key)) or "").strip() for key in RULERS})
    values["change_talk"] = [code.strip() for code in formdata.getlist(name("change_talk"))]
    values["sustain_talk"] = (formdata.get(name("sustain_talk")) or "").strip()
    for key in TEXT_FIELDS:
        values[key] = (formdata.get(name(key)) or "").replace("\r\n", "\n").strip()
    return values


def filled_keys(values: dict) -> list[str]:
    """Return the MI fields that hold anything."""
    return [key for key, value in values.items() if value]


def read_note(formdata: MultiDict, *, required: bool = False) -> SectionInput:
    """Check the MI fields; an untouched section gives no payload unless a note is required."""
    values = raw_values(formdata)
    if not required and not filled_keys(values):
        return SectionInput(payload=None, values=values)
    errors: dict[str, str] = {}
    if values["focus"] not in set(Focus):
        errors["focus"] = BAD_CHOICE if values["focus"] else NEED_FOCUS
    if values["stage"] not in set(Stage):
        errors["stage"] = BAD_CHOICE if values["stage"] else NEED_STAGE
    rulers = {key: read_ruler(values[key], key, errors) for key in RULERS}
    if any(code not in set(ChangeTalk) for code in values["change_talk"]):
        errors["change_talk"] = BAD_CHOICE
    if values["sustain_talk"] and values["sustain_talk"] not in set(SustainTalk):
        errors["sustain_talk"] = BAD_CHOICE
    for key in TEXT_FIELDS:
        if message := text_problem(values[key], key):
            errors[key] = message
    if errors:
        return SectionInput(payload=None, values=values, errors=errors)
    payload = MINoteInput(
        focus=values["focus"],
        stage=values["stage"],
        change_talk=sorted(set(values["change_talk"])),
        sustain_talk=values["sustain_talk"] or None,
        goal=values["goal"],
        next_steps=values["next_steps"],
        summary=values["summary"],
        **rulers,
    )
    return SectionInput(payload=payload, values=values)


def read_ruler(raw: str, key: str, errors: dict[str, str]) -> int | None:
    """Return a ruler's value 0-10, None when not asked; note a bad value in ``errors``."""
    if raw == "":
        return None
    if raw in RULER_VALUES:
        return int(raw)
    errors[key] = BAD_RULER
    return None


def text_problem(text: str, key: str) -> str | None:
    """Say what is wrong with a free-text field: too long, or identifying."""
    limit = TEXT_LIMITS[key]
    if len(text) > limit:
        return f"Keep this to {limit} characters or fewer (now {len(text)})."
    return check_free_text(text) if text else None


def refuse_for_anonymous(section_input: SectionInput) -> SectionInput:
    """Put the anonymous-encounter message at every MI field that holds anything."""
    errors = dict.fromkeys(filled_keys(section_input.values), ANONYMOUS)
    return SectionInput(payload=None, values=section_input.values, errors=errors)


def values_of(note, text) -> dict:
    """Return form values filled from a saved note and its decrypted text."""
    values: dict = {
        "focus": note.focus,
        "stage": note.stage,
        "change_talk": note.change_talk_codes,
        "sustain_talk": note.sustain_talk or "",
    }
    values.update(
        {key: "" if getattr(note, key) is None else str(getattr(note, key)) for key in RULERS}
    )
    values.update({key: getattr(text, key) for key in TEXT_FIELDS})
    return values
