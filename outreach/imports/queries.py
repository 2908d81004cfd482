"""Reads of an encounter import: lookups loaded once, and what the database already holds."""

from collections.abc import Iterable, Iterator

from sqlalchemy import select

from outreach.clients.models import Participant
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.imports import referrals
from outreach.imports.fields import Lookups
from outreach.names import Named
from outreach.supplies.models import SupplyItem
from outreach.templating import program_zone
from outreach.users.models import Role, Site, User

#: Values per ``IN (...)`` list, well under every database's parameter limit.
CHUNK = 500


def load_lookups() -> Lookups:
    """Load sites, users and supply items (inactive ones too: the data is historical)."""
    sites = db.session.execute(select(Site.name, Site.id))
    users = db.session.execute(select(User.username, User.id, User.role))
    items = db.session.execute(select(SupplyItem.name, SupplyItem.id, SupplyItem.max_per_encounter))
    types, statuses = referrals.codes()
    return Lookups(
        sites=Named.of((name, site_id) for name, site_id in sites),
        users={username.lower(): (user_id, role) for username, user_id, role in users},
        items=Named.of((name, (item_id, most)) for name, item_id, most in items),
        zone=program_zone(),
        now=utcnow(),
        referral_types=types,
        referral_statuses=statuses,
        refused_roles=frozenset({Role.ADMIN.value}),
    )


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    """Yield lists of at most ``size`` values."""
    chunk = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def imported_external_ids(external_ids: Iterable[str]) -> set[str]:
    """Return which of these external ids earlier imports wrote."""
    found: set[str] = set()
    for chunk in chunks(external_ids):
        found.update(
            db.session.scalars(
                select(Encounter.external_id).where(Encounter.external_id.in_(chunk))
            )
        )
    return found


def participants_by_hash(code_hashes: Iterable[str]) -> dict[str, tuple[int, bool]]:
    """Return {code hash: (participant id, removed?)} for the participants on record."""
    found: dict[str, tuple[int, bool]] = {}
    for chunk in chunks(code_hashes):
        query = select(Participant.code_hash, Participant.id, Participant.deleted_at).where(
            Participant.code_hash.in_(chunk)
        )
        for code_hash, participant_id, deleted_at in db.session.execute(query):
            found[code_hash] = (participant_id, deleted_at is not None)
    return found
