"""Attacks on sessions, forms and records: CSRF, fixation, replay, timeouts, access, redirects.

Complements tests/test_security.py and tests/test_auth.py (which cover the basic cases).
"""

import hashlib
import logging
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from config import ProductionConfig
from outreach.auth import mfa
from outreach.auth.models import LoginFailure, UserSession
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.urls import safe_next
from outreach.users.models import User
from tests import factories
from tests.conftest import CommittingClient, make_test_app
from tests.factories import TEST_PASSWORD
from tests.security.helpers import code, csrf_token, enrol, log_in, page_text, row_counts
from tests.test_access_matrix import EXPECTED, ROLES, browser_as, url_for_endpoint
from tests.test_security import POLICY, policy

# CSRF, with protection on as in production


@pytest.fixture
def guarded(app):
    """An app with CSRF protection on; returns a function giving logged-in browsers."""
    guarded_app = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    guarded_app.test_client_class = CommittingClient

    def browser(role: str):
        """Return a browser logged in (with a proper form token) as a new user of the role."""
        client = guarded_app.test_client()
        if role == "anon":
            return client
        user = factories.make_user(role)
        db.session.commit()
        token = csrf_token(client, "/auth/login")
        form = {"username": user.username, "password": TEST_PASSWORD, "csrf_token": token}
        assert client.post("/auth/login", data=form).status_code == 302
        return client

    return guarded_app, browser


def test_every_post_without_a_form_token_is_refused_and_writes_nothing(app, guarded):
    guarded_app, browser = guarded
    browsers = {role: browser(role) for role in ROLES}
    posts = [rule for rule in guarded_app.url_map.iter_rules() if "POST" in rule.methods]
    assert len(posts) >= 15
    refused = {}
    for rule in sorted(posts, key=lambda rule: rule.endpoint):
        url = url_for_endpoint(guarded_app, rule.endpoint, None)
        before = row_counts()
        for role, client in browsers.items():
            response = client.post(url, data={"idempotency_key": "x", "password": "y"})
            refused[(rule.endpoint, role)] = (
                response.status_code == 400 and "This form expired" in page_text(response)
            )
        assert row_counts() == before, rule.endpoint
    assert all(refused.values()), [key for key, ok in refused.items() if not ok]
    for client in browsers.values():
        assert client.get("/health").status_code == 200


def test_a_form_token_from_another_session_is_refused(app, guarded):
    _, browser = guarded
    attacker, victim = browser("worker"), browser("worker")
    stolen = csrf_token(attacker, "/auth/sessions")
    response = victim.post("/auth/sessions/end-others", data={"csrf_token": stolen})
    assert response.status_code == 400
    good = victim.post(
        "/auth/sessions/end-others", data={"csrf_token": csrf_token(victim, "/auth/sessions")}
    )
    assert good.status_code == 302


# Session fixation


