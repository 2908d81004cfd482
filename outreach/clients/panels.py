"""Extension point of the participant page: panels owned by other features."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from outreach.clients.models import Participant
from outreach.users.models import User


@dataclass(frozen=True)
class ParticipantPanel:
    """A block on the participant page, such as open referrals or the MI journey."""

    key: str
    #: Template included in the page; gets ``panel`` and ``panel_data``.
    template: str
    #: Loads what the template shows; returns None to hide the panel for this user.
    load: Callable[[Participant, User], Any]
    #: Lower numbers show first (open referrals come before history).
    order: int = 100


_panels: list[ParticipantPanel] = []


def register_panel(panel: ParticipantPanel) -> None:
    """Add a panel to the participant page (once)."""
    if all(existing.key != panel.key for existing in _panels):
        _panels.append(panel)


def loaded_panels(participant: Participant, user: User) -> list[tuple[ParticipantPanel, Any]]:
    """Return the panels this user may see, with their data, in display order."""
    shown = []
    for panel in sorted(_panels, key=lambda panel: panel.order):
        data = panel.load(participant, user)
        if data is not None:
            shown.append((panel, data))
    return shown
