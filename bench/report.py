"""The machine the benchmark ran on, and the figures as a Markdown page (docs/benchmarks.md)."""

import os
import platform
import re
import sqlite3
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.measure import CALIBRATION_LOOPS, OPERATIONS, WARMUP, RawQuery, Series
from bench.seed import Seeded

MEDIAN_TARGET_MS = 15.0
P95_TARGET_MS = 50.0
DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class BackendResult:
    """Everything measured on one database backend."""

    name: str
    server: str
    seeded: Seeded
    series: dict[str, Series]
    raw: list[RawQuery] = field(default_factory=list)
    #: Load averages when its timing began and ended.
    load: str = ""
    #: The fixed workload's time in each round (``bench.measure.calibration_ms``).
    calibration: list[float] = field(default_factory=list)

    def misses(self) -> list[str]:
        """Return the operations that miss the target, with the figure that misses."""
        found = []
        for operation, series in self.series.items():
            if series.median >= MEDIAN_TARGET_MS:
                found.append(f"{self.name} {operation}: median {series.median:.1f} ms")
            if series.p95 >= P95_TARGET_MS:
                found.append(f"{self.name} {operation}: p95 {series.p95:.1f} ms")
        return found


def first_line(path: str, prefix: str) -> str:
    """Return the rest of the first line of a /proc file that starts with a prefix."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine(servers: dict[str, str], load: str) -> list[tuple[str, str]]:
    """Describe the machine and software, read at run time."""
    memory_kib = first_line("/proc/meminfo", "MemTotal").split()[0]
    memory = f"{int(memory_kib) / 1024**2:.1f} GiB" if memory_kib.isdigit() else "unknown"
    rows = [
        ("CPU", first_line("/proc/cpuinfo", "model name")),
        ("CPUs (nproc)", str(len(os.sched_getaffinity(0)))),
        ("Memory", memory),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
    ]
    rows += [(name, server) for name, server in servers.items() if name != "SQLite"]
    rows += [(package, version(package)) for package in ("Flask", "SQLAlchemy", "psycopg")]
    rows.append(("Load average (1, 5, 15 min) at start → end", load))
    return rows


def verdict(series: Series) -> str:
    """Pass or fail against the target."""
    ok = series.median < MEDIAN_TARGET_MS and series.p95 < P95_TARGET_MS
    return "pass" if ok else "**FAIL**"


#: Runs kept in the run log (newest last).
RUN_LOG_LENGTH = 12
RUN_LOG_TITLE = "## Run log"
RUN_LOG_HEAD = [
    "| when (UTC) | commit | backend | calibration | save median / p95 | heavy history "
    "median / p95 | targets |",
    "|---|---|---|---:|---:|---:|---|",
]


def run_log_rows(results: list[BackendResult], when: str, commit: str) -> list[str]:
    """Return this run's rows of the run log: one per backend."""
    rows = []
    for result in results:
        save, heavy = result.series["save"], result.series["history_heavy"]
        calibration = (
            f"{statistics.median(result.calibration):.2f} ms" if result.calibration else "—"
        )
        rows.append(
            f"| {when} | {commit} | {result.name} | {calibration} | "
            f"{save.median:.1f} / {save.p95:.1f} | {heavy.median:.1f} / {heavy.p95:.1f} | "
            f"{'met' if not result.misses() else 'missed'} |"
        )
    return rows


def with_run_log(page: str, previous: str, rows: list[str]) -> str:
    """Add the run log to the page: the previous page's rows, then this run's, the newest
    kept. Figures move with the machine's speed, so one run alone can mislead."""
    section = re.search(rf"^{RUN_LOG_TITLE}$.*?(?=^## |\Z)", previous, re.DOTALL | re.MULTILINE)
    earlier = []
    if section:
        earlier = [
            line
            for line in section.group(0).splitlines()
            if line.startswith("| ") and line not in RUN_LOG_HEAD
        ]
    kept = (earlier + rows)[-RUN_LOG_LENGTH:]
    log = [
        "",
        RUN_LOG_TITLE,
        "",
        f"The last {RUN_LOG_LENGTH} full runs of `make bench`, newest last, each with the "
        "median of the machine-speed loop while it timed (see *Results*): the same code "
        "measures slower when the machine is slower.",
        "",
        *RUN_LOG_HEAD,
        *kept,
    ]
    return page.rstrip("\n") + "\n" + "\n".join(log) + "\n"


