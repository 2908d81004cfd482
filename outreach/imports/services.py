"""Write an encounter import in one transaction with bulk inserts, all or nothing.

Imported encounters are history: they make no stock movements (the stock those supplies came
from was never in this system's ledger, so subtracting it would drive stock on hand negative)
and they call no encounter listeners. Participants are matched by the code hash of suffix 0;
demographics in the file are applied only to participants the import creates, never to
participants already on record (the people who know them keep them up to date).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace

from sqlalchemy import update

from outreach.audit.services import record
from outreach.clients.codes import card_code, code_digest
from outreach.clients.models import Participant, ParticipantRace
from outreach.clients.services import code_key
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.imports import bulk, referrals
from outreach.imports.parser import ImportRow, RowError, parse_file
from outreach.imports.queries import (
    chunks,
    imported_external_ids,
    load_lookups,
    participants_by_hash,
)
from outreach.users.models import User

AUDIT_ACTION = "import.encounters"
#: Tables an import writes to (besides referrals and the audit log).
WRITTEN_TABLES = (
    Participant.__table__,
    ParticipantRace.__table__,
    Encounter.__table__,
    EncounterSupply.__table__,
    EncounterService.__table__,
)


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do), or every problem that stopped it."""

    rows_read: int = 0
    encounters_created: int = 0
    skipped: int = 0
    participants_created: int = 0
    referrals_created: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    #: The import's audit event, once written.
    event_id: int | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the file had no problem."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Return the figures, as the audit event keeps them."""
        return {
            "rows": self.rows_read,
            "encounters": self.encounters_created,
            "skipped": self.skipped,
            "participants": self.participants_created,
            "referrals": self.referrals_created,
        }


@dataclass
class Participants:
    """Which participant each code in the import is, and which must be created."""

    #: Normalised code → code hash.
    digests: dict[str, str]
    #: Code hash → participant id, for participants on record.
    ids: dict[str, int]
    #: Codes to register, in the order they first appear.
    new_codes: list[str]


def import_file(*, data: bytes, dry_run: bool, actor: User | None) -> ImportReport:
    """Check a CSV file and import it, or return the report of every bad row."""
    parsed = parse_file(data, load_lookups())
    if parsed.errors:
        return ImportReport(rows_read=parsed.rows_read, dry_run=dry_run, errors=parsed.errors)
    return import_encounters(rows=parsed.rows, dry_run=dry_run, actor=actor)


def external_id_digest(external_id: str, key: bytes) -> str:
    """Return what is stored of an old system's id: ``#`` and its keyed HMAC-SHA256.

    The old id is only needed to recognise a row imported before; it may hold a name or a
    date (``jane.doe-1985-03-04``), so it is never stored. ``#`` cannot begin an id in a file.
    """
    message = b"external_id:" + external_id.encode()
    return "#" + hmac.new(key, message, hashlib.sha256).hexdigest()


def with_stored_ids(rows: list[ImportRow]) -> list[ImportRow]:
    """Return the rows with each external id replaced by its stored digest."""
    key = code_key()
    return [
        replace(row, external_id=external_id_digest(row.external_id, key))
        if row.external_id
        else row
        for row in rows
    ]


def import_encounters(*, rows: list[ImportRow], dry_run: bool, actor: User | None) -> ImportReport:
    """Write checked rows (skipping those imported before) and one audit event with counts."""
    report = ImportReport(rows_read=len(rows), dry_run=dry_run)
    rows = with_stored_ids(rows)
    seen = imported_external_ids(row.external_id for row in rows if row.external_id)
    todo = [row for row in rows if row.external_id is None or row.external_id not in seen]
    participants, report.errors = match_participants(todo)
    if report.errors:
        return report
    report.skipped = len(rows) - len(todo)
    report.encounters_created = len(todo)
    report.participants_created = len(participants.new_codes)
    report.referrals_created = sum(len(row.referrals) for row in todo)
    if dry_run:
        return report
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    participants.ids |= insert_participants(todo, participants, actor_id, now)
    participant_ids = [
        participants.ids[participants.digests[row.client_code]] if row.client_code else None
        for row in todo
    ]
    encounter_ids = insert_encounters(todo, participant_ids, now)
    insert_details(todo, encounter_ids)
    referrals.write(todo, encounter_ids, participant_ids, now)
    bulk.refresh_statistics(WRITTEN_TABLES + referrals.TABLES, len(todo))
    event = record(
        AUDIT_ACTION, "import", None, data=report.counts(), actor_id=actor_id, with_id=True
    )
    report.event_id = event.id
    return report