def test_a_session_cookie_planted_before_login_is_never_the_one_after(app, guarded):
    guarded_app, _ = guarded
    factories.make_user("worker", username="wanda")
    db.session.commit()
    attacker = guarded_app.test_client()
    token = csrf_token(attacker, "/auth/login")
    planted = attacker.get_cookie("outreach_session").value
    victim = guarded_app.test_client()
    victim.set_cookie("outreach_session", planted)
    response = victim.post(
        "/auth/login", data={"username": "wanda", "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    after = victim.get_cookie("outreach_session").value
    assert after != planted
    attacker.set_cookie("outreach_session", planted)
    assert attacker.get("/").headers["Location"].startswith("/auth/login")
    (record,) = db.session.scalars(select(UserSession)).all()
    assert record.token_hash not in planted and record.token_hash not in after


def test_an_attackers_own_session_planted_on_a_victim_is_replaced_at_login(client):
    factories.make_user("worker", username="mallory")
    factories.make_user("worker", username="wanda")
    db.session.commit()
    attacker = client.application.test_client()
    log_in(attacker, "mallory")
    planted = attacker.get_cookie("outreach_session").value
    victim = client.application.test_client()
    victim.set_cookie("outreach_session", planted)
    assert victim.get("/auth/login").headers["Location"] == "/", "already logged in as mallory"
    victim.post("/auth/logout")
    log_in(victim, "wanda")
    assert victim.get_cookie("outreach_session").value != planted
    assert "wanda" in page_text(victim.get("/"))
    assert attacker.get("/").status_code == 302, "the victim's logout ended mallory's session"


def test_a_login_waiting_for_its_code_is_not_a_session(app, client):
    worker = factories.make_user("worker", username="wanda")
    enrol(worker)
    log_in(client, "wanda")
    for path in ("/", "/encounters", "/auth/sessions", "/auth/account"):
        assert client.get(path).headers["Location"].startswith("/auth/login"), path
    assert db.session.scalars(select(UserSession)).all() == []


# Timeouts


def age_session(user: User, **changes) -> UserSession:
    """Move a user's session back in time."""
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    for name, delta in changes.items():
        setattr(record, name, utcnow() - delta)
    db.session.commit()
    return record


def test_a_session_just_inside_the_idle_limit_lives(client, login_as):
    user = login_as("worker")
    age_session(user, last_seen_at=timedelta(minutes=14, seconds=30))
    assert client.get("/").status_code == 200


def test_keepalive_extends_idle_time_but_never_the_absolute_lifetime(client, login_as):
    user = login_as("worker")
    age_session(
        user, created_at=timedelta(hours=11, minutes=50), last_seen_at=timedelta(minutes=14)
    )
    assert client.post("/auth/keepalive").status_code == 200
    record = age_session(user, created_at=timedelta(hours=12, minutes=1))
    assert client.post("/auth/keepalive").status_code == 302
    db.session.refresh(record)
    assert record.end_reason == "expired"


def test_a_timed_out_session_stays_ended_even_if_its_clock_is_reset(client, login_as):
    user = login_as("worker")
    record = age_session(user, last_seen_at=timedelta(minutes=20))
    assert client.get("/").status_code == 302
    record.last_seen_at = utcnow()
    db.session.commit()
    assert client.get("/").status_code == 302, "ended on the server, not just out of time"


# Logout and every other way a session ends: a replayed cookie is dead


def end_by_logout(client, user, admin):
    """The user logs out."""
    client.post("/auth/logout")


def end_by_admin(client, user, admin):
    """An administrator ends the session."""
    (session_id,) = db.session.scalars(select(UserSession.id).where(UserSession.user_id == user.id))
    admin.post(f"/admin/users/{user.id}/sessions/{session_id}/end")


def end_by_deactivation(client, user, admin):
    """An administrator deactivates the user."""
    admin.post(f"/admin/users/{user.id}/deactivate")


def end_by_password_reset(client, user, admin):
    """An administrator resets the password."""
    admin.post(f"/admin/users/{user.id}/reset-password")


def end_by_second_factor_reset(client, user, admin):
    """An administrator resets the second factor."""
    enrol(user)
    admin.post(f"/admin/users/{user.id}/two-factor/reset")


def end_from_another_device(client, user, admin):
    """The user ends all other sessions from a second device."""
    other = client.application.test_client()
    log_in(other, user.username)
    other.post("/auth/sessions/confirm", data={"password": TEST_PASSWORD})
    other.post("/auth/sessions/end-others")


def end_by_password_change_elsewhere(client, user, admin):
    """The user changes the password on a second device and ends the others."""
    other = client.application.test_client()
    log_in(other, user.username)
    strong = "tangerine ladder quietly 42 orbit"
    other.post(
        "/auth/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": strong,
            "confirm_password": strong,
            "end_other_sessions": "y",
        },
    )


def end_by_idling(client, user, admin):
    """The session sits idle past the limit."""
    age_session(user, last_seen_at=timedelta(minutes=16))
    client.get("/")


@pytest.mark.parametrize(
    "end",
    [
        end_by_logout,
        end_by_admin,
        end_by_deactivation,
        end_by_password_reset,
        end_by_second_factor_reset,
        end_from_another_device,
        end_by_password_change_elsewhere,
        end_by_idling,
    ],
    ids=lambda end: end.__name__,
)
def test_a_copied_cookie_is_dead_once_the_session_ends(client, end):
    user = factories.make_user("worker", username="wanda")
    db.session.commit()
    admin, _ = browser_as(client, "admin")
    log_in(client, "wanda")
    copied = client.get_cookie("outreach_session").value
    assert client.get("/").status_code == 200
    end(client, user, admin)
    thief = client.application.test_client()
    thief.set_cookie("outreach_session", copied)
    assert thief.get("/").headers["Location"].startswith("/auth/login")
    assert thief.post("/auth/keepalive").status_code == 302


# Per-record access


def test_a_worker_cannot_edit_another_workers_encounter_even_with_a_valid_form(client, login_as):
    site = factories.make_site()
    owner = factories.make_user("worker", sites=[site])
    theirs = factories.make_encounter(owner, site, people_count=2)
    db.session.commit()
    login_as("worker", sites=[site])
    assert client.get(f"/encounters/{theirs.id}/edit").status_code == 403
    form = {
        "occurred_at": utcnow().strftime("%Y-%m-%dT%H:%M"),
        "site_id": str(site.id),
        "contact_type": "street",
        "participant_mode": "anonymous",
        "people_count": "9",
        "version": "1",
    }
    assert client.post(f"/encounters/{theirs.id}/edit", data=form).status_code == 403
    assert (
        client.post(f"/encounters/{theirs.id}/delete", data={"reason": "duplicate"}).status_code
        == 403
    )
    db.session.expire_all()
    kept = db.session.get(Encounter, theirs.id)
    assert (kept.people_count, kept.version, kept.deleted_at) == (2, 1, None)


def test_a_worker_lists_only_their_own_encounters(client, login_as):
    site = factories.make_site()
    other = factories.make_user("worker", sites=[site])
    theirs = factories.make_encounter(other, site, people_count=2)
    me = login_as("worker", sites=[site])
    mine = factories.make_encounter(me, site, people_count=3)
    db.session.commit()
    page = page_text(client.get("/encounters"))
    assert f"/encounters/{mine.id}" in page and f"/encounters/{theirs.id}" not in page


def test_removed_encounters_are_gone_for_everyone(client, login_as):
    site = factories.make_site()
    supervisor = login_as("supervisor", sites=[site])
    removed = factories.make_encounter(supervisor, site)
    removed.deleted_at, removed.delete_reason = utcnow(), "duplicate"
    db.session.commit()
    for path in (f"/encounters/{removed.id}", f"/encounters/{removed.id}/edit"):
        assert client.get(path).status_code == 404, path


def test_administrators_never_see_participants_or_encounters(client, login_as):
    site = factories.make_site()
    worker = factories.make_user("worker", sites=[site])
    participant = factories.make_participant()
    encounter = factories.make_encounter(worker, site, participant)
    db.session.commit()
    login_as("admin")
    for path in (f"/clients/{participant.id}", f"/encounters/{encounter.id}", "/encounters"):
        assert client.get(path).status_code in (403, 404), path


# Security headers on every page, for every role


def test_every_endpoint_answers_with_the_security_headers(app, client):
    missing = []
    browsers = {role: browser_as(client, role) for role in ROLES}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in EXPECTED:
            continue
        for role, (browser, me) in browsers.items():
            url = url_for_endpoint(app, rule.endpoint, me)
            method = "GET" if "GET" in rule.methods else "POST"
            if rule.endpoint == "auth.logout":
                browser, _ = browser_as(client, role)
            headers = browser.open(url, method=method).headers
            if (
                policy(headers.get("Content-Security-Policy", "")) != POLICY
                or headers.get("X-Content-Type-Options") != "nosniff"
                or headers.get("X-Frame-Options") != "DENY"
                or headers.get("Referrer-Policy") != "no-referrer"
                or headers.get("Cache-Control") != "no-store"
            ):
                missing.append(f"{role} {method} {url}")
    assert missing == []


# Open redirects


HOSTILE_TARGETS = [
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/%2F/evil.example",
    "https:evil.example",
    "https://evil.example@outreach.test",
    "/\x0d\x0aLocation: https://evil.example",
    "/\x09/evil.example",
    " /\\evil.example",
    "//evil.example/%2e%2e",
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "／／evil.example",
    "/ /evil.example",
    "https://outreach.test.evil.example/",
    "//%09/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_next_never_leaves_the_site(target):
    result = safe_next(target, "/")
    resolved = urlsplit(urljoin("https://outreach.test/page", result))
    assert (resolved.scheme, resolved.netloc) == ("https", "outreach.test"), result
    assert not any(ord(char) < 32 for char in result)


def test_the_login_redirect_is_always_a_path_on_this_site(client):
    factories.make_user("worker", username="wanda")
    db.session.commit()
    for target in HOSTILE_TARGETS:
        browser = client.application.test_client()
        location = log_in(browser, "wanda", next=target).headers["Location"]
        resolved = urlsplit(urljoin("https://outreach.test/auth/login", location))
        assert resolved.netloc == "outreach.test", (target, location)


# Throttling that does not lock out other users


def test_locking_one_account_leaves_others_at_the_same_address_alone(app, client):
    app.config.update(LOGIN_MAX_FAILURES=3)
    victim = factories.make_user("worker", username="wanda")
    factories.make_user("worker", username="walt")
    db.session.commit()
    for _ in range(3):
        log_in(client, "wanda", password="wrong password!")
    db.session.refresh(victim)
    assert victim.locked_until > utcnow()
    colleague = client.application.test_client()
    assert log_in(colleague, "walt").status_code == 302, "same office address, other account"


def test_an_address_is_let_in_again_after_its_window(app, client):
    app.config.update(LOGIN_IP_MAX_FAILURES=3, LOGIN_IP_WINDOW_MINUTES=15)
    factories.make_user("worker", username="wanda")
    db.session.commit()
    for _ in range(3):
        log_in(client, "nobody", password="wrong")
    assert log_in(client, "wanda").status_code == 401
    for failure in db.session.scalars(select(LoginFailure)):
        failure.occurred_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    assert log_in(client, "wanda").status_code == 302


def test_wrong_codes_from_one_address_do_not_lock_out_another_user(app, client):
    app.config.update(LOGIN_MAX_FAILURES=3)
    attacked = factories.make_user("worker", username="wanda")
    enrol(attacked)
    other = factories.make_user("worker", username="walt")
    secret = enrol(other)
    log_in(client, "wanda")
    for _ in range(3):
        client.post("/auth/login/code", data={"code": "000000"})
    colleague = client.application.test_client()
    log_in(colleague, "walt")
    assert colleague.post("/auth/login/code", data={"code": code(secret)}).status_code == 302
    assert mfa.is_enrolled(attacked.id)


# The session cookie in production


def test_the_production_session_cookie_is_host_only_and_secure(app):
    assert ProductionConfig.SESSION_COOKIE_NAME == "__Host-outreach_session"
    factories.make_user("worker", username="wanda")
    db.session.commit()
    production_like = make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        SESSION_COOKIE_NAME=ProductionConfig.SESSION_COOKIE_NAME,
        SESSION_COOKIE_SECURE=True,
    )
    browser = production_like.test_client()
    response = browser.post(
        "/auth/login",
        data={"username": "wanda", "password": TEST_PASSWORD},
        base_url="https://outreach.test",
    )
    (cookie,) = response.headers.getlist("Set-Cookie")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert cookie.startswith("__Host-outreach_session=")
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attributes)
    assert not [part for part in attributes if part.startswith("domain=")]
    assert browser.get("/", base_url="https://outreach.test").status_code == 200


