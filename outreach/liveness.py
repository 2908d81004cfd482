"""Check a pooled PostgreSQL connection before use without a round trip while it is busy.

SQLAlchemy's ``pool_pre_ping`` sends a query on every checkout: one round trip per request.
A connection the server has closed (restart, ``pg_terminate_backend``, idle timeout) has its
socket readable at once, since the server's farewell or the end of the stream is waiting
on it; a healthy idle connection has nothing to read. So a connection is pinged for real
only when its socket is readable or it has sat in the pool for ``PING_AFTER_IDLE`` seconds
(where a silently dropped network path would show), and a failed ping makes the pool
replace it, as ``pool_pre_ping`` does.
"""

import select
import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

#: Seconds a connection may rest in the pool before its checkout pings the server.
PING_AFTER_IDLE = 10.0
CHECKED_IN_AT = "outreach_checked_in_at"


def is_postgresql(dbapi_connection) -> bool:
    """Tell whether a driver connection is psycopg's."""
    return type(dbapi_connection).__module__.startswith("psycopg")


def has_input_waiting(dbapi_connection) -> bool:
    """Tell whether the server has sent something to a connection that asked nothing."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):  # no usable socket: let the ping decide
        return True
    return bool(readable)


def needs_ping(dbapi_connection, checked_in_at: float | None) -> bool:
    """Tell whether a pooled connection must be pinged before it is handed out."""
    if checked_in_at is None or time.monotonic() - checked_in_at > PING_AFTER_IDLE:
        return True
    return has_input_waiting(dbapi_connection)


def ping(dbapi_connection) -> bool:
    """Send a trivial query; tell whether the server answered."""
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception:  # any failure means the connection is unusable
        return False
    return True


def note_checkin(dbapi_connection, connection_record) -> None:
    """Remember when a connection went back to the pool."""
    if connection_record is not None:
        connection_record.info[CHECKED_IN_AT] = time.monotonic()


def check_liveness(dbapi_connection, connection_record, connection_proxy) -> None:
    """Refuse a dead PostgreSQL connection; the pool then opens a fresh one."""
    if not is_postgresql(dbapi_connection):
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    checked_in_at = connection_record.info.get(CHECKED_IN_AT)
    if needs_ping(dbapi_connection, checked_in_at) and not ping(dbapi_connection):
        raise DisconnectionError("connection did not answer a ping")


def watch_pool_connections() -> None:
    """Install the checkout check on every connection pool (once)."""
    if not event.contains(Pool, "checkout", check_liveness):
        event.listen(Pool, "checkin", note_checkin)
        event.listen(Pool, "checkout", check_liveness)
