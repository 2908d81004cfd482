"""Create and restore backups: SQLite's online backup API, or pg_dump / pg_restore."""

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, literal, select, table
from sqlalchemy.engine import URL, make_url

from outreach.extensions import db
from outreach.private_files import create_owner_only, keep_private


class BackupError(RuntimeError):
    """A backup or restore that cannot be carried out, with a message for the operator."""


def database_url() -> URL:
    """Return the URL of the app's database."""
    return make_url(db.engine.url.render_as_string(hide_password=False))


def default_backup_path(instance_dir: Path, url: URL) -> Path:
    """Return a new, dated file name under instance/backups."""
    folder = Path(instance_dir) / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    extension = "db" if url.get_backend_name() == "sqlite" else "dump"
    return folder / f"outreach-{stamp}.{extension}"


def private_new_file(path: Path) -> None:
    """Create an empty file readable by its owner only; refuse to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        create_owner_only(path)
    except FileExistsError as error:
        raise BackupError(f"{path} exists already; choose another file.") from error


def sqlite_file(url: URL) -> Path:
    """Return the file of a SQLite database URL."""
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def backup_create(*, out: Path | None, instance_dir: Path) -> Path:
    """Write a consistent copy of the running database to ``out``; return its path."""
    url = database_url()
    out = Path(out) if out else default_backup_path(instance_dir, url)
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups of {backend} databases are not supported.")
    private_new_file(out)
    try:
        if backend == "sqlite":
            sqlite_copy(sqlite_file(url), out)
        else:
            run_tool("pg_dump", url, ["--format=custom", "--no-owner", f"--file={out}"])
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another, page by page, while others may write."""
    with closing(sqlite3.connect(source)) as reader, closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)


def tool_command(tool: str, url: URL, arguments: list[str]) -> tuple[list[str], dict]:
    """Return a PostgreSQL client's argument list and environment for a URL (no shell)."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} is not installed (apt-get install postgresql-client).")
    command = [path, *arguments, f"--dbname={url.database}"]
    if url.host:
        command.append(f"--host={url.host}")
    if url.port:
        command.append(f"--port={url.port}")
    if url.username:
        command.append(f"--username={url.username}")
    environment = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    if "sslmode" in url.query:
        environment["PGSSLMODE"] = str(url.query["sslmode"])
    return command, environment


def run_tool(tool: str, url: URL, arguments: list[str]) -> None:
    """Run pg_dump or pg_restore; raise BackupError with its message if it fails."""
    command, environment = tool_command(tool, url, arguments)
    result = subprocess.run(  # noqa: S603 (fixed argument list, no shell)
        command, env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = (result.stderr or "").strip().splitlines()
        raise BackupError(f"{tool} failed: " + " | ".join(lines[-3:]))


def tables_holding_rows() -> list[str]:
    """Return the tables of the app's database that hold any row (Alembic's own aside)."""
    names = [name for name in inspect(db.engine).get_table_names() if name != "alembic_version"]
    with db.engine.connect() as connection:
        return [
            name
            for name in names
            if connection.scalar(select(literal(1)).select_from(table(name)).limit(1))
        ]


def backup_restore(*, source: Path, force: bool = False) -> None:
    """Load a backup into the app's database, which must hold no records unless ``force``."""
    url = database_url()
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no backup file {source}.")
    db.session.remove()
    full = tables_holding_rows()
    if full and not force:
        raise BackupError(
            f"The database already holds records (in {len(full)} tables, e.g. {full[0]}). "
            "Restore into an empty database, or add --force to replace everything in it."
        )
    tables_exist = bool(inspect(db.engine).get_table_names())
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        check_sqlite_backup(source)
        keep_private(sqlite_file(url))
        sqlite_copy(source, sqlite_file(url))
    else:
        clean = ["--clean", "--if-exists"] if tables_exist else []
        options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        run_tool("pg_restore", url, [*options, *clean, str(source)])
    db.engine.dispose()


def check_sqlite_backup(source: Path) -> None:
    """Refuse a file that is not an intact SQLite database."""
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as connection:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not a SQLite backup.") from error
    if verdict != "ok":
        raise BackupError(f"{source} is damaged: {verdict}")
