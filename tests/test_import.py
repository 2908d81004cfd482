"""CSV import of past encounters: exact rows, re-runs, all or nothing, every error, time zones."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.clients.codes import card_code, code_digest
from outreach.clients.models import Participant, ParticipantRace
from outreach.clients.services import code_key
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.imports.parser import COLUMNS
from outreach.imports.services import external_id_digest, import_file
from outreach.referrals.models import Referral, ReferralStatusChange
from tests import factories
from tests.import_helpers import GOOD, count, csv_bytes, program, row


def stored(external_id: str) -> str:
    """Return what the database keeps of an old system's id: its keyed digest."""
    return external_id_digest(external_id, code_key())


WRITTEN = (
    Encounter,
    EncounterSupply,
    EncounterService,
    Participant,
    ParticipantRace,
    Referral,
    ReferralStatusChange,
    AuditEvent,
)


@pytest.fixture
def made(app):
    """The program the files name."""
    return program()


def run(data: bytes, dry_run: bool = False):
    """Import a file the way the CLI does: commit when good, roll back otherwise."""
    report = import_file(data=data, dry_run=dry_run, actor=None)
    if report.ok and not dry_run:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def digest(code: str) -> str:
    """Return the code hash the app keeps for a code."""
    return code_digest(code, current_app.config["CLIENT_CODE_KEY"].encode(), 0)


def nothing_written() -> bool:
    """Tell whether no import table holds a row."""
    return all(count(model) == 0 for model in WRITTEN)


def test_a_good_file_imports_exactly(made):
    data = csv_bytes(
        row(
            occurred_at="2024-03-01 14:30",
            client_code="ma-0785",
            birth_year="1985",
            gender="Woman",
            race_ethnicity="black; white",
            supplies="Cookers=3; Naloxone kit=1",
            syringes_collected="20",
            reversals="1",
            referrals="moud;housing:linked",
            services="hiv_test;education",
            secondary_people="2",
            external_id="OLD-1",
        ),
        row(
            occurred_at="2024-03-02T09:15:00+00:00",
            site="office",
            worker="SAM",
            contact_type="fixed_site",
            referrals="food",
            external_id="OLD-2",
        ),
        row(
            occurred_at="2024-03-03 10:00", client_code="MA0785", supplies="Syringes (box of 10)=2"
        ),
    )
    report = run(data)
    assert report.ok, report.errors
    assert (report.rows_read, report.encounters_created, report.skipped) == (3, 3, 0)
    assert (report.participants_created, report.referrals_created) == (1, 3)

    participant = db.session.scalar(select(Participant))
    assert participant.code_hash == digest("MA0785")
    assert participant.card_code == card_code(participant.code_hash)
    assert (participant.suffix, participant.birth_year, participant.gender) == (0, 1985, "woman")
    assert participant.race_codes == ["black", "white"]

    first, second, third = db.session.scalars(select(Encounter).order_by(Encounter.occurred_at))
    assert first.occurred_at == datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
    assert (first.site_id, first.worker_id, first.contact_type) == (
        made["van"].id,
        made["alex"].id,
        "street",
    )
    assert (first.participant_id, first.people_count, first.external_id) == (
        participant.id,
        1,
        stored("OLD-1"),
    )
    assert (first.syringes_collected, first.reversals, first.secondary_people) == (20, 1, 2)
    assert {line.item_id: line.quantity for line in first.supplies} == {
        made["cookers"].id: 3,
        made["kit"].id: 1,
    }
    assert first.service_codes == ["education", "hiv_test"]
    assert (second.site_id, second.worker_id, second.participant_id) == (
        made["office"].id,
        made["sam"].id,
        None,
    )
    assert second.supplies == [] and second.services == []
    assert (third.participant_id, third.external_id) == (participant.id, None)
    assert {line.item_id: line.quantity for line in third.supplies} == {made["box"].id: 2}
    assert (first.version, first.deleted_at, first.collection_method) == (1, None, None)

    [event] = db.session.scalars(select(AuditEvent))
    assert event.action == "import.encounters"
    assert json.loads(event.data) == {
        "rows": 3,
        "encounters": 3,
        "skipped": 0,
        "participants": 1,
        "referrals": 3,
    }


