"""Plan and carry out the permanent removal of old and removed records, in bulk SQL."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, or_, select

from outreach.audit.services import record
from outreach.clients.models import Participant
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db

#: A participant with no encounter is kept this long, so one being registered is never taken.
PARTICIPANT_GRACE = timedelta(days=1)
#: Foreign-key rules under which the database itself removes or unlinks dependents.
FOLLOWING_RULES = ("CASCADE", "SET NULL")


@dataclass
class PurgeResult:
    """What a purge removed (or, in a dry run, would remove)."""

    cutoff: datetime | None
    #: Rows removed from each table by the purge itself.
    removed: Counter = field(default_factory=Counter)
    #: Rows the database removes with them (ON DELETE CASCADE).
    cascaded: Counter = field(default_factory=Counter)
    #: Rows that stay but lose their link (ON DELETE SET NULL).
    unlinked: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Count every row removed, dependents included."""
        return sum(self.removed.values()) + sum(self.cascaded.values())


def referencing(target: Table) -> list[tuple[Table, object]]:
    """Return every (table, foreign key) that points at ``target``."""
    return [
        (other, foreign_key)
        for other in db.metadata.sorted_tables
        for foreign_key in other.foreign_keys
        if foreign_key.column.table is target
    ]


def rule(foreign_key) -> str:
    """Return a foreign key's ON DELETE rule in capitals ("" for none)."""
    return (foreign_key.ondelete or "").upper()


def unreferenced(target: Table) -> list[ColumnElement]:
    """Return conditions that keep rows still pointed at by a key with no ON DELETE rule."""
    conditions = []
    for other, foreign_key in referencing(target):
        if rule(foreign_key) in FOLLOWING_RULES:
            continue
        source = other.alias() if other is target else other
        conditions.append(~exists().where(source.c[foreign_key.parent.name] == foreign_key.column))
    return conditions


def count_dependents(target: Table, ids, result: PurgeResult, depth: int = 0) -> None:
    """Add up the rows that go (or lose their link) with the rows of ``target`` in ``ids``."""
    for other, foreign_key in referencing(target):
        if other is target or depth > 4 or rule(foreign_key) not in FOLLOWING_RULES:
            continue
        column = other.c[foreign_key.parent.name]
        count = db.session.scalar(select(func.count()).select_from(other).where(column.in_(ids)))
        if not count:
            continue
        if rule(foreign_key) == "SET NULL":
            result.unlinked[other.name] += count
            continue
        result.cascaded[other.name] += count
        keys = list(other.primary_key.columns)
        if len(keys) == 1:
            count_dependents(other, select(keys[0]).where(column.in_(ids)), result, depth + 1)


def purge_rows(target: Table, condition: ColumnElement, result: PurgeResult) -> None:
    """Delete the rows of a table that meet the condition and nothing still needs."""
    where = and_(condition, *unreferenced(target))
    (key,) = target.primary_key.columns
    count_dependents(target, select(key).where(where), result)
    removed = db.session.execute(delete(target).where(where)).rowcount
    if removed:
        result.removed[target.name] += removed


def soft_deleted_tables() -> list[Table]:
    """Return the tables with a ``deleted_at`` column, dependents first."""
    special = {Encounter.__table__, Participant.__table__}
    return [
        candidate
        for candidate in reversed(db.metadata.sorted_tables)
        if "deleted_at" in candidate.c and candidate not in special
    ]


def retention_purge(*, days: int, now: datetime | None = None) -> PurgeResult:
    """Remove removed records, encounters older than ``days`` and participants left without any.

    ``days`` of 0 or less keeps encounters of any age (removed records still go). The caller
    commits, or rolls back for a dry run; the audit event holds counts only.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=days) if days > 0 else None
    result = PurgeResult(cutoff=cutoff)
    for candidate in soft_deleted_tables():
        purge_rows(candidate, candidate.c.deleted_at.is_not(None), result)
    encounter_gone = Encounter.deleted_at.is_not(None)
    if cutoff is not None:
        encounter_gone = or_(encounter_gone, Encounter.occurred_at < cutoff)
    purge_rows(Encounter.__table__, encounter_gone, result)
    participant_gone = or_(
        Participant.deleted_at.is_not(None), Participant.created_at < now - PARTICIPANT_GRACE
    )
    purge_rows(Participant.__table__, participant_gone, result)
    data = {"days": days, **result.removed}
    data.update({f"{name}_cascaded": count for name, count in result.cascaded.items()})
    record("retention.purge", data=data)
    return result
