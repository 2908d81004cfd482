"""Calendar months in the program's time zone, as UTC bounds."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """Read ``YYYY-MM``; raise ValueError with a clear message otherwise."""
        try:
            year, month = (int(part) for part in text.strip().split("-"))
            date(year, month, 1)
        except (ValueError, TypeError) as error:
            raise ValueError("Give the month as YYYY-MM, e.g. 2026-10.") from error
        if not 2000 <= year <= 2100:
            raise ValueError("Give a month between 2000 and 2100.")
        return cls(year, month)

    @classmethod
    def containing(cls, moment: datetime, zone: ZoneInfo) -> "Month":
        """Return the month a moment falls in, in a time zone."""
        local = moment.astimezone(zone)
        return cls(local.year, local.month)

    def shifted(self, months: int) -> "Month":
        """Return the month ``months`` later (or earlier when negative)."""
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Return [start, end) of the month in UTC, midnight to midnight local time."""
        following = self.shifted(1)
        start = datetime(self.year, self.month, 1, tzinfo=zone)
        end = datetime(following.year, following.month, 1, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def key(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """``October 2026``."""
        return date(self.year, self.month, 1).strftime("%B %Y")

    @property
    def short_label(self) -> str:
        """``Oct 26``."""
        return date(self.year, self.month, 1).strftime("%b %y")
