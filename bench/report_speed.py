"""Time the monthly report on a seeded history: ``python -m bench.report_speed``.

Seeds 1,000,000 encounters over five years (as ``bench.run`` does), then times computing the
figures and rendering the PDF and the CSV for the busiest month, and for a month early in the
history, to show the cost does not grow with the length of history.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.run import FAST_HASHING, fresh_schema, postgresql_url, say
from bench.seed import seed
from outreach import create_app
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.reports.csv_export import render_csv
from outreach.reports.figures import monthly_figures
from outreach.reports.pdf import render_pdf
from outreach.reports.periods import Month

TARGET_SECONDS = 2.0


def busiest_and_earliest_months() -> tuple[Month, int, Month]:
    """Return the month with the most encounters, its count, and the second month of history."""
    month_key = func.substr(func.cast(Encounter.occurred_at, db.String), 1, 7)
    rows = db.session.execute(
        select(month_key, func.count()).group_by(month_key).order_by(month_key)
    ).all()
    busiest = max(rows, key=lambda row: row[1])
    return Month.parse(busiest[0]), busiest[1], Month.parse(rows[1][0])


def time_report(month: Month, runs: int) -> dict[str, float]:
    """Return median seconds for the figures, the PDF (figures + render) and the CSV."""
    figures_times, pdf_times, csv_times = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        figures = monthly_figures(month)
        computed = time.perf_counter()
        render_pdf(figures, 11)
        rendered = time.perf_counter()
        render_csv(figures, 11)
        figures_times.append(computed - started)
        pdf_times.append(rendered - started)
        csv_times.append(computed - started + time.perf_counter() - rendered)
        db.session.rollback()
    return {
        "figures": statistics.median(figures_times),
        "pdf": statistics.median(pdf_times),
        "csv": statistics.median(csv_times),
    }


def run_backend(name: str, url: str, encounters: int, runs: int) -> list[str]:
    """Seed one backend and return its table rows."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **FAST_HASHING)
    fresh_schema(app)
    with app.app_context():
        say(f"[{name}] seeding {encounters:,} encounters…")
        seeded = seed(encounters, 2024, say)
        say(f"[{name}] seeded in {seeded.seconds:.0f} s")
        busiest, count, early = busiest_and_earliest_months()
        rows = []
        for label, month in (("busiest", busiest), ("early", early)):
            timing = time_report(month, runs)
            verdict = "pass" if timing["pdf"] < TARGET_SECONDS else "**FAIL**"
            size = count if label == "busiest" else "—"
            say(f"[{name}] {month.key} ({label}): {timing}")
            rows.append(
                f"| {name} | {month.key} ({label}, {size} encounters) | {timing['figures']:.2f} | "
                f"{timing['pdf']:.2f} | {timing['csv']:.2f} | {verdict} |"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the report benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.report_speed")
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.backends.split(","):
            url = postgresql_url() if name == "postgresql" else f"sqlite:///{Path(folder) / 'r.db'}"
            rows += run_backend(name, url, args.encounters, args.runs)
    print("| backend | month | figures (s) | PDF with figures (s) | CSV with figures (s) | < 2 s |")
    print("|---|---|---:|---:|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
