"""Encounters move stock: supplies handed out become ``distributed`` lines, FEFO by lot."""

from collections import defaultdict
from datetime import date

from flask import has_request_context
from flask_login import current_user

from outreach.encounters.models import Encounter
from outreach.encounters.sections import register_listener
from outreach.inventory import queries
from outreach.inventory.models import MovementKind, StockMovement
from outreach.inventory.services import add_movement, lock_sites
from outreach.templating import program_zone


def register() -> None:
    """Listen to encounter changes (called from ``outreach.setup``)."""
    register_listener(on_encounter_change)


def acting_user_id() -> int | None:
    """Return the id of the user saving, when there is one."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def on_encounter_change(encounter: Encounter, change: str) -> None:
    """Keep the ledger equal to the encounter: record, re-record or reverse its distribution."""
    standing = queries.open_distributions(encounter.id)
    removed = change == "delete" or encounter.deleted_at is not None
    wanted = {} if removed else {line.item_id: line.quantity for line in encounter.supplies}
    if not wanted and not standing:
        return
    if change != "create" and not standing and not followed(encounter):
        return
    lock_sites(encounter.site_id, *(line.site_id for line in standing))
    by_item: dict[int, list[StockMovement]] = defaultdict(list)
    for line in standing:
        by_item[line.item_id].append(line)
    for item_id in sorted(set(wanted) | set(by_item)):
        lines = by_item.get(item_id, [])
        if lines and unchanged(lines, encounter, wanted.get(item_id, 0)):
            continue
        reverse(lines)
        if wanted.get(item_id):
            distribute(encounter, item_id, wanted[item_id])


def followed(encounter: Encounter) -> bool:
    """Tell whether the ledger follows an encounter that has no standing lines: it had lines
    once, or was saved on screen after the ledger's first line (older and imported ones were
    never in the ledger)."""
    if queries.has_lines(encounter.id):
        return True
    if getattr(encounter, "external_id", None):
        return False
    started = queries.ledger_started_at()
    return started is not None and encounter.created_at >= started


def unchanged(lines: list[StockMovement], encounter: Encounter, quantity: int) -> bool:
    """Tell whether standing lines already say this item, quantity, site and time."""
    return -sum(line.quantity for line in lines) == quantity and all(
        line.site_id == encounter.site_id and line.occurred_at == encounter.occurred_at
        for line in lines
    )


def reverse(lines: list[StockMovement]) -> None:
    """Undo distribution lines exactly: same site, item, lot and time, opposite quantity."""
    for line in lines:
        add_movement(
            kind=MovementKind.DISTRIBUTED,
            site_id=line.site_id,
            item_id=line.item_id,
            lot_id=line.lot_id,
            quantity=-line.quantity,
            occurred_at=line.occurred_at,
            encounter_id=line.encounter_id,
            reverses_id=line.id,
            recorded_by_id=acting_user_id(),
        )


def fefo_plan(site_id: int, item_id: int, quantity: int, day: date) -> dict[int | None, int]:
    """Return how many to take from each lot: earliest expiry first, skipping lots expired by
    ``day``, then stock without a lot; what is left over is taken from "no lot" (negative)."""
    plan: dict[int | None, int] = {}
    remaining = quantity
    for balance in queries.lot_balances(site_id, item_id):
        if remaining == 0:
            break
        if balance.on_hand <= 0 or (balance.expires_on and balance.expires_on < day):
            continue
        taken = min(remaining, balance.on_hand)
        plan[balance.lot_id] = taken
        remaining -= taken
    if remaining:
        plan[None] = plan.get(None, 0) + remaining
    return plan


def distribute(encounter: Encounter, item_id: int, quantity: int) -> list[StockMovement]:
    """Record an encounter's packs of one item as handed out at its site, split across lots."""
    day = encounter.occurred_at.astimezone(program_zone()).date()
    return [
        add_movement(
            kind=MovementKind.DISTRIBUTED,
            site_id=encounter.site_id,
            item_id=item_id,
            lot_id=lot_id,
            quantity=-taken,
            occurred_at=encounter.occurred_at,
            encounter_id=encounter.id,
            recorded_by_id=acting_user_id(),
        )
        for lot_id, taken in fefo_plan(encounter.site_id, item_id, quantity, day).items()
    ]
