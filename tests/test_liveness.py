"""Pooled PostgreSQL connections: no ping while busy, and a killed connection is replaced."""

import time

from sqlalchemy import create_engine, text

from outreach import liveness
from outreach.extensions import db


def pooled_backend_pid(app) -> int:
    """Return the server process id of the connection the pool holds now."""
    with app.app_context(), db.engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def wait_until_readable(app, seconds: float = 5.0) -> bool:
    """Wait until the pooled connection's socket has input; tell whether it came."""
    with app.app_context():
        raw = db.engine.pool._pool.queue[0].dbapi_connection
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if liveness.has_input_waiting(raw):
            return True
        time.sleep(0.02)
    return False


def test_recently_used_connection_is_not_pinged(app, postgresql, monkeypatch):
    pooled_backend_pid(app)
    pings = []
    monkeypatch.setattr(liveness, "ping", lambda connection: pings.append(connection) or True)
    pooled_backend_pid(app)
    assert pings == []


def test_connection_idle_too_long_is_pinged(app, postgresql, monkeypatch):
    pooled_backend_pid(app)
    pings = []
    monkeypatch.setattr(liveness, "ping", lambda connection: pings.append(connection) or True)
    monkeypatch.setattr(liveness, "PING_AFTER_IDLE", -1.0)
    pooled_backend_pid(app)
    assert len(pings) == 1


def test_connection_killed_by_the_server_is_replaced(app, client, login_as, postgresql):
    login_as("worker")
    assert client.get("/").status_code == 200
    old_pid = pooled_backend_pid(app)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    other = create_engine(url, isolation_level="AUTOCOMMIT")
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid})
    other.dispose()
    assert wait_until_readable(app)

    assert client.get("/").status_code == 200
    assert pooled_backend_pid(app) != old_pid
