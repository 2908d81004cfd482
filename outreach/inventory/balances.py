"""Running stock balances (kept by a trigger on the ledger): reads, check and repair."""

from functools import cache

from sqlalchemy import Select, bindparam, func, literal, select

from outreach import sql
from outreach.extensions import db
from outreach.inventory.models import StockBalance, StockMovement

#: ``lot_key`` of stock without a lot.
NO_LOT = 0


@cache
def bucket_statement() -> Select:
    """Build (once) the read of one balance (``site_id``, ``item_id``, ``lot_key``)."""
    return select(StockBalance.on_hand).where(
        StockBalance.site_id == bindparam("site_id"),
        StockBalance.item_id == bindparam("item_id"),
        StockBalance.lot_key == bindparam("lot_key"),
    )


def bucket_on_hand(site_id: int, item_id: int, lot_id: int | None) -> int:
    """Return what is on hand of one item and lot at one site."""
    parameters = {"site_id": site_id, "item_id": item_id, "lot_key": lot_id or NO_LOT}
    return sql.execute(bucket_statement(), parameters).scalar() or 0


def ledger_sums() -> Select:
    """Select the ledger's sum per site, item and lot key: what the balances must hold."""
    lot_key = func.coalesce(StockMovement.lot_id, literal(NO_LOT))
    return select(
        StockMovement.site_id,
        StockMovement.item_id,
        lot_key.label("lot_key"),
        StockMovement.lot_id,
        func.sum(StockMovement.quantity).label("on_hand"),
    ).group_by(StockMovement.site_id, StockMovement.item_id, StockMovement.lot_id)


def mismatches() -> list[tuple[int, int, int, int, int]]:
    """Return (site, item, lot key, balance, ledger sum) wherever the two disagree."""
    ledger = {
        (site, item, key): total
        for site, item, key, _lot, total in db.session.execute(ledger_sums())
    }
    kept = {
        (row.site_id, row.item_id, row.lot_key): row.on_hand
        for row in db.session.scalars(select(StockBalance))
    }
    return [
        (*bucket, kept.get(bucket, 0), ledger.get(bucket, 0))
        for bucket in sorted(set(ledger) | set(kept))
        if kept.get(bucket, 0) != ledger.get(bucket, 0)
    ]


def rebuild() -> None:
    """Replace every balance with the ledger's sums (a repair; the ledger is the record)."""
    db.session.execute(StockBalance.__table__.delete())
    db.session.execute(
        StockBalance.__table__.insert().from_select(
            ["site_id", "item_id", "lot_key", "lot_id", "on_hand"], ledger_sums()
        )
    )
