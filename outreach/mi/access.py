"""Who may read, see, write and add MI notes: the one place these rules live."""

from outreach.encounters.models import Encounter
from outreach.encounters.services import may_edit as may_edit_encounter
from outreach.mi.models import MINote
from outreach.mi.queries import newest_note_id
from outreach.security import Permission, has_permission
from outreach.users.models import User


def is_live(note: MINote) -> bool:
    """Tell whether neither the note nor its encounter was removed."""
    return note.deleted_at is None and note.encounter.deleted_at is None


def may_read_text(user: User, note: MINote) -> bool:
    """The author and supervisors read a note, text included; administrators do not."""
    if not user.is_authenticated or not is_live(note):
        return False
    if note.author_id == user.id and has_permission(user, Permission.LOG_ENCOUNTERS):
        return True
    return has_permission(user, Permission.READ_ALL_MI_NOTES)


def may_see_fields(user: User, note: MINote) -> bool:
    """Other workers see the structured fields (no text) of a participant's newest note only."""
    if may_read_text(user, note):
        return True
    if not is_live(note) or not has_permission(user, Permission.LOG_ENCOUNTERS):
        return False
    return newest_note_id(note.participant_id) == note.id


def may_edit(user: User, note: MINote) -> bool:
    """Only the author edits a note."""
    return (
        is_live(note)
        and note.author_id == user.id
        and has_permission(user, Permission.LOG_ENCOUNTERS)
    )


def may_add(user: User, encounter: Encounter) -> bool:
    """Whoever may edit an encounter with a participant may add its note (if it has none)."""
    return (
        encounter.participant_id is not None
        and has_permission(user, Permission.LOG_ENCOUNTERS)
        and may_edit_encounter(user, encounter)
    )


def sees_whole_journey(user: User) -> bool:
    """Supervisors see every note on a journey; workers see the notes they wrote."""
    return has_permission(user, Permission.READ_ALL_MI_NOTES)
