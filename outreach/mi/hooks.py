"""MI in other features' pages: the encounter form section, an encounter listener, the journey."""

from dataclasses import dataclass
from datetime import datetime

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
from outreach.mi import access, services
from outreach.mi.chart import Chart, ruler_chart, stage_chart
from outreach.mi.forms import read_note, refuse_for_anonymous
from outreach.mi.models import MINote
from outreach.mi.queries import (
    AwaitingNote,
    JourneyPoint,
    note_by_id,
    note_for_encounter,
    panel_rows,
    previous_note,
)
from outreach.mi.reading import read_as
from outreach.security import Permission, has_permission
from outreach.users.models import User


@dataclass(frozen=True)
class Continuity:
    """What the next conversation starts from: the previous note's focus, stage and goal."""

    note_id: int
    occurred_at: datetime
    focus: str
    stage: str
    #: The goal, for readers of the note's text; None when hidden from this user.
    goal: str | None
    #: Whether this user may open the note itself.
    readable: bool
    #: Whether the note's text could not be decrypted with the configured keys.
    locked: bool = False


def continuity_of(note: MINote | None, user: User) -> Continuity | None:
    """Return what a user may see of a previous note; reading its goal is audited."""
    if note is None:
        return None
    sight = read_as(user, note)
    if not sight.fields:
        return None
    goal = sight.text.goal if sight.text else None
    occurred_at = note.encounter.occurred_at
    return Continuity(
        note.id, occurred_at, note.focus, note.stage, goal, sight.text_allowed, sight.locked
    )


class MISection:
    """The "MI conversation" section of the encounter form."""

    key = "mi"
    template = "mi/_section.html"

    def read(self, formdata: MultiDict, context: SectionContext) -> SectionInput:
        """Check the MI fields; refuse them for an anonymous contact."""
        section_input = read_note(formdata)
        return section_input if context.has_participant else refuse_for_anonymous(section_input)

    def save(self, encounter: Encounter, section_input: SectionInput, user: User) -> None:
        """Save the note with the encounter, in its transaction."""
        if section_input.payload is None or encounter.participant_id is None:
            return
        services.mi_note_create(encounter=encounter, author=user, data=section_input.payload)

    def continuity(self, participant: Participant | None, user: User) -> Continuity | None:
        """Return the participant's previous note as this user may see it."""
        if participant is None:
            return None
        return continuity_of(previous_note(participant.id), user)


def encounter_changed(encounter: Encounter, change: str) -> None:
    """Keep a note with its encounter: hidden when removed or anonymous, moved if corrected."""
    if change == "create":
        return
    note = note_for_encounter(encounter.id)
    if note is None:
        return
    if change == "delete":
        if note.deleted_at is None:
            services.mi_note_hide(note=note, reason="encounter_removed")
    elif encounter.participant_id is None:
        if note.deleted_at is None:
            services.mi_note_hide(note=note, reason="encounter_anonymous")
    elif note.participant_id != encounter.participant_id or note.deleted_at is not None:
        services.mi_note_follow(note=note, encounter=encounter)


@dataclass(frozen=True)
class Journey:
    """What the participant page's MI panel shows this user."""

    points: list[JourneyPoint]
    stage_chart: Chart | None
    ruler_chart: Chart | None
    whole: bool
    readable_ids: set[int]
    awaiting: list[AwaitingNote]
    continuity: Continuity | None


def load_journey(participant: Participant, user: User) -> Journey | None:
    """Load the MI journey this user may see; None hides the panel."""
    if not has_permission(user, Permission.LOG_ENCOUNTERS) and not access.sees_whole_journey(user):
        return None
    whole = access.sees_whole_journey(user)
    rows = panel_rows(participant.id, user, whole)
    points, awaiting = rows.points, rows.awaiting
    latest = None
    if rows.newest_note_id is not None:
        latest = continuity_of(note_by_id(rows.newest_note_id), user)
    if not points and not awaiting and latest is None:
        return None
    if points:
        services.mi_journey_read(participant_id=participant.id, notes=len(points))
    readable = {point.note_id for point in points if whole or point.author_id == user.id}
    return Journey(
        points=points,
        stage_chart=stage_chart(points) if points else None,
        ruler_chart=ruler_chart(points) if any(has_ruler(point) for point in points) else None,
        whole=whole,
        readable_ids=readable,
        awaiting=awaiting,
        continuity=latest,
    )


def has_ruler(point: JourneyPoint) -> bool:
    """Tell whether any ruler was asked at a conversation."""
    return any(value is not None for value in (point.importance, point.confidence, point.readiness))


def register() -> None:
    """Add the MI section, listener and panel to the encounter and participant pages."""
    register_section(MISection())
    register_listener(encounter_changed)
    register_panel(
        ParticipantPanel(
            key="mi_journey", template="mi/_journey_panel.html", load=load_journey, order=60
        )
    )
