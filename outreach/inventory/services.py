"""Writes to the stock ledger: receive, transfer, count, write off; each audits its change."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text

from outreach import sql
from outreach.audit.services import lock_chain, record
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.inventory import queries
from outreach.inventory.checks import (
    Checks,
    CountChanged,
    StockError,
    checked_item,
    checked_quantity,
    checked_reason,
    checked_site,
    existing_lot,
    lot_for_receipt,
    receipt_time,
)
from outreach.inventory.models import (
    ADJUST_REASONS,
    DISPOSE_REASONS,
    MovementKind,
    StockLot,
    StockMovement,
)
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site, User

#: Advisory lock namespace (first key) for one site's stock on PostgreSQL.
SITE_LOCK_NAMESPACE = 727_002
SITE_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :site)")


def lock_sites(*site_ids: int) -> None:
    """Serialise stock changes at these sites until commit (PostgreSQL; SQLite has one writer).

    Lock order, to never deadlock: the audit chain first, then sites by ascending id.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    sites = sorted(set(site_ids))
    lock_chain(then=(SITE_LOCK_NAMESPACE, sites[0]) if sites else None)
    for site_id in sites[1:]:
        sql.send(SITE_LOCK, {"namespace": SITE_LOCK_NAMESPACE, "site": site_id})


def overdraws(before: int, quantity: int) -> bool:
    """Tell whether taking ``quantity`` from a bucket holding ``before`` takes it below zero."""
    return quantity < 0 and before + quantity < 0


def add_movement(**values) -> StockMovement:
    """Append one line to the ledger, now, and flag it if it took its bucket below zero."""
    values.setdefault("occurred_at", utcnow())
    movement = StockMovement(overdrawn=False, **values)
    before = queries.bucket_on_hand(movement.site_id, movement.item_id, movement.lot_id)
    movement.overdrawn = overdraws(before, movement.quantity)
    db.session.add(movement)
    db.session.flush()
    return movement


def movement_audit(movement: StockMovement) -> dict:
    """Return the numbers and codes the audit event keeps of a movement."""
    return {
        "kind": movement.kind,
        "site": movement.site_id,
        "item": movement.item_id,
        "lot": movement.lot_id,
        "quantity": movement.quantity,
        "reason": movement.reason,
    }


def stock_receive(
    *,
    site_id: int,
    item_id: int,
    quantity: int,
    by: User,
    lot_number: str | None = None,
    expires_on: date | None = None,
    received_on: date | None = None,
) -> StockMovement:
    """Record stock received at a site, today or on an earlier day (a new lot is recorded
    with its expiry)."""
    checks = Checks()
    site = checks.run(checked_site, site_id, "site_id", incoming=True)
    item = checks.run(checked_item, item_id, incoming=True)
    quantity = checks.run(checked_quantity, quantity, "quantity", what="how many were received")
    receipt = checks.run(lot_for_receipt, item, lot_number, expires_on) if item else None
    occurred_at = checks.run(receipt_time, received_on)
    checks.done()
    number, lot = receipt
    if number and lot is None:
        lot = StockLot(item_id=item.id, lot_number=number, expires_on=expires_on)
        db.session.add(lot)
        db.session.flush()
    lock_sites(site.id)
    movement = add_movement(
        kind=MovementKind.RECEIVED,
        site_id=site.id,
        item_id=item.id,
        lot_id=lot.id if lot else None,
        quantity=quantity,
        recorded_by_id=by.id,
        occurred_at=occurred_at,
    )
    record("stock.receive", "stock_movement", movement.id, data=movement_audit(movement))
    return movement


def refuse_beyond_on_hand(site: Site, item: SupplyItem, lot: StockLot | None, quantity: int):
    """Refuse to move out more than the ledger has (counts fix the ledger first)."""
    on_hand = queries.bucket_on_hand(site.id, item.id, lot.id if lot else None)
    if quantity > on_hand:
        where = site.name + (f", lot {lot.lot_number}" if lot else "")
        if lot is None and item.lot_tracked:
            where += " without a lot"
        raise StockError(
            "quantity",
            f"Only {max(on_hand, 0)} {item.unit} on hand at {where}. "
            "If the shelf has more, record a count first.",
        )


@dataclass(frozen=True)
class Transfer:
    """The two lines of a transfer."""

    out: StockMovement
    into: StockMovement


