"""The stock ledger: arithmetic, encounters moving stock (FEFO), reversal, month figures."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import IntegrityError

from outreach.audit.models import AuditEvent
from outreach.dbtypes import utcnow
from outreach.encounters import services as encounter_services
from outreach.encounters.models import DeleteReason, Encounter
from outreach.encounters.services import EncounterInput
from outreach.extensions import db
from outreach.inventory import balances, checks, hooks, queries, services
from outreach.inventory.models import MovementKind, StockBalance, StockLot, StockMovement
from tests import factories


@pytest.fixture
def stock(app):
    """Two sites, a naloxone kit (kept by lot), a box of syringes and a supervisor."""
    office = factories.make_site("Office")
    van = factories.make_site("Van 1", kind="mobile")
    kit = factories.make_item("Naloxone nasal kit", category="naloxone", doses_per_unit=2)
    box = factories.make_item("Syringes box of 10", units_per_pack=10)
    supervisor = factories.make_user("supervisor")
    worker = factories.make_user("worker")
    db.session.commit()
    return {"office": office, "van": van, "kit": kit, "box": box, "sup": supervisor, "w": worker}


def on_hand(site, item, lot_number: str | None = None) -> int:
    """Return the ledger's stock of an item (and lot) at a site."""
    lot = queries.find_lot(item.id, lot_number) if lot_number else None
    return queries.bucket_on_hand(site.id, item.id, lot.id if lot else None)


def receive(stock, site, item, quantity, lot=None, expires=None):
    """Receive stock as the supervisor."""
    return services.stock_receive(
        site_id=site.id,
        item_id=item.id,
        quantity=quantity,
        lot_number=lot,
        expires_on=expires,
        by=stock["sup"],
    )


def soon(days: int) -> date:
    """Return the local date so many days from today."""
    return queries.local_today() + timedelta(days=days)


def log(stock, site, supplies: dict, when: datetime | None = None) -> Encounter:
    """Save an encounter through the encounter service, as the encounter screen does."""
    data = EncounterInput(
        occurred_at=when or utcnow(),
        site_id=site.id,
        contact_type="street",
        supplies={item.id: quantity for item, quantity in supplies.items()},
    )
    return encounter_services.encounter_create(worker=stock["w"], data=data)


def edit(encounter: Encounter, site, supplies: dict, when: datetime | None = None) -> None:
    """Save an edit of an encounter through the encounter service."""
    data = EncounterInput(
        occurred_at=when or encounter.occurred_at,
        site_id=site.id,
        contact_type="street",
        supplies={item.id: quantity for item, quantity in supplies.items()},
    )
    encounter_services.encounter_update(
        encounter=encounter, data=data, expected_version=encounter.version
    )


def lines_of(encounter: Encounter) -> list[StockMovement]:
    """Return every ledger line an encounter made, in order."""
    query = select(StockMovement).where(StockMovement.encounter_id == encounter.id)
    return list(db.session.scalars(query.order_by(StockMovement.id)))


def test_naloxone_is_kept_by_lot_by_default(stock):
    assert stock["kit"].lot_tracked is True
    assert stock["box"].lot_tracked is False
    assert stock["box"].low_stock_threshold is None


def test_ledger_arithmetic_receive_transfer_count_write_off(stock):
    office, van, box = stock["office"], stock["van"], stock["box"]
    receive(stock, office, box, 100)
    moved = services.stock_transfer(
        from_site_id=office.id, to_site_id=van.id, item_id=box.id, quantity=30, by=stock["sup"]
    )
    counted = services.stock_count(
        site_id=van.id, item_id=box.id, counted=28, reason="count", by=stock["sup"]
    )
    services.stock_write_off(
        site_id=office.id,
        item_id=box.id,
        quantity=5,
        kind="disposed",
        reason="damaged",
        by=stock["sup"],
    )
    db.session.commit()
    assert (moved.out.quantity, moved.into.quantity) == (-30, 30)
    assert moved.into.counterpart_id == moved.out.id
    assert counted.quantity == -2 and counted.reason == "count"
    assert on_hand(office, box) == 65
    assert on_hand(van, box) == 28
    assert queries.item_on_hand(box.id) == 93
    kinds = db.session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["received", "transferred", "transferred", "adjusted", "disposed"]


