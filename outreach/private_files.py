"""Keep the SQLite database's files readable by their owner only, as backups and secrets are."""

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


def keep_private(path: Path) -> None:
    """Create the database file owner-only if missing; take group and others off if not."""
    if not path.parent.is_dir():
        return
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue
