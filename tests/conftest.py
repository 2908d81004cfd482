"""Fixtures: an app per database backend, a client, and ``login_as(role)``."""

import os
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from outreach import create_app
from outreach.extensions import db
from tests import factories
from tests.factories import TEST_PASSWORD

FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
_schemas_made: set[str] = set()


def backends() -> list[str]:
    """Return the database backends to run on: SQLite always, PostgreSQL when configured."""
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def worker_suffix() -> str:
    """Return a suffix that keeps parallel test workers' (and test runs') databases apart."""
    return os.environ.get("OUTREACH_TEST_RUN", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


def postgresql_url(database_suffix: str = "") -> str:
    """Return the URL of this worker's PostgreSQL test database, creating it if needed."""
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{url.database}_{worker_suffix()}{database_suffix}"
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise RuntimeError(f"Unexpected test database name {name!r}.")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def database_url(backend: str, tmp_path_factory) -> str:
    """Return the URL for a backend's test database."""
    if backend == "postgresql":
        return postgresql_url()
    path = tmp_path_factory.getbasetemp() / f"outreach-{worker_suffix()}.db"
    return f"sqlite:///{path}"


def make_test_app(url: str, **overrides):
    """Create an app for tests on a database URL."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, **FAST_HASHING, **overrides)


def empty_tables() -> None:
    """Delete every row so the next test starts from nothing (DELETE beats TRUNCATE here)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(params=backends())
def backend(request) -> str:
    """The database backend this test runs on."""
    return request.param


@pytest.fixture
def postgresql(backend):
    """Skip on SQLite a test of what needs a PostgreSQL server (concurrent writers, a
    server connection)."""
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent write transactions or a server connection")


@pytest.fixture
def app(backend, tmp_path_factory):
    """An application bound to an empty schema on the backend."""
    url = database_url(backend, tmp_path_factory)
    application = make_test_app(url)
    with application.app_context():
        if url not in _schemas_made:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
            db.create_all()
            _schemas_made.add(url)
        yield application
        db.session.rollback()
        empty_tables()
        db.session.remove()
        db.engine.dispose()


class CommittingClient(FlaskClient):
    """A client whose requests see what the test wrote, and whose writes the test sees."""

    def open(self, *args, **kwargs):
        """Commit the test's session, run the request, then expire what the test holds."""
        db.session.commit()
        response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    """A client of a twin app with the same settings, so requests get their own context."""
    twin = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"])
    twin.config = app.config
    twin.test_client_class = CommittingClient
    yield twin.test_client()
    with twin.app_context():
        db.engine.dispose()


@pytest.fixture
def login_as(app, client) -> Callable:
    """Create a user with a role and log the client in as them."""

    def log_in(role: str, username: str | None = None, **user_fields):
        user = factories.make_user(role=role, username=username, **user_fields)
        db.session.commit()
        response = client.post(
            "/auth/login", data={"username": user.username, "password": TEST_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return log_in
