"""Shared column types and helpers: UTC timestamps and string enums."""

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, TypeDecorator


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Naive datetime given; use a timezone-aware UTC datetime.")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        """Return an aware UTC datetime whatever the database gave back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column_type(enum_class: type[enum.StrEnum]) -> String:
    """Return a short string column type wide enough for an enum's values."""
    return String(max(len(member.value) for member in enum_class))


def enum_check(column: str, enum_class: type[enum.StrEnum]) -> str:
    """Return a SQL check expression restricting a column to an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum_class)
    return f"{column} IN ({values})"
