"""One's own sessions: see them, end others on the server, and the cookies stop working."""

import time

from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.auth.models import UserSession
from outreach.extensions import db
from tests import factories
from tests.factories import TEST_PASSWORD
from tests.security.helpers import log_in, page_text


def devices(client, username: str, count: int) -> list:
    """Log the same user in from ``count`` browsers; return them."""
    browsers = []
    for index in range(count):
        browser = client.application.test_client()
        log_in(browser, username)
        browser.environ_base["HTTP_USER_AGENT"] = f"Firefox/{index}"
        browsers.append(browser)
    return browsers


def confirm_password(browser, password: str = TEST_PASSWORD):
    """Type the password again on the sessions page."""
    return browser.post("/auth/sessions/confirm", data={"password": password})


def session_ids(user_id: int, live: bool = True) -> list[int]:
    """Return a user's session ids, live ones only by default."""
    query = select(UserSession.id).where(UserSession.user_id == user_id)
    if live:
        query = query.where(UserSession.ended_at.is_(None))
    return sorted(db.session.scalars(query))


def test_a_worker_sees_their_sessions_and_this_one_is_marked(client):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    tablet, _ = devices(client, "wanda", 2)
    page = page_text(tablet.get("/auth/sessions"))
    assert page.count("<tr>") == 3, "a header row and two sessions"
    assert "This session" in page
    assert page.count('action="/auth/sessions/') == 1, "only the password form, at first"
    confirm_password(tablet)
    page = page_text(tablet.get("/auth/sessions"))
    assert page.count('action="/auth/sessions/') == 2, "one End button and End all others"
    other = factories.make_user("worker", username="walt")
    db.session.commit()
    devices(client, "walt", 1)
    assert page_text(tablet.get("/auth/sessions")).count("<tr>") == 3, "only one's own"
    assert len(session_ids(worker.id)) == 2 and len(session_ids(other.id)) == 1


def test_ending_another_session_stops_its_cookie_on_the_server(client):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    tablet, phone = devices(client, "wanda", 2)
    cookie = phone.get_cookie("outreach_session").value
    phone_session = session_ids(worker.id)[1]
    refused = tablet.post(f"/auth/sessions/{phone_session}/end")
    assert refused.headers["Location"] == "/auth/sessions"
    assert phone.get("/").status_code == 200, "not without the password again"
    assert confirm_password(tablet, "not my password").status_code == 422
    confirm_password(tablet)
    response = tablet.post(f"/auth/sessions/{phone_session}/end")
    assert response.headers["Location"] == "/auth/sessions"
    assert phone.get("/").headers["Location"].startswith("/auth/login")
    stranger = client.application.test_client()
    stranger.set_cookie("outreach_session", cookie)
    assert stranger.get("/").status_code == 302, "a copied cookie is dead too"
    assert tablet.get("/").status_code == 200
    record = db.session.get(UserSession, phone_session)
    assert record.end_reason == "ended_by_user"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session.end")).one()
    assert event.data == f'{{"by":"self","session":{phone_session}}}'


def test_end_all_other_sessions_keeps_this_one(client):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    tablet, *others = devices(client, "wanda", 4)
    tablet.post("/auth/sessions/end-others")
    assert len(session_ids(worker.id)) == 4, "not without the password again"
    confirm_password(tablet)
    assert tablet.post("/auth/sessions/end-others").status_code == 302
    assert len(session_ids(worker.id)) == 1
    assert tablet.get("/").status_code == 200
    assert all(other.get("/").status_code == 302 for other in others)


def test_one_cannot_end_someone_elses_session(client, login_as):
    victim = factories.make_user("worker", username="victim")
    db.session.commit()
    (victim_browser,) = devices(client, "victim", 1)
    (victim_session,) = session_ids(victim.id)
    login_as("supervisor")
    assert client.post(f"/auth/sessions/{victim_session}/end").status_code == 404
    assert client.post("/auth/sessions/99999999/end").status_code == 404
    assert victim_browser.get("/").status_code == 200


def test_this_session_is_ended_by_logging_out_not_from_the_list(client, login_as):
    me = login_as("worker")
    (mine,) = session_ids(me.id)
    confirm_password(client)
    client.post(f"/auth/sessions/{mine}/end")
    assert client.get("/").status_code == 200
    assert session_ids(me.id) == [mine]


def test_changing_the_password_offers_to_end_the_other_sessions(client):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    tablet, phone, laptop = devices(client, "wanda", 3)
    form = page_text(tablet.get("/auth/password"))
    assert 'name="end_other_sessions"' in form and "checked" in form, "offered, ticked"
    strong = "tangerine ladder quietly 42 orbit"
    fields = {"current_password": TEST_PASSWORD, "new_password": strong}
    tablet.post("/auth/password", data=fields | {"confirm_password": strong})
    assert len(session_ids(worker.id)) == 3, "unticked: the others stay"
    again = "marble kettle sideways 77 lantern"
    fields = {"current_password": strong, "new_password": again, "confirm_password": again}
    tablet.post("/auth/password", data=fields | {"end_other_sessions": "y"})
    assert len(session_ids(worker.id)) == 1
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    assert tablet.get("/").status_code == 200


def test_the_password_confirmation_lasts_five_minutes_and_only_in_its_session(client, monkeypatch):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    tablet, phone, laptop = devices(client, "wanda", 3)
    confirm_password(tablet)
    stolen = tablet.get_cookie("outreach_session").value
    later = time.time() + 301
    monkeypatch.setattr("outreach.auth.account.time.time", lambda: later)
    tablet.post("/auth/sessions/end-others")
    assert len(session_ids(worker.id)) == 3, "the confirmation ran out"
    monkeypatch.undo()
    confirm_password(phone)
    phone_cookie = phone.get_cookie("outreach_session").value
    laptop_cookie = laptop.get_cookie("outreach_session").value
    assert stolen != phone_cookie != laptop_cookie
    laptop.post("/auth/sessions/end-others")
    assert len(session_ids(worker.id)) == 3, "a confirmation counts only where it was made"