def stock_transfer(
    *,
    from_site_id: int,
    to_site_id: int,
    item_id: int,
    quantity: int,
    by: User,
    lot_number: str | None = None,
) -> Transfer:
    """Move stock from one site to another: a pair of movements in one transaction."""
    checks = Checks()
    source = checks.run(checked_site, from_site_id, "from_site_id")
    target = checks.run(checked_site, to_site_id, "to_site_id", incoming=True)
    if source and target and source.id == target.id:
        checks.refuse("to_site_id", "Choose a different site to move the stock to.")
    item = checks.run(checked_item, item_id)
    quantity = checks.run(checked_quantity, quantity, "quantity", what="how many to move")
    lot = checks.run(existing_lot, item, lot_number, source) if item else None
    checks.done()
    lock_sites(source.id, target.id)
    refuse_beyond_on_hand(source, item, lot, quantity)
    common = {
        "kind": MovementKind.TRANSFERRED,
        "item_id": item.id,
        "lot_id": lot.id if lot else None,
        "recorded_by_id": by.id,
        "occurred_at": utcnow(),
    }
    out = add_movement(site_id=source.id, quantity=-quantity, **common)
    into = add_movement(site_id=target.id, quantity=quantity, counterpart_id=out.id, **common)
    record(
        "stock.transfer",
        "stock_movement",
        out.id,
        data={**movement_audit(out), "to_site": target.id, "in_movement": into.id},
    )
    return Transfer(out, into)


def stock_count(
    *,
    site_id: int,
    item_id: int,
    counted: int,
    reason: str,
    by: User,
    lot_number: str | None = None,
    seen_version: int | None = None,
) -> StockMovement | None:
    """Correct the ledger to a physical count; None when the count matches.

    ``seen_version`` is the number of movements the counter saw when opening the form; if
    stock moved since (an encounter, a transfer), the count is refused as ``CountChanged``.
    """
    checks = Checks()
    site = checks.run(checked_site, site_id, "site_id")
    item = checks.run(checked_item, item_id)
    counted = checks.run(checked_quantity, counted, "counted", low=0, what="the number you counted")
    lot = checks.run(existing_lot, item, lot_number, site) if item else None
    reason = checks.run(checked_reason, reason, ADJUST_REASONS)
    checks.done()
    lock_sites(site.id)
    lot_id = lot.id if lot else None
    version = queries.bucket_version(site.id, item.id, lot_id)
    on_hand = queries.bucket_on_hand(site.id, item.id, lot_id)
    if seen_version is not None and seen_version != version:
        raise CountChanged(on_hand, version)
    if counted == on_hand:
        return None
    movement = add_movement(
        kind=MovementKind.ADJUSTED,
        site_id=site.id,
        item_id=item.id,
        lot_id=lot_id,
        quantity=counted - on_hand,
        reason=reason,
        recorded_by_id=by.id,
    )
    record(
        "stock.count",
        "stock_movement",
        movement.id,
        data={**movement_audit(movement), "counted": counted, "ledger": on_hand},
    )
    return movement


def stock_write_off(
    *,
    site_id: int,
    item_id: int,
    quantity: int,
    kind: str,
    by: User,
    lot_number: str | None = None,
    reason: str | None = None,
) -> StockMovement:
    """Take expired or disposed stock off the shelf (disposals give a reason)."""
    checks = Checks()
    if kind not in (MovementKind.EXPIRED, MovementKind.DISPOSED):
        checks.refuse("kind", "Choose expired or disposed.")
    site = checks.run(checked_site, site_id, "site_id")
    item = checks.run(checked_item, item_id)
    quantity = checks.run(checked_quantity, quantity, "quantity", what="how many to take off")
    lot = checks.run(existing_lot, item, lot_number, site) if item else None
    disposed = kind == MovementKind.DISPOSED
    code = checks.run(checked_reason, reason, DISPOSE_REASONS) if disposed else None
    checks.done()
    lock_sites(site.id)
    refuse_beyond_on_hand(site, item, lot, quantity)
    movement = add_movement(
        kind=MovementKind(kind),
        site_id=site.id,
        item_id=item.id,
        lot_id=lot.id if lot else None,
        quantity=-quantity,
        reason=code,
        recorded_by_id=by.id,
    )
    record("stock.write_off", "stock_movement", movement.id, data=movement_audit(movement))
    return movement


def stock_settings_update(
    *, item: SupplyItem, lot_tracked: bool, low_stock_threshold: int | None
) -> None:
    """Set whether an item is kept by lot and below what stock supervisors are warned."""
    if low_stock_threshold is not None:
        low_stock_threshold = checked_quantity(
            low_stock_threshold, "low_stock_threshold", low=0, what="the warning level"
        )
    item.lot_tracked = bool(lot_tracked)
    item.low_stock_threshold = low_stock_threshold
    db.session.flush()
    record(
        "stock.settings",
        "supply_item",
        item.id,
        data={"lot_tracked": item.lot_tracked, "low_stock_threshold": low_stock_threshold},
    )
