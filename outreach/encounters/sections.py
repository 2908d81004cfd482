"""Extension points of the encounter screen: extra form sections and change listeners.

Features such as referrals and MI notes add a section to the encounter form; stock keeping
listens to encounter changes. Each registers here from ``outreach.setup`` so the encounter
package does not import them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug.datastructures import MultiDict

from outreach.clients.models import Participant
from outreach.encounters.models import Encounter
from outreach.users.models import User


@dataclass
class SectionInput:
    """What a section read from the form: its payload, the raw values and any errors."""

    payload: Any = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SectionContext:
    """What a section knows about the encounter being entered."""

    user: User
    participant: Participant | None
    #: "known", "card", "answers", "new" or "anonymous".
    participant_mode: str
    encounter: Encounter | None = None

    @property
    def has_participant(self) -> bool:
        """Tell whether the encounter is (or will be) with an identified participant."""
        return self.participant_mode != "anonymous"


class EncounterSection(Protocol):
    """A part of the encounter form owned by another feature."""

    #: Unique short name, also the prefix of its form fields.
    key: str
    #: Template included inside the encounter form; gets ``section`` and ``section_input``.
    template: str

    def read(self, formdata: MultiDict, context: SectionContext) -> SectionInput:
        """Check the section's fields; put messages in ``errors``; write nothing."""

    def save(self, encounter: Encounter, section_input: SectionInput, user: User) -> None:
        """Write the section's records for a saved encounter, in the same transaction."""


#: (encounter, change) where change is "create", "update" or "delete".
EncounterListener = Callable[[Encounter, str], None]

_sections: list[EncounterSection] = []
_listeners: list[EncounterListener] = []


def register_section(section: EncounterSection) -> None:
    """Add a section to the encounter form (once)."""
    if all(existing.key != section.key for existing in _sections):
        _sections.append(section)


def register_listener(listener: EncounterListener) -> None:
    """Call a function after every encounter change, inside its transaction (once)."""
    if listener not in _listeners:
        _listeners.append(listener)


def sections() -> list[EncounterSection]:
    """Return the registered sections in registration order."""
    return list(_sections)


def notify(encounter: Encounter, change: str) -> None:
    """Tell every listener about an encounter change."""
    for listener in _listeners:
        listener(encounter, change)
