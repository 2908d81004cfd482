"""Reads of the stock ledger: figures are SQL sums of movements; the encounter screen's
bucket and lot reads use the running balances the ledger's trigger keeps."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import groupby

from flask import current_app
from sqlalchemy import Select, and_, bindparam, case, func, select

from outreach import sql
from outreach.extensions import db
from outreach.inventory.balances import NO_LOT
from outreach.inventory.models import MovementKind, StockBalance, StockLot, StockMovement
from outreach.supplies.models import SupplyItem
from outreach.supplies.queries import CATEGORY_ORDER, DESCRIBING_COLUMNS
from outreach.templating import local_today
from outreach.users.models import Site

ON_HAND = func.coalesce(func.sum(StockMovement.quantity), 0)
ITEM_ORDER = (CATEGORY_ORDER, SupplyItem.display_order, func.lower(SupplyItem.name), SupplyItem.id)


def bucket(site_id: int, item_id: int, lot_id: int | None):
    """Return the condition selecting one site × item × lot (no lot: lot IS NULL)."""
    return and_(
        StockMovement.site_id == site_id,
        StockMovement.item_id == item_id,
        StockMovement.lot_id == lot_id,
    )


@cache
def bucket_statement() -> Select:
    """Build (once) the read of one running balance (``site_id``, ``item_id``, ``lot_key``)."""
    return select(StockBalance.on_hand).where(
        StockBalance.site_id == bindparam("site_id"),
        StockBalance.item_id == bindparam("item_id"),
        StockBalance.lot_key == bindparam("lot_key"),
    )


def bucket_on_hand(site_id: int, item_id: int, lot_id: int | None) -> int:
    """Return what is on hand of one item and lot at one site (its running balance)."""
    parameters = {"site_id": site_id, "item_id": item_id, "lot_key": lot_id or NO_LOT}
    return sql.execute(bucket_statement(), parameters).scalar() or 0


def bucket_version(site_id: int, item_id: int, lot_id: int | None) -> int:
    """Return how many movements one site × item × lot has had: it grows with every change."""
    query = select(func.count(StockMovement.id)).where(bucket(site_id, item_id, lot_id))
    return db.session.scalar(query)


def item_on_hand(item_id: int, site_id: int | None = None) -> int:
    """Return what is on hand of an item, at one site or at all of them."""
    query = select(ON_HAND).where(StockMovement.item_id == item_id)
    if site_id is not None:
        query = query.where(StockMovement.site_id == site_id)
    return db.session.scalar(query)


@dataclass(frozen=True)
class LotBalance:
    """What is on hand at a site of one lot of an item (lot None: stock without a lot)."""

    lot_id: int | None
    expires_on: date | None
    on_hand: int


@cache
def lot_balances_statement() -> Select:
    """Build (once) the running balances by lot of ``item_ids`` at ``site_id``, each row led by
    whether the ledger has started (any balance at all); one row of NULLs after it when there
    are none here."""
    ledger = select(select(StockBalance.lot_key).exists().label("started")).subquery("ledger")
    here = and_(
        StockBalance.site_id == bindparam("site_id"),
        StockBalance.item_id.in_(bindparam("item_ids", expanding=True)),
    )
    return (
        select(
            ledger.c.started,
            StockBalance.item_id,
            StockBalance.lot_id,
            StockLot.expires_on,
            StockBalance.on_hand,
        )
        .select_from(ledger)
        .outerjoin(StockBalance, here)
        .outerjoin(StockLot, StockLot.id == StockBalance.lot_id)
        .order_by(
            StockBalance.item_id,
            StockLot.expires_on.is_(None),
            StockLot.expires_on,
            StockBalance.lot_id,
        )
    )


def lot_balances_for_items(
    site_id: int, item_ids: Iterable[int]
) -> dict[int, list[LotBalance]] | None:
    """Return each item's stock at a site by lot (earliest expiry first, no lot last), or None
    before the ledger has started (its first receipt or count): one query."""
    parameters = {"site_id": site_id, "item_ids": list(item_ids)}
    rows = sql.execute(lot_balances_statement(), parameters).all()
    if not rows[0].started:
        return None
    balances: dict[int, list[LotBalance]] = {}
    for _, item_id, lot_id, expires_on, on_hand in rows:
        if item_id is not None:
            balances.setdefault(item_id, []).append(LotBalance(lot_id, expires_on, on_hand))
    return balances


def open_distributions(encounter_id: int) -> list[StockMovement]:
    """Return an encounter's distribution lines that stand: not reversals, not yet reversed."""
    reversed_ids = select(StockMovement.reverses_id).where(StockMovement.reverses_id.is_not(None))
    query = (
        select(StockMovement)
        .where(
            StockMovement.encounter_id == encounter_id,
            StockMovement.kind == MovementKind.DISTRIBUTED,
            StockMovement.reverses_id.is_(None),
            StockMovement.id.not_in(reversed_ids),
        )
        .order_by(StockMovement.id)
    )
    return list(db.session.scalars(query))