def test_imported_referrals_have_a_status_history_and_anonymous_ones_no_participant(made):
    data = csv_bytes(
        row(client_code="AB0190", referrals="moud; housing:linked", external_id="R-1"),
        row(occurred_at="2024-03-05 23:30", referrals="food:declined"),
    )
    assert run(data).ok
    referrals = {
        referral.referral_type: referral for referral in db.session.scalars(select(Referral))
    }
    participant_id = db.session.scalar(select(Participant.id))
    moud, housing, food = referrals["moud"], referrals["housing"], referrals["food"]
    assert (moud.participant_id, moud.status, moud.linked_on) == (participant_id, "referred", None)
    assert moud.referred_on.isoformat() == "2024-03-01"
    assert moud.follow_up_on.isoformat() == "2024-03-04"  # MOUD: 3 days
    assert (housing.status, housing.linked_on, housing.follow_up_on) == (
        "linked",
        housing.referred_on,
        None,
    )
    assert (food.participant_id, food.status, food.follow_up_on) == (None, "declined", None)
    assert food.created_by_id == made["alex"].id
    steps = {step.referral_id: step for step in db.session.scalars(select(ReferralStatusChange))}
    assert len(steps) == 3
    assert steps[housing.id].from_status is None and steps[housing.id].to_status == "linked"
    assert steps[food.id].changed_at == datetime(2024, 3, 5, 23, 30, tzinfo=UTC)


def test_an_existing_participant_is_found_by_code_and_keeps_their_demographics(made):
    known = factories.make_participant("MA0785", gender="man", birth_year=1970)
    db.session.commit()
    report = run(csv_bytes(row(client_code="ma 0785", gender="woman", birth_year="1985")))
    assert report.ok and report.participants_created == 0
    assert count(Participant) == 1
    db.session.refresh(known)
    assert (known.gender, known.birth_year) == ("man", 1970)
    assert db.session.scalar(select(Encounter.participant_id)) == known.id


def test_a_removed_participant_stops_the_import(made):
    factories.make_participant("MA0785", deleted_at=utcnow())
    db.session.commit()
    report = run(csv_bytes(row(external_id="A"), row(client_code="MA0785")))
    assert [(error.line, error.column) for error in report.errors] == [(3, "client_code")]
    assert count(Encounter) == 0 and count(AuditEvent) == 0


def test_rerunning_skips_rows_imported_before(made):
    first = csv_bytes(row(external_id="OLD-1"), row(external_id="OLD-2", client_code="AB0101"))
    assert run(first).encounters_created == 2
    again = csv_bytes(
        row(external_id="OLD-1"),
        row(external_id="OLD-2", client_code="AB0101"),
        row(external_id="OLD-3", client_code="AB0101"),
    )
    report = run(again)
    assert (report.rows_read, report.encounters_created, report.skipped) == (3, 1, 2)
    assert report.participants_created == 0
    assert count(Encounter) == 3 and count(Participant) == 1
    assert sorted(db.session.scalars(select(Encounter.external_id))) == sorted(
        stored(name) for name in ("OLD-1", "OLD-2", "OLD-3")
    )
    assert count(AuditEvent) == 2


def test_one_bad_row_among_good_ones_writes_nothing(made):
    good = [row(external_id=f"G{n}", client_code=f"AB01{n:02d}") for n in range(20)]
    data = csv_bytes(*good[:10], row(site="Nowhere"), *good[10:])
    report = run(data)
    assert not report.ok and report.rows_read == 21
    assert [(error.line, error.column) for error in report.errors] == [(12, "site")]
    assert nothing_written()


def test_a_dry_run_counts_and_writes_nothing(made):
    factories.make_participant("AB0101")
    db.session.commit()
    data = csv_bytes(row(client_code="AB0101"), row(client_code="CD0202", referrals="moud"), row())
    report = run(data, dry_run=True)
    assert report.ok and report.dry_run
    assert (report.rows_read, report.encounters_created, report.participants_created) == (3, 3, 1)
    assert report.referrals_created == 1
    assert count(Encounter) == 0 and count(Participant) == 1 and count(AuditEvent) == 0


