"""Safe redirects."""

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """Return ``target`` if it is a path on this site, else ``default``."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 32 for char in target):
        return default
    return target


#: The largest record id a URL, query or form may name (PostgreSQL's integer).
MAX_ID = 2**31 - 1


def record_id(raw: str | None) -> int | None:
    """Return the record id a query or form value names, or None unless a plain number in range."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None
