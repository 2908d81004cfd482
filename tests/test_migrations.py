"""Migrations: one head; up to head builds exactly the models' schema; down to nothing; up again."""

import logging
import os
import re
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.inventory.models import StockBalance, StockMovement
from tests import factories
from tests.conftest import make_test_app, worker_suffix

pytestmark = pytest.mark.slow

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def script_directory() -> ScriptDirectory:
    """Return the Alembic scripts of the migrations folder."""
    alembic_config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(alembic_config)


def fresh_postgresql_database() -> str:
    """Drop and create this worker's migration database; return its URL."""
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{url.database}_migrations_{worker_suffix()}"
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise RuntimeError(f"Unexpected test database name {name!r}.")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def keep_logging():
    """Undo alembic's fileConfig, which disables every logger it does not name."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {
        name: (logger.disabled, logger.level)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.disabled, old_level = loggers.get(name, (False, logging.NOTSET))
            logger.setLevel(old_level)


@pytest.fixture
def empty_app(backend, tmp_path, keep_logging):
    """An app context on an empty database of the backend, with no tables at all."""
    if backend == "postgresql":
        url = fresh_postgresql_database()
    else:
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    app = make_test_app(url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def upgrade() -> None:
    """Migrate the database to the newest revision."""
    flask_migrate.upgrade(directory=str(MIGRATIONS))


def current_revision() -> str | None:
    """Return the revision the database is at."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_differences() -> list:
    """Compare the migrated schema with the models, with the options the app migrates with."""
    # No difference is ignored, on SQLite either: the schema uses only what SQLite reflects
    # faithfully (string enums with CHECK constraints, named constraints, batch mode), so
    # any difference there is a real one.
    options = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=dict(options))
        return compare_metadata(context, db.metadata)


def table_names() -> list[str]:
    """Return the names of the tables in the database."""
    return sorted(inspect(db.engine).get_table_names())


def test_the_migrations_have_exactly_one_head():
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"merge the heads: {heads}"


def test_every_migration_can_be_undone():
    for script in script_directory().walk_revisions():
        assert "def downgrade" in Path(script.path).read_text(), script.revision
        assert not re.search(r"def downgrade\(\):\s+pass\b", Path(script.path).read_text())


def test_upgrade_to_head_builds_exactly_the_models(empty_app):
    upgrade()
    assert current_revision() == script_directory().get_current_head()
    assert schema_differences() == []
    model_tables = {table.name for table in db.metadata.sorted_tables}
    assert set(table_names()) == model_tables | {"alembic_version"}


def test_downgrade_to_base_leaves_nothing_and_upgrade_works_again(empty_app):
    upgrade()
    flask_migrate.downgrade(directory=str(MIGRATIONS), revision="base")
    assert table_names() == ["alembic_version"]
    assert current_revision() is None
    if db.engine.dialect.name == "postgresql":
        assert inspect(db.engine).get_sequence_names() == []
    upgrade()
    assert current_revision() == script_directory().get_current_head()
    assert schema_differences() == []


def test_the_balances_migration_fills_balances_from_the_ledger_and_keeps_them(empty_app):
    flask_migrate.upgrade(directory=str(MIGRATIONS), revision="a8_security")
    site, item = factories.make_site("Office"), factories.make_item("Syringes")

    def line(quantity: int) -> None:
        db.session.add(
            StockMovement(
                kind="received",
                site_id=site.id,
                item_id=item.id,
                quantity=quantity,
                occurred_at=utcnow(),
            )
        )
        db.session.commit()

    line(20)
    line(5)
    upgrade()
    line(7)
    on_hand = db.session.scalars(select(StockBalance.on_hand)).all()
    assert on_hand == [32]


def test_the_external_id_migration_keeps_only_digests(empty_app):
    from outreach.clients.services import code_key
    from outreach.encounters.models import Encounter
    from outreach.imports.services import external_id_digest

    flask_migrate.upgrade(directory=str(MIGRATIONS), revision="b1_mi_note_version")
    worker, site = factories.make_user("worker"), factories.make_site("Office")
    for external_id in ("jane.doe-1985-03-04", None):
        factories.make_encounter(worker, site).external_id = external_id
    db.session.commit()
    upgrade()
    kept = db.session.scalars(select(Encounter.external_id).order_by(Encounter.id)).all()
    assert kept == [external_id_digest("jane.doe-1985-03-04", code_key()), None]
    upgrade()  # at head already: nothing changes
