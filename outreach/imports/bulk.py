"""Bulk inserts inside the session's transaction: COPY on PostgreSQL, executemany on SQLite.

Measured on 50,000 encounters (docs/benchmarks.md, "CSV import"): SQLAlchemy's batched
``INSERT … VALUES … RETURNING`` is fast on SQLite, but on PostgreSQL psycopg spends most of
the time re-parsing each huge batched statement, so there rows go through ``COPY`` with ids
taken from the table's sequence beforehand. SQLite cannot promise the order of RETURNING rows
(and SQLAlchemy sorts them only by inserting one row at a time), so there each row is found
again by a unique key it carries.
"""

from collections.abc import Sequence

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db

#: Rows written after which PostgreSQL's statistics of the tables are refreshed.
ANALYZE_AFTER = 1000

#: Take n ids from a table's sequence (PostgreSQL); they are never handed out twice.
NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")


def on_postgresql() -> bool:
    """Tell whether the session writes to PostgreSQL."""
    return db.session.get_bind().dialect.name == "postgresql"


def insert_rows(table: Table, rows: list[dict]) -> None:
    """Insert rows that need no ids back."""
    if not rows:
        return
    if on_postgresql():
        copy_rows(table, rows)
    else:
        db.session.execute(insert(table), rows)


def insert_with_ids(table: Table, rows: list[dict], key: Sequence[str]) -> list[int]:
    """Insert rows and return their new ids in row order; ``key`` columns are unique per row."""
    if not rows:
        return []
    if on_postgresql():
        ids = list(db.session.scalars(NEXT_IDS, {"table": table.name, "n": len(rows)}))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        copy_rows(table, rows)
        return ids
    statement = insert(table).returning(table.c.id, *(table.c[name] for name in key))
    found = {tuple(values): new_id for new_id, *values in db.session.execute(statement, rows)}
    return [found[tuple(row[name] for name in key)] for row in rows]


def copy_rows(table: Table, rows: list[dict]) -> None:
    """Stream rows into a PostgreSQL table with COPY, in the session's transaction."""
    columns = list(rows[0])
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])
    except connection.dialect.dbapi.IntegrityError as error:
        # Raised as SQLAlchemy raises it, so callers handle a duplicate the same everywhere.
        raise IntegrityError(statement, None, error) from error


def refresh_statistics(tables: Sequence[Table], rows_written: int) -> None:
    """After a large import on PostgreSQL, ANALYZE the tables written (in this transaction).

    Until autovacuum gets to them the planner would take the tables for as small as before and
    scan them whole: a re-run of a 50,000-row import took minutes instead of seconds.
    """
    if rows_written >= ANALYZE_AFTER and on_postgresql():
        for table in tables:
            db.session.execute(text(f"ANALYZE {table.name}"))