def test_logging_out_tells_the_browser_to_forget_cached_pages(client, login_as):
    login_as("worker")
    response = client.post("/auth/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_an_administrator_can_log_out_one_user_or_everyone_from_the_command_line(app, client):
    for name in ("wanda", "walt", "sam"):
        factories.make_user("worker", username=name)
    db.session.commit()
    browsers = {}
    for name in ("wanda", "walt", "sam"):
        browsers[name] = client.application.test_client()
        log_in(browsers[name], name)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "end-sessions"]).exit_code == 1
    result = runner.invoke(args=["users", "end-sessions", "wanda"])
    assert "Ended 1 session(s)." in result.output
    assert browsers["wanda"].get("/").status_code == 302
    assert browsers["walt"].get("/").status_code == 200
    result = runner.invoke(args=["users", "end-sessions", "--all"])
    assert "Ended 2 session(s)." in result.output
    assert all(browser.get("/").status_code == 302 for browser in browsers.values())


# Logging refused access and refused form tokens (without names or values)


def test_refused_access_and_refused_form_tokens_are_logged(app, client, guarded, caplog):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    log_in(client, "wanda")
    with caplog.at_level(logging.WARNING, logger="outreach.errors"):
        client.get("/admin/users")
        _, browser = guarded
        browser("worker").post("/auth/logout")
    assert f"Refused GET users.index to user {worker.id} (worker)" in caplog.text
    assert "Form token refused on POST auth.logout for user" in caplog.text
    assert "wanda" not in caplog.text


def test_trace_is_not_allowed(client):
    assert client.open("/auth/login", method="TRACE").status_code == 405


def test_the_session_cookie_is_signed_with_sha256(app, client):
    factories.make_user("worker", username="wanda")
    db.session.commit()
    log_in(client, "wanda")
    serializer = client.application.session_interface.get_signing_serializer(client.application)
    assert serializer.signer_kwargs["digest_method"] is hashlib.sha256
    cookie = client.get_cookie("outreach_session").value
    assert serializer.loads(cookie)["_user_id"]