def has_lines(encounter_id: int) -> bool:
    """Tell whether an encounter ever moved stock (lines undone included)."""
    query = select(StockMovement.id).where(StockMovement.encounter_id == encounter_id).limit(1)
    return db.session.scalar(query) is not None


def ledger_started_at() -> datetime | None:
    """Return when the ledger's first line (a receipt or a count) was written, or None for an
    empty ledger: encounters do not start it."""
    query = select(StockMovement.recorded_at).order_by(StockMovement.id).limit(1)
    return db.session.scalar(query)


def site_holds_stock(site_id: int) -> bool:
    """Tell whether a site has stock on hand (or owes some) of any item or lot."""
    held = StockBalance.site_id == site_id, StockBalance.on_hand != 0
    return db.session.scalar(select(StockBalance.site_id).where(*held).limit(1)) is not None


def find_lot(item_id: int, lot_number: str) -> StockLot | None:
    """Return an item's lot by its number, if recorded."""
    query = select(StockLot).where(StockLot.item_id == item_id, StockLot.lot_number == lot_number)
    return db.session.scalar(query)


@dataclass(frozen=True)
class Bucket:
    """Stock on hand of one site × item × lot (lot None: without a lot), with names to show."""

    site_id: int
    site_name: str
    item_id: int
    item_name: str
    unit: str
    lot_tracked: bool
    lot_id: int | None
    lot_number: str | None
    expires_on: date | None
    on_hand: int


