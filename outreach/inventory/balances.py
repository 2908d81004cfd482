"""Running stock balances (kept by a trigger on the ledger): check them and repair them."""

from sqlalchemy import Select, func, literal, select

from outreach.extensions import db
from outreach.inventory.models import StockBalance, StockMovement

#: ``lot_key`` of stock without a lot.
NO_LOT = 0


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
