"""Reads of encounters: a participant's history, last supplies, recent work."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload, noload, selectinload

from outreach.encounters.models import Encounter, EncounterSupply
from outreach.extensions import db
from outreach.users.models import Site, User

HISTORY_LIMIT = 50


def participant_history(participant_id: int, limit: int = HISTORY_LIMIT) -> list[Encounter]:
    """Return a participant's encounters, newest first (index-backed, bounded)."""
    query = (
        select(Encounter)
        .where(Encounter.participant_id == participant_id, Encounter.deleted_at.is_(None))
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(limit)
        .options(
            joinedload(Encounter.site),
            noload(Encounter.worker),
            noload(Encounter.participant),
            selectinload(Encounter.supplies).joinedload(EncounterSupply.item),
            selectinload(Encounter.services),
        )
    )
    return list(db.session.scalars(query).unique())


def last_supplies(participant_id: int) -> dict[int, int]:
    """Return the supplies (item id → packs) of a participant's latest encounter."""
    latest = (
        select(Encounter.id)
        .where(Encounter.participant_id == participant_id, Encounter.deleted_at.is_(None))
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(EncounterSupply.item_id, EncounterSupply.quantity).where(
            EncounterSupply.encounter_id == latest
        )
    )
    return dict(rows.tuples().all())


def recent_encounters(user: User | None, limit: int = 30) -> list[Encounter]:
    """Return the latest encounters, of one worker or (for None) of everyone."""
    query = select(Encounter).where(Encounter.deleted_at.is_(None))
    if user is not None:
        query = query.where(Encounter.worker_id == user.id)
    query = query.order_by(Encounter.occurred_at.desc(), Encounter.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def site_choices_for(user: User) -> list[tuple[int, str]]:
    """Return active sites for the site menu, the user's own sites first."""
    own = {site.id for site in user.sites}
    sites = db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name))
    ordered = sorted(sites, key=lambda site: (site.id not in own, site.name))
    return [(site.id, site.name) for site in ordered]
