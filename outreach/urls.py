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
