"""Files only their owner may read: the SQLite database's, and backups."""

import os
from contextlib import suppress
from pathlib import Path

from sqlalchemy.engine import make_url

#: SQLite gives a database's journal files the mode of the database file itself.
COMPANIONS = ("", "-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite database URL, or None (another database, or in memory)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def create_owner_only(path: Path) -> None:
    """Create an empty file only its owner may read; raise FileExistsError if there is one."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def keep_private(path: Path) -> None:
    """Create the database file owner-only if missing; take group and others off if not."""
    if not path.parent.is_dir():
        return
    with suppress(FileExistsError):
        create_owner_only(path)
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue
