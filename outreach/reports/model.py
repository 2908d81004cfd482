"""The figures object and its keys: plain data, free of Flask, for every output."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from outreach.reports.periods import Month

#: Key figures in report order, with the labels the PDF and dashboard show.
KEY_FIGURES: dict[str, str] = {
    "encounters": "Encounters",
    "anonymous_encounters": "Anonymous encounters",
    "anonymous_people": "People in anonymous encounters, by head count",
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
PEOPLE_PREFIXES = ("gender.", "age_band.", "race.", "zip3.", "substance.", "injects.")
#: How a hidden count of people reads in shared outputs (the same for every hidden cell).
SUPPRESSED = "suppressed"


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


def for_sharing(figures: MonthlyFigures, threshold: int) -> MonthlyFigures:
    """Return the figures as shared outputs show them: small counts of people hidden."""
    if not threshold:
        return figures
    values = dict(figures.values)
    for prefix in PEOPLE_PREFIXES:
        cells = figures.section(prefix)
        values.update((prefix + code, shown) for code, shown in hidden(cells, threshold).items())
    return replace(figures, values=values)


def hidden(cells: dict[str, int | float | None], threshold: int) -> dict[str, object]:
    """Hide counts from 1 to ``threshold - 1``, with enough others that no hidden count can be
    worked out.

    A breakdown adds up to a total the report prints (unique participants), so the hidden
    counts add up to the total minus the counts shown: one lone hidden count would be that
    difference, and two hidden 1s would be known from a difference of 2. So the smallest
    other counts, non-zero ones first, are hidden too until the hidden counts add up to at
    least the threshold (or everything is hidden), and every hidden count reads the same.
    """
    counts = {code: value for code, value in cells.items() if isinstance(value, int)}
    small = {code for code, value in counts.items() if 0 < value < threshold}
    if small:
        others = sorted(
            (value == 0, value, index, code)
            for index, (code, value) in enumerate(counts.items())
            if code not in small
        )
        hidden_sum = sum(counts[code] for code in small)
        for _, value, _, code in others:
            if hidden_sum >= threshold:
                break
            small.add(code)
            hidden_sum += value
    return {code: SUPPRESSED if code in small else value for code, value in cells.items()}
