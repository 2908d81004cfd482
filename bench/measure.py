"""Time requests through the Flask test client, and the participant history query's raw SQL.

Server time is ``time.perf_counter()`` around the application's WSGI call (``ServerClock``):
routing, the login gate, form checks, every SQL statement, the commit, template rendering and
the response body, but neither the network nor the test client's own work.
A listener on the engine records each statement's time so that slow queries can be named.
"""

import cProfile
import io
import math
import pstats
import random
import re
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask
from sqlalchemy import Engine, event, select

from bench.reference import BENCH_PASSWORD
from bench.seed import Seeded
from outreach.extensions import db
from outreach.supplies.models import SupplyItem
from outreach.templating import program_zone

WARMUP = 20
SERVICES = ["hiv_test", "hcv_test", "naloxone_training", "fts_training", "education"]
OPERATIONS = {
    "save": "Save an encounter (POST /encounters/new)",
    "history_heavy": "Participant history, heaviest participant (GET /participants/<id>)",
    "history_medium": "Participant history, participant with about 60 encounters",
    "history_light": "Participant history, one-encounter participant",
    "history_random": "Participant history, random participant",
}


#: Iterations of the fixed pure-Python workload timed each round to gauge the machine's speed.
CALIBRATION_LOOPS = 10_000


def calibration_ms() -> float:
    """Time a fixed pure-Python workload (about 1 ms): how fast the machine is right now."""
    started = time.perf_counter()
    total = 0
    for number in range(CALIBRATION_LOOPS):
        total += number * number
    return (time.perf_counter() - started) * 1000


class BenchError(RuntimeError):
    """A request did not answer as a successful one must."""


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of the values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Series:
    """Timings of one operation, in milliseconds, with the SQL each request ran."""

    times: list[float] = field(default_factory=list)
    #: CPU time of this process per request: what the request costs without waiting for
    #: the database server or for a CPU taken by other work on the machine.
    cpu_times: list[float] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)
    statement_counts: list[int] = field(default_factory=list)
    #: The statements of the last timed request, with their parameters.
    last_calls: list[tuple[str, object]] = field(default_factory=list)
    #: Its SELECTs run again on a plain connection: (statement, median ms, rows fetched).
    replayed: list[tuple[str, float, int]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95)

    @property
    def max(self) -> float:
        return max(self.times)

    def costliest_select(self) -> tuple[str, float, int]:
        """Return the replayed SELECT that took longest: statement, median ms, rows."""
        return max(self.replayed, key=lambda replay: replay[1], default=("none", 0.0, 0))


class SqlRecorder:
    """Records every statement an engine runs, with its duration."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.calls: list[tuple[str, object, float]] = []
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, connection, cursor, statement, parameters, context, executemany) -> None:
        connection.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(self, connection, cursor, statement, parameters, context, executemany) -> None:
        started = connection.info["bench_started"].pop()
        self.calls.append((statement, parameters, time.perf_counter() - started))

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)


def statement_key(statement: str) -> str:
    """Return a statement in one line, with long IN lists of placeholders shortened."""
    compact = " ".join(statement.split())
    return re.sub(r"\((?:(?:\?|%\(\w+\)s), ){3,}(?:\?|%\(\w+\)s)\)", "(…)", compact)


class ServerClock:
    """WSGI middleware that times the application: from its call to the last byte of its body.

    The test client's own work (encoding the form, building the environ, its cookie jar,
    wrapping the response) is the client's, not the server's, so it is left out.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.elapsed = 0.0
        self.cpu = 0.0

    def __call__(self, environ, start_response):
        started, cpu_started = time.perf_counter(), time.process_time()
        app_iter = self.wsgi_app(environ, start_response)
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        self.elapsed = time.perf_counter() - started
        self.cpu = time.process_time() - cpu_started
        return [body]


