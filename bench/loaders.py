"""Write generated rows in bulk: Core executemany on SQLite, ``COPY FROM STDIN`` on PostgreSQL."""

from sqlalchemy import Connection, Table

from outreach.extensions import db


class Loader:
    """Buffers rows per table and writes them in batches, parents before children."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.buffers: dict[Table, tuple[list[str], list[tuple]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: Table, columns: list[str], row: tuple) -> None:
        """Queue one row for a table."""
        self.buffers.setdefault(table, (columns, []))[1].append(row)

    def flush(self) -> None:
        """Write every buffer in dependency order and commit."""
        for table in db.metadata.sorted_tables:
            if table in self.buffers:
                columns, rows = self.buffers.pop(table)
                if rows:
                    self.write(table, columns, rows)
                    self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        self.connection.commit()

    def write(self, table: Table, columns: list[str], rows: list[tuple]) -> None:
        """Write rows with Core executemany; PostgreSQL overrides this with COPY."""
        self.connection.execute(
            table.insert(), [dict(zip(columns, row, strict=True)) for row in rows]
        )


class CopyLoader(Loader):
    """PostgreSQL: stream rows with COPY FROM STDIN through psycopg."""

    def write(self, table: Table, columns: list[str], rows: list[tuple]) -> None:
        """Copy rows into the table."""
        raw = self.connection.connection.driver_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
