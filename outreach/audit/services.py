"""Record audit events and verify the hash chain."""

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    Insert,
    Select,
    Text,
    Update,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from outreach import sql
from outreach.audit.models import AuditEvent
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.transactions import transaction_state

GENESIS_HASH = "0" * 64
#: Advisory lock key that serialises the chain on PostgreSQL.
CHAIN_LOCK_KEY = 727_001
CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
PAIR_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :pair_key)")
#: The materialised CTE takes the chain's lock before the outer SELECT takes the other one.
CHAIN_THEN_PAIR_LOCK = text(
    "WITH chain AS MATERIALIZED (SELECT pg_advisory_xact_lock(:key)) "
    "SELECT pg_advisory_xact_lock(:namespace, :pair_key) FROM chain"
)
#: Transaction state keys: this transaction holds the chain lock / the hash it appended last.
CHAIN_LOCKED = "chain_locked"
CHAIN_HEAD = "chain_head"
#: Columns PostgreSQL's chained INSERT fills itself.
HASH_AND_ID = ("id", "prev_hash", "hash")
#: Audit data may hold identifiers, codes of lists and numbers, never free text.
SAFE_STRING = re.compile(r"^[A-Za-z0-9_.:@/+-]{0,64}$")


class UnsafeAuditData(ValueError):
    """Raised when audit data would hold free text."""


def acting_user_id() -> int | None:
    """Return the id of the logged-in user making this change, when there is one."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def record(
    action: str,
    entity_type: str | None = None,
    entity_id: int | str | None = None,
    data: Mapping | None = None,
    actor_id: int | None = None,
    with_id: bool = False,
) -> AuditEvent:
    """Add an audit event to the current transaction and chain it to the previous one.

    The returned event is not in the session. It carries its id when ``with_id`` is asked
    (reading the id back costs a wait in a pipeline); on SQLite also its hashes (PostgreSQL
    computes them in the INSERT, see ``append``).
    """
    clean = checked_data(data or {})
    if actor_id is None:
        actor_id = acting_user_id()
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        client_address=client_address(),
        data=json.dumps(clean, sort_keys=True, separators=(",", ":")),
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )
    append(event, with_id)
    return event


def append(event: AuditEvent, with_id: bool = False) -> None:
    """Chain the event to the newest one and insert it, holding the chain until commit.

    On PostgreSQL the advisory lock orders appends and the INSERT itself reads the chain's
    head and hashes the row (``chained_insert``), so no answer is awaited. SQLite takes its
    write lock only by writing, so the row goes in first and its hashes are set after the
    head is read; once a transaction has appended an event it knows the head.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        lock_chain()
        values = {
            key: value for key, value in sql.row_values(event).items() if key not in HASH_AND_ID
        }
        values["content_tail"] = content_tail(event)
        if with_id:
            event.id = sql.execute(chained_insert(returning=True), values).scalar_one()
        else:
            sql.send(chained_insert(returning=False), values)
        return
    state = transaction_state(connection)
    head = state.get(CHAIN_HEAD)
    if head is not None:
        finish(event, head)
    written = sql.insert_into(AuditEvent.__table__, returning="id")
    event.id = sql.execute(written, sql.row_values(event)).scalar_one()
    if head is None:
        finish(event, head_before(event.id))
        seal = {"event_id": event.id, "new_prev_hash": event.prev_hash, "new_hash": event.hash}
        sql.execute(seal_statement(), seal)
    state[CHAIN_HEAD] = event.hash


@cache
def chained_insert(returning: bool) -> Insert:
    """Build (once) PostgreSQL's INSERT that links and hashes an event in the database.

    The hash is ``event_hash``'s: SHA-256 of the JSON array that starts with the previous
    hash, built as ``["<previous hash>",`` followed by the rest (``content_tail``).
    """
    table = AuditEvent.__table__
    newest = newest_hash().scalar_subquery()
    head = select(func.coalesce(newest, GENESIS_HASH).label("hash")).subquery("head")
    content = literal('["') + head.c.hash + '",' + bindparam("content_tail", type_=Text)
    digest = func.encode(func.sha256(func.convert_to(content, "UTF8")), "hex")
    given = [column for column in table.columns if column.key not in HASH_AND_ID]
    row = select(
        *(bindparam(column.key, type_=column.type) for column in given), head.c.hash, digest
    )
    statement = insert(table).from_select([*given, table.c.prev_hash, table.c.hash], row)
    return statement.returning(table.c.id) if returning else statement