class Bench:
    """A logged-in worker's test client and the requests it times."""

    def __init__(self, app: Flask, seeded: Seeded, rng: random.Random):
        self.app = app
        self.seeded = seeded
        self.rng = rng
        self.clock = ServerClock(app.wsgi_app)
        app.wsgi_app = self.clock
        self.client = app.test_client()
        with app.app_context():
            query = select(SupplyItem.id, SupplyItem.max_per_encounter)
            self.items = list(db.session.execute(query.where(SupplyItem.active)).tuples())
            self.zone = program_zone()
            self.recorder = SqlRecorder(db.engine)
        #: ``calibration_ms()`` once per timed round: the machine's speed while timing.
        self.calibration: list[float] = []
        self.login()

    def login(self) -> None:
        """Log in as a worker of the seeded program."""
        response = self.client.post(
            "/auth/login",
            data={"username": self.seeded.worker_username, "password": BENCH_PASSWORD},
        )
        if response.status_code != 302 or "/auth/" in response.headers.get("Location", ""):
            raise BenchError(f"Login failed with {response.status_code}.")

    def random_participant(self) -> int:
        return self.rng.randint(1, self.seeded.participants)

    def save(self) -> Callable[[], None]:
        """Return a request that logs an encounter for a random known participant."""
        participant_id = self.random_participant()
        form = {
            "idempotency_key": str(uuid.uuid4()),
            "participant_mode": "known",
            "participant_id": str(participant_id),
            "occurred_at": datetime.now(self.zone).strftime("%Y-%m-%dT%H:%M"),
            "site_id": str(self.seeded.site_id),
            "contact_type": "street",
            "collection_method": "counted",
            "syringes_collected": str(self.rng.randint(0, 40)),
            "secondary_people": "0",
            "reversals": "0",
            "reversal_doses": "0",
            "services": self.rng.sample(SERVICES, self.rng.randint(1, 2)),
        }
        for item_id, maximum in self.rng.sample(self.items, self.rng.randint(2, 3)):
            form[f"supply-{item_id}"] = str(self.rng.randint(1, min(5, maximum)))

        def request() -> None:
            response = self.client.post("/encounters/new", data=form)
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.endswith(
                f"/participants/{participant_id}"
            ):
                raise BenchError(f"Saving an encounter answered {response.status_code} {location}.")

        return request

    def history(self, participant_id: int) -> Callable[[], None]:
        """Return a request that opens a participant's page."""

        def request() -> None:
            response = self.client.get(f"/participants/{participant_id}")
            if response.status_code != 200:
                raise BenchError(f"Participant page answered {response.status_code}.")

        return request

    def request_for(self, operation: str) -> Callable[[], None]:
        """Return a fresh request for an operation."""
        if operation == "save":
            return self.save()
        participant_id = {
            "history_heavy": self.seeded.heavy_id,
            "history_medium": self.seeded.medium_id,
            "history_light": self.seeded.light_id,
        }.get(operation) or self.random_participant()
        return self.history(participant_id)

    def timed(self, request: Callable[[], None], series: Series | None) -> None:
        """Run one request, adding its server time and SQL to the series."""
        self.recorder.calls.clear()
        request()
        elapsed, cpu = self.clock.elapsed * 1000, self.clock.cpu * 1000
        if series is None:
            return
        series.times.append(elapsed)
        series.cpu_times.append(cpu)
        series.sql_times.append(sum(duration for *_, duration in self.recorder.calls) * 1000)
        series.statement_counts.append(len(self.recorder.calls))
        series.last_calls = [
            (statement, parameters) for statement, parameters, _ in self.recorder.calls
        ]

    def run(self, samples: int, budget: float) -> dict[str, Series]:
        """Warm up, then time ``samples`` requests of each operation, interleaved round by round.

        An operation so slow that it would take more than ``budget`` seconds stops early:
        after a quarter of the budget in warm-up, or with at least 10 samples past the budget.
        """
        results = {operation: Series() for operation in OPERATIONS}
        spent = dict.fromkeys(OPERATIONS, 0.0)
        warming = set(OPERATIONS)
        for round_number in range(WARMUP + samples):
            for operation, series in results.items():
                if round_number < WARMUP and operation not in warming:
                    continue
                if len(series.times) >= 10 and spent[operation] > budget:
                    continue
                started = time.perf_counter()
                self.timed(self.request_for(operation), None if round_number < WARMUP else series)
                spent[operation] += time.perf_counter() - started
                if round_number < WARMUP and spent[operation] > budget / 4:
                    warming.discard(operation)
            if round_number >= WARMUP:
                self.calibration.append(calibration_ms())
        return results

    def capture_history_sql(self, participant_id: int) -> tuple[str, object]:
        """Return the history query (statement and parameters) the participant page runs."""
        self.recorder.calls.clear()
        self.history(participant_id)()
        for statement, parameters, _ in self.recorder.calls:
            if (
                "FROM encounters" in statement
                and "ORDER BY encounters.occurred_at DESC" in statement
            ):
                return statement, parameters
        raise BenchError("The participant page ran no history query.")

    def profile(self, requests: int = 5) -> str:
        """Return cProfile's top functions (cumulative) for a few requests of each operation."""
        out = io.StringIO()
        for operation in OPERATIONS:
            profiler = cProfile.Profile()
            for _ in range(requests):
                request = self.request_for(operation)
                profiler.enable()
                request()
                profiler.disable()
            out.write(f"\n=== {operation}: {requests} requests ===\n")
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        return out.getvalue()

    def close(self) -> None:
        self.recorder.remove()


def replay_selects(engine: Engine, series: Series, runs: int = 3) -> None:
    """Run the last request's SELECTs again, fetching every row, to find the costly one.

    The recorder times ``cursor.execute()`` only; rows fetched afterwards (all of them, for
    an ORM query) are not in its figure, so each SELECT is replayed here with ``fetchall()``.
    """
    with engine.connect() as connection:
        for statement, parameters in series.last_calls:
            if not statement.lstrip().upper().startswith("SELECT") or "pg_advisory" in statement:
                continue
            times, rows = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                rows = len(connection.exec_driver_sql(statement, parameters).fetchall())
                times.append((time.perf_counter() - started) * 1000)
            series.replayed.append((statement_key(statement), statistics.median(times), rows))
        connection.rollback()


@dataclass
class RawQuery:
    """The history query run directly on the database, for one participant."""

    label: str
    encounters: int
    times: list[float]
    plan: list[str]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95)


def raw_history(
    engine: Engine, label: str, encounters: int, statement: str, parameters, runs: int
) -> RawQuery:
    """Time the captured history SQL and read its plan (EXPLAIN ANALYZE / QUERY PLAN)."""
    times = []
    with engine.connect() as connection:
        for _ in range(runs):
            started = time.perf_counter()
            connection.exec_driver_sql(statement, parameters).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        if engine.dialect.name == "postgresql":
            explain = "EXPLAIN (ANALYZE, BUFFERS) " + statement
            plan = [row[0] for row in connection.exec_driver_sql(explain, parameters)]
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth = {0: -1}
            plan = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                plan.append("  " * depth[node] + detail)
        connection.rollback()
    return RawQuery(label, encounters, times, plan)
