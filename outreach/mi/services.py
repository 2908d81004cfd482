"""Writing and reading MI notes: text is sealed on write, and every read of it is audited."""

from dataclasses import dataclass, field

from flask import after_this_request, g, has_request_context
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from outreach.audit.services import record
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.mi.crypto import keyring, text_context
from outreach.mi.models import RULERS, TEXT_FIELDS, MIChangeTalk, MINote
from outreach.users.models import User


@dataclass
class MINoteInput:
    """What a worker records of a conversation, already checked field by field."""

    focus: str
    stage: str
    importance: int | None = None
    confidence: int | None = None
    readiness: int | None = None
    change_talk: list[str] = field(default_factory=list)
    sustain_talk: str | None = None
    goal: str = field(default="", repr=False)
    next_steps: str = field(default="", repr=False)
    summary: str = field(default="", repr=False)


@dataclass(frozen=True)
class MINoteText:
    """A note's decrypted free text (never logged: its repr shows nothing of it)."""

    goal: str = field(default="", repr=False)
    next_steps: str = field(default="", repr=False)
    summary: str = field(default="", repr=False)


class NotAParticipantEncounter(ValueError):
    """An MI note was asked for an anonymous contact."""


def audit_ids(note: MINote) -> dict:
    """Return what an audit event keeps of a note: identifiers only, never its content."""
    return {"encounter": note.encounter_id, "participant": note.participant_id}


def seal_text(note: MINote, values: dict[str, str]) -> None:
    """Encrypt each free-text field with the current key; an empty field stays empty."""
    ring = keyring()
    for key in TEXT_FIELDS:
        text = values.get(key) or ""
        ciphertext = ring.encrypt(text, text_context(note.encounter_id, key)) if text else None
        setattr(note, f"{key}_ciphertext", ciphertext)
    note.key_version = ring.current.version


def open_text(note: MINote) -> MINoteText:
    """Decrypt a note's free text (raises ``NotesKeyError`` if no configured key opens it)."""
    ring = keyring()
    opened = {}
    for key in TEXT_FIELDS:
        ciphertext = getattr(note, f"{key}_ciphertext")
        context = text_context(note.encounter_id, key)
        opened[key] = ring.decrypt(ciphertext, note.key_version, context) if ciphertext else ""
    return MINoteText(**opened)


def apply_input(note: MINote, data: MINoteInput) -> None:
    """Copy checked input onto a note, sealing the text and replacing the change talk."""
    note.focus = data.focus
    note.stage = data.stage
    for key in RULERS:
        setattr(note, key, getattr(data, key))
    note.sustain_talk = data.sustain_talk
    wanted = sorted(set(data.change_talk))
    kept = [line for line in note.change_talk if line.code in wanted]
    have = {line.code for line in kept}
    note.change_talk = kept + [MIChangeTalk(code=code) for code in wanted if code not in have]
    seal_text(note, {key: getattr(data, key) for key in TEXT_FIELDS})


def note_says(note: MINote, text: MINoteText, data: MINoteInput) -> bool:
    """Tell whether a saved note already holds exactly this input (a retried edit)."""
    fields = ("focus", "stage", *RULERS, "sustain_talk")
    return (
        all(getattr(note, key) == getattr(data, key) for key in fields)
        and set(note.change_talk_codes) == set(data.change_talk)
        and all(getattr(text, key) == getattr(data, key) for key in TEXT_FIELDS)
    )


def mi_note_create(*, encounter: Encounter, author: User, data: MINoteInput) -> MINote:
    """Save the note of a conversation held at an encounter with a participant."""
    if encounter.participant_id is None:
        raise NotAParticipantEncounter("MI notes belong to encounters with a participant.")
    note = MINote(
        encounter_id=encounter.id, participant_id=encounter.participant_id, author_id=author.id
    )
    apply_input(note, data)
    db.session.add(note)
    db.session.flush()
    record("mi_note.create", "mi_note", note.id, data=audit_ids(note))
    return note


class StaleNote(Exception):
    """The note was saved again after the page making this edit was opened."""


def mi_note_update(*, note: MINote, data: MINoteInput, expected_version: int) -> None:
    """Save the author's changes to a note; the text is sealed again with the current key.

    The version is raised first, only if it is still the one the edit was opened at: of two
    edits made from the same version only the first is saved, the other raises StaleNote.
    """
    raised = db.session.execute(
        update(MINote)
        .where(MINote.id == note.id, MINote.version == expected_version)
        .values(version=MINote.version + 1)
        .execution_options(synchronize_session=False)
    )
    if raised.rowcount != 1:
        raise StaleNote
    set_committed_value(note, "version", expected_version + 1)
    apply_input(note, data)
    note.updated_at = utcnow()
    db.session.flush()
    record("mi_note.update", "mi_note", note.id, data=audit_ids(note))


def mi_note_read(*, note: MINote) -> MINoteText:
    """Decrypt a note's free text for someone allowed to read it, and audit the read."""
    text = open_text(note)
    record("mi_note.read", "mi_note", note.id, data=audit_ids(note))
    commit_reads_after_request()
    return text


def mi_note_read_fields(*, note: MINote) -> None:
    """Audit that a note's structured fields (no text) were shown."""
    record("mi_note.read_fields", "mi_note", note.id, data=audit_ids(note))
    commit_reads_after_request()


def mi_journey_read(*, participant_id: int, notes: int) -> None:
    """Audit that a participant's MI journey (structured fields of their notes) was shown."""
    record("mi_note.read_journey", "participant", participant_id, data={"notes": notes})
    commit_reads_after_request()


def mi_note_hide(*, note: MINote, reason: str) -> None:
    """Take a note out of every read (its encounter was removed or made anonymous)."""
    note.deleted_at = utcnow()
    db.session.flush()
    record("mi_note.hide", "mi_note", note.id, data={**audit_ids(note), "reason": reason})


def mi_note_follow(*, note: MINote, encounter: Encounter) -> None:
    """Move a note with its encounter to the encounter's (corrected) participant."""
    note.participant_id = encounter.participant_id
    note.deleted_at = None
    db.session.flush()
    record("mi_note.follow_encounter", "mi_note", note.id, data=audit_ids(note))


def mi_note_reseal(*, note: MINote) -> bool:
    """Re-encrypt a note's text with the current key; tell whether anything changed."""
    if note.key_version == keyring().current.version:
        return False
    text = open_text(note)
    seal_text(note, {key: getattr(text, key) for key in TEXT_FIELDS})
    return True


def commit_reads_after_request() -> None:
    """Commit audit events of reads made while rendering a page that writes nothing else."""
    if not has_request_context() or g.get("mi_commit_reads"):
        return
    g.mi_commit_reads = True

    @after_this_request
    def commit(response):
        """Commit the read events once the page rendered."""
        if response.status_code < 500:
            db.session.commit()
        return response
