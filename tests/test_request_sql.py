"""The SQL a request runs: read-only transactions end with COMMIT, and the field pages run a
small fixed number of statements whatever the size of the data."""

from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from outreach import sql
from outreach.audit.services import verify_chain
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.idempotency import IdempotencyKey
from outreach.inventory.models import StockMovement
from outreach.inventory.services import stock_receive
from outreach.pipeline import pipelined
from outreach.users.models import Site
from tests import factories
from tests.conftest import make_test_app
from tests.factories import TEST_PASSWORD
from tests.test_encounters import encounter_form


@contextmanager
def recorded(application):
    """Record the statements, commits and rollbacks of an app's engine while in the block."""
    with application.app_context():
        engine = db.engine
    seen = {"statements": [], "commit": 0, "rollback": 0}

    def statement(connection, cursor, sql, parameters, context, executemany):
        seen["statements"].append(sql)

    def commit(connection):
        seen["commit"] += 1

    def rollback(connection):
        seen["rollback"] += 1

    listeners = [("before_cursor_execute", statement), ("commit", commit), ("rollback", rollback)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def participant_with_history(worker, site, item, encounters: int):
    """Add a participant with this many encounters, each with a supply line and a service."""
    participant = factories.make_participant(gender="woman")
    for number in range(encounters):
        encounter = factories.make_encounter(
            worker,
            site,
            participant,
            occurred_at=utcnow() - timedelta(hours=number + 1),
            supplies={item: number % 5 + 1},
        )
        db.session.add(EncounterService(encounter_id=encounter.id, service="hiv_test"))
    db.session.commit()
    return participant


def test_a_page_that_only_reads_commits_instead_of_rolling_back(app, client, login_as):
    worker = login_as("worker")
    participant = participant_with_history(worker, factories.make_site(), factories.make_item(), 2)
    with recorded(client.application) as seen:
        assert client.get(f"/participants/{participant.id}").status_code == 200
    assert seen["commit"] == 1
    assert seen["rollback"] == 0


def test_a_request_that_wrote_without_committing_is_still_rolled_back(app, backend):
    twin = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"])
    twin.config = app.config

    @twin.route("/test-only/write-and-forget")
    def write_and_forget():
        db.session.execute(insert(Site).values(name="Left behind", kind="fixed", active=True))
        return "written, not committed"

    @twin.route("/test-only/add-and-forget")
    def add_and_forget():
        db.session.add(Site(name="Never flushed", kind="fixed", active=True))
        return "added, not flushed"

    user = factories.make_user(role="admin")
    db.session.commit()
    client = twin.test_client()
    client.post("/auth/login", data={"username": user.username, "password": TEST_PASSWORD})
    with recorded(twin) as seen:
        assert client.get("/test-only/write-and-forget").status_code == 200
        assert client.get("/test-only/add-and-forget").status_code == 200
    assert seen["rollback"] == 2
    db.session.expire_all()
    assert db.session.scalars(select(Site.name)).all() == []
    with twin.app_context():
        db.engine.dispose()


def test_postgresql_keeps_prepared_statements_across_page_views(app, client, login_as, backend):
    if backend != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    worker = login_as("worker")
    participant = participant_with_history(worker, factories.make_site(), factories.make_item(), 3)
    for _ in range(7):
        assert client.get(f"/participants/{participant.id}").status_code == 200
    with client.application.app_context():
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        db.session.rollback()
    # psycopg prepares a statement on its fifth run; a rollback would have dropped them all.
    assert prepared >= 5


def test_the_participant_page_runs_six_statements_whatever_the_history(app, client, login_as):
    worker = login_as("worker")
    site, item = factories.make_site(), factories.make_item(name="Cookers")
    short = participant_with_history(worker, site, item, 1)
    long = participant_with_history(worker, site, item, 60)
    counts = []
    for participant in (short, long):
        with recorded(client.application) as seen:
            page = client.get(f"/participants/{participant.id}").get_data(as_text=True)
        counts.append(len(seen["statements"]))
        assert "× Cookers" in page and "hiv test" in page
    # Session, participant, encounters, their lines, referrals panel, MI panel.
    assert counts == [6, 6]
    assert page.count("× Cookers") == 50


def saving_form(worker):
    """Return a known participant's encounter form with three supply lines and two services,
    once the program keeps stock (a receipt elsewhere has started the ledger)."""
    site = factories.make_site()
    items = [factories.make_item(name=f"Item {number}") for number in range(3)]
    participant = factories.make_participant()
    factories.make_encounter(worker, site, participant)
    stock_receive(site_id=factories.make_site().id, item_id=items[0].id, quantity=1, by=worker)
    db.session.commit()
    return participant, encounter_form(
        {"site": site},
        participant_mode="known",
        participant_id=str(participant.id),
        services=["hiv_test", "education"],
        **{f"supply-{item.id}": "2" for item in items},
    )


def test_saving_an_encounter_runs_a_bounded_number_of_statements(app, client, login_as, backend):
    participant, form = saving_form(login_as("worker"))
    with recorded(client.application) as seen:
        response = client.post(f"/encounters/new?participant={participant.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    # Session, participant, sites, catalog; encounter, services, supplies; audit (lock and
    # an INSERT that hashes on PostgreSQL, or insert, head and seal on SQLite); stock (site lock on
    # PostgreSQL, balances, lines: one multi-row INSERT on PostgreSQL); the key. A first
    # submit does not look its key up: a resubmit is refused by the key at the commit.
    assert len(seen["statements"]) <= (12 if backend == "postgresql" else 16)
    assert seen["commit"] == 1


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_postgresql_sends_the_saves_writes_without_waiting_for_each(
    app, client, login_as, backend, monkeypatch
):
    if backend != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    participant, form = saving_form(login_as("worker"))
    waits = []
    real_sync = psycopg.Pipeline.sync

    def counted_sync(pipeline):
        waits.append(pipeline)
        real_sync(pipeline)

    monkeypatch.setattr(psycopg.Pipeline, "sync", counted_sync)
    before = rows(Encounter), rows(StockMovement)
    response = client.post(f"/encounters/new?participant={participant.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    # Answers awaited: the new encounter's id and the stock balances. Its lines, the locks,
    # the ledger lines, the audit event (hashed by the INSERT) and the key go out unanswered.
    assert len(waits) == 2
    db.session.expire_all()
    assert (rows(Encounter), rows(StockMovement)) == (before[0] + 1, before[1] + 3)
    encounter = db.session.scalar(select(Encounter).order_by(Encounter.id.desc()))
    assert (rows(EncounterSupply), rows(EncounterService)) == (3, 2)
    assert db.session.scalar(select(IdempotencyKey.entity_id)) == encounter.id
    assert list(verify_chain()) == []


def test_a_failed_queued_write_fails_the_commit_and_writes_nothing(app, backend):
    with pytest.raises(IntegrityError), pipelined():
        sql.send(insert(Site).inline().values(name="Queued", kind="fixed", active=True))
        # No such encounter: PostgreSQL reports it at the commit, SQLite at once.
        sql.send(insert(EncounterService).values(encounter_id=999_999, service="hiv_test"))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalars(select(Site.name)).all() == []
    # The connection left pipeline mode with the transaction: it serves the next one.
    db.session.add(Site(name="Next", kind="fixed", active=True))
    db.session.commit()
    assert db.session.scalars(select(Site.name)).all() == ["Next"]