#: (cells, column, part of the reason)
BAD_CELLS = [
    ({"site": "Nowhere"}, "site", "No site is called “Nowhere”"),
    ({"site": ""}, "site", "Required"),
    ({"worker": "nobody"}, "worker", "No user has the username “nobody”"),
    ({"worker": "root"}, "worker", "administrators do not log encounters"),
    ({"contact_type": "walk_in"}, "contact_type", "not a contact type code"),
    ({"supplies": "Needles=3"}, "supplies", "No supply item is called “Needles”"),
    ({"supplies": "Cookers"}, "supplies", "Item name=quantity"),
    ({"supplies": "Cookers=2; Cookers=1"}, "supplies", "listed twice"),
    ({"supplies": "Naloxone kit=21"}, "supplies", "from 0 to 20"),
    ({"supplies": "Cookers=-1"}, "supplies", "negative"),
    ({"services": "hiv_test;massage"}, "services", "not a service code"),
    ({"client_code": "AB0101", "race_ethnicity": "martian"}, "race_ethnicity", "race"),
    ({"client_code": "AB0101", "gender": "f"}, "gender", "not a gender code"),
    ({"client_code": "AB0101", "birth_year": "85"}, "birth_year", "four-digit birth year"),
    ({"gender": "woman"}, "gender", "leave this empty when client_code is empty"),
    ({"client_code": "J@NE!"}, "client_code", "letters A to Z and digits only"),
    ({"occurred_at": "01/03/2024 14:30"}, "occurred_at", "Not a date and time"),
    ({"occurred_at": "2024-02-30 10:00"}, "occurred_at", "Not a date and time"),
    ({"occurred_at": "2024-03-01T14:30"}, "occurred_at", "with an offset"),
    ({"occurred_at": ""}, "occurred_at", "Required"),
    ({"occurred_at": "1979-12-31 10:00"}, "occurred_at", "before 1980"),
    ({"syringes_collected": "-5"}, "syringes_collected", "Cannot be negative"),
    ({"syringes_collected": "ten"}, "syringes_collected", "Not a whole number"),
    ({"syringes_collected": "2.5"}, "syringes_collected", "Not a whole number"),
    ({"syringes_collected": "100001"}, "syringes_collected", "from 0 to 100,000"),
    ({"reversals": "21"}, "reversals", "from 0 to 20"),
    ({"secondary_people": "-1"}, "secondary_people", "Cannot be negative"),
    ({"referrals": "moud:maybe"}, "referrals", "not a referral status"),
    ({"referrals": "massage"}, "referrals", "not a referral type"),
    ({"referrals": "moud;moud:linked"}, "referrals", "listed twice"),
    ({"external_id": "has space"}, "external_id", "external_id is 1 to 80"),
    ({"syringes_collected": "9" * 5000}, "syringes_collected", "from 0 to 100,000"),
    ({"supplies": "Cookers=" + "1" * 5000}, "supplies", "from 0 to"),
    ({"occurred_at": "0001-01-01T00:00+14:00"}, "occurred_at", "Not a date and time"),
    ({"occurred_at": "9999-12-31T23:59-14:00"}, "occurred_at", "Not a date and time"),
]


@pytest.mark.parametrize(("cells", "column", "reason"), BAD_CELLS)
def test_a_bad_cell_is_reported_at_its_line_and_column(made, cells, column, reason):
    report = run(csv_bytes(row(), row(**cells)))
    assert [(error.line, error.column) for error in report.errors] == [(3, column)]
    assert reason in report.errors[0].reason
    assert nothing_written()


def test_the_report_lists_every_bad_row_with_line_and_column(made):
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    data = csv_bytes(
        row(external_id="A"),
        row(site="Nowhere", worker="nobody"),
        row(supplies="Needles=1"),
        row(),
        row(contact_type="walk_in", services="massage"),
        row(client_code="AB0101", race_ethnicity="martian", gender="x"),
        row(occurred_at=future),
        row(syringes_collected="-3", reversals="lots"),
        row(external_id="A"),
    )
    report = run(data)
    assert [(error.line, error.column) for error in report.errors] == [
        (3, "site"),
        (3, "worker"),
        (4, "supplies"),
        (6, "contact_type"),
        (6, "services"),
        (7, "gender"),
        (7, "race_ethnicity"),
        (8, "occurred_at"),
        (9, "syringes_collected"),
        (9, "reversals"),
        (10, "external_id"),
    ]
    assert "on line 2" in report.errors[-1].reason
    assert "future" in report.errors[7].reason
    assert report.rows_read == 9
    assert nothing_written()


