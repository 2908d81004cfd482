"""The monthly figures as ``key,value`` CSV rows."""

import csv
import io

from outreach.reports.model import MonthlyFigures, for_sharing


def render_csv(figures: MonthlyFigures, threshold: int) -> str:
    """Return the figures as CSV text, people breakdowns suppressed below the threshold."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key", "value"])
    for key, value in for_sharing(figures, threshold).values.items():
        writer.writerow([safe_cell(key), "" if value is None else value])
    return buffer.getvalue()


def safe_cell(text: str) -> str:
    """Defuse spreadsheet formulas in names (an item called ``=cmd()`` stays text)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
