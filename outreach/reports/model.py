"""The figures object and its keys: plain data, free of Flask, for every output."""

from dataclasses import dataclass, field
from datetime import datetime

from outreach.reports.periods import Month

#: Key figures in report order, with the labels the PDF and dashboard show.
KEY_FIGURES: dict[str, str] = {
    "encounters": "Encounters",
    "anonymous_encounters": "Anonymous encounters",
    "unique_participants": "Unique participants",
    "new_participants": "New participants",
    "secondary_people": "Secondary distribution",
    "syringes_distributed": "Syringes distributed",
    "syringes_collected": "Syringes collected",
    "naloxone_kits_distributed": "Naloxone kits distributed",
    "naloxone_doses_distributed": "Naloxone doses distributed",
    "test_strips_distributed": "Test strips distributed",
    "overdose_reversals_reported": "Overdose reversals reported",
    "referrals_made": "Referrals made",
    "referrals_linked": "Referrals linked",
}
#: Key figures drawn as 12-month trends.
TREND_KEYS = (
    "encounters",
    "unique_participants",
    "syringes_distributed",
    "syringes_collected",
    "naloxone_doses_distributed",
    "overdose_reversals_reported",
)
#: Breakdowns of people, to which small-cell suppression applies.
PEOPLE_PREFIXES = ("gender.", "age_band.", "race.")


@dataclass
class MonthlyFigures:
    """Every figure of one month (and site filter), plus the trend of the 11 months before."""

    month: Month
    site_name: str | None
    program_name: str
    timezone: str
    generated_at: datetime
    #: Ordered ``key → number``: the key figures, then every breakdown key.
    values: dict[str, int | float | None] = field(default_factory=dict)
    #: Oldest first: (month, {trend key: number}).
    trend: list[tuple[Month, dict[str, int]]] = field(default_factory=list)

    def section(self, prefix: str) -> dict[str, int | float | None]:
        """Return the breakdown under a prefix, e.g. ``supply.`` → {item name: number}."""
        return {
            key[len(prefix) :]: value
            for key, value in self.values.items()
            if key.startswith(prefix)
        }


def suppressed(key: str, value, threshold: int):
    """Show a small count of people as ``<threshold`` in shared outputs."""
    if not threshold or not key.startswith(PEOPLE_PREFIXES):
        return value
    if isinstance(value, int) and 1 <= value < threshold:
        return f"<{threshold}"
    return value