def test_an_unknown_or_missing_column_is_reported_on_the_header(made):
    columns = ["occurred_at", "site", "contact_type", "notes"]
    cells = {"occurred_at": "2024-03-01 10:00", "site": "Van 1", "contact_type": "street"}
    data = csv_bytes(cells, columns=columns)
    report = run(data)
    assert [(error.line, error.column) for error in report.errors] == [
        (1, "notes"),
        (1, "worker"),
    ]
    assert "Unknown column" in report.errors[0].reason
    assert "required column is missing" in report.errors[1].reason
    assert nothing_written()


def test_a_repeated_column_is_refused(made):
    data = b"occurred_at,site,worker,contact_type,site\n2024-03-01 10:00,Van 1,alex,street,Van 1\n"
    assert [(e.line, e.column) for e in run(data).errors] == [(1, "site")]


def test_header_case_spaces_a_byte_order_mark_and_blank_lines_are_fine(made):
    text = " Occurred_At ,SITE,worker,contact_type\r\n\r\n2024-03-01 10:00,Van 1,alex,street\r\n"
    report = run(("\ufeff" + text).encode())
    assert report.ok and report.encounters_created == 1


def test_line_numbers_count_lines_of_the_file(made):
    data = (
        b"occurred_at,site,worker,contact_type,supplies\n"
        b'2024-03-01 10:00,Van 1,alex,street,"Cookers=1;\nNaloxone kit=1"\n'
        b"\n"
        b"2024-03-01 10:00,Van 1,alex,bus,\n"
    )
    assert [(e.line, e.column) for e in run(data).errors] == [(5, "contact_type")]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", 0, "The file is empty."),
        ("occurred_at,site,worker,contact_type\n".encode("utf-16"), 0, "UTF-16"),
        (
            b"occurred_at,site,worker,contact_type\n2024-03-01 10:00,Caf\xe9,alex,street\n",
            2,
            "UTF-8",
        ),
        (b"occurred_at,site,worker,contact_type\n2024\x00,a,b,c\n", 2, "NUL"),
        (
            b'occurred_at,site,worker,contact_type\n2024-03-01 10:00,"Van 1"x,alex,street\n',
            2,
            "quot",
        ),
        (
            b"occurred_at,site,worker,contact_type\n2024-03-01 10:00,Van 1,alex,street,extra\n",
            2,
            "5 values",
        ),
    ],
)
def test_an_unreadable_file_is_reported(made, data, line, reason):
    report = run(data)
    assert len(report.errors) == 1
    assert report.errors[0].line == line and reason in report.errors[0].reason
    assert nothing_written()


def test_a_participant_code_is_never_quoted_back(made):
    report = run(csv_bytes(row(client_code="JANE*DOE")))
    assert not report.ok
    assert all("JANE" not in error.reason for error in report.errors)


def test_inactive_sites_and_items_of_the_past_are_accepted(made):
    made["office"].active = False
    made["cookers"].active = False
    made["alex"].active = False
    db.session.commit()
    assert run(csv_bytes(row(site="Office", supplies="Cookers=1"))).ok


def test_an_old_systems_id_is_kept_only_as_a_keyed_digest(made):
    assert run(csv_bytes(row(external_id="jane.doe-1985-03-04"))).encounters_created == 1
    (kept,) = db.session.scalars(select(Encounter.external_id))
    assert kept == stored("jane.doe-1985-03-04") and "jane" not in kept and "1985" not in kept
    assert run(csv_bytes(row(external_id="jane.doe-1985-03-04"))).skipped == 1


