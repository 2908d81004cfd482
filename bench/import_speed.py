"""Time the CSV import of encounters: ``python -m bench.import_speed [--rows N] [--backends L]``.

Generates a file of past encounters (50,000 rows by default) against a fresh schema with 10
sites, 40 workers, the starter supply catalog and 2,000 participants already on record, then
times a dry run, the import itself (commit included) and a second import of the same file,
where every row is skipped. A default run writes the "CSV import" section of
docs/benchmarks.md.
"""

import argparse
import csv
import io
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.report import load_average
from bench.run import FAST_HASHING, fresh_schema, postgresql_url
from outreach import create_app
from outreach.clients.codes import card_code, code_digest
from outreach.clients.models import Participant
from outreach.clients.services import code_key
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.imports.parser import COLUMNS
from outreach.imports.services import import_file
from outreach.supplies.cli import DEFAULT_ITEMS
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site, User

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADING = "## CSV import"
DEFAULT_ROWS = 50_000
TARGET = 5_000
CODES = 8_000
ON_RECORD = 2_000
LETTERS = "ABCDEFGHJKLMNPRSTVWZ"


def say(message: str) -> None:
    """Print progress at once."""
    print(message, flush=True)


def reference_data(rng: random.Random) -> tuple[list[str], list[str], list[str], list[str]]:
    """Add sites, workers, the catalog and participants; return the names a file may use."""
    sites = [f"Site {n}" for n in range(1, 11)]
    workers = [f"worker{n}" for n in range(1, 41)]
    db.session.execute(insert(Site.__table__), [{"name": name, "kind": "fixed"} for name in sites])
    db.session.execute(
        insert(User.__table__),
        [{"username": name, "password_hash": "x", "role": "worker"} for name in workers],
    )
    db.session.execute(
        insert(SupplyItem.__table__),
        [
            {
                "name": name,
                "category": category,
                "unit": unit,
                "units_per_pack": per_pack,
                "doses_per_unit": doses,
                "max_per_encounter": most,
                "display_order": 10,
            }
            for name, category, unit, per_pack, doses, most in DEFAULT_ITEMS
        ],
    )
    codes = sorted(
        {
            "".join(rng.choices(LETTERS, k=2)) + f"{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}"
            for _ in range(CODES * 2)
        }
    )[:CODES]
    rng.shuffle(codes)
    key = code_key()
    on_record = []
    for code in codes[:ON_RECORD]:
        digest = code_digest(code, key, 0)
        on_record.append({"code_hash": digest, "suffix": 0, "card_code": card_code(digest)})
    db.session.execute(insert(Participant.__table__), on_record)
    db.session.commit()
    return sites, workers, [item[0] for item in DEFAULT_ITEMS], codes


def make_file(rows: int, rng: random.Random, names) -> bytes:
    """Write a CSV of ``rows`` encounters over the last three years."""
    sites, workers, items, codes = names
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    for n in range(rows):
        when = start + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        identified = rng.random() < 0.75
        supplies = "; ".join(
            f"{name}={rng.randint(1, 5)}" for name in rng.sample(items, rng.randint(1, 3))
        )
        writer.writerow(
            [
                when.strftime("%Y-%m-%d %H:%M") if n % 2 else when.isoformat(timespec="minutes"),
                rng.choice(sites),
                rng.choice(workers),
                rng.choice(["street", "mobile", "fixed_site"]),
                rng.choice(codes) if identified else "",
                rng.randint(1950, 2003) if identified and rng.random() < 0.5 else "",
                rng.choice(["woman", "man", "nonbinary"]) if identified else "",
                rng.choice(["black", "white", "hispanic_latino;white"]) if identified else "",
                supplies,
                rng.choice([0, 0, 10, 25]),
                1 if rng.random() < 0.02 else 0,
                rng.choice(["", "", "", "", "moud", "housing:linked"]),
                rng.choice(["", "", "", "hiv_test", "education;wound_care"]),
                rng.choice([0, 0, 0, 2]),
                f"OLD-{n + 1}",
            ]
        )
    return out.getvalue().encode()


def timed(action) -> tuple[float, float, object]:
    """Return (wall-clock seconds, this process's CPU seconds, result) of an action."""
    began, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - began, time.process_time() - cpu, result


