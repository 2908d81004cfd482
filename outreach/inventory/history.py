"""The stock movement history: filters and paging."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.inventory.models import StockLot, StockMovement
from outreach.supplies.models import SupplyItem
from outreach.templating import program_zone
from outreach.users.models import Site, User


@dataclass(frozen=True)
class MovementFilters:
    """What to show of the movement history."""

    site_id: int | None = None
    item_id: int | None = None
    kind: str = ""
    lot_number: str = ""
    date_from: date | None = None
    date_to: date | None = None


def filtered_movements(filters: MovementFilters) -> Select:
    """Return the select of movements matching the filters, with names to show."""
    query = (
        select(
            StockMovement,
            Site.name,
            SupplyItem.name,
            StockLot.lot_number,
            StockLot.expires_on,
            User.username,
            Encounter.deleted_at,
        )
        .join(Site, Site.id == StockMovement.site_id)
        .join(SupplyItem, SupplyItem.id == StockMovement.item_id)
        .outerjoin(StockLot, StockLot.id == StockMovement.lot_id)
        .outerjoin(User, User.id == StockMovement.recorded_by_id)
        .outerjoin(Encounter, Encounter.id == StockMovement.encounter_id)
    )
    if filters.site_id:
        query = query.where(StockMovement.site_id == filters.site_id)
    if filters.item_id:
        query = query.where(StockMovement.item_id == filters.item_id)
    if filters.kind:
        query = query.where(StockMovement.kind == filters.kind)
    if filters.lot_number:
        query = query.where(StockLot.lot_number == filters.lot_number)
    zone = program_zone()
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=zone).astimezone(UTC)
        query = query.where(StockMovement.occurred_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone)
        query = query.where(StockMovement.occurred_at < end.astimezone(UTC))
    return query


def movement_page(filters: MovementFilters, page: int, per_page: int) -> tuple[list, int]:
    """Return one page of matching movements (newest first) and the total count."""
    query = filtered_movements(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return rows, total
