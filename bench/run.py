"""Run the speed benchmark: ``python -m bench.run [--encounters N] [--backends LIST] ...``.

For each backend: a fresh schema, a million seeded encounters, then server time of saving an
encounter and of opening a participant's history, through the Flask test client. A full run
with the defaults writes docs/benchmarks.md.
"""

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.measure import Bench, raw_history, replay_selects
from bench.report import (
    DOCS_PATH,
    BackendResult,
    keep_other_sections,
    load_average,
    render,
    run_log_rows,
    with_run_log,
)
from bench.seed import seed
from outreach import create_app
from outreach.extensions import db

DEFAULT_ENCOUNTERS = 1_000_000
DEFAULT_BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/outreach_bench"
#: Cheap Argon2 settings: logging in is not what is measured.
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
RAW_RUNS = 200


def say(message: str) -> None:
    """Print progress at once, even when the output goes to a file."""
    print(message, flush=True)


def postgresql_url() -> str:
    """Return the benchmark database URL, creating the database if it is missing."""
    url = make_url(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRESQL_URL)
    url = url.set(drivername="postgresql+psycopg")
    if not re.fullmatch(r"[A-Za-z0-9_]+", url.database or ""):
        raise SystemExit(f"Unexpected benchmark database name {url.database!r}.")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        query = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not connection.scalar(query, {"name": url.database}):
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def fresh_schema(app: Flask) -> str:
    """Drop what a previous run left, create every table; return the server's version."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
                server = connection.exec_driver_sql("SHOW server_version").scalar()
                buffers = connection.exec_driver_sql("SHOW shared_buffers").scalar()
            server = f"{server} (shared_buffers {buffers}, default settings otherwise)"
        else:
            with db.engine.connect() as connection:
                server = connection.exec_driver_sql("SELECT sqlite_version()").scalar()
        db.create_all()
    return server


def wait_for_quiet(name: str, max_load: float, max_wait: float) -> None:
    """Wait (up to ``max_wait`` seconds) until the 1-minute load average is below ``max_load``.

    Other work on the machine (test suites, browsers) inflates server times, mostly the p95.
    """
    deadline = time.monotonic() + max_wait
    if os.getloadavg()[0] >= max_load:
        say(f"[{name}] waiting for the load average to fall below {max_load:.1f}…")
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        time.sleep(5)
    if os.getloadavg()[0] >= max_load:
        say(f"[{name}] still busy ({load_average()}); timing anyway")


def run_backend(name: str, url: str, args: argparse.Namespace) -> tuple[BackendResult, str]:
    """Seed and measure one backend."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **FAST_HASHING)
    server = fresh_schema(app)
    say(f"[{name}] seeding {args.encounters:,} encounters…")
    with app.app_context():
        seeded = seed(args.encounters, args.seed, say)
    say(
        f"[{name}] seeded in {seeded.seconds:.0f} s (analyze {seeded.analyze_seconds:.1f} s); "
        f"participants {seeded.heavy_id} (heavy), {seeded.medium_id} (medium) and "
        f"{seeded.light_id} (light) have {seeded.heavy_count:,}, {seeded.medium_count} and 1 "
        "encounters"
    )
    bench = Bench(app, seeded, random.Random(args.seed))
    wait_for_quiet(name, args.max_load, args.max_wait)
    say(f"[{name}] timing {args.samples} requests of each operation…")
    load = load_average()
    series = bench.run(args.samples, args.budget)
    load = f"{load} → {load_average()}"
    result = BackendResult(
        name=name,
        server=server,
        seeded=seeded,
        series=series,
        load=load,
        calibration=bench.calibration,
    )
    with app.app_context():
        for figures in series.values():
            replay_selects(db.engine, figures)
        for label, participant_id, count in (
            ("heavy", seeded.heavy_id, seeded.heavy_count),
            ("medium", seeded.medium_id, seeded.medium_count),
            ("light", seeded.light_id, 1),
        ):
            statement, parameters = bench.capture_history_sql(participant_id)
            result.raw.append(raw_history(db.engine, label, count, statement, parameters, RAW_RUNS))
    if args.profile:
        say(bench.profile())
    bench.close()
    with app.app_context():
        db.engine.dispose()
    for operation, figures in series.items():
        say(
            f"[{name}] {operation:15} n {len(figures.times):3}  median {figures.median:7.1f} ms  "
            f"p95 {figures.p95:7.1f} ms  max {figures.max:7.1f} ms"
        )
    if bench.calibration:
        calibration = statistics.median(bench.calibration)
        say(f"[{name}] machine speed: calibration median {calibration:.2f} ms")
    return result, server


def current_commit() -> str:
    """Return the short hash of the checked-out commit (with ``+`` if the tree has changes)."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        commit = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+" if changed else "")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--encounters", type=int, default=DEFAULT_ENCOUNTERS)
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS))
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument(
        "--write-docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"write {DOCS_PATH.name} (default: only on a full run with the default sizes)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds one operation may take in all before it stops early (default 120)",
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=len(os.sched_getaffinity(0)) * 0.75,
        help="before timing, wait for the 1-minute load average to fall below this",
    )
    parser.add_argument(
        "--max-wait", type=float, default=600.0, help="wait at most this many seconds for it"
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the data")
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(args.backends) - set(DEFAULT_BACKENDS)
    if unknown or not args.backends:
        parser.error(f"--backends takes a list of {', '.join(DEFAULT_BACKENDS)}")
    if args.encounters < 1000 or args.samples < 1:
        parser.error("--encounters must be at least 1000 and --samples at least 1")
    if args.write_docs is None:
        args.write_docs = args.encounters == DEFAULT_ENCOUNTERS and set(args.backends) == set(
            DEFAULT_BACKENDS
        )
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every chosen backend, print the figures, and write the docs page if asked."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    results, servers, load = [], {}, load_average()
    for name in args.backends:
        if name == "sqlite":
            directory = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
            try:
                result, server = run_backend(name, f"sqlite:///{directory / 'bench.db'}", args)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            servers["SQLite"] = server
        else:
            result, server = run_backend(name, postgresql_url(), args)
            servers["PostgreSQL"] = server
        results.append(result)
    page = render(results, args.samples, servers, f"{load} → {load_average()}")
    if args.write_docs:
        previous = DOCS_PATH.read_text() if DOCS_PATH.exists() else ""
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        page = with_run_log(page, previous, run_log_rows(results, when, current_commit()))
        DOCS_PATH.write_text(keep_other_sections(page, previous))
        say(f"Wrote {DOCS_PATH}")
    misses = [miss for result in results for miss in result.misses()]
    say("All targets met." if not misses else "Targets missed: " + "; ".join(misses))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
