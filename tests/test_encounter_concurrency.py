"""One encounter form sent several times at once (taps, retries) on PostgreSQL: one record,
and every copy is answered as already saved, never with an error."""

import threading

import pytest
from sqlalchemy import func, select

from outreach.clients.models import Participant
from outreach.encounters.models import Encounter
from outreach.extensions import db
from tests import factories
from tests.test_encounters import encounter_form

pytestmark = pytest.mark.slow
COPIES = 8
ROUNDS = 4


@pytest.fixture
def van(app) -> dict:
    """A site to log encounters at."""
    site = factories.make_site("Van 1", kind="mobile")
    db.session.commit()
    return {"site": site}


def post_together(app, cookie, form: dict) -> list:
    """Send the same form from COPIES clients sharing one login, all at once."""
    clients = [app.test_client() for _ in range(COPIES)]
    for client in clients:
        client.set_cookie(cookie.key, cookie.value)
    gate = threading.Barrier(COPIES)
    statuses: list = [None] * COPIES

    def send(index: int) -> None:
        gate.wait()
        try:
            statuses[index] = clients[index].post("/encounters/new", data=form).status_code
        except Exception as error:  # the test shows it
            statuses[index] = repr(error)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def count(model) -> int:
    """Count the rows of a model's table."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("mode", ["anonymous", "new"])
def test_copies_sent_at_once_make_one_encounter_and_no_error(
    app,
    client,
    login_as,
    postgresql,
    van,
    mode,
):
    login_as("worker")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    for round_number in range(ROUNDS):
        answers = {
            "answer_mother_first_name_2": "Maria",
            "answer_birth_month": str(round_number + 1),
            "answer_birth_year_2": "1985",
        }
        form = encounter_form(van, participant_mode=mode, **(answers if mode == "new" else {}))
        statuses = post_together(app, cookie, form)
        assert statuses == [302] * COPIES, statuses
        assert count(Encounter) == round_number + 1
    assert count(Participant) == (ROUNDS if mode == "new" else 0)
