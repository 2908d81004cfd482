"""Generate the rows of every benchmark encounter, in time order: participants, supplies,
services, the audit event and the idempotency key the encounter screen would write."""

import json
import random
import uuid
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from types import SimpleNamespace

from flask import current_app

from bench.loaders import Loader
from bench.reference import ITEMS, SITES, Reference
from outreach.audit.services import GENESIS_HASH, event_hash
from outreach.clients.codes import card_code, code_digest
from outreach.clients.models import Participant, ParticipantRace, ParticipantSubstance
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.idempotency import IdempotencyKey

CONTACT_FOR_KIND = {
    "fixed": "fixed_site",
    "mobile": "mobile",
    "street": "street",
    "other": "delivery",
}
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
