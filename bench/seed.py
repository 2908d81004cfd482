"""Seed a benchmark database fast: five years of encounters, written in bulk.

Rows are generated in time order and written in batches: Core ``insert()`` executemany on
SQLite, ``COPY FROM STDIN`` on PostgreSQL. Reference data (sites, staff, the catalog) goes
through the ORM. Every encounter also gets the audit event and idempotency key the
encounter screen would have written, so those tables are as large as in production.
"""

import json
import random
import time
import uuid
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Connection, Table, text

from outreach.audit.services import GENESIS_HASH, event_hash
from outreach.auth.passwords import hash_password
from outreach.clients.codes import card_code, code_digest
from outreach.clients.models import Participant, ParticipantRace, ParticipantSubstance
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.idempotency import IdempotencyKey
from outreach.supplies.models import SupplyItem
from outreach.users.models import Role, Site, User

BATCH = 20_000
YEARS = 5
BENCH_PASSWORD = "bench horse battery staple"  # noqa: S105 - a throwaway benchmark account
SITES = [
    ("Downtown fixed site", "fixed", 5),
    ("Eastside van", "mobile", 4),
    ("Westside van", "mobile", 3),
    ("Riverside walk", "street", 2),
    ("Harbor drop-in", "fixed", 3),
    ("North corridor", "street", 2),
    ("Campus clinic", "fixed", 1),
    ("Rail yards", "street", 1),
    ("Delivery route", "other", 1),
    ("Hospital bridge", "other", 1),
]
CONTACT_FOR_KIND = {
    "fixed": "fixed_site",
    "mobile": "mobile",
    "street": "street",
    "other": "delivery",
}
#: name, category, units per pack, doses per unit, max per encounter, popularity
ITEMS = [
    ("1 mL syringes, box of 10", "syringes", 10, 0, 20, 30),
    ("0.5 mL syringes, box of 10", "syringes", 10, 0, 20, 12),
    ("Cookers", "injection_equipment", 1, 0, 50, 12),
    ("Cottons", "injection_equipment", 1, 0, 50, 10),
    ("Sterile water ampoules", "injection_equipment", 1, 0, 50, 10),
    ("Alcohol pads", "injection_equipment", 1, 0, 100, 8),
    ("Tourniquets", "injection_equipment", 1, 0, 10, 4),
    ("Glass stems", "smoking", 1, 0, 20, 9),
    ("Naloxone nasal kit", "naloxone", 1, 2, 4, 8),
    ("Fentanyl test strips", "test_strips", 1, 0, 50, 9),
    ("Wound care kit", "wound_care", 1, 0, 5, 3),
    ("Condoms", "safer_sex", 1, 0, 50, 5),
]
SERVICES = ["hiv_test", "hcv_test", "wound_care", "naloxone_training", "fts_training", "education"]
GENDERS = ["man", "woman", "trans_woman", "trans_man", "nonbinary", "declined", None]
RACES = ["black", "white", "hispanic_latino", "american_indian_alaska_native", "asian"]
SUBSTANCES = ["fentanyl", "heroin", "methamphetamine", "cocaine", "xylazine", "alcohol"]
OUTCOMES = ["survived", "survived", "survived", "unknown", "died"]
DELETE_REASONS = ["duplicate", "entered_in_error", "wrong_participant"]

ENCOUNTER_COLUMNS = [
    "id",
    "occurred_at",
    "site_id",
    "contact_type",
    "worker_id",
    "participant_id",
    "people_count",
    "syringes_collected",
    "collection_method",
    "sharps_litres",
    "secondary_people",
    "reversals",
    "reversal_doses",
    "reversal_outcome",
    "reversal_ems_called",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by_id",
    "delete_reason",
]
PARTICIPANT_COLUMNS = [
    "id",
    "code_hash",
    "suffix",
    "card_code",
    "birth_year",
    "age_band",
    "gender",
    "zip3",
    "injects",
    "created_at",
    "created_by_id",
    "deleted_at",
]
AUDIT_COLUMNS = [
    "id",
    "occurred_at",
    "actor_id",
    "action",
    "entity_type",
    "entity_id",
    "client_address",
    "data",
    "prev_hash",
    "hash",
]


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


