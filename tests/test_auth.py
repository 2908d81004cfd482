"""Logging in and out, throttling, server-side sessions and password changes."""

from datetime import timedelta

from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.auth.models import UserSession
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.users.models import User
from tests import factories
from tests.conftest import make_test_app
from tests.factories import TEST_PASSWORD


def actions() -> list[str]:
    """Return the audit actions in order."""
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_pages_need_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_health_is_public(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_login_and_logout_end_the_server_session(app, client):
    user = factories.make_user("worker", username="wanda")
    db.session.commit()
    response = client.post("/auth/login", data={"username": "Wanda", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("outreach_session").value
    client.post("/auth/logout")
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.end_reason == "logout"
    client.set_cookie("outreach_session", cookie)
    assert client.get("/").status_code == 302, "a replayed cookie must not work after logout"
    assert actions() == ["auth.login", "auth.logout"]


def test_login_failure_says_one_thing(client):
    factories.make_user("worker", username="wanda")
    db.session.commit()
    wrong = client.post("/auth/login", data={"username": "wanda", "password": "nope nope nope"})
    unknown = client.post("/auth/login", data={"username": "nobody", "password": "nope nope"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Login failed." in response.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("Login failed.") == 1


def test_repeated_failures_lock_the_account_growing(app, client):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=60)
    user = factories.make_user("worker", username="wanda")
    db.session.commit()
    for _ in range(3):
        client.post("/auth/login", data={"username": "wanda", "password": "wrong password!"})
    db.session.refresh(user)
    first_lock = user.locked_until - utcnow()
    assert timedelta(seconds=50) < first_lock <= timedelta(seconds=60)
    good = client.post("/auth/login", data={"username": "wanda", "password": TEST_PASSWORD})
    assert good.status_code == 401, "a locked account refuses even the right password"
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.post("/auth/login", data={"username": "wanda", "password": "wrong password!"})
    db.session.refresh(user)
    assert user.locked_until - utcnow() > timedelta(seconds=100), "the lockout grows"
    assert "auth.lockout" in actions()


def test_address_throttle_does_not_lock_other_addresses(app, client):
    app.config.update(LOGIN_IP_MAX_FAILURES=3)
    factories.make_user("worker", username="wanda")
    db.session.commit()
    attacker = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(3):
        client.post("/auth/login", data={"username": "x", "password": "y"}, environ_base=attacker)
    blocked = client.post(
        "/auth/login", data={"username": "wanda", "password": TEST_PASSWORD}, environ_base=attacker
    )
    assert blocked.status_code == 401
    other = app.test_client().post(
        "/auth/login",
        data={"username": "wanda", "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert other.status_code == 302


def test_behind_a_trusted_proxy_each_visitor_has_their_own_address(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    proxied = make_test_app(url, TRUSTED_PROXIES=1, LOGIN_IP_MAX_FAILURES=3)
    factories.make_user("worker", username="wanda")
    db.session.commit()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    attacker = proxied.test_client()
    for _ in range(3):
        attacker.post(
            "/auth/login",
            data={"username": "x", "password": "y"},
            environ_base=proxy,
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
    db.session.expire_all()
    assert set(db.session.scalars(select(AuditEvent.client_address))) == {"203.0.113.9"}
    colleague = proxied.test_client().post(
        "/auth/login",
        data={"username": "wanda", "password": TEST_PASSWORD},
        environ_base=proxy,
        headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"},
    )
    assert colleague.status_code == 302, "the attacker's failures do not lock the proxy out"


def test_idle_session_times_out_on_the_server(app, client, login_as):
    user = login_as("worker")
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    record.last_seen_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert "timeout=1" in response.headers["Location"]
    db.session.refresh(record)
    assert record.end_reason == "idle"


def test_absolute_lifetime_ends_busy_sessions(app, client, login_as):
    user = login_as("worker")
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    record.created_at = utcnow() - timedelta(hours=13)
    db.session.commit()
    assert client.get("/").status_code == 302
    db.session.refresh(record)
    assert record.end_reason == "expired"


def test_new_session_token_at_each_login(client):
    factories.make_user("worker", username="wanda")
    db.session.commit()
    form = {"username": "wanda", "password": TEST_PASSWORD}
    client.post("/auth/login", data=form)
    first = client.get_cookie("outreach_session").value
    client.post("/auth/logout")
    client.post("/auth/login", data=form)
    assert client.get_cookie("outreach_session").value != first
    assert db.session.scalar(select(UserSession.id).where(UserSession.ended_at.is_(None)))


def change_password(client, new: str, current: str = TEST_PASSWORD, **fields):
    """Send the password change form with the new password typed twice."""
    form = {"current_password": current, "new_password": new, "confirm_password": new, **fields}
    return client.post("/auth/password", data=form)


def test_forced_password_change_then_free_to_go(client, login_as):
    user = login_as("worker", must_change_password=True)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/password")
    weak = change_password(client, "password1234")
    assert weak.status_code == 422
    assert "too easy to guess" in weak.get_data(as_text=True)
    strong = "tangerine ladder quietly 42 orbit"
    done = change_password(client, strong, end_other_sessions="y")
    assert done.status_code == 302
    db.session.refresh(user)
    assert not user.must_change_password
    assert client.get("/").status_code == 200


def test_password_change_needs_current_password(client, login_as):
    login_as("worker")
    strong = "tangerine ladder quietly 42 orbit"
    response = change_password(client, strong, current="not it at all")
    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)


def test_password_length_limits(client, login_as):
    login_as("worker")
    for password, message in (("short one", "at least 12"), ("x" * 129, "at most 128")):
        response = change_password(client, password)
        assert message in response.get_data(as_text=True)


def test_the_new_password_must_differ_and_leave_out_the_apps_name(client, login_as):
    login_as("worker", must_change_password=True)
    for password, message in (
        (TEST_PASSWORD, "different from the current one"),
        ("MyOutreachProgram2026", "the word outreach"),
        ("tangerine OUTREACH quietly 42", "the word outreach"),
    ):
        response = change_password(client, password)
        assert response.status_code == 422, password
        assert message in response.get_data(as_text=True), password
    assert client.get("/").headers["Location"].endswith("/auth/password"), "still forced"


def test_deactivation_ends_sessions(app, client, login_as):
    worker = login_as("worker")
    db.session.get(User, worker.id).active = False
    db.session.commit()
    assert client.get("/").status_code == 302