def test_local_times_are_in_the_program_zone_and_offsets_are_kept(app, made):
    app.config["OUTREACH_TIMEZONE"] = "America/Chicago"
    data = csv_bytes(
        row(occurred_at="2024-03-01 14:30", external_id="winter"),
        row(occurred_at="2024-07-01 14:30", external_id="summer"),
        row(occurred_at="2024-03-01T14:30-05:00", external_id="offset"),
        row(occurred_at="2024-03-01 14:30Z", external_id="utc"),
        row(occurred_at="2024-11-03 01:30", external_id="ambiguous"),
    )
    assert run(data).ok
    times = dict(db.session.execute(select(Encounter.external_id, Encounter.occurred_at)).all())
    assert times == {
        stored("winter"): datetime(2024, 3, 1, 20, 30, tzinfo=UTC),
        stored("summer"): datetime(2024, 7, 1, 19, 30, tzinfo=UTC),
        stored("offset"): datetime(2024, 3, 1, 19, 30, tzinfo=UTC),
        stored("utc"): datetime(2024, 3, 1, 14, 30, tzinfo=UTC),
        stored("ambiguous"): datetime(2024, 11, 3, 6, 30, tzinfo=UTC),  # the first 01:30 (CDT)
    }


def test_a_local_time_skipped_by_daylight_saving_is_refused(app, made):
    app.config["OUTREACH_TIMEZONE"] = "America/Chicago"
    report = run(csv_bytes(row(occurred_at="2024-03-10 02:30")))
    assert [(e.line, e.column) for e in report.errors] == [(2, "occurred_at")]
    assert "does not exist" in report.errors[0].reason


def test_the_documented_columns_are_the_parsers_columns():
    documented = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text()
    for column in COLUMNS:
        assert f"`{column}`" in documented
    assert set(GOOD) <= set(COLUMNS)


def test_the_documented_example_imports(app):
    documented = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text()
    example = documented.split("```csv\n", 1)[1].split("```", 1)[0]
    factories.make_site("Downtown van")
    factories.make_site("Main office")
    factories.make_user("worker", username="alex")
    factories.make_user("supervisor", username="sam")
    for name in ("Syringes 1 mL (box of 10)", "Naloxone nasal kit (2 doses)", "Cookers"):
        factories.make_item(name)
    db.session.commit()
    report = run(example.encode())
    assert report.ok, report.errors
    assert (report.encounters_created, report.participants_created) == (3, 1)
    assert report.referrals_created == 2


def test_problems_before_an_unreadable_line_are_kept(made):
    data = (
        b"occurred_at,site,worker,contact_type\n"
        b"2024-03-01 10:00,Nowhere,alex,street\n"
        b'2024-03-01 10:00,"Van 1"x,alex,street\n'
    )
    assert [(e.line, e.column) for e in run(data).errors] == [(2, "site"), (3, "")]


def test_an_unclosed_quote_is_reported_where_its_row_starts(made):
    data = (
        b"occurred_at,site,worker,contact_type\n"
        + b"2024-03-01 10:00,Van 1,alex,street\n"
        + b'2024-03-01 10:00,"Van 1,alex,street\n'
        + b"2024-03-01 10:00,Van 1,alex,street\n" * 5
    )
    errors = run(data).errors
    assert [(e.line, e.column) for e in errors] == [(3, "")]
    assert "quotation marks" in errors[0].reason


def test_a_value_too_long_for_the_reader_is_named_at_its_line(made):
    data = (
        b"occurred_at,site,worker,contact_type\n"
        + b"2024-03-01 10:00,Van 1,alex,street\n"
        + b"2024-03-01 10:00,"
        + b"x" * 200_000
        + b",alex,street\n"
    )
    errors = run(data).errors
    assert [(e.line, e.column) for e in errors] == [(3, "")]
    assert "longer than" in errors[0].reason


def test_a_large_import_refreshes_the_planner_statistics(made, monkeypatch):
    monkeypatch.setattr("outreach.imports.bulk.ANALYZE_AFTER", 2)
    data = csv_bytes(row(client_code="AB0101", referrals="moud"), row(external_id="B"))
    assert run(data).ok  # on PostgreSQL, ANALYZE runs inside the import's transaction
    assert count(Encounter) == 2 and count(Referral) == 1