def keep_other_sections(page: str, previous: str) -> str:
    """Carry over the sections other bench scripts wrote into the page (``bench.import_speed``
    writes "CSV import"); they say "Written by `python -m bench.…`". Hand notes are dropped."""
    own = set(re.findall(r"^## .*$", page, re.MULTILINE))
    kept = [
        section.rstrip("\n")
        for section in re.findall(r"^## .*?(?=^## |\Z)", previous, re.DOTALL | re.MULTILINE)
        if section.splitlines()[0] not in own and "Written by `python -m bench." in section
    ]
    return page.rstrip("\n") + "".join(f"\n\n{section}" for section in kept) + "\n"


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages: other work on the machine skews figures."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def render(results: list[BackendResult], samples: int, servers: dict[str, str], load: str) -> str:
    """Return the whole docs page."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    misses = [miss for result in results for miss in result.misses()]
    heavy = max(result.seeded.heavy_count for result in results)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {when}. Do not edit the figures by hand: run it again.",
        "",
        "## What is measured",
        "",
        "The target: saving an encounter and opening a participant's history take a median "
        f"under {MEDIAN_TARGET_MS:.0f} ms and a 95th percentile under {P95_TARGET_MS:.0f} ms of "
        "server time, on SQLite and on PostgreSQL, whatever the size of the history.",
        "",
        "- **Data.** Each backend gets a fresh schema (`db.create_all()`) filled with "
        f"{results[0].seeded.encounters:,} encounters over five years: 10 sites, 40 workers, "
        f"about {results[0].seeded.participants:,} participants with a skewed (Pareto) number of "
        f"encounters each, one *heavy* participant with {heavy:,} encounters and one *light* "
        "participant with a single encounter; a quarter of encounters are anonymous; 1–3 supply "
        "lines on 12 catalog items, services on a quarter, a few reversals and soft deletions. "
        "Every encounter also has its hash-chained audit event and its idempotency key, as the "
        "encounter screen writes them. Rows are written in bulk (Core `insert()` executemany on "
        "SQLite, `COPY` on PostgreSQL), then `VACUUM (ANALYZE)` and `CHECKPOINT` (PostgreSQL, "
        "so the bulk load's dirty pages are not written out while requests are timed) or "
        "`ANALYZE` and "
        "`PRAGMA optimize` (SQLite). The stock ledger starts with one receipt of every item "
        "at every site, through the inventory service, so a save reads the running stock "
        "balances and writes its distributed lines as in a program that keeps stock (the "
        "balances are a few rows whatever the ledger's length). Referrals and MI notes start "
        "empty.",
        "- **Server time.** `time.perf_counter()` around the application's WSGI call, for "
        "requests made through Flask's test client logged in as a worker: routing, the login "
        "gate, form checks, every SQL statement, the commit, the template and the response "
        "body, but no network, browser or test-client work (encoding the form, the cookie jar), "
        "which is the client's (`bench.measure.ServerClock`).",
        "- **Operations.** *Save*: `POST /encounters/new` for a random known participant "
        "(`participant_mode=known`), 2–3 supply lines and 1–2 services, a fresh idempotency key "
        "each time; it must answer 302 to the participant's page. *History*: "
        "`GET /participants/<id>` (the page shows the 50 newest encounters) for the heavy "
        "participant, a *medium* one with about 60 encounters (a full page), the light one and "
        "a random one; it must answer 200.",
        f"- **Samples.** {WARMUP} warm-up rounds of every operation are not counted; then "
        f"{samples} requests of each operation, interleaved round by round. Median, 95th "
        "percentile (nearest rank) and maximum are reported. An operation so slow that it "
        "would run for more than `--budget` seconds stops early (the *n* column says how many "
        "samples it got).",
        "",
        "## How to run",
        "",
        "```sh",
        "make bench    # 1,000,000 encounters, SQLite and PostgreSQL; writes this page",
        ".venv/bin/python -m bench.run --encounters 100000 --backends sqlite --samples 100",
        "```",
        "",
        "| option | default | meaning |",
        "|---|---|---|",
        "| `--encounters N` | 1000000 | encounters to seed |",
        "| `--backends LIST` | `sqlite,postgresql` | backends to run, comma-separated |",
        f"| `--samples N` | 300 | timed requests per operation (after {WARMUP} warm-up rounds) |",
        "| `--write-docs` / `--no-write-docs` | written on a full default run | write this page |",
        "| `--profile` | off | print cProfile's top functions for a few requests of each "
        "operation |",
        "| `--seed N` | 2024 | random seed of the generated data |",
        "| `--budget S` | 120 | seconds one operation may run in all before it stops early |",
        "| `--max-load L` | 0.75 × CPUs | before timing, wait until the 1-minute load average "
        "is below L… |",
        "| `--max-wait S` | 600 | …for at most S seconds, then time anyway |",
        "",
        "PostgreSQL is reached through `BENCH_DATABASE_URL` (default "
        "`postgresql+psycopg://postgres@127.0.0.1:5432/outreach_bench`); the database is created "
        "if missing and its `public` schema is dropped and made again on every run. SQLite uses "
        "a file in a temporary directory (WAL mode), removed afterwards.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in machine(servers, load)],
        "",
        "## Results",
        "",
        f"Server time in milliseconds; target median < {MEDIAN_TARGET_MS:.0f} ms and "
        f"p95 < {P95_TARGET_MS:.0f} ms. *CPU median* is the benchmark process's CPU time per "
        "request (`time.process_time()`): it leaves out time spent waiting for the PostgreSQL "
        "server and time the process lost to other work on the machine, so it shows what a "
        "request costs in Python (and, on SQLite, in the database too).",
        "",
        "| backend | operation | n | median | p95 | max | target | CPU median |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for result in results:
        for operation, series in result.series.items():
            lines.append(
                f"| {result.name} | {OPERATIONS[operation]} | {len(series.times)} | "
                f"{series.median:.1f} | "
                f"{series.p95:.1f} | {series.max:.1f} | {verdict(series)} | "
                f"{statistics.median(series.cpu_times):.1f} |"
            )
    lines += [
        "",
        "Load average (1, 5, 15 min) while timing: "
        + "; ".join(f"{result.name} {result.load}" for result in results)
        + f" (on {len(os.sched_getaffinity(0))} CPUs; other work on the machine inflates "
        "the figures, mostly the p95 and max).",
        "",
        *speed_lines(results),
    ]
    lines += ["", "**All targets met.**" if not misses else "**Targets missed:** "]
    if misses:
        lines[-1] += "; ".join(misses) + ". See *Where the time goes* below."
    lines += history_section(results) + seed_section(results) + raw_section(results)
    lines += time_section(results)
    return "\n".join(lines) + "\n"


def speed_lines(results: list[BackendResult]) -> list[str]:
    """The machine's speed while timing, from the fixed workload timed every round."""
    parts = [
        f"{result.name} median {statistics.median(result.calibration):.2f} ms "
        f"(fastest {min(result.calibration):.2f}, slowest {max(result.calibration):.2f})"
        for result in results
        if result.calibration
    ]
    if not parts:
        return []
    return [
        "Machine speed while timing: a fixed pure-Python loop "
        f"(`bench.measure.calibration_ms`, {CALIBRATION_LOOPS:,} iterations) timed once a round "
        "took " + "; ".join(parts) + ". A shared virtual machine can run at half its speed "
        "for minutes at a time; every figure above scales with it, so compare runs by this "
        "line too."
    ]


