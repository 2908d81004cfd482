"""End a request's read-only transaction with COMMIT, so PostgreSQL keeps prepared statements.

psycopg prepares a statement on the server after it has run a few times, and forgets every
prepared statement (sending ``DEALLOCATE ALL``) whenever a transaction is rolled back. A
request that only reads ends with the session's rollback, so without this every page view
would plan all its statements again and pay one more round trip. A transaction that wrote
anything, or holds changes not yet flushed, is still rolled back as before.
"""

import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from outreach.extensions import db

#: ``Connection.info`` key: what this connection's current transaction has done so far.
STATE = "outreach_transaction"
#: State key: a statement other than SELECT ran in the transaction.
WROTE = "wrote"
#: ``Session.info`` key: the connection of the session's current transaction.
CONNECTION = "outreach_connection"


@event.listens_for(Engine, "begin")
def transaction_began(connection: Connection) -> None:
    """Start each transaction with no state: read-only, holding no lock of ours."""
    connection.info[STATE] = {}


def transaction_state(connection: Connection) -> dict:
    """Return the state of the connection's current transaction (emptied when one begins)."""
    return connection.info.setdefault(STATE, {})


@event.listens_for(Engine, "before_cursor_execute")
def note_writes(connection, cursor, statement, parameters, context, executemany) -> None:
    """Mark the transaction as written to by anything that is not a plain SELECT."""
    if statement.lstrip()[:6].upper() != "SELECT":
        transaction_state(connection)[WROTE] = True


@event.listens_for(Session, "after_begin")
def remember_connection(session: Session, transaction, connection: Connection) -> None:
    """Remember which connection the session's transaction runs on."""
    session.info[CONNECTION] = connection


def read_only(session: Session) -> bool:
    """Tell whether the session's open transaction ran only SELECTs and holds no changes."""
    connection = session.info.get(CONNECTION)
    if connection is None or connection.closed or not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted:
        return False
    return not transaction_state(connection).get(WROTE, False)


def init_transactions(app: Flask) -> None:
    """Commit a request's read-only transaction before the session is removed."""

    @app.teardown_request
    def commit_read_only(error: BaseException | None) -> None:
        """Commit (not roll back) what only read; anything else is left to the rollback."""
        session = db.session()
        try:
            if error is None and read_only(session):
                session.commit()
        except SQLAlchemyError:
            # The page was already answered; nothing was written, so there is nothing to keep.
            logging.getLogger(__name__).warning("Ending a read-only transaction failed.")
            session.rollback()
        finally:
            session.info.pop(CONNECTION, None)
