"""Read a note as a given user: what they may see of it, each reading audited."""

from dataclasses import dataclass

from outreach.mi import access, services
from outreach.mi.crypto import NotesKeyError
from outreach.mi.models import MINote
from outreach.users.models import User


@dataclass(frozen=True)
class Sight:
    """What a user is shown of a note."""

    #: The structured fields (focus, stage, rulers, change talk).
    fields: bool
    #: Whether the user may read the text (the author and supervisors).
    text_allowed: bool = False
    #: The text, when allowed and it could be decrypted.
    text: services.MINoteText | None = None

    @property
    def locked(self) -> bool:
        """Tell whether the user may read the text but no configured key opens it."""
        return self.text_allowed and self.text is None


def read_as(user: User, note: MINote) -> Sight:
    """Read what a user may see of a note, auditing the text read or the fields shown."""
    if access.may_read_text(user, note):
        try:
            return Sight(fields=True, text_allowed=True, text=services.mi_note_read(note=note))
        except NotesKeyError:
            services.mi_note_read_fields(note=note)
            return Sight(fields=True, text_allowed=True)
    if access.may_see_fields(user, note):
        services.mi_note_read_fields(note=note)
        return Sight(fields=True)
    return Sight(fields=False)