def run_backend(name: str, url: str, rows: int, seed: int) -> dict:
    """Time a dry run, an import and a re-run on one backend."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **FAST_HASHING)
    server = fresh_schema(app)
    rng = random.Random(seed)
    with app.app_context():
        data = make_file(rows, rng, reference_data(rng))
        say(f"[{name}] file: {rows:,} rows, {len(data) / 1e6:.1f} MB")

        def run(dry_run: bool):
            report = import_file(data=data, dry_run=dry_run, actor=None)
            assert report.ok, report.errors[:5]  # noqa: S101
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
            return report

        dry_seconds, _, _ = timed(lambda: run(True))
        import_seconds, import_cpu, report = timed(lambda: run(False))
        rerun_seconds, _, rerun = timed(lambda: run(False))
        written = db.session.scalar(select(func.count()).select_from(Encounter))
        assert written == rows and rerun.skipped == rows  # noqa: S101
        db.session.remove()
        db.engine.dispose()
    result = {
        "backend": name,
        "server": server,
        "rows": rows,
        "dry": dry_seconds,
        "import": import_seconds,
        "cpu": import_cpu,
        "rerun": rerun_seconds,
        "participants": report.participants_created,
        "referrals": report.referrals_created,
    }
    say(
        f"[{name}] dry run {dry_seconds:.2f} s, import {import_seconds:.2f} s "
        f"({rows / import_seconds:,.0f} rows/s; CPU {import_cpu:.2f} s), "
        f"re-run {rerun_seconds:.2f} s"
    )
    return result


def render(results: list[dict], load: str) -> str:
    """Return the "CSV import" section of the benchmarks page."""
    lines = [
        HEADING,
        "",
        f"Written by `python -m bench.import_speed` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Target: at least {TARGET:,} rows per second on SQLite, the import's commit included.",
        "",
        "A generated file of past encounters over three years (three quarters with a participant "
        f"code among {CODES:,}, {ON_RECORD:,} of them already on record; 1–3 supply lines, "
        "services, referrals and demographics on some rows, an `external_id` on each) is "
        "imported into a fresh schema with 10 sites, 40 workers and the starter catalog. "
        "*Dry run*: every row checked and the counts made, nothing written. *Import*: checked "
        "and written in one transaction with bulk inserts, then committed. *Re-run*: the same "
        "file again, every row skipped by its `external_id`.",
        "",
        "| backend | rows | dry run (s) | import (s) | rows/s | import CPU (s) | re-run (s) "
        "| participants made | referrals made | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        speed = result["rows"] / result["import"]
        verdict = (
            ("pass" if speed >= TARGET else "**FAIL**") if result["backend"] == "sqlite" else ""
        )
        lines.append(
            f"| {result['backend']} {result['server'].split(' ')[0]} | {result['rows']:,} "
            f"| {result['dry']:.2f} | {result['import']:.2f} | {speed:,.0f} "
            f"| {result['cpu']:.2f} | {result['rerun']:.2f} | {result['participants']:,} "
            f"| {result['referrals']:,} | {verdict} |"
        )
    lines += [
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
        f"(1, 5, 15 min) at start → end: {load}. Times are wall-clock, so a busy machine "
        "gives lower figures; *import CPU* is this process's CPU time, which "
        "other work on the machine hardly changes (on SQLite all the work is in this process; "
        "PostgreSQL's server time is not in it).",
        "",
        "Run it again with `.venv/bin/python -m bench.import_speed` (options: `--rows N`, "
        "`--backends sqlite,postgresql`, `--no-write-docs`). PostgreSQL is reached through "
        "`BENCH_DATABASE_URL`, as for `make bench`, and its `public` schema is dropped and made "
        "again: do not run both at once on the same database.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace the "CSV import" section of the benchmarks page, or append it."""
    page = DOCS_PATH.read_text() if DOCS_PATH.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(page):
        page = pattern.sub(lambda _: section + "\n", page, count=1).rstrip("\n") + "\n"
    else:
        page = page.rstrip("\n") + "\n\n" + section
    DOCS_PATH.write_text(page)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen backends, print the figures and write the docs section."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_speed")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--write-docs", action=argparse.BooleanOptionalAction, default=None)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    results, load = [], load_average()
    for name in (part.strip() for part in args.backends.split(",")):
        if name == "sqlite":
            directory = Path(tempfile.mkdtemp(prefix="outreach-import-bench-"))
            try:
                url = f"sqlite:///{directory / 'bench.db'}"
                results.append(run_backend(name, url, args.rows, args.seed))
            finally:
                shutil.rmtree(directory, ignore_errors=True)
        elif name == "postgresql":
            results.append(run_backend(name, postgresql_url(), args.rows, args.seed))
        else:
            parser.error("--backends takes sqlite and/or postgresql")
    if args.write_docs or (args.write_docs is None and args.rows == DEFAULT_ROWS):
        write_section(render(results, f"{load} → {load_average()}"))
        say(f"Wrote the {HEADING[3:]} section of {DOCS_PATH}")
    slow = [r for r in results if r["backend"] == "sqlite" and r["rows"] / r["import"] < TARGET]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