def history_section(results: list[BackendResult]) -> list[str]:
    """Heavy against light history: the page must not grow with the history."""
    lines = [
        "",
        "## History size",
        "",
        "The participant page reads only the 50 newest encounters through the "
        "`(participant_id, occurred_at)` index, so its time must not depend on how many "
        "encounters a participant has. The heavy and the medium participant both fill the page "
        "with 50 rows, so they compare like with like; the light participant's page has one "
        "row, which is why it is faster.",
        "",
        "| backend | participant | encounters | median | p95 |",
        "|---|---|---:|---:|---:|",
    ]
    for result in results:
        seeded = result.seeded
        for label, key, count in (
            ("heavy", "history_heavy", f"{seeded.heavy_count:,}"),
            ("medium", "history_medium", f"{seeded.medium_count:,}"),
            ("light", "history_light", "1"),
            ("random", "history_random", "varies"),
        ):
            series = result.series[key]
            lines.append(
                f"| {result.name} | {label} | {count} | {series.median:.1f} | {series.p95:.1f} |"
            )
    return lines


def seed_section(results: list[BackendResult]) -> list[str]:
    """How long seeding took and what it wrote."""
    lines = [
        "",
        "## Seeding",
        "",
        "| backend | encounters | participants | rows written | seed time | of which analyze |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        seeded = result.seeded
        lines.append(
            f"| {result.name} | {seeded.encounters:,} | {seeded.participants:,} | "
            f"{sum(seeded.rows.values()):,} | {seeded.seconds:.0f} s | "
            f"{seeded.analyze_seconds:.1f} s |"
        )
    if results:
        rows = ", ".join(
            f"{name} {count:,}" for name, count in sorted(results[0].seeded.rows.items())
        )
        lines += ["", f"Rows per table: {rows}."]
    return lines


def raw_section(results: list[BackendResult]) -> list[str]:
    """The history query on the database alone, with its plan."""
    lines = [
        "",
        "## The history query on the database",
        "",
        "The `participant_history` SELECT the page runs (captured from a request, with its "
        "joined sites, workers and participant), executed directly on a connection and fetched "
        "in full, in milliseconds. The plans show the `ix_encounters_participant_occurred` index "
        "at work.",
        "",
        "| backend | participant | encounters | runs | median | p95 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        for raw in result.raw:
            lines.append(
                f"| {result.name} | {raw.label} | {raw.encounters:,} | {len(raw.times)} | "
                f"{raw.median:.2f} | {raw.p95:.2f} |"
            )
    for result in results:
        for raw in result.raw:
            how = (
                "EXPLAIN (ANALYZE, BUFFERS)"
                if result.name == "postgresql"
                else "EXPLAIN QUERY PLAN"
            )
            lines += ["", f"{result.name}, {raw.label} participant — `{how}`:", "", "```"]
            lines += [*raw.plan, "```"]
    return lines


def time_section(results: list[BackendResult]) -> list[str]:
    """SQL time per request and the SELECT that costs most."""
    lines = [
        "",
        "## Where the time goes",
        "",
        "*total* and *SQL* are medians per request in milliseconds; *SQL* counts "
        "`cursor.execute()` only, not fetching rows nor the commit. To find a costly query, the "
        "SELECTs of the last timed request are run again on a plain connection with "
        "`fetchall()`; the costliest is shown with its time and the rows it returns.",
        "",
        "| backend | operation | total | SQL | statements | costliest SELECT (replayed) "
        "| its time | rows |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for result in results:
        for operation, series in result.series.items():
            statement, median, rows = series.costliest_select()
            shown = statement if len(statement) <= 110 else statement[:107] + "…"
            lines.append(
                f"| {result.name} | {operation} | {series.median:.1f} | "
                f"{statistics.median(series.sql_times):.1f} | "
                f"{statistics.median(series.statement_counts):.0f} | `{shown}` | "
                f"{median:.2f} | {rows:,} |"
            )
    return lines
