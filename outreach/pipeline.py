"""Send a save's writes without waiting for each answer (PostgreSQL pipeline mode).

A round trip to PostgreSQL costs far more than the INSERT it carries. Inside ``pipelined()``
the statements sent with ``sql.send`` (INSERTs whose answer nobody reads, lock requests) are
queued on the connection and go to the server together with the next statement whose
answer is needed, or with the COMMIT. Every other statement still waits for its answer
before the code goes on, so reads see all earlier writes and ORM flushes can check their
row counts. A failed queued statement raises at the next answer awaited, at the latest at
the commit, and the transaction rolls back as usual. The pipeline ends with the
transaction, before the connection goes back to the pool. SQLite runs everything at once.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from outreach.extensions import db

#: ``Connection.info`` key: the psycopg pipeline the connection is in.
#: ``Session.info`` key: that pipeline's exit, and the connection's info.
PIPELINE = "outreach_pipeline"
#: Execution option of a statement whose answer may arrive later (``sql.send``).
NO_ANSWER = "outreach_no_answer"


@contextmanager
def pipelined() -> Iterator[None]:
    """Queue answerless statements on the session's connection until an answer is needed."""
    session = db.session()
    connection = session.connection()
    if connection.dialect.name != "postgresql" or PIPELINE in session.info:
        yield
        return
    exit_stack = ExitStack()
    connection.info[PIPELINE] = exit_stack.enter_context(
        connection.connection.driver_connection.pipeline()
    )
    # The pool's record of the connection, which outlives the session's transaction.
    session.info[PIPELINE] = (exit_stack, connection.info)
    try:
        yield
    except BaseException as error:
        end_pipeline(session, error)
        raise
    end_pipeline(session)


def end_pipeline(session: Session, error: BaseException | None = None) -> None:
    """Leave pipeline mode, once all answers are in (errors are logged if one is raised)."""
    opened = session.info.pop(PIPELINE, None)
    if opened is None:
        return
    exit_stack, connection_info = opened
    connection_info.pop(PIPELINE, None)
    if error is None:
        exit_stack.close()
    else:
        exit_stack.__exit__(type(error), error, error.__traceback__)


class RolledBack(Exception):
    """The transaction a pipeline served was rolled back."""


@event.listens_for(Session, "after_commit")
def end_with_commit(session: Session) -> None:
    """End the pipeline when its transaction commits, before the connection goes back."""
    end_pipeline(session)


@event.listens_for(Session, "after_rollback")
def end_with_rollback(session: Session) -> None:
    """End the pipeline of a rolled-back transaction, whatever state the error left it in.

    A failed statement (a duplicate key from a concurrent copy of the same form) aborts the
    pipeline; leaving it as if all went well would raise ``PipelineAborted`` out of the
    rollback and turn the caller's handled error into a 500.
    """
    end_pipeline(session, RolledBack())


@event.listens_for(Engine, "after_cursor_execute")
def await_answer(connection, cursor, statement, parameters, context, executemany) -> None:
    """In a pipeline, wait for a statement's answer now unless it was sent expecting none."""
    pipeline = connection.info.get(PIPELINE)
    if pipeline is not None and not context.execution_options.get(NO_ANSWER):
        pipeline.sync()
