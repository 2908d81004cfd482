"""Seed a benchmark database fast: five years of encounters, written in bulk.

Rows are generated in time order and written in batches: Core ``insert()`` executemany on
SQLite, ``COPY FROM STDIN`` on PostgreSQL. Reference data (sites, staff, the catalog) goes
through the ORM. Every encounter also gets the audit event and idempotency key the
encounter screen would have written, so those tables are as large as in production.
"""

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text

from bench.loaders import CopyLoader, Loader
from bench.reference import reference_data, stock_the_shelves
from bench.stream import Stream
from outreach.extensions import db

BATCH = 20_000
YEARS = 5


@dataclass
class Seeded:
    """What the measurements need to know about the seeded data."""

    encounters: int
    participants: int
    heavy_id: int
    light_id: int
    heavy_count: int
    #: A participant with a little more than one page (50) of history.
    medium_id: int
    medium_count: int
    worker_username: str
    site_id: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    analyze_seconds: float = 0.0


def participant_counts(rng: random.Random, participants: int, known: int, heavy: int) -> list[int]:
    """Return encounters per participant: [heavy, 1 (light), then a Pareto-skewed rest]."""
    rest_total, rest_n = known - heavy - 1, participants - 2
    cap = max(1, heavy * 2 // 3)
    weights = [rng.paretovariate(1.16) for _ in range(rest_n)]

    def counts_at(scale: float) -> list[int]:
        return [min(cap, max(1, int(weight * scale))) for weight in weights]

    low, high = 0.0, float(rest_total)
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if sum(counts_at(middle)) < rest_total else (low, middle)
    counts = counts_at(high)
    excess = sum(counts) - rest_total
    while excess:
        index = rng.randrange(rest_n)
        step = 1 if excess > 0 else -1
        if 1 <= counts[index] - step <= cap:
            counts[index] -= step
            excess -= step
    return [heavy, 1, *counts]


def plan(rng: random.Random, encounters: int) -> tuple[list[int], list[float], int, int, int]:
    """Return each encounter's participant (0 = anonymous), sorted times, count, heavy, light."""
    known = round(encounters * 0.75)
    participants = max(10, min(round(encounters * 0.06), known // 4))
    heavy = min(6000, known // 10)
    counts = participant_counts(rng, participants, known, heavy)
    tickets = [index for index, count in enumerate(counts) for _ in range(count)]
    tickets += [-1] * (encounters - known)
    rng.shuffle(tickets)
    ids: dict[int, int] = {}
    labelled = []
    for ticket in tickets:
        if ticket < 0:
            labelled.append(0)
        else:
            labelled.append(ids.setdefault(ticket, len(ids) + 1))
    end = time.time() - 86_400
    start = end - YEARS * 365.25 * 86_400
    times = sorted(rng.uniform(start, end) for _ in range(encounters))
    return labelled, times, len(ids), ids[0], ids[1]


def seed(encounters: int, rng_seed: int, progress: Callable[[str], None]) -> Seeded:
    """Fill the empty schema of the current app's database and return what was made."""
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    tickets, times, participants, heavy_id, light_id = plan(rng, encounters)
    counts = Counter(tickets)
    medium_id = min(
        (participant_id for participant_id in counts if participant_id),
        key=lambda participant_id: (abs(counts[participant_id] - 60), participant_id),
    )
    reference = reference_data(rng)
    dialect = db.engine.dialect.name
    with db.engine.connect() as connection:
        if dialect == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size=-1000000")
        loader = (CopyLoader if dialect == "postgresql" else Loader)(connection)
        stream = Stream(rng, loader, reference)
        for index, (participant_id, timestamp) in enumerate(
            zip(tickets, times, strict=True), start=1
        ):
            stream.encounter(index, participant_id, timestamp)
            if index % BATCH == 0 or index == encounters:
                loader.flush()
                if index % (BATCH * 10) == 0:
                    rate = index / (time.perf_counter() - started)
                    progress(f"  {index:,} encounters ({rate:,.0f}/s)")
        if dialect == "postgresql":
            for table in ("encounters", "participants", "audit_events"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                    f"(SELECT max(id) FROM {table}))"
                )
            connection.commit()
    stock_the_shelves(reference)
    seeded = Seeded(
        encounters=encounters,
        participants=participants,
        heavy_id=heavy_id,
        light_id=light_id,
        heavy_count=counts[heavy_id],
        medium_id=medium_id,
        medium_count=counts[medium_id],
        worker_username=reference.worker_username,
        site_id=reference.worker_site_id,
        rows=loader.counts,
    )
    analyzed = time.perf_counter()
    analyze(dialect)
    seeded.analyze_seconds = time.perf_counter() - analyzed
    seeded.seconds = time.perf_counter() - started
    return seeded


def analyze(dialect: str) -> None:
    """Refresh planner statistics: VACUUM ANALYZE on PostgreSQL, ANALYZE + optimize on SQLite."""
    if dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
            # Write the bulk load's dirty pages out now, not while requests are being timed.
            connection.execute(text("CHECKPOINT"))
    else:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA optimize")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.commit()
