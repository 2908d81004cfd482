"""Reads of encounters: a participant's history, last supplies, recent work."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Integer, Select, bindparam, case, literal, select, union_all

from outreach import sql
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site, User, user_sites

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class HistoryEntry:
    """One encounter on a participant's page: what the history table shows of it."""

    id: int
    occurred_at: datetime
    site_name: str | None
    syringes_collected: int
    reversals: int
    #: (packs, item name), by item id.
    supplies: list[tuple[int, str]] = field(default_factory=list)
    #: Service codes, sorted.
    services: list[str] = field(default_factory=list)

    @property
    def supplies_text(self) -> str:
        """The supplies as the history shows them: "3 × Cookers, 1 × Naloxone kit", or "—"."""
        return ", ".join(f"{quantity} × {name}" for quantity, name in self.supplies) or "—"

    @property
    def services_text(self) -> str:
        """The services as the history shows them, codes made readable."""
        return ", ".join(code.replace("_", " ") for code in self.services)


def participant_history(participant_id: int, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Return a participant's newest encounters, newest first, with their supplies and services.

    Two index-backed statements whatever the length of the history: the page of encounters,
    then the supply and service lines of that same page, read as plain rows.
    """
    parameters = {"participant_id": participant_id, "limit": limit}
    rows = sql.execute(history_statements().page, parameters)
    entries = {row[0]: HistoryEntry(*row) for row in rows}
    if entries:
        for encounter_id, kind, label, quantity in sql.execute(
            history_statements().lines, parameters
        ):
            if kind == SUPPLY_LINE:
                entries[encounter_id].supplies.append((quantity, label))
            else:
                entries[encounter_id].services.append(label)
    for entry in entries.values():
        entry.services.sort()
    return list(entries.values())


#: Kinds of line ``page_lines`` returns.
SUPPLY_LINE, SERVICE_LINE = 0, 1


@dataclass(frozen=True)
class HistoryStatements:
    """The history page's two statements, with ``participant_id`` and ``limit`` parameters."""

    page: Select
    lines: Select


@cache
def history_statements() -> HistoryStatements:
    """Build (once) the statements of a participant's history page."""
    page = (
        select(Encounter.id)
        .where(
            Encounter.participant_id == bindparam("participant_id"),
            Encounter.deleted_at.is_(None),
        )
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    shown = page.add_columns(
        Encounter.occurred_at, Site.name, Encounter.syringes_collected, Encounter.reversals
    ).outerjoin(Site, Site.id == Encounter.site_id)
    return HistoryStatements(shown, page_lines(page))


def page_lines(page: Select) -> Select:
    """Select the supply lines (by item id) and services of the encounters a page selects."""
    in_page = page.scalar_subquery()
    supplies = (
        select(
            EncounterSupply.encounter_id,
            literal(SUPPLY_LINE).label("kind"),
            SupplyItem.name.label("label"),
            EncounterSupply.quantity,
            EncounterSupply.item_id.label("position"),
        )
        .join(SupplyItem, SupplyItem.id == EncounterSupply.item_id)
        .where(EncounterSupply.encounter_id.in_(in_page))
    )
    services = select(
        EncounterService.encounter_id,
        literal(SERVICE_LINE),
        EncounterService.service,
        literal(0),
        literal(0),
    ).where(EncounterService.encounter_id.in_(in_page))
    lines = union_all(supplies, services).subquery()
    return select(lines.c.encounter_id, lines.c.kind, lines.c.label, lines.c.quantity).order_by(
        lines.c.kind, lines.c.position
    )


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


@cache
def site_choices_statement() -> Select:
    """Build (once) the site menu's statement: active sites, a ``user_id``'s own ones first."""
    own = (
        select(user_sites.c.site_id)
        .where(user_sites.c.user_id == bindparam("user_id"), user_sites.c.site_id == Site.id)
        .exists()
    )
    return (
        select(Site.id, Site.name, Site.kind)
        .where(Site.active.is_(True))
        .order_by(case((own, 0), else_=1), Site.name, Site.id)
    )


#: The contact type an encounter at a kind of site usually is (none for "other" sites).
CONTACT_AT_SITE = {"fixed": "fixed_site", "mobile": "mobile", "street": "street"}


def site_choices_for(user: User) -> list[tuple[int, str, dict]]:
    """Return active sites for the site menu, the user's own sites first, each option
    carrying the contact type its kind of site suggests."""
    rows = sql.execute(site_choices_statement(), {"user_id": user.id})
    return [
        (site_id, name, {"data-contact-type": CONTACT_AT_SITE.get(kind, "")})
        for site_id, name, kind in rows
    ]
