"""Encounters move stock: supplies handed out become ``distributed`` lines, FEFO by lot."""

from collections import defaultdict
from datetime import date

from outreach import sql
from outreach.audit.services import acting_user_id
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.encounters.sections import register_listener
from outreach.inventory import queries
from outreach.inventory.models import MovementKind, StockMovement
from outreach.inventory.queries import LotBalance
from outreach.inventory.services import lock_sites, overdraws
from outreach.templating import program_zone


def register() -> None:
    """Listen to encounter changes (called from ``outreach.setup``)."""
    register_listener(on_encounter_change)


def on_encounter_change(encounter: Encounter, change: str) -> None:
    """Keep the ledger equal to the encounter: record, re-record or reverse its distribution."""
    created = change == "create"
    standing = [] if created else queries.open_distributions(encounter.id)
    removed = change == "delete" or encounter.deleted_at is not None
    wanted = {} if removed else {line.item_id: line.quantity for line in encounter.supplies}
    if not wanted and not standing:
        return
    if not created and not standing and not followed(encounter):
        return
    lock_sites(encounter.site_id, *(line.site_id for line in standing))
    by_item: dict[int, list[StockMovement]] = defaultdict(list)
    for line in standing:
        by_item[line.item_id].append(line)
    redone = redone_items(encounter, by_item, wanted)
    reverse([line for item_id in redone for line in by_item.get(item_id, [])])
    # The reversals are flushed, so the stock distribute reads includes them.
    distribute(encounter, {item_id: wanted[item_id] for item_id in redone if wanted.get(item_id)})


def redone_items(
    encounter: Encounter, by_item: dict[int, list[StockMovement]], wanted: dict[int, int]
) -> list[int]:
    """Return, by id, the items whose standing lines no longer say what the encounter does."""
    return [
        item_id
        for item_id in sorted(set(wanted) | set(by_item))
        if not (
            by_item.get(item_id) and unchanged(by_item[item_id], encounter, wanted.get(item_id, 0))
        )
    ]


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


def write_lines(movements: list[StockMovement]) -> None:
    """Append new lines to the ledger with one Core INSERT (no unit of work: nothing reads
    these objects back; the ledger is read with queries)."""
    if not movements:
        return
    now = utcnow()
    rows = [sql.row_values(movement) | {"recorded_at": now} for movement in movements]
    sql.send(sql.insert_into(StockMovement.__table__), rows)


def reverse(lines: list[StockMovement]) -> None:
    """Undo distribution lines exactly: same site, item, lot and time, opposite quantity."""
    recorded_by_id = acting_user_id()
    write_lines([reversal(line, recorded_by_id) for line in lines])


def reversal(line: StockMovement, recorded_by_id: int | None) -> StockMovement:
    """Return the line undoing a distribution line: it puts stock back, so never overdraws."""
    return StockMovement(
        kind=MovementKind.DISTRIBUTED,
        site_id=line.site_id,
        item_id=line.item_id,
        lot_id=line.lot_id,
        quantity=-line.quantity,
        occurred_at=line.occurred_at,
        encounter_id=line.encounter_id,
        reverses_id=line.id,
        recorded_by_id=recorded_by_id,
        overdrawn=False,
    )


def fefo_plan(balances: list[LotBalance], quantity: int, day: date) -> dict[int | None, int]:
    """Return how many to take per lot: FEFO, lots expired by ``day`` skipped, excess: no lot."""
    plan: dict[int | None, int] = {}
    remaining = quantity
    for balance in balances:
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


def distribute(encounter: Encounter, quantities: dict[int, int]) -> list[StockMovement]:
    """Record packs of items as handed out at the encounter's site: one read, one INSERT.

    Nothing is recorded before the ledger starts (its first receipt or count): a program
    that keeps no stock gets no negative stock. The same read tells.
    """
    if not quantities:
        return []
    shelf = queries.lot_balances_for_items(encounter.site_id, quantities)
    if shelf is None:
        return []
    recorded_by_id = acting_user_id()
    movements = [
        line
        for item_id, quantity in quantities.items()
        for line in item_lines(encounter, item_id, quantity, shelf.get(item_id, []), recorded_by_id)
    ]
    write_lines(movements)
    return movements


def item_lines(
    encounter: Encounter,
    item_id: int,
    quantity: int,
    balances: list[LotBalance],
    recorded_by_id: int | None,
) -> list[StockMovement]:
    """Return the lines handing out one item, FEFO, flagged if they take their bucket below 0."""
    day = encounter.occurred_at.astimezone(program_zone()).date()
    # A plan takes each lot (or "no lot") once: its balance is the bucket's stock before the line.
    on_hand = {balance.lot_id: balance.on_hand for balance in balances}
    return [
        StockMovement(
            kind=MovementKind.DISTRIBUTED,
            site_id=encounter.site_id,
            item_id=item_id,
            lot_id=lot_id,
            quantity=-taken,
            occurred_at=encounter.occurred_at,
            encounter_id=encounter.id,
            recorded_by_id=recorded_by_id,
            overdrawn=overdraws(on_hand.get(lot_id, 0), -taken),
        )
        for lot_id, taken in fefo_plan(balances, quantity, day).items()
    ]