def buckets(site_id: int | None = None) -> list[Bucket]:
    """Return every site × item × lot that has moved, by site, item and expiry: one GROUP BY
    scan of the ledger (index-only on PostgreSQL), names joined to its few rows."""
    sums = select(
        StockMovement.site_id, StockMovement.item_id, StockMovement.lot_id, ON_HAND.label("on_hand")
    ).group_by(StockMovement.site_id, StockMovement.item_id, StockMovement.lot_id)
    if site_id is not None:
        sums = sums.where(StockMovement.site_id == site_id)
    sums = sums.subquery()
    query = (
        select(
            Site.id,
            Site.name,
            SupplyItem.id,
            SupplyItem.name,
            SupplyItem.unit,
            SupplyItem.lot_tracked,
            sums.c.lot_id,
            StockLot.lot_number,
            StockLot.expires_on,
            sums.c.on_hand,
        )
        .select_from(sums)
        .join(Site, Site.id == sums.c.site_id)
        .join(SupplyItem, SupplyItem.id == sums.c.item_id)
        .outerjoin(StockLot, StockLot.id == sums.c.lot_id)
        .order_by(
            func.lower(Site.name),
            Site.id,
            *ITEM_ORDER,
            StockLot.expires_on.is_(None),
            StockLot.expires_on,
            sums.c.lot_id,
        )
    )
    return [Bucket(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class ItemStock:
    """What is on hand of one item at one site, with its lots that hold (or owe) stock."""

    site_id: int
    site_name: str
    item_id: int
    item_name: str
    unit: str
    lot_tracked: bool
    on_hand: int
    lots: list[Bucket] = field(default_factory=list)

    @property
    def negative(self) -> bool:
        """More was handed out than the ledger had."""
        return self.on_hand < 0


def item_key(row: Bucket) -> tuple:
    """Return what identifies a bucket's site and item, in ItemStock's field order."""
    return (row.site_id, row.site_name, row.item_id, row.item_name, row.unit, row.lot_tracked)


def stock_on_hand(site_id: int | None = None, rows: list[Bucket] | None = None) -> list[ItemStock]:
    """Return stock on hand by site and item (items that ever moved there), lots inside.

    ``rows`` are the site's ``buckets`` when the caller has read them already.
    """
    stock = []
    for key, group in groupby(buckets(site_id) if rows is None else rows, key=item_key):
        lots = list(group)
        total = sum(lot.on_hand for lot in lots)
        stock.append(ItemStock(*key, on_hand=total, lots=[lot for lot in lots if lot.on_hand]))
    return stock


@dataclass(frozen=True)
class StockFigures:
    """One item's stock over a period (in the item's unit): what the monthly report shows."""

    item_id: int
    name: str
    category: str
    unit: str
    units_per_pack: int
    doses_per_unit: int
    opening: int
    received: int
    distributed: int
    transferred: int
    adjusted: int
    expired: int
    disposed: int
    closing: int


def period_sum(end_utc: datetime, kind: MovementKind, sign: int = 1):
    """Return the SQL sum of one kind of movement before end (the join starts at start)."""
    moved = and_(StockMovement.occurred_at < end_utc, StockMovement.kind == kind)
    return sign * func.coalesce(func.sum(case((moved, StockMovement.quantity), else_=0)), 0)


def on_hand_now(site_id: int | None):
    """Return the SQL stock on hand now of the query's item (one site's, or all), from the
    running balances the ledger keeps."""
    query = select(func.coalesce(func.sum(StockBalance.on_hand), 0)).where(
        StockBalance.item_id == SupplyItem.id
    )
    if site_id is not None:
        query = query.where(StockBalance.site_id == site_id)
    return query.correlate(SupplyItem).scalar_subquery()


def month_stock_figures(
    start_utc: datetime, end_utc: datetime, site_id: int | None = None
) -> list[StockFigures]:
    """Return per item: stock at start, received, distributed, transferred (net), adjusted,
    expired, disposed and stock at end (month-end stock) for [start, end), one GROUP BY.

    Distributed, expired and disposed are positive numbers; transferred and adjusted are
    signed. closing = opening + received - distributed + transferred + adjusted - expired
    - disposed. The stock at start and at end are worked back from the stock on hand now
    (the running balances) through the lines since start, so the report reads the ledger
    from the month on, never its whole history. Items listed: active ones and any with
    stock or movement in the month.
    """
    joined = and_(StockMovement.item_id == SupplyItem.id, StockMovement.occurred_at >= start_utc)
    if site_id is not None:
        joined = and_(joined, StockMovement.site_id == site_id)
    after_end = StockMovement.occurred_at >= end_utc
    now = on_hand_now(site_id)
    opening = now - func.coalesce(func.sum(StockMovement.quantity), 0)
    closing = now - func.coalesce(func.sum(case((after_end, StockMovement.quantity), else_=0)), 0)
    moved_in_month = func.count(case((~after_end, StockMovement.id)))
    query = (
        select(
            *DESCRIBING_COLUMNS,
            opening,
            period_sum(end_utc, MovementKind.RECEIVED),
            period_sum(end_utc, MovementKind.DISTRIBUTED, -1),
            period_sum(end_utc, MovementKind.TRANSFERRED),
            period_sum(end_utc, MovementKind.ADJUSTED),
            period_sum(end_utc, MovementKind.EXPIRED, -1),
            period_sum(end_utc, MovementKind.DISPOSED, -1),
            closing,
        )
        .outerjoin(StockMovement, joined)
        .group_by(SupplyItem.id)
        .having(
            SupplyItem.active.is_(True) | (moved_in_month > 0) | (opening != 0) | (closing != 0)
        )
        .order_by(*ITEM_ORDER)
    )
    return [StockFigures(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class StockWarnings:
    """What a supervisor should act on: low stock, lots about to expire, negative stock."""

    #: (item id, item name, unit, on hand, threshold): on hand below the item's threshold.
    low: list = field(default_factory=list)
    #: (site name, item name, lot number, expires on, on hand, days left; negative = expired).
    expiring: list = field(default_factory=list)
    #: (site name, item name, lot number or None, on hand): more handed out than recorded.
    negative: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.low or self.expiring or self.negative)


def stock_warnings(
    site_id: int | None = None, days: int | None = None, rows: list[Bucket] | None = None
) -> StockWarnings:
    """Return the stock warnings, program-wide or for one site, from one scan of the ledger.

    Low stock compares each active item's stock on hand (all sites, or ``site_id``'s) with its
    threshold; expiring lists lots with stock that expire within ``days`` (default
    ``STOCK_EXPIRY_WARNING_DAYS``) or have expired; negative lists site × item × lot below 0.
    ``rows`` are the site's ``buckets`` when the caller has read them already.
    """
    days = current_app.config["STOCK_EXPIRY_WARNING_DAYS"] if days is None else days
    today = local_today()
    horizon = today + timedelta(days=days)
    rows = buckets(site_id) if rows is None else rows
    totals: dict[int, int] = {}
    for row in rows:
        totals[row.item_id] = totals.get(row.item_id, 0) + row.on_hand
    thresholds = select(
        SupplyItem.id, SupplyItem.name, SupplyItem.unit, SupplyItem.low_stock_threshold
    ).where(SupplyItem.active.is_(True), SupplyItem.low_stock_threshold.is_not(None))
    low = [
        (item_id, name, unit, totals.get(item_id, 0), threshold)
        for item_id, name, unit, threshold in db.session.execute(thresholds.order_by(*ITEM_ORDER))
        if totals.get(item_id, 0) < threshold
    ]
    expiring = sorted(
        (
            (row.site_name, row.item_name, row.lot_number, row.expires_on, row.on_hand)
            for row in rows
            if row.expires_on is not None and row.expires_on <= horizon and row.on_hand > 0
        ),
        key=lambda row: (row[3], row[0].lower(), row[1].lower()),
    )
    return StockWarnings(
        low=low,
        expiring=[(*row, (row[3] - today).days) for row in expiring],
        negative=[
            (row.site_name, row.item_name, row.lot_number, row.on_hand)
            for row in rows
            if row.on_hand < 0
        ],
    )
