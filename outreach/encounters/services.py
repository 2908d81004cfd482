"""Saving, editing and removing encounters; each change is audited."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from outreach import sql
from outreach.audit.services import record
from outreach.clients.models import Participant
from outreach.dbtypes import utcnow
from outreach.encounters.models import (
    DeleteReason,
    Encounter,
    EncounterService,
    EncounterSupply,
)
from outreach.encounters.sections import notify
from outreach.extensions import db
from outreach.users.models import Role, User


@dataclass
class EncounterInput:
    """Everything a worker enters for one encounter, already checked field by field."""

    occurred_at: datetime
    site_id: int
    contact_type: str
    participant: Participant | None = None
    people_count: int = 1
    supplies: dict[int, int] = field(default_factory=dict)
    syringes_collected: int = 0
    collection_method: str | None = None
    sharps_litres: Decimal | None = None
    secondary_people: int = 0
    reversals: int = 0
    reversal_doses: int = 0
    reversal_outcome: str | None = None
    reversal_ems_called: bool | None = None
    services: list[str] = field(default_factory=list)


class StaleEdit(Exception):
    """Someone saved the encounter after this editor opened it."""

    def __init__(self, current: Encounter):
        super().__init__("The encounter changed since it was opened.")
        self.current = current


def stored_values(data: EncounterInput) -> dict:
    """Return the encounter's own columns as checked input sets them (details only with what
    they describe: no method without syringes, no doses or outcome without a reversal)."""
    reversed_ = data.reversals > 0
    return {
        "occurred_at": data.occurred_at,
        "site_id": data.site_id,
        "contact_type": data.contact_type,
        "participant_id": data.participant.id if data.participant else None,
        "people_count": 1 if data.participant else data.people_count,
        "syringes_collected": data.syringes_collected,
        "collection_method": data.collection_method if data.syringes_collected else None,
        "sharps_litres": data.sharps_litres,
        "secondary_people": data.secondary_people,
        "reversals": data.reversals,
        "reversal_doses": data.reversal_doses if reversed_ else 0,
        "reversal_outcome": data.reversal_outcome if reversed_ else None,
        "reversal_ems_called": data.reversal_ems_called if reversed_ else None,
    }


def wanted_supplies(data: EncounterInput) -> dict[int, int]:
    """Return the supply lines the input asks for, by item: quantities above zero."""
    return {item_id: quantity for item_id, quantity in data.supplies.items() if quantity > 0}


def apply_input(encounter: Encounter, data: EncounterInput) -> None:
    """Copy checked input onto an encounter, replacing its supplies and services."""
    for column, value in stored_values(data).items():
        setattr(encounter, column, value)
    encounter.participant = data.participant
    wanted = wanted_supplies(data)
    kept = [line for line in encounter.supplies if line.item_id in wanted]
    for line in kept:
        line.quantity = wanted.pop(line.item_id)
    encounter.supplies = kept + [
        EncounterSupply(item_id=item_id, quantity=quantity) for item_id, quantity in wanted.items()
    ]
    codes = sorted(set(data.services))
    kept_services = [line for line in encounter.services if line.service in codes]
    missing = set(codes) - {line.service for line in kept_services}
    encounter.services = kept_services + [
        EncounterService(service=code) for code in sorted(missing)
    ]


def already_says(encounter: Encounter, data: EncounterInput) -> bool:
    """Tell whether a saved encounter already says exactly what this input would make it say."""
    return (
        all(getattr(encounter, column) == value for column, value in stored_values(data).items())
        and {line.item_id: line.quantity for line in encounter.supplies} == wanted_supplies(data)
        and encounter.service_codes == sorted(set(data.services))
    )


def audit_summary(encounter: Encounter) -> dict:
    """Return the numbers and codes an audit event keeps of an encounter (no participant code)."""
    return {
        "site": encounter.site_id,
        "contact_type": encounter.contact_type,
        "participant": encounter.participant_id,
        "people": encounter.people_count,
        "supply_items": sorted(line.item_id for line in encounter.supplies),
        "packs": sum(line.quantity for line in encounter.supplies),
        "syringes_collected": encounter.syringes_collected,
        "reversals": encounter.reversals,
        "services": encounter.service_codes,
    }


def encounter_create(*, worker: User, data: EncounterInput) -> Encounter:
    """Save a new encounter logged by a worker."""
    now = utcnow()
    encounter = Encounter(
        worker_id=worker.id,
        version=1,
        created_at=now,
        updated_at=now,
        deleted_at=None,
        deleted_by_id=None,
        delete_reason=None,
        external_id=None,
    )
    apply_input(encounter, data)
    insert_new(encounter)
    # Listeners first: the stock listener takes the audit chain's lock with its site's lock.
    notify(encounter, "create")
    record("encounter.create", "encounter", encounter.id, data=audit_summary(encounter))
    return encounter


def insert_new(encounter: Encounter) -> None:
    """Insert a new encounter and its lines with Core statements, then attach it to the session.

    Every column is set beforehand, so the object joins the session as if it had just been
    loaded: listeners and later edits see an ordinary encounter, without the unit of work's
    cost (about 2 ms per save) for rows written once.
    """
    written = sql.insert_into(Encounter.__table__, returning="id")
    encounter.id = sql.execute(written, sql.row_values(encounter)).scalar_one()
    lines = [*encounter.supplies, *encounter.services]
    for line in lines:
        line.encounter_id = encounter.id
    for table, rows in (
        (EncounterSupply, encounter.supplies),
        (EncounterService, encounter.services),
    ):
        if rows:
            sql.send(sql.insert_into(table.__table__), [sql.row_values(row) for row in rows])
    for instance in (*lines, encounter):
        make_transient_to_detached(instance)
    db.session.add(encounter)


def encounter_update(*, encounter: Encounter, data: EncounterInput, expected_version: int) -> None:
    """Save an edit, refusing it if the encounter changed since the editor opened it."""
    if encounter.version != expected_version:
        raise StaleEdit(encounter)
    apply_input(encounter, data)
    encounter.updated_at = utcnow()
    db.session.flush()
    record("encounter.update", "encounter", encounter.id, data=audit_summary(encounter))
    notify(encounter, "update")


def encounter_delete(*, encounter: Encounter, reason: DeleteReason, by: User) -> None:
    """Soft-delete an encounter with a reason code; reports stop counting it."""
    encounter.deleted_at = utcnow()
    encounter.deleted_by_id = by.id
    encounter.delete_reason = DeleteReason(reason)
    db.session.flush()
    record("encounter.delete", "encounter", encounter.id, data={"reason": encounter.delete_reason})
    notify(encounter, "delete")


def may_edit(user: User, encounter: Encounter) -> bool:
    """Tell whether a user may edit an encounter: supervisors any, workers their own for a while."""
    if encounter.deleted_at is not None:
        return False
    if user.role == Role.SUPERVISOR:
        return True
    if user.role != Role.WORKER or encounter.worker_id != user.id:
        return False
    window = timedelta(hours=current_app.config["WORKER_EDIT_HOURS"])
    return utcnow() - encounter.created_at <= window
