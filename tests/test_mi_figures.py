"""MI figures for the monthly report, on fixed data written by hand."""

from datetime import UTC, datetime

import pytest

from outreach.extensions import db
from outreach.mi.models import Stage
from outreach.mi.queries import MIFigures, mi_figures
from outreach.users.models import Role
from tests import factories

GOAL = "Carry naloxone every day"
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def at(month: int, day: int, hour: int = 12) -> datetime:
    """Return a moment in 2026, UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def march(app) -> dict:
    """Notes written by hand around March 2026 at sites A and B; see each participant's line."""
    worker = factories.make_user(Role.WORKER)
    site_a, site_b = factories.make_site("A"), factories.make_site("B")

    def conversation(participant, when, stage, site=site_a, goal="", **encounter_fields):
        encounter = factories.make_encounter(
            worker, site, participant, occurred_at=when, **encounter_fields
        )
        return factories.make_mi_note(encounter, stage=stage, goal=goal)

    people = {f"P{number}": factories.make_participant() for number in range(1, 10)}
    # P1 contemplation -> preparation: forward. A later April note does not count.
    conversation(people["P1"], at(2, 10), "contemplation")
    conversation(people["P1"], at(3, 5), "preparation", goal=GOAL)
    conversation(people["P1"], at(4, 5), "maintenance")
    # P2 action -> recurrence: not forward.
    conversation(people["P2"], at(2, 20), "action")
    conversation(people["P2"], at(3, 10), "recurrence")
    # P3 precontemplation (A) -> contemplation (B), both in March: forward.
    conversation(people["P3"], at(3, 3), "precontemplation")
    conversation(people["P3"], at(3, 20), "contemplation", site=site_b)
    # P4 first note ever: nothing to compare.
    conversation(people["P4"], at(3, 8), "action")
    # P5 recurrence -> contemplation: not forward (recurrence has no rank).
    conversation(people["P5"], at(1, 5), "recurrence")
    conversation(people["P5"], at(3, 12), "contemplation")
    # P6 preparation -> contemplation within March: the newest is compared, and it went back.
    conversation(people["P6"], at(3, 2), "preparation")
    conversation(people["P6"], at(3, 25), "contemplation")
    # P7 only outside March.
    conversation(people["P7"], at(2, 1), "maintenance")
    conversation(people["P7"], at(4, 2), "action")
    # P8: a removed encounter and a hidden note never count.
    conversation(people["P8"], at(3, 15), "action", deleted_at=at(3, 16))
    hidden = conversation(people["P8"], at(3, 16), "preparation")
    hidden.deleted_at = at(3, 17)
    # P9 precontemplation -> contemplation at 00:00 on 1 March (inclusive); 1 April excluded.
    conversation(people["P9"], at(2, 28), "precontemplation")
    conversation(people["P9"], at(3, 1, hour=0), "contemplation")
    conversation(people["P9"], at(4, 1, hour=0), "action")
    db.session.commit()
    return {"A": site_a, "B": site_b}


def stages(**counts) -> dict[str, int]:
    """Return a full stage distribution from the non-zero counts."""
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


def test_march_figures_for_every_site(march):
    assert mi_figures(*MARCH) == MIFigures(
        conversations=9,
        participants=7,
        stages=stages(precontemplation=1, contemplation=4, preparation=2, action=1, recurrence=1),
        compared=6,
        moved_forward=3,
    )


def test_march_figures_for_site_a(march):
    assert mi_figures(*MARCH, site_id=march["A"].id) == MIFigures(
        conversations=8,
        participants=7,
        stages=stages(precontemplation=1, contemplation=3, preparation=2, action=1, recurrence=1),
        compared=5,
        moved_forward=2,
    )


def test_march_figures_for_site_b_compare_with_a_note_at_another_site(march):
    assert mi_figures(*MARCH, site_id=march["B"].id) == MIFigures(
        conversations=1, participants=1, stages=stages(contemplation=1), compared=1, moved_forward=1
    )


def test_an_empty_month_is_all_zero(march):
    figures = mi_figures(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    assert figures == MIFigures(0, 0, stages(), 0, 0)


def test_figures_are_sql_aggregates_not_loops(march, app):
    from sqlalchemy import event

    statements = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        mi_figures(*MARCH)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(statements) == 2
    assert all("lag(" in statement.lower() for statement in statements)


def test_the_monthly_report_carries_the_mi_figures_and_no_text(march, app):
    from outreach.reports.csv_export import render_csv
    from outreach.reports.figures import monthly_figures
    from outreach.reports.periods import Month

    app.config["OUTREACH_TIMEZONE"] = "UTC"
    figures = monthly_figures(Month(2026, 3))
    assert figures.section("mi.") == {
        "conversations": 9,
        "participants_with_a_note": 7,
        "at_precontemplation": 1,
        "at_contemplation": 4,
        "at_preparation": 2,
        "at_action": 1,
        "at_maintenance": 0,
        "at_recurrence": 1,
        "participants_with_an_earlier_note": 6,
        "participants_moved_forward": 3,
    }
    exported = render_csv(figures, threshold=0)
    assert "mi.participants_moved_forward,3" in exported
    assert GOAL not in exported
