"""Concurrent stock changes on PostgreSQL: two real transactions, no movement lost."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.audit.services import verify_chain
from outreach.dbtypes import utcnow
from outreach.encounters.services import EncounterInput, encounter_create
from outreach.extensions import db
from outreach.inventory import queries, services
from outreach.inventory.models import StockMovement
from outreach.pipeline import pipelined
from outreach.users.models import User
from tests import factories
from tests.concurrency import run_together

pytestmark = pytest.mark.slow
#: How long a transaction dawdles while holding what it read, so the other one collides.
DAWDLE = 0.4


def slowed(monkeypatch, name: str, only_thread: str | None = None) -> threading.Event:
    """Make ``queries.<name>`` dawdle after reading; return an event set when it first has."""
    original = getattr(queries, name)
    read = threading.Event()

    def dawdling(*args, **kwargs):
        value = original(*args, **kwargs)
        if only_thread is None or threading.current_thread().name == only_thread:
            read.set()
            time.sleep(DAWDLE)
        return value

    monkeypatch.setattr(queries, name, dawdling)
    return read


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["one-by-one", "pipelined"])
def test_two_workers_saving_encounters_at_once_lose_nothing(
    app, postgresql, monkeypatch, in_pipeline
):
    office = factories.make_site("Office")
    kit = factories.make_item("Naloxone kit", category="naloxone", doses_per_unit=2)
    supervisor = factories.make_user("supervisor")
    workers = [factories.make_user("worker").id for _ in range(2)]
    today = queries.local_today()
    for lot, quantity, days in (("EARLY1", 5, 30), ("LATE22", 10, 300)):
        services.stock_receive(
            site_id=office.id,
            item_id=kit.id,
            quantity=quantity,
            lot_number=lot,
            expires_on=today + timedelta(days=days),
            by=supervisor,
        )
    slowed(monkeypatch, "lot_balances_for_items")
    office_id, kit_id = office.id, kit.id

    def save(worker_id: int):
        data = EncounterInput(
            occurred_at=utcnow(), site_id=office_id, contact_type="street", supplies={kit_id: 3}
        )

        def work() -> int:
            worker = db.session.get(User, worker_id)
            if not in_pipeline:
                return encounter_create(worker=worker, data=data).id
            # As the encounter screen saves: the locks go out unanswered, ahead of the read.
            with pipelined():
                encounter_id = encounter_create(worker=worker, data=data).id
                db.session.commit()
            return encounter_id

        return work

    runs = run_together(app, first=save(workers[0]), second=save(workers[1]))

    assert [run.error for run in runs.values()] == [None, None]
    first, second = sorted(runs.values(), key=lambda run: run.finished)
    assert second.started < first.finished, "the two transactions overlapped"
    assert queries.bucket_on_hand(office.id, kit.id, queries.find_lot(kit.id, "EARLY1").id) == 0
    assert queries.bucket_on_hand(office.id, kit.id, queries.find_lot(kit.id, "LATE22").id) == 9
    given = select(func.sum(StockMovement.quantity), func.count(StockMovement.id)).where(
        StockMovement.kind == "distributed"
    )
    assert tuple(db.session.execute(given).one()) == (-6, 3), "3 lines: 3 + 2 + 1 kits"
    for run in runs.values():
        lines = select(func.sum(StockMovement.quantity)).where(
            StockMovement.encounter_id == run.result
        )
        assert db.session.scalar(lines) == -3
    overdrawn = select(func.count(StockMovement.id)).where(StockMovement.overdrawn.is_(True))
    assert db.session.scalar(overdrawn) == 0, "FEFO read after the other one committed"
    assert list(verify_chain()) == [], "the audit chain did not fork"


def shelf_of_ten() -> tuple[int, int, int, int]:
    """Return the ids of an office, a van, a box with 10 received at the office, a supervisor."""
    office = factories.make_site("Office")
    van = factories.make_site("Van 1", kind="mobile")
    box = factories.make_item("Syringes box of 10", units_per_pack=10)
    supervisor = factories.make_user("supervisor")
    services.stock_receive(site_id=office.id, item_id=box.id, quantity=10, by=supervisor)
    return office.id, van.id, box.id, supervisor.id


def count_and_transfer(ids: tuple[int, int, int, int], read: threading.Event | None):
    """Return the two works: a count of 7 opened at version 1, and a transfer of 3 to the van."""
    office, van, box, supervisor_id = ids

    def count():
        return services.stock_count(
            site_id=office,
            item_id=box,
            counted=7,
            reason="count",
            seen_version=1,
            by=db.session.get(User, supervisor_id),
        )

    def transfer():
        if read is not None:
            read.wait(timeout=10)
        return services.stock_transfer(
            from_site_id=office,
            to_site_id=van,
            item_id=box,
            quantity=3,
            by=db.session.get(User, supervisor_id),
        )

    return count, transfer


def test_a_transfer_during_a_count_waits_for_it_and_both_stand(app, postgresql, monkeypatch):
    office, van, box, _ = ids = shelf_of_ten()
    counting = slowed(monkeypatch, "bucket_on_hand", only_thread="count")
    count, transfer = count_and_transfer(ids, counting)

    runs = run_together(app, count=count, transfer=transfer)

    assert (runs["count"].error, runs["transfer"].error) == (None, None)
    assert runs["transfer"].finished > runs["count"].finished
    kinds = db.session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["received", "adjusted", "transferred", "transferred"]
    assert queries.item_on_hand(box, office) == 4
    assert queries.item_on_hand(box, van) == 3


def test_a_count_during_a_transfer_is_told_stock_moved(app, postgresql, monkeypatch):
    office, _, box, _ = ids = shelf_of_ten()
    moving = slowed(monkeypatch, "bucket_on_hand", only_thread="transfer")
    count, transfer = count_and_transfer(ids, None)

    def count_after_transfer_began():
        moving.wait(timeout=10)
        return count()

    runs = run_together(app, count=count_after_transfer_began, transfer=transfer)

    assert runs["transfer"].error is None
    assert isinstance(runs["count"].error, services.CountChanged)
    assert runs["count"].error.on_hand == 7
    kinds = db.session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["received", "transferred", "transferred"]
    assert queries.item_on_hand(box, office) == 7
