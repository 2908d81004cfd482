"""Shared helpers of the MI note tests: the note texts, and notes written by hand."""

from datetime import timedelta

from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.mi.models import MINote
from tests import factories

GOAL = "Use with a buddy every time"
NEXT_STEPS = "Bring two naloxone kits to the camp"
SUMMARY = "Worried about the new supply; wants to test first"
PLAINTEXTS = (GOAL, NEXT_STEPS, SUMMARY)


def note_on(setting, worker, stage="contemplation", days_ago=0, **fields) -> MINote:
    """Add an encounter by a worker with the setting's participant, and its note."""
    encounter = factories.make_encounter(
        worker,
        setting["site"],
        setting["participant"],
        occurred_at=utcnow() - timedelta(days=days_ago),
    )
    note = factories.make_mi_note(encounter, stage=stage, **fields)
    db.session.commit()
    return note