class Loader:
    """Buffers rows per table and writes them in batches, parents before children."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.buffers: dict[Table, tuple[list[str], list[tuple]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: Table, columns: list[str], row: tuple) -> None:
        """Queue one row for a table."""
        self.buffers.setdefault(table, (columns, []))[1].append(row)

    def flush(self) -> None:
        """Write every buffer in dependency order and commit."""
        for table in db.metadata.sorted_tables:
            if table in self.buffers:
                columns, rows = self.buffers.pop(table)
                if rows:
                    self.write(table, columns, rows)
                    self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        self.connection.commit()

    def write(self, table: Table, columns: list[str], rows: list[tuple]) -> None:
        """Write rows with Core executemany; PostgreSQL overrides this with COPY."""
        self.connection.execute(
            table.insert(), [dict(zip(columns, row, strict=True)) for row in rows]
        )


class CopyLoader(Loader):
    """PostgreSQL: stream rows with COPY FROM STDIN through psycopg."""

    def write(self, table: Table, columns: list[str], rows: list[tuple]) -> None:
        """Copy rows into the table."""
        raw = self.connection.connection.driver_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


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


@dataclass
class Reference:
    """Ids of the reference rows, as plain values (no ORM objects held across the load)."""

    sites: list[tuple[int, str]]
    site_workers: dict[int, list[int]]
    supervisor_id: int
    items: list[tuple[int, int]]
    worker_username: str
    worker_site_id: int


def reference_data(rng: random.Random) -> Reference:
    """Add sites, 40 workers, a supervisor and the supply catalog through the ORM."""
    sites = [Site(name=name, kind=kind) for name, kind, _ in SITES]
    db.session.add_all(sites)
    password_hash = hash_password(BENCH_PASSWORD)
    workers = []
    for number in range(1, 41):
        home = sites[(number - 1) % len(sites)]
        extra = rng.choice(sites) if number % 3 == 0 else home
        workers.append(
            User(
                username=f"worker{number:02d}",
                role=Role.WORKER,
                password_hash=password_hash,
                must_change_password=False,
                sites=[home] if extra is home else [home, extra],
            )
        )
    supervisor = User(
        username="supervisor1",
        role=Role.SUPERVISOR,
        password_hash=password_hash,
        must_change_password=False,
    )
    items = [
        SupplyItem(
            name=name,
            category=category,
            unit="box" if units > 1 else "each",
            units_per_pack=units,
            doses_per_unit=doses,
            max_per_encounter=maximum,
            display_order=position,
        )
        for position, (name, category, units, doses, maximum, _) in enumerate(ITEMS)
    ]
    db.session.add_all([*workers, supervisor, *items])
    db.session.flush()
    reference = Reference(
        sites=[(site.id, site.kind) for site in sites],
        site_workers={
            site.id: [worker.id for worker in workers if site in worker.sites] for site in sites
        },
        supervisor_id=supervisor.id,
        items=[(item.id, item.max_per_encounter) for item in items],
        worker_username=workers[0].username,
        worker_site_id=workers[0].sites[0].id,
    )
    db.session.commit()
    db.session.close()
    return reference


class Stream:
    """Generates the rows of every encounter, in time order, into a loader."""

    def __init__(self, rng: random.Random, loader: Loader, reference: Reference):
        self.rng = rng
        self.loader = loader
        self.key = current_app.config["CLIENT_CODE_KEY"].encode()
        self.sites = reference.sites
        self.site_cum = list(accumulate(weight for _, _, weight in SITES))
        self.site_workers = reference.site_workers
        self.supervisor_id = reference.supervisor_id
        self.items = reference.items
        self.item_cum = list(accumulate(popularity for *_, popularity in ITEMS))
        self.next_participant = 1
        self.audit_id = 0
        self.prev_hash = GENESIS_HASH
        self.card_codes: set[str] = set()

    def audit(self, when: datetime, actor: int, action: str, entity: str, entity_id, data) -> None:
        """Append an audit event, chained to the previous one as ``record()`` would."""
        self.audit_id += 1
        event = SimpleNamespace(
            prev_hash=self.prev_hash,
            occurred_at=when,
            actor_id=actor,
            action=action,
            entity_type=entity,
            entity_id=str(entity_id),
            client_address=f"10.8.0.{actor % 250}",
            data=json.dumps(data, sort_keys=True, separators=(",", ":")),
        )
        event.hash = event_hash(event)
        row = (self.audit_id, when, actor, action, entity, event.entity_id)
        self.loader.add(
            db.metadata.tables["audit_events"],
            AUDIT_COLUMNS,
            (*row, event.client_address, event.data, event.prev_hash, event.hash),
        )
        self.prev_hash = event.hash

    def participant(self, participant_id: int, when: datetime, worker_id: int) -> None:
        """Add a participant with a unique code, card code and coarse demographics."""
        rng, attempt = self.rng, 0
        while True:
            digest = code_digest(f"BENCH{participant_id:07d}X{attempt}", self.key)
            card = card_code(digest)
            if card not in self.card_codes:
                break
            attempt += 1
        self.card_codes.add(card)
        birth_year = rng.randint(1950, 2004) if rng.random() < 0.7 else None
        age_band = None if birth_year else rng.choice(["25_34", "35_44", "45_54", "declined"])
        gender = rng.choice(GENDERS)
        zip3 = f"{rng.randint(900, 935)}" if rng.random() < 0.6 else None
        injects = rng.choice([True, True, False, None])
        row = (participant_id, digest, 0, card, birth_year, age_band, gender, zip3, injects)
        table = Participant.__table__
        self.loader.add(table, PARTICIPANT_COLUMNS, (*row, when, worker_id, None))
        for race in rng.sample(RACES, rng.choice([0, 1, 1, 1, 2])):
            self.loader.add(
                ParticipantRace.__table__, ["participant_id", "race"], (participant_id, race)
            )
        for substance in rng.sample(SUBSTANCES, rng.randint(0, 3)):
            self.loader.add(
                ParticipantSubstance.__table__,
                ["participant_id", "substance"],
                (participant_id, substance),
            )
        self.audit(
            when, worker_id, "participant.create", "participant", participant_id, {"suffix": 0}
        )

    def encounter(self, encounter_id: int, participant_id: int, timestamp: float) -> None:
        """Add one encounter with its supplies, services, audit event and idempotency key."""
        rng = self.rng
        occurred = datetime.fromtimestamp(timestamp, UTC)
        created = occurred + timedelta(seconds=rng.randint(5, 900))
        site_id, kind = self.sites[bisect_left(self.site_cum, rng.random() * self.site_cum[-1])]
        worker_id = rng.choice(self.site_workers[site_id])
        if participant_id == self.next_participant:
            self.participant(participant_id, occurred, worker_id)
            self.next_participant += 1
        contact = CONTACT_FOR_KIND[kind] if rng.random() < 0.9 else "street"
        people = 1 if participant_id or rng.random() < 0.8 else rng.randint(2, 8)
        collected, method, litres = 0, None, None
        if rng.random() < 0.4:
            collected, method = rng.randint(1, 120), "counted"
            if rng.random() < 0.1:
                litres = Decimal(rng.choice(["1.00", "1.50", "3.00"]))
                collected, method = int(litres * 100), "estimated"
        reversals = 1 if rng.random() < 0.01 else 0
        outcome = rng.choice(OUTCOMES) if reversals else None
        ems = rng.choice([True, False, None]) if reversals else None
        removal = (None, None, None)
        if rng.random() < 0.003:
            removal = (created + timedelta(days=1), self.supervisor_id, rng.choice(DELETE_REASONS))
        self.loader.add(
            Encounter.__table__,
            ENCOUNTER_COLUMNS,
            (
                *(encounter_id, occurred, site_id, contact, worker_id, participant_id or None),
                *(people, collected, method, litres, rng.choice([0, 0, 0, 1, 2]), reversals),
                *(rng.randint(1, 3) if reversals else 0, outcome, ems, 1, created, created),
                *removal,
            ),
        )
        lines = {}
        for _ in range(rng.choice([1, 2, 2, 3])):
            item_id, maximum = self.items[
                bisect_left(self.item_cum, rng.random() * self.item_cum[-1])
            ]
            lines[item_id] = rng.randint(1, min(10, maximum))
        for item_id, quantity in sorted(lines.items()):
            self.loader.add(
                EncounterSupply.__table__,
                ["encounter_id", "item_id", "quantity"],
                (encounter_id, item_id, quantity),
            )
        services = sorted(rng.sample(SERVICES, rng.randint(1, 2))) if rng.random() < 0.25 else []
        for service in services:
            self.loader.add(
                EncounterService.__table__, ["encounter_id", "service"], (encounter_id, service)
            )
        summary = {
            "site": site_id,
            "contact_type": contact,
            "participant": participant_id or None,
            "people": people,
            "supply_items": sorted(lines),
            "packs": sum(lines.values()),
            "syringes_collected": collected,
            "reversals": reversals,
            "services": services,
        }
        self.audit(created, worker_id, "encounter.create", "encounter", encounter_id, summary)
        key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.loader.add(
            IdempotencyKey.__table__,
            ["key", "user_id", "entity_type", "entity_id", "created_at"],
            (key, worker_id, "encounter", encounter_id, created),
        )


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