def test_a_count_that_matches_writes_nothing(stock):
    receive(stock, stock["office"], stock["box"], 12)
    result = services.stock_count(
        site_id=stock["office"].id,
        item_id=stock["box"].id,
        counted=12,
        reason="count",
        by=stock["sup"],
    )
    assert result is None
    assert db.session.scalar(select(func.count(StockMovement.id))) == 1


def test_the_database_refuses_movements_with_the_wrong_sign(stock):
    db.session.add(
        StockMovement(
            kind=MovementKind.RECEIVED,
            site_id=stock["office"].id,
            item_id=stock["box"].id,
            quantity=-5,
            occurred_at=utcnow(),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_stock_without_a_lot_of_an_item_kept_by_lot_can_be_counted_and_written_off(stock):
    office, van, kit, sup = stock["office"], stock["van"], stock["kit"], stock["sup"]
    receive(stock, office, kit, 5, "LOT123", soon(90))
    log(stock, van, {kit: 3})
    assert ("Van 1", "Naloxone nasal kit", None, -3) in queries.stock_warnings().negative
    counted = services.stock_count(
        site_id=van.id, item_id=kit.id, counted=0, reason="entry_error", by=sup
    )
    assert (counted.lot_id, counted.quantity) == (None, 3)
    assert queries.stock_warnings().negative == []
    with pytest.raises(services.StockError) as refused:
        services.stock_count(site_id=van.id, item_id=kit.id, counted=2, reason="found", by=sup)
    assert refused.value.message == checks.LOT_NEEDED, "no stock without a lot left there"

    services.stock_settings_update(item=kit, lot_tracked=False, low_stock_threshold=None)
    receive(stock, office, kit, 20)
    services.stock_settings_update(item=kit, lot_tracked=True, low_stock_threshold=None)
    services.stock_write_off(
        site_id=office.id, item_id=kit.id, quantity=2, kind="disposed", reason="damaged", by=sup
    )
    services.stock_transfer(
        from_site_id=office.id, to_site_id=van.id, item_id=kit.id, quantity=5, by=sup
    )
    services.stock_count(site_id=office.id, item_id=kit.id, counted=12, reason="count", by=sup)
    assert (on_hand(office, kit), on_hand(van, kit)) == (12, 5)
    with pytest.raises(services.StockError) as refused:
        services.stock_write_off(site_id=van.id, item_id=kit.id, quantity=6, kind="expired", by=sup)
    assert "Only 5 each on hand at Van 1 without a lot" in refused.value.message
    with pytest.raises(services.StockError) as refused:
        receive(stock, office, kit, 4)
    assert refused.value.field == "lot_number", "receipts of an item kept by lot need a lot"


def test_encounter_takes_the_earliest_expiring_lot_and_splits(stock):
    office, kit = stock["office"], stock["kit"]
    receive(stock, office, kit, 10, "LATE22", soon(300))
    receive(stock, office, kit, 3, "EARLY1", soon(20))
    encounter = log(stock, office, {kit: 5})
    db.session.commit()
    lots = {lot.id: lot.lot_number for lot in db.session.scalars(select(StockLot))}
    taken = [(lots[line.lot_id], line.quantity, line.overdrawn) for line in lines_of(encounter)]
    assert taken == [("EARLY1", -3, False), ("LATE22", -2, False)]
    assert on_hand(office, kit, "EARLY1") == 0
    assert on_hand(office, kit, "LATE22") == 8


def statements_of(work) -> list[str]:
    """Run work and return the SQL statements it sent."""
    sent: list[str] = []

    def note(connection, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return sent


def ledger_lines(encounter: Encounter) -> list[tuple]:
    """Return an encounter's lines as (item id, lot number, quantity, overdrawn), in order."""
    lots = {lot.id: lot.lot_number for lot in db.session.scalars(select(StockLot))}
    return [
        (line.item_id, lots.get(line.lot_id), line.quantity, line.overdrawn)
        for line in lines_of(encounter)
    ]


def test_a_new_encounter_moves_stock_with_one_read_and_one_insert(stock, backend):
    office, kit, box = stock["office"], stock["kit"], stock["box"]
    strips = factories.make_item("Fentanyl test strips", category="test_strips")
    receive(stock, office, kit, 3, "EARLY1", soon(20))
    receive(stock, office, kit, 10, "LATE22", soon(300))
    receive(stock, office, box, 2)
    db.session.commit()
    encounter = factories.make_encounter(stock["w"], office, supplies={kit: 5, box: 4, strips: 1})

    sent = statements_of(lambda: hooks.on_encounter_change(encounter, "create"))

    locks = [statement for statement in sent if "pg_advisory_xact_lock" in statement]
    rest = [statement for statement in sent if statement not in locks]
    assert [statement.split()[0] for statement in rest] == ["SELECT", "INSERT"], sent
    assert len(locks) <= (2 if backend == "postgresql" else 0), "the audit chain and the site"
    assert ledger_lines(encounter) == [
        (kit.id, "EARLY1", -3, False),
        (kit.id, "LATE22", -2, False),
        (box.id, None, -4, True),
        (strips.id, None, -1, True),
    ]


def test_a_batch_flags_each_line_that_takes_its_own_bucket_below_zero(stock):
    office, van, kit, box = stock["office"], stock["van"], stock["kit"], stock["box"]
    strips = factories.make_item("Fentanyl test strips", category="test_strips")
    services.stock_settings_update(item=kit, lot_tracked=False, low_stock_threshold=None)
    receive(stock, office, kit, 2)
    services.stock_settings_update(item=kit, lot_tracked=True, low_stock_threshold=None)
    receive(stock, office, kit, 2, "EARLY1", soon(20))
    receive(stock, office, kit, 3, "LATE22", soon(300))
    receive(stock, office, kit, 1, "OLD111", soon(1))
    receive(stock, office, box, 5)
    receive(stock, office, strips, 4)
    receive(stock, van, box, 50)
    later = utcnow() + timedelta(days=3)

    encounter = log(stock, office, {kit: 9, box: 8, strips: 4}, when=later)

    assert ledger_lines(encounter) == [
        (kit.id, "EARLY1", -2, False),
        (kit.id, "LATE22", -3, False),
        (kit.id, None, -4, True),
        (box.id, None, -8, True),
        (strips.id, None, -4, False),
    ]
    assert on_hand(office, kit) == -2 and on_hand(office, kit, "OLD111") == 1
    assert on_hand(office, box) == -3 and on_hand(van, box) == 50
    assert on_hand(office, strips) == 0


def test_an_edit_flags_against_the_stock_its_reversal_put_back(stock):
    office, kit = stock["office"], stock["kit"]
    receive(stock, office, kit, 5, "LOT123", soon(90))
    encounter = log(stock, office, {kit: 5})
    edit(encounter, office, {kit: 6})
    db.session.commit()
    lines = ledger_lines(encounter)
    assert lines[0] == (kit.id, "LOT123", -5, False)
    assert lines[1] == (kit.id, "LOT123", 5, False), "the reversal"
    assert lines[2:] == [(kit.id, "LOT123", -5, False), (kit.id, None, -1, True)]


def test_expired_lots_are_skipped(stock):
    office, kit = stock["office"], stock["kit"]
    receive(stock, office, kit, 4, "OLD111", soon(1))
    receive(stock, office, kit, 4, "NEW222", soon(200))
    later = utcnow() + timedelta(days=3)
    encounter = log(stock, office, {kit: 2}, when=later)
    assert [line.lot_id for line in lines_of(encounter)] == [queries.find_lot(kit.id, "NEW222").id]


def test_distribution_beyond_stock_is_allowed_negative_and_flagged(stock):
    office, kit, box = stock["office"], stock["kit"], stock["box"]
    receive(stock, office, kit, 2, "ONLY12", soon(100))
    encounter = log(stock, office, {kit: 5, box: 3})
    db.session.commit()
    lines = [
        (line.item_id, line.lot_id, line.quantity, line.overdrawn) for line in lines_of(encounter)
    ]
    lot_id = queries.find_lot(kit.id, "ONLY12").id
    assert lines == [
        (kit.id, lot_id, -2, False),
        (kit.id, None, -3, True),
        (box.id, None, -3, True),
    ]
    assert queries.item_on_hand(kit.id, office.id) == -3
    warnings = queries.stock_warnings()
    assert ("Office", "Naloxone nasal kit", None, -3) in warnings.negative
    assert ("Office", "Syringes box of 10", None, -3) in warnings.negative
    row = next(row for row in queries.stock_on_hand() if row.item_id == kit.id)
    assert row.negative and [(lot.lot_number, lot.on_hand) for lot in row.lots] == [(None, -3)]


def test_editing_an_encounter_reverses_exactly_and_records_anew(stock):
    office, van, kit, box = stock["office"], stock["van"], stock["kit"], stock["box"]
    receive(stock, office, kit, 3, "EARLY1", soon(20))
    receive(stock, office, kit, 10, "LATE22", soon(300))
    receive(stock, office, box, 50)
    encounter = log(stock, office, {kit: 5, box: 4})
    db.session.commit()
    first = lines_of(encounter)

    edit(encounter, office, {kit: 5, box: 4})
    assert lines_of(encounter) == first, "an edit that changes no supply moves no stock"

    edit(encounter, office, {kit: 2, box: 4})
    db.session.commit()
    lines = lines_of(encounter)
    reversals = [line for line in lines if line.reverses_id]
    kit_lines = [line for line in first if line.item_id == kit.id]
    assert [(r.reverses_id, r.lot_id, r.quantity) for r in reversals] == [
        (line.id, line.lot_id, -line.quantity) for line in kit_lines
    ]
    assert all(r.occurred_at == encounter.occurred_at for r in reversals)
    assert on_hand(office, kit, "EARLY1") == 1 and on_hand(office, kit, "LATE22") == 10
    assert on_hand(office, box) == 46, "syringes unchanged: not reversed"

    edit(encounter, van, {kit: 2, box: 4})
    db.session.commit()
    assert queries.item_on_hand(kit.id, office.id) == 13
    assert queries.item_on_hand(box.id, office.id) == 50
    assert queries.item_on_hand(kit.id, van.id) == -2
    assert queries.item_on_hand(box.id, van.id) == -4


def test_removing_an_encounter_reverses_its_distribution(stock):
    office, kit = stock["office"], stock["kit"]
    receive(stock, office, kit, 6, "LOT123", soon(90))
    encounter = log(stock, office, {kit: 4})
    edit(encounter, office, {kit: 5})
    encounter_services.encounter_delete(
        encounter=encounter, reason=DeleteReason.ENTERED_IN_ERROR, by=stock["sup"]
    )
    db.session.commit()
    assert on_hand(office, kit, "LOT123") == 6
    assert queries.open_distributions(encounter.id) == []
    assert sum(line.quantity for line in lines_of(encounter)) == 0


def test_purging_an_encounter_keeps_its_stock_history(stock):
    office, box = stock["office"], stock["box"]
    receive(stock, office, box, 20)
    encounter = log(stock, office, {box: 7})
    db.session.commit()
    db.session.execute(delete(Encounter).where(Encounter.id == encounter.id))
    db.session.commit()
    kept = db.session.scalars(select(StockMovement).where(StockMovement.quantity == -7)).all()
    assert len(kept) == 1 and kept[0].encounter_id is None
    assert on_hand(office, box) == 13


def add_line(kind, site, item, quantity, occurred_at, **extra) -> None:
    """Add one ledger line straight to the session, past the services."""
    db.session.add(
        StockMovement(
            kind=kind,
            site_id=site.id,
            item_id=item.id,
            quantity=quantity,
            occurred_at=occurred_at,
            **extra,
        )
    )


def test_month_stock_figures_per_item(stock):
    office, van, kit, box = stock["office"], stock["van"], stock["kit"], stock["box"]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 4, 1, tzinfo=UTC)

    def movement(kind, site, quantity, when, **extra):
        add_line(kind, site, box, quantity, when, **extra)

    movement("received", office, 100, start - timedelta(days=3))
    movement("distributed", office, -10, start - timedelta(days=1))
    movement("received", office, 40, start + timedelta(days=2))
    movement("distributed", office, -7, start + timedelta(days=3))
    movement("distributed", van, -5, start + timedelta(days=4))
    movement("transferred", office, -20, start + timedelta(days=5))
    movement("transferred", van, 20, start + timedelta(days=5))
    movement("adjusted", van, -1, start + timedelta(days=6), reason="lost")
    movement("disposed", office, -2, start + timedelta(days=7), reason="damaged")
    movement("received", office, 999, end)
    db.session.flush()

    rows = {row.item_id: row for row in queries.month_stock_figures(start, end)}
    whole = rows[box.id]
    assert (whole.opening, whole.received, whole.distributed) == (90, 40, 12)
    assert (whole.transferred, whole.adjusted, whole.expired, whole.disposed) == (0, -1, 0, 2)
    assert whole.closing == 115
    assert whole.closing == (
        whole.opening
        + whole.received
        - whole.distributed
        + whole.transferred
        + whole.adjusted
        - whole.expired
        - whole.disposed
    )
    assert rows[kit.id].closing == 0, "active items with no stock are listed with zeros"
    van_rows = {row.item_id: row for row in queries.month_stock_figures(start, end, van.id)}
    assert (van_rows[box.id].transferred, van_rows[box.id].closing) == (20, 14)


def test_month_figures_list_retired_items_only_with_stock_or_movement(stock):
    office = stock["office"]
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    emptied = factories.make_item("Old cookers", category="injection_equipment")
    kept = factories.make_item("Old pipes", category="smoking")
    for item, quantities in ((emptied, (10, -10)), (kept, (6,))):
        for quantity in quantities:
            kind = "received" if quantity > 0 else "distributed"
            add_line(kind, office, item, quantity, start - timedelta(days=40))
        item.active = False
    db.session.flush()
    rows = {row.item_id: row for row in queries.month_stock_figures(start, end)}
    assert emptied.id not in rows, "nothing on hand and nothing moved: not listed"
    assert (rows[kept.id].opening, rows[kept.id].closing) == (6, 6)


def test_month_figures_follow_edited_encounters_into_their_month(stock):
    office, box = stock["office"], stock["box"]
    receive(stock, office, stock["kit"], 1, "LOT123", soon(90))
    march = datetime(2026, 3, 10, 12, tzinfo=UTC)
    encounter = log(stock, office, {box: 6}, when=march)
    edit(encounter, office, {box: 4})
    april = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    rows = {r.item_id: r for r in queries.month_stock_figures(march.replace(day=1), april[0])}
    assert rows[box.id].distributed == 4
    assert {r.item_id: r for r in queries.month_stock_figures(*april)}[box.id].distributed == 0


def test_warnings_low_stock_and_expiring_lots(app, stock):
    office, kit, box = stock["office"], stock["kit"], stock["box"]
    services.stock_settings_update(item=box, lot_tracked=False, low_stock_threshold=50)
    receive(stock, office, box, 30)
    receive(stock, office, kit, 4, "SOON11", soon(10))
    receive(stock, office, kit, 4, "LATER2", soon(120))
    warnings = queries.stock_warnings()
    assert [(row[1], row[3], row[4]) for row in warnings.low] == [("Syringes box of 10", 30, 50)]
    assert [(row[2], row[5]) for row in warnings.expiring] == [("SOON11", 10)]
    app.config["STOCK_EXPIRY_WARNING_DAYS"] = 200
    assert len(queries.stock_warnings().expiring) == 2
    app.config["STOCK_EXPIRY_WARNING_DAYS"] = 60


def test_bad_receipts_are_refused_at_their_field(stock):
    office, kit, box = stock["office"], stock["kit"], stock["box"]
    cases = [
        (box, -5, None, None, "quantity"),
        (box, 0, None, None, "quantity"),
        (kit, 5, None, None, "lot_number"),
        (kit, 5, "NEW123", None, "expires_on"),
        (kit, 5, "John Smith", soon(30), "lot_number"),
        (kit, 5, "OLD123", soon(-1), "expires_on"),
        (box, 5, "ABC123", None, "lot_number"),
    ]
    for item, quantity, lot, expires, field in cases:
        with pytest.raises(services.StockError) as refused:
            receive(stock, office, item, quantity, lot, expires)
        assert refused.value.field == field, (item.name, quantity, lot, expires)
    assert db.session.scalar(select(func.count(StockMovement.id))) == 0
    assert db.session.scalar(select(func.count(StockLot.id))) == 0


def test_a_known_lot_keeps_its_expiry(stock):
    office, kit = stock["office"], stock["kit"]
    receive(stock, office, kit, 5, "ab 12", soon(30))
    receive(stock, office, kit, 5, "AB12")
    with pytest.raises(services.StockError) as refused:
        receive(stock, office, kit, 5, "AB12", soon(31))
    assert refused.value.field == "expires_on"
    assert on_hand(office, kit, "AB12") == 10


def test_encounters_do_not_start_the_ledger(stock):
    office, van, box = stock["office"], stock["van"], stock["box"]
    early = factories.make_encounter(stock["w"], office, supplies={box: 3})
    sent = statements_of(lambda: hooks.on_encounter_change(early, "create"))
    rest = [statement.split()[0] for statement in sent if "pg_advisory_xact_lock" not in statement]
    assert rest == ["SELECT"], "the shelf read tells the ledger has not started: no INSERT"
    assert queries.ledger_started_at() is None and queries.stock_warnings().negative == []

    receive(stock, office, box, 10)
    later = log(stock, van, {box: 2})
    assert [line.quantity for line in lines_of(later)] == [-2], "a site without stock, after"
    edit(early, office, {box: 5})
    assert lines_of(early) == [] and on_hand(office, box) == 10, "saved before: not followed"


def test_encounters_from_before_the_ledger_move_no_stock_when_edited(stock):
    office, box = stock["office"], stock["box"]
    older = factories.make_encounter(stock["w"], office, supplies={box: 2})
    older.created_at = utcnow() - timedelta(days=1)
    receive(stock, office, box, 10)
    edit(older, office, {box: 3})
    encounter_services.encounter_delete(
        encounter=older, reason=DeleteReason.DUPLICATE, by=stock["sup"]
    )
    assert lines_of(older) == [] and on_hand(office, box) == 10

    empty = log(stock, office, {})
    edit(empty, office, {box: 4})
    assert [line.quantity for line in lines_of(empty)] == [-4], "saved after: followed"
    assert on_hand(office, box) == 6


def test_imported_encounters_move_no_stock_when_edited(stock):
    office, box = stock["office"], stock["box"]
    receive(stock, office, box, 10)
    imported = factories.make_encounter(stock["w"], office, supplies={box: 2})
    if not hasattr(imported, "external_id"):
        pytest.skip("encounters have no external id (the import feature is not merged)")
    imported.external_id = "old-system-1"
    edit(imported, office, {box: 3})
    assert lines_of(imported) == [] and on_hand(office, box) == 10


def test_balances_follow_the_ledger_through_every_kind_of_change(stock):
    office, van, kit, box = stock["office"], stock["van"], stock["kit"], stock["box"]
    receive(stock, office, kit, 6, "LOT123", soon(90))
    receive(stock, office, kit, 4, "LOT456", soon(200))
    receive(stock, office, box, 100)
    services.stock_transfer(
        from_site_id=office.id, to_site_id=van.id, item_id=box.id, quantity=30, by=stock["sup"]
    )
    services.stock_count(
        site_id=van.id, item_id=box.id, counted=28, reason="count", by=stock["sup"]
    )
    encounter = log(stock, office, {kit: 8, box: 5})
    edit(encounter, van, {kit: 1, box: 40})
    gone = log(stock, office, {box: 3})
    encounter_services.encounter_delete(
        encounter=gone, reason=DeleteReason.ENTERED_IN_ERROR, by=stock["sup"]
    )
    # A line written past the services still reaches its balance: the database keeps it.
    db.session.add(
        StockMovement(
            kind=MovementKind.RECEIVED,
            site_id=van.id,
            item_id=kit.id,
            quantity=2,
            occurred_at=utcnow(),
        )
    )
    db.session.commit()
    assert balances.mismatches() == []
    kept = {
        (row.site_id, row.item_id, row.lot_key): row.on_hand
        for row in db.session.scalars(select(StockBalance))
    }
    lot = {number: queries.find_lot(kit.id, number).id for number in ("LOT123", "LOT456")}
    assert kept == {
        (office.id, kit.id, lot["LOT123"]): 6,
        (office.id, kit.id, lot["LOT456"]): 4,
        (office.id, box.id, 0): 70,
        (van.id, box.id, 0): 28 - 40,
        (van.id, kit.id, 0): 2 - 1,
    }


def test_check_balances_reports_and_repairs_a_wrong_balance(app, stock):
    office, box = stock["office"], stock["box"]
    receive(stock, office, box, 20)
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["stock", "check-balances"]).exit_code == 0
    db.session.execute(update(StockBalance).values(on_hand=999))
    db.session.commit()
    found = runner.invoke(args=["stock", "check-balances"])
    assert found.exit_code == 1
    assert f"site {office.id} item {box.id} no lot: balance 999, ledger 20" in found.output
    repaired = runner.invoke(args=["stock", "check-balances", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    db.session.expire_all()
    assert on_hand(office, box) == 20 and balances.mismatches() == []
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "stock.balances_rebuilt")
        )
        == 1
    )