@cache
def seal_statement() -> Update:
    """Build (once) the UPDATE that sets an inserted event's hashes (SQLite's order)."""
    table = AuditEvent.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("event_id"))
        .values(prev_hash=bindparam("new_prev_hash"), hash=bindparam("new_hash"))
    )


def head_before(event_id: int) -> str:
    """Return the hash of the newest event before an id, or the genesis hash (SQLite)."""
    return sql.execute(head_before_statement(), {"before": event_id}).scalar() or GENESIS_HASH


def newest_hash() -> Select:
    """Select the hash of the chain's newest event."""
    return select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


@cache
def head_before_statement() -> Select:
    """Build (once) the read of the newest hash before a ``before`` id."""
    return newest_hash().where(AuditEvent.id < bindparam("before"))


def finish(event: AuditEvent, previous: str) -> None:
    """Link the event to the previous hash and seal it with its own."""
    event.prev_hash = previous
    event.hash = event_hash(event)


def lock_chain(then: tuple[int, int] | None = None) -> None:
    """Serialise chain appends until commit (PostgreSQL; SQLite has one writer), once a
    transaction; ``then`` is a (namespace, key) advisory lock to take right after the chain's,
    in the same round trip (the chain's lock always comes first, so locks never deadlock)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    state = transaction_state(connection)
    pair = {} if then is None else {"namespace": then[0], "pair_key": then[1]}
    if state.get(CHAIN_LOCKED):
        if then is not None:
            sql.send(PAIR_LOCK, pair)
        return
    statement = CHAIN_LOCK if then is None else CHAIN_THEN_PAIR_LOCK
    sql.send(statement, {"key": CHAIN_LOCK_KEY, **pair})
    state[CHAIN_LOCKED] = True


def client_address() -> str:
    """Return the requesting device's address, or ``cli`` outside a request."""
    if has_request_context():
        return (request.remote_addr or "unknown")[:45]
    return "cli"


def checked_data(data: Mapping) -> dict:
    """Return audit data after checking that it holds no free text."""
    clean = {}
    for key, value in data.items():
        if not SAFE_STRING.fullmatch(str(key)):
            raise UnsafeAuditData(f"Audit key {key!r} is not an identifier.")
        clean[key] = checked_value(key, value)
    return clean


def checked_value(key: str, value):
    """Check one audit value: numbers, flags, identifiers, or lists of them."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if not SAFE_STRING.fullmatch(value):
            raise UnsafeAuditData(f"Audit value for {key!r} looks like free text.")
        return value
    if isinstance(value, list | tuple):
        return [checked_value(key, item) for item in value]
    raise UnsafeAuditData(f"Audit value for {key!r} has unsupported type {type(value).__name__}.")


def event_hash(event: AuditEvent) -> str:
    """Hash an event's content together with the previous event's hash."""
    content = f'["{event.prev_hash}",' + content_tail(event)
    return hashlib.sha256(content.encode()).hexdigest()


def content_tail(event: AuditEvent) -> str:
    """Return the hashed JSON array after its first item (the previous hash) and comma."""
    rest = [
        event.occurred_at.isoformat(timespec="microseconds"),
        event.actor_id,
        event.action,
        event.entity_type,
        event.entity_id,
        event.client_address,
        event.data,
    ]
    return json.dumps(rest, separators=(",", ":"))[1:]


@dataclass(frozen=True)
class ChainProblem:
    """One place where the audit chain does not hold."""

    event_id: int
    problem: str


def chain_head() -> tuple[int, str] | None:
    """Return the newest audit event's id and hash, or None when the log is empty."""
    newest = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return None if newest is None else (newest.id, newest.hash)


def head_problem(event_id: int, expected_hash: str) -> ChainProblem | None:
    """Check a head recorded earlier: the event must still be there with the same hash.

    The chain shows an edit or a deletion only up to its newest event; a head kept somewhere
    else also shows newer events deleted, and a chain rewritten with recomputed hashes.
    """
    found = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))
    if found is None:
        return ChainProblem(event_id, "the recorded head is missing: events were deleted")
    if found != expected_hash:
        return ChainProblem(event_id, "the recorded head differs: the chain was rewritten")
    return None


def verify_chain(batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Yield every edited, inserted or deleted link in the audit chain."""
    expected_prev = GENESIS_HASH
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    for event in db.session.scalars(query):
        if event.prev_hash != expected_prev:
            yield ChainProblem(event.id, "previous event deleted or changed")
        if event_hash(event) != event.hash:
            yield ChainProblem(event.id, "event edited")
        expected_prev = event.hash
