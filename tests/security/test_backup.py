"""Backups: ``flask backup create`` and ``restore`` bring back every record, on both backends."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from outreach.audit.services import record
from outreach.auth import mfa
from outreach.backup.services import tool_command
from outreach.extensions import db
from tests import factories
from tests.conftest import make_test_app, worker_suffix
from tests.security.helpers import enrol


def busy_day() -> None:
    """Fill the database with one of everything: staff, sites, participants, encounters."""
    site = factories.make_site("Van")
    worker = factories.make_user("worker", username="wanda", sites=[site])
    enrol(worker)
    mfa.new_recovery_codes(worker.id)
    syringes = factories.make_item("Syringes 1 mL", units_per_pack=10)
    naloxone = factories.make_item("Nasal naloxone", category="naloxone", doses_per_unit=2)
    for number in range(5):
        participant = factories.make_participant(f"AB{number:02d}85", gender="woman")
        factories.make_encounter(
            worker, site, participant, supplies={syringes: 3, naloxone: number + 1}
        )
    factories.make_encounter(worker, site, people_count=4)
    record("test.marker", "site", site.id, data={"n": 1})
    db.session.commit()


def contents() -> dict[str, list]:
    """Return every row of every table, sorted."""
    db.session.commit()
    return {
        table.name: sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
        for table in db.metadata.sorted_tables
    }


@contextmanager
def empty_database(backend: str, tmp_path: Path):
    """Yield the URL of a brand-new, empty database of the backend; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{url.database}_{worker_suffix()}_restore"
    assert re.fullmatch(r"[a-z0-9_]+", name)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(app, *arguments: str):
    """Run a flask command against an app; return the result."""
    return app.test_cli_runner().invoke(args=list(arguments))


def test_a_backup_restores_into_an_empty_database_with_every_record(app, backend, tmp_path):
    busy_day()
    before = contents()
    assert sum(map(len, before.values())) > 30
    out = tmp_path / "nightly.backup"
    made = run(app, "backup", "create", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert f"Backup written to {out}" in made.output
    assert out.stat().st_mode & 0o777 == 0o600, "only the owner may read a backup"
    with empty_database(backend, tmp_path) as url:
        restored_app = make_test_app(url)
        restored_file = tmp_path / "restored.db"
        if backend == "sqlite":
            restored_file.chmod(0o644)  # made by hand, say, before the restore
        head = re.search(r"^Audit head in this backup: (\S+)$", made.output, re.MULTILINE)
        with restored_app.app_context():
            result = run(restored_app, "backup", "restore", str(out))
            assert result.exit_code == 0, result.output
            after = contents()
            # The monthly restore test: the head printed with the backup checks out.
            checked = run(restored_app, "audit", "verify", "--head", head.group(1))
            assert checked.exit_code == 0, checked.output
            db.engine.dispose()
        if backend == "sqlite":
            assert restored_file.stat().st_mode & 0o777 == 0o600, "restored owner-only"
    assert set(after) == set(before)
    restore_event = after["audit_events"].pop()
    assert "backup.restore" in restore_event
    for name, rows in before.items():
        assert after[name] == rows, f"{name} differs after the restore"


def test_restore_refuses_a_database_that_holds_records(app, tmp_path):
    busy_day()
    out = tmp_path / "copy.backup"
    assert run(app, "backup", "create", "--out", str(out)).exit_code == 0
    factories.make_site("Added after the backup")
    db.session.commit()
    before = contents()
    refused = run(app, "backup", "restore", str(out))
    assert refused.exit_code == 1
    assert "already holds records" in refused.output and "--force" in refused.output
    assert contents() == before
    forced = run(app, "backup", "restore", "--force", str(out))
    assert forced.exit_code == 0, forced.output
    names = db.session.scalars(select(text("name")).select_from(text("sites"))).all()
    assert names == ["Van"], "the backup replaced what was there"


def test_create_never_overwrites_a_file(app, tmp_path):
    out = tmp_path / "exists.backup"
    out.write_text("keep me")
    result = run(app, "backup", "create", "--out", str(out))
    assert result.exit_code == 1 and "exists already" in result.output
    assert out.read_text() == "keep me"


def test_create_writes_under_the_instance_folder_by_default(app, backend, tmp_path):
    app.instance_path = str(tmp_path / "instance")
    result = run(app, "backup", "create")
    assert result.exit_code == 0, result.output
    (made,) = (tmp_path / "instance" / "backups").iterdir()
    assert made.suffix == (".db" if backend == "sqlite" else ".dump")
    assert (tmp_path / "instance" / "backups").stat().st_mode & 0o777 == 0o700


def test_restore_refuses_what_is_not_a_backup(app, backend, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database " * 100)
    with empty_database(backend, tmp_path) as url:
        empty = make_test_app(url)
        with empty.app_context():
            result = run(empty, "backup", "restore", str(junk))
            db.engine.dispose()
    refusal = "is not a SQLite backup" if backend == "sqlite" else "pg_restore failed"
    assert result.exit_code == 1 and refusal in result.output, result.output
    missing = run(app, "backup", "restore", str(tmp_path / "nowhere.db"))
    assert missing.exit_code == 1 and "There is no backup file" in missing.output


def test_postgresql_tools_get_the_url_in_parts_and_the_password_in_the_environment(app):
    url = make_url("postgresql+psycopg://outreach:s3cret%20pw@db.internal:5433/outreach")
    url = url.update_query_dict({"sslmode": "require"})
    command, environment = tool_command("pg_dump", url, ["--format=custom"])
    assert command[1:] == [
        "--format=custom",
        "--dbname=outreach",
        "--host=db.internal",
        "--port=5433",
        "--username=outreach",
    ]
    assert not any("s3cret" in part for part in command)
    assert environment["PGPASSWORD"] == "s3cret pw"
    assert environment["PGSSLMODE"] == "require"


def test_the_sqlite_database_files_are_readable_by_their_owner_only(tmp_path):
    database = tmp_path / "outreach.db"
    app = make_test_app(f"sqlite:///{database}")
    with app.app_context():
        db.create_all()
        factories.make_site("Van")
        db.session.commit()
        files = [path for path in tmp_path.iterdir() if path.name.startswith("outreach.db")]
        assert {path.name for path in files} >= {"outreach.db"}
        assert all(path.stat().st_mode & 0o777 == 0o600 for path in files), files
        db.engine.dispose()
    database.chmod(0o644)
    make_test_app(f"sqlite:///{database}")
    assert database.stat().st_mode & 0o777 == 0o600, "an existing file is made owner-only"


def test_a_relative_sqlite_path_is_made_private_where_it_is_opened(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("outreach.INSTANCE_DIR", tmp_path / "instance")
    app = make_test_app("sqlite:///relative.db")
    with app.app_context():
        db.create_all()
        opened = Path(db.engine.url.database)
        db.engine.dispose()
    assert opened == tmp_path / "instance" / "relative.db"
    assert opened.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "relative.db").exists(), "no stray file beside the working folder"