def match_participants(rows: list[ImportRow]) -> tuple[Participants, list[RowError]]:
    """Find the participant of each code; a code of a removed participant is an error."""
    key = code_key()
    digests: dict[str, str] = {}
    for row in rows:
        if row.client_code and row.client_code not in digests:
            digests[row.client_code] = code_digest(row.client_code, key, 0)
    on_record = participants_by_hash(digests.values())
    errors = [
        RowError(
            row.line,
            "client_code",
            "The participant with this code was removed from the record; "
            "ask a supervisor before importing their encounters.",
        )
        for row in rows
        if row.client_code and on_record.get(digests[row.client_code], (0, False))[1]
    ]
    ids = {code_hash: found[0] for code_hash, found in on_record.items()}
    new_codes = [code for code, code_hash in digests.items() if code_hash not in ids]
    return Participants(digests, ids, new_codes), errors


def first_demographics(rows: list[ImportRow]) -> dict[str, dict]:
    """Return each code's demographics: per field, the first value given in file order."""
    found: dict[str, dict] = {}
    for row in rows:
        if not row.client_code:
            continue
        values = found.setdefault(
            row.client_code, {"birth_year": None, "gender": None, "races": ()}
        )
        if values["birth_year"] is None:
            values["birth_year"] = row.birth_year
        if values["gender"] is None:
            values["gender"] = row.gender
        if not values["races"]:
            values["races"] = row.races
    return found


def insert_participants(
    rows: list[ImportRow], participants: Participants, actor_id: int | None, now
) -> dict[str, int]:
    """Register the new participants with their demographics; return {code hash: id}."""
    if not participants.new_codes:
        return {}
    demographics = first_demographics(rows)
    values = []
    for code in participants.new_codes:
        digest = participants.digests[code]
        values.append(
            {
                "code_hash": digest,
                "suffix": 0,
                "card_code": card_code(digest),
                "birth_year": demographics[code]["birth_year"],
                "gender": demographics[code]["gender"],
                "created_at": now,
                "created_by_id": actor_id,
            }
        )
    new_ids = bulk.insert_with_ids(Participant.__table__, values, key=("code_hash",))
    ids = {row["code_hash"]: new_id for row, new_id in zip(values, new_ids, strict=True)}
    races = [
        {"participant_id": ids[participants.digests[code]], "race": race}
        for code in participants.new_codes
        for race in demographics[code]["races"]
    ]
    bulk.insert_rows(ParticipantRace.__table__, races)
    return ids


def insert_encounters(rows: list[ImportRow], participant_ids: list, now) -> list[int]:
    """Insert the encounters; return their ids in the order of the rows.

    On SQLite each row is found again by its external_id (see ``bulk``); a row without one
    carries a temporary tag meanwhile, which no external_id can look like (``~``).
    """
    if not rows:
        return []
    table = Encounter.__table__
    tag = None if bulk.on_postgresql() else f"~{secrets.token_hex(8)}:"
    values = [
        {
            "occurred_at": row.occurred_at,
            "site_id": row.site_id,
            "contact_type": row.contact_type,
            "worker_id": row.worker_id,
            "participant_id": participant_id,
            "people_count": 1,
            "syringes_collected": row.syringes_collected,
            "collection_method": None,
            "sharps_litres": None,
            "secondary_people": row.secondary_people,
            "reversals": row.reversals,
            "reversal_doses": 0,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "external_id": row.external_id or (tag and f"{tag}{index}"),
        }
        for index, (row, participant_id) in enumerate(zip(rows, participant_ids, strict=True))
    ]
    ids = bulk.insert_with_ids(table, values, key=("external_id",))
    tagged = [
        new_id for row, new_id in zip(rows, ids, strict=True) if tag and row.external_id is None
    ]
    for chunk in chunks(tagged):
        db.session.execute(update(table).where(table.c.id.in_(chunk)).values(external_id=None))
    return ids


def insert_details(rows: list[ImportRow], encounter_ids: list[int]) -> None:
    """Insert the supplies handed out and the services given at each encounter."""
    supplies = [
        {"encounter_id": encounter_id, "item_id": item_id, "quantity": quantity}
        for row, encounter_id in zip(rows, encounter_ids, strict=True)
        for item_id, quantity in row.supplies.items()
    ]
    services = [
        {"encounter_id": encounter_id, "service": service}
        for row, encounter_id in zip(rows, encounter_ids, strict=True)
        for service in row.services
    ]
    bulk.insert_rows(EncounterSupply.__table__, supplies)
    bulk.insert_rows(EncounterService.__table__, services)
