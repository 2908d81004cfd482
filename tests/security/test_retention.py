"""Retention: ``flask retention purge`` removes removed and old records, with a dry run first."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from outreach.audit.models import AuditEvent
from outreach.audit.services import verify_chain
from outreach.clients.models import Participant
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.retention.services import retention_purge
from tests import factories
from tests.security.helpers import row_counts

YEARS_8 = timedelta(days=8 * 365)


@pytest.fixture
def program(app):
    """A site, a worker and a syringe item."""
    site = factories.make_site("Van")
    worker = factories.make_user("worker", username="wanda")
    item = factories.make_item("Syringes")
    db.session.commit()
    return site, worker, item


def encounter(program, participant=None, age=timedelta(0), deleted=False, **fields):
    """Add an encounter of some age, with a supply line and a service."""
    site, worker, item = program
    made = factories.make_encounter(
        worker, site, participant, occurred_at=utcnow() - age, supplies={item: 2}, **fields
    )
    made.services = [EncounterService(service="education")]
    if deleted:
        made.deleted_at, made.deleted_by_id, made.delete_reason = utcnow(), worker.id, "duplicate"
    db.session.flush()
    return made


def participant(age: timedelta = timedelta(0)):
    """Add a participant registered some time ago."""
    return factories.make_participant(created_at=utcnow() - age)


@pytest.fixture
def records(program):
    """Old, recent, removed and mixed records; return the ids that must survive."""
    gone_with_old = participant(YEARS_8)
    encounter(program, gone_with_old, age=YEARS_8)
    mixed = participant(YEARS_8)
    encounter(program, mixed, age=YEARS_8)
    kept_mixed = encounter(program, mixed, age=timedelta(days=3))
    recent = participant(timedelta(days=30))
    kept_recent = encounter(program, recent, age=timedelta(days=30))
    encounter(program, recent, deleted=True)
    duplicate = participant(timedelta(days=2))
    encounter(program, duplicate, deleted=True)
    encounter(program, None, age=YEARS_8, people_count=3)
    kept_anonymous = encounter(program, None, age=timedelta(days=2554))
    just_registered = participant()
    db.session.commit()
    return {
        "encounters": {kept_mixed.id, kept_recent.id, kept_anonymous.id},
        "participants": {mixed.id, recent.id, just_registered.id},
    }


def ids(model) -> set[int]:
    """Return the ids of a table."""
    db.session.expire_all()
    return set(db.session.scalars(select(model.id)))


def purge(app, *options: str):
    """Run ``flask retention purge``; return the result."""
    return app.test_cli_runner().invoke(args=["retention", "purge", *options])


def test_a_dry_run_says_what_would_go_and_changes_nothing(app, records):
    before = row_counts()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    result = purge(app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Retention 2555 days: encounters before" in result.output
    assert "Would remove permanently:" in result.output
    assert "  encounters: 5" in result.output
    assert "  participants: 2" in result.output
    assert "with them: encounter_services 5, encounter_supplies 5" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert row_counts() == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events


def test_purge_removes_removed_and_old_records_and_orphaned_participants(app, records):
    result = purge(app)
    assert result.exit_code == 0, result.output
    assert "Removed permanently:" in result.output
    assert ids(Encounter) == records["encounters"]
    assert ids(Participant) == records["participants"]
    kept = records["encounters"]
    lines = db.session.scalars(select(EncounterSupply.encounter_id)).all()
    assert set(lines) == kept and len(lines) == 3, "supply lines went with their encounters"
    assert set(db.session.scalars(select(EncounterService.encounter_id))) == kept
    event_row = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.purge")
    ).one()
    assert json.loads(event_row.data) == {
        "days": 2555,
        "encounters": 5,
        "participants": 2,
        "encounter_services_cascaded": 5,
        "encounter_supplies_cascaded": 5,
    }
    assert list(verify_chain()) == []
    again = purge(app)
    assert "Removed nothing: no record is due." in again.output


def test_with_retention_off_only_removed_records_go(app, records):
    app.config["RETENTION_DAYS"] = 0
    result = purge(app)
    assert "RETENTION_DAYS is 0" in result.output
    assert "  encounters: 2" in result.output
    assert len(ids(Encounter)) == 6
    assert len(ids(Participant)) == 4, "the duplicate's participant had no encounter left"


def test_a_shorter_period_takes_more(app, records):
    app.config["RETENTION_DAYS"] = 10
    purge(app)
    assert len(ids(Encounter)) == 1, "only the encounter of 3 days ago is younger than 10 days"


def test_the_purge_is_bulk_sql_whatever_the_number_of_rows(app, program):
    def statements_for(count: int) -> int:
        for _ in range(count):
            encounter(program, participant(YEARS_8), age=YEARS_8)
        db.session.commit()
        seen = []

        def note(conn, cursor, statement, *args):
            """Count data-changing statements."""
            if statement.lstrip().upper().startswith(("DELETE", "UPDATE")):
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            retention_purge(days=2555)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert not ids(Encounter)
        return len(seen)

    assert statements_for(2) == statements_for(30)
