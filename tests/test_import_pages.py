"""The import upload page and ``flask import encounters``: roles, reports, exit codes."""

import io
import uuid

import pytest
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.clients.models import Participant
from outreach.encounters.models import Encounter
from outreach.extensions import db
from tests.import_helpers import count, csv_bytes, program, row


@pytest.fixture
def made(app):
    """The program the files name."""
    return program()


def upload(client, data: bytes, dry_run: bool = False, key: str | None = None):
    """Post a file to the upload page."""
    form = {
        "idempotency_key": key or str(uuid.uuid4()),
        "file": (io.BytesIO(data), "encounters.csv"),
    }
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/admin/import/", data=form, content_type="multipart/form-data")


def imported_events() -> int:
    """Count the import audit events."""
    return len(
        db.session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "import.encounters")
        ).all()
    )


def test_admin_sees_the_upload_form(client, login_as, made):
    login_as("admin")
    response = client.get("/admin/import/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and "Dry run" in page


@pytest.mark.parametrize("role", ["worker", "supervisor"])
def test_workers_and_supervisors_may_not_import(client, login_as, made, role):
    login_as(role)
    assert client.get("/admin/import/").status_code == 403
    assert upload(client, csv_bytes(row())).status_code == 403
    assert count(Encounter) == 0


def test_admin_imports_a_file_and_sees_the_counts(client, login_as, made):
    admin = login_as("admin")
    data = csv_bytes(row(client_code="AB0101", external_id="X1"), row(external_id="X2"))
    response = upload(client, data)
    assert response.status_code == 302
    assert count(Encounter) == 2 and count(Participant) == 1
    assert db.session.scalar(select(Participant.created_by_id)) == admin.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Import done" in page and "Encounters created" in page
    assert "AB0101" not in page


def test_a_double_submit_imports_once(client, login_as, made):
    login_as("admin")
    key = str(uuid.uuid4())
    data = csv_bytes(row(), row())  # no external_id: only the key stops a second import
    first = upload(client, data, key=key)
    second = upload(client, data, key=key)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert count(Encounter) == 2 and imported_events() == 1


def test_a_bad_file_shows_every_problem_and_writes_nothing(client, login_as, made):
    login_as("admin")
    data = csv_bytes(
        row(external_id="A"),
        row(site="Nowhere"),
        row(client_code="SECRET*CODE1", supplies="Needles=1"),
        row(syringes_collected="-2"),
    )
    response = upload(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    for line, column in [
        (3, "site"),
        (4, "client_code"),
        (4, "supplies"),
        (5, "syringes_collected"),
    ]:
        assert f'<td class="num">{line}</td><td>{column}</td>' in page
    assert "SECRET" not in page
    assert count(Encounter) == 0 and imported_events() == 0


def test_a_dry_run_shows_the_counts_and_writes_nothing(client, login_as, made):
    login_as("admin")
    response = upload(client, csv_bytes(row(client_code="AB0101"), row()), dry_run=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dry run: the file is good" in page
    assert '<input id="dry_run"' in page  # the next step is the import: unticked
    assert count(Encounter) == 0 and count(Participant) == 0 and imported_events() == 0


def test_a_post_without_a_file_asks_for_one(client, login_as, made):
    login_as("admin")
    response = client.post(
        "/admin/import/",
        data={"idempotency_key": str(uuid.uuid4())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Choose a CSV file." in response.get_data(as_text=True)


def test_the_result_page_shows_only_import_events(client, login_as, made):
    login_as("admin")
    login_event = db.session.scalar(select(AuditEvent.id))
    assert client.get(f"/admin/import/{login_event}").status_code == 404


# Command line


def write(tmp_path, data: bytes):
    """Write a file for the command line."""
    path = tmp_path / "encounters.csv"
    path.write_bytes(data)
    return str(path)


def test_cli_imports_and_prints_the_counts(app, made, tmp_path):
    data = csv_bytes(row(client_code="AB0101", external_id="X1"), row(external_id="X2"))
    result = app.test_cli_runner().invoke(args=["import", "encounters", write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    assert "Rows read: 2" in result.output
    assert "Encounters created: 2" in result.output
    assert "Skipped as already imported: 0" in result.output
    assert "Participants created: 1" in result.output
    again = app.test_cli_runner().invoke(args=["import", "encounters", write(tmp_path, data)])
    assert again.exit_code == 0
    assert "Encounters created: 0" in again.output
    assert "Skipped as already imported: 2" in again.output
    db.session.expire_all()
    assert count(Encounter) == 2 and imported_events() == 2


def test_cli_exits_1_with_the_error_report_and_writes_nothing(app, made, tmp_path):
    data = csv_bytes(row(), row(worker="nobody"), row(), row(contact_type="bus", reversals="-1"))
    result = app.test_cli_runner().invoke(args=["import", "encounters", write(tmp_path, data)])
    assert result.exit_code == 1
    assert "line 3, worker: No user has the username “nobody”." in result.stderr
    assert "line 5, contact_type:" in result.stderr
    assert "line 5, reversals: Cannot be negative." in result.stderr
    assert "3 problem(s) on 2 line(s) of 4 row(s) read; nothing was imported." in result.stderr
    db.session.expire_all()
    assert count(Encounter) == 0 and imported_events() == 0


def test_cli_dry_run_writes_nothing(app, made, tmp_path):
    path = write(tmp_path, csv_bytes(row(client_code="AB0101")))
    result = app.test_cli_runner().invoke(args=["import", "encounters", path, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Encounters would be created: 1" in result.output
    assert "Dry run: nothing was written." in result.output
    db.session.expire_all()
    assert count(Encounter) == 0 and count(Participant) == 0


def test_cli_refuses_a_missing_file(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["import", "encounters", str(tmp_path / "no.csv")])
    assert result.exit_code == 2


def test_a_concurrent_import_of_the_same_rows_is_refused_whole(client, login_as, made, monkeypatch):
    login_as("admin")
    assert upload(client, csv_bytes(row(external_id="X1"))).status_code == 302
    # As if another import wrote X1 after this one looked: the unique external_id stops it.
    monkeypatch.setattr("outreach.imports.services.imported_external_ids", lambda ids: set())
    response = upload(client, csv_bytes(row(external_id="X2"), row(external_id="X1")))
    assert response.status_code == 409
    assert "at the same time" in response.get_data(as_text=True)
    assert count(Encounter) == 1 and imported_events() == 1


def test_cli_refuses_a_concurrent_import_whole(app, made, tmp_path, monkeypatch):
    path = write(tmp_path, csv_bytes(row(external_id="X2"), row(external_id="X1")))
    assert app.test_cli_runner().invoke(args=["import", "encounters", path]).exit_code == 0
    monkeypatch.setattr("outreach.imports.services.imported_external_ids", lambda ids: set())
    result = app.test_cli_runner().invoke(args=["import", "encounters", path])
    assert result.exit_code == 1
    assert "at the same time" in result.stderr
    db.session.expire_all()
    assert count(Encounter) == 2 and imported_events() == 1
