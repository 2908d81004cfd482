"""Security: headers, cookies, CSRF, safe GETs, redirects, error pages and configuration."""

import importlib
import logging
import re
import secrets
import uuid

import pytest
from sqlalchemy import func, select

import config
from outreach import create_app
from outreach.audit.models import AuditEvent
from outreach.auth.models import UserSession
from outreach.extensions import db
from outreach.users.models import User
from tests import factories
from tests.conftest import CommittingClient, make_test_app
from tests.factories import TEST_PASSWORD
from tests.test_access_matrix import browser_as, url_for_endpoint

POLICY = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "img-src": "'self' data:",
}
LEAKS = ("Traceback", 'File "', "sqlalchemy", "SELECT", "psycopg", "werkzeug", "Error:")


def log_in(browser, username: str, **extra):
    """Log a browser in with the test password and return the response."""
    form = {"username": username, "password": TEST_PASSWORD} | extra
    return browser.post("/auth/login", data=form)


def count(model) -> int:
    """Count the rows of a model's table."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def policy(header: str) -> dict[str, str]:
    """Split a Content-Security-Policy header into its directives."""
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return dict(parts)


# Headers and cookies

RESPONSES = {
    "login page": ("anon", "GET", "/auth/login", 200),
    "authenticated page": ("worker", "GET", "/", 200),
    "redirect to login": ("anon", "GET", "/", 302),
    "forbidden page": ("worker", "GET", "/admin/users", 403),
    "missing page": ("anon", "GET", "/no/such/page", 404),
    "missing record": ("admin", "GET", "/admin/users/99999", 404),
    "wrong method": ("worker", "GET", "/auth/logout", 405),
    "health check": ("anon", "GET", "/health", 200),
    "form post": ("admin", "POST", "/admin/users/new", 422),
    "static file": ("anon", "GET", "/static/css/app.css", 200),
}


def test_every_kind_of_response_carries_the_security_headers(client):
    browsers = {role: browser_as(client, role)[0] for role in ("anon", "worker", "admin")}
    for kind, (role, method, path, status) in RESPONSES.items():
        response = browsers[role].open(path, method=method)
        assert response.status_code == status, kind
        headers = response.headers
        assert policy(headers["Content-Security-Policy"]) == POLICY, kind
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] == "no-referrer", kind
        assert headers["X-Frame-Options"] == "DENY", kind
        assert "Strict-Transport-Security" not in headers, "HSTS only over https"
        if kind == "static file":
            assert "no-store" not in headers.get("Cache-Control", "")
        else:
            assert headers["Cache-Control"] == "no-store", kind


def test_hsts_is_sent_over_https(client):
    response = client.get("/auth/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_session_cookie_is_http_only_and_same_site(client):
    factories.make_user("worker", username="wanda")
    response = log_in(client, "wanda")
    cookie = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("outreach_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# CSRF


@pytest.fixture
def guarded(app):
    """A browser on an app with CSRF protection on, as in production."""
    guarded_app = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    guarded_app.test_client_class = CommittingClient
    return guarded_app.test_client()


def form_token(browser, path: str = "/auth/login") -> str:
    """Read the CSRF token a page gives its forms."""
    page = browser.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def refused_as_expired(response) -> bool:
    """Tell whether a response is the friendly "form expired" refusal, marked for scripts."""
    return (
        response.status_code == 400
        and "This form expired" in response.get_data(as_text=True)
        and response.headers.get("X-Outreach-Form-Expired") == "1"
    )


def test_a_login_without_a_form_token_is_refused_kindly(guarded):
    factories.make_user("worker", username="wanda")
    assert refused_as_expired(log_in(guarded, "wanda"))
    assert (count(UserSession), count(AuditEvent)) == (0, 0)
    assert log_in(guarded, "wanda", csrf_token=form_token(guarded)).status_code == 302


def test_a_logout_without_a_form_token_is_refused_and_the_session_lives(guarded):
    factories.make_user("worker", username="wanda")
    log_in(guarded, "wanda", csrf_token=form_token(guarded))
    assert refused_as_expired(guarded.post("/auth/logout"))
    assert guarded.get("/").status_code == 200
    assert db.session.scalar(select(UserSession.ended_at)) is None


def test_a_user_create_without_a_form_token_writes_nothing(guarded):
    factories.make_user("admin", username="root")
    log_in(guarded, "root", csrf_token=form_token(guarded))
    form = {"username": "wanda", "role": "worker", "idempotency_key": str(uuid.uuid4())}
    events = count(AuditEvent)
    assert refused_as_expired(guarded.post("/admin/users/new", data=form))
    assert (count(User), count(AuditEvent)) == (1, events)
    form["csrf_token"] = form_token(guarded, "/admin/users/new")
    assert guarded.post("/admin/users/new", data=form).status_code == 200
    assert count(User) == 2


# GET changes nothing


#: Audit events that record a reading (every read of an MI note is audited): a GET may add them.
READ_AUDITS = re.compile(r"mi_note\.read(_[a-z]+)?")


def table_contents() -> dict[str, list]:
    """Return every row of every table, leaving out when sessions were last seen and reads."""
    db.session.commit()
    contents = {}
    for table in db.metadata.sorted_tables:
        columns = [
            column
            for column in table.columns
            if (table.name, column.name) != ("user_sessions", "last_seen_at")
        ]
        rows = db.session.execute(select(*columns)).all()
        if table.name == "audit_events":
            rows = [row for row in rows if not READ_AUDITS.fullmatch(row.action)]
        contents[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return contents


@pytest.mark.parametrize("role", ["anon", "worker", "supervisor", "admin"])
def test_looking_at_every_page_changes_nothing(app, client, login_as, role):
    me = login_as(role) if role != "anon" else None
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    urls = [url_for_endpoint(app, rule.endpoint, me) for rule in rules]
    before = table_contents()
    for url in urls:
        assert client.get(url).status_code != 500, url
    assert table_contents() == before


# Redirects


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "/\\evil",
    "javascript:alert(1)",
    "///evil.example/",
    " //evil.example",
    "\\\\evil.example",
    "http:evil.example",
    "/\t/evil.example",
    "data:text/html,hi",
]


def test_login_never_sends_the_browser_off_site(client):
    factories.make_user("worker", username="wanda")
    db.session.commit()
    for target in OFF_SITE:
        response = client.application.test_client().post(
            "/auth/login",
            query_string={"next": target},
            data={"username": "wanda", "password": TEST_PASSWORD},
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target


def test_login_returns_to_the_page_that_asked_for_it(client):
    factories.make_user("admin", username="root")
    sent = client.get("/admin/audit?action=user")
    assert sent.headers["Location"] == "/auth/login?next=/admin/audit?action%3Duser"
    response = client.post(
        sent.headers["Location"], data={"username": "root", "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/admin/audit?action=user"


# Error pages


ERRORS = [
    ("worker", "GET", "/admin/audit", 403, "Not allowed"),
    ("worker", "POST", "/admin/users/new", 403, "Not allowed"),
    ("anon", "GET", "/no/such/page", 404, "Not found"),
    ("admin", "GET", "/admin/users/99999", 404, "Not found"),
    ("admin", "GET", "/admin/sites/not-a-number", 404, "Not found"),
    ("worker", "GET", "/auth/keepalive", 405, "Not allowed"),
    ("anon", "GET", "/admin/users?x=%00", 400, "Bad request"),
    ("anon", "GET", "/static/..%2f..%2fconfig.py", 404, "Not found"),
]


def test_error_pages_say_what_happened_and_leak_nothing(client):
    browsers = {role: browser_as(client, role)[0] for role in ("anon", "worker", "admin")}
    for role, method, path, status, title in ERRORS:
        response = browsers[role].open(path, method=method)
        assert response.status_code == status, path
        body = response.get_data(as_text=True)
        assert f"<h1>{title}</h1>" in body, path
        assert not [leak for leak in LEAKS if leak in body], path


def test_an_unexpected_failure_shows_a_plain_page_and_logs_no_detail(app, monkeypatch, caplog):
    factories.make_user("admin", username="root")
    db.session.commit()
    catching = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], CATCH_ERRORS=True)
    browser = catching.test_client()
    log_in(browser, "root")

    def broken():
        """Fail with a message that must not reach the page or the log."""
        raise RuntimeError("SELECT password_hash FROM users WHERE username = 'wanda'")

    monkeypatch.setattr("outreach.users.views.all_users", broken)
    with caplog.at_level(logging.ERROR, logger="outreach.errors"):
        response = browser.get("/admin/users")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "The change was not saved" in body
    assert not [leak for leak in (*LEAKS, "wanda", "RuntimeError") if leak in body]
    assert "Unhandled RuntimeError on GET /admin/users" in caplog.text
    assert "SELECT" not in caplog.text
    assert "wanda" not in caplog.text


# Configuration


def production_environment(tmp_path) -> dict[str, str]:
    """Return the environment a production install provides."""
    return {
        "SECRET_KEY": secrets.token_hex(32),
        "CLIENT_CODE_KEY": secrets.token_hex(32),
        "NOTES_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
    }


def production_settings(tmp_path, **changes) -> dict:
    """Return finished-looking production settings, with some changed."""
    environment = production_environment(tmp_path)
    environment["SQLALCHEMY_DATABASE_URI"] = environment.pop("DATABASE_URL")
    return {"ENV_NAME": "production"} | environment | changes


@pytest.fixture
def environment(monkeypatch):
    """Set the environment and re-read config.py, which reads it when first imported."""

    def set_environment(**values: str) -> None:
        """Replace the production variables with these, and re-read config.py."""
        for name in ("SECRET_KEY", "CLIENT_CODE_KEY", "NOTES_KEY", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        importlib.reload(config)

    yield set_environment
    monkeypatch.undo()
    importlib.reload(config)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "CLIENT_CODE_KEY", "NOTES_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_each_secret(tmp_path, environment, missing):
    name = "SQLALCHEMY_DATABASE_URI" if missing == "DATABASE_URL" else missing
    with pytest.raises(RuntimeError, match=f"without: {missing}\\."):
        config.finish_settings(production_settings(tmp_path, **{name: ""}))
    values = production_environment(tmp_path)
    del values[missing]
    environment(**values)
    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


def test_production_names_everything_missing_at_once(environment):
    environment()
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    assert str(refused.value) == (
        "Outreach will not start in production without: "
        "SECRET_KEY, CLIENT_CODE_KEY, NOTES_KEY, DATABASE_URL."
    )


def test_production_refuses_short_secrets(tmp_path):
    with pytest.raises(RuntimeError, match="at least 32 characters: NOTES_KEY"):
        config.finish_settings(production_settings(tmp_path, NOTES_KEY="short"))


def test_production_starts_with_every_secret(tmp_path, environment):
    settings = production_settings(tmp_path)
    config.finish_settings(settings)
    values = production_environment(tmp_path)
    environment(**values)
    app = create_app("production")
    assert app.config["SECRET_KEY"] == values["SECRET_KEY"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == values["DATABASE_URL"]
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert not app.testing
    assert not app.debug


def test_development_makes_random_secrets_once_and_keeps_them(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    monkeypatch.setattr(config, "INSTANCE_DIR", instance)
    first = {"ENV_NAME": "development", "SECRET_KEY": ""}
    config.finish_settings(first)
    made = [first[name] for name in config.REQUIRED_SECRETS]
    assert len(set(made)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{64}", secret) for secret in made)
    for name in config.REQUIRED_SECRETS:
        assert (instance / f"{name.lower()}.secret").stat().st_mode & 0o777 == 0o600
    again = {"ENV_NAME": "development"}
    config.finish_settings(again)
    assert [again[name] for name in config.REQUIRED_SECRETS] == made
    given = {"ENV_NAME": "development", "SECRET_KEY": "from the environment"}
    config.finish_settings(given)
    assert given["SECRET_KEY"] == "from the environment"


def test_testing_settings_are_left_alone(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    settings = {"ENV_NAME": "testing", "SECRET_KEY": "test"}
    config.finish_settings(settings)
    assert settings == {"ENV_NAME": "testing", "SECRET_KEY": "test"}
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("raw", ["-1", "99999999", "ten"])
def test_a_number_setting_out_of_range_stops_the_start_with_its_name(monkeypatch, raw):
    from config import env_int

    monkeypatch.setenv("STOCK_EXPIRY_WARNING_DAYS", raw)
    with pytest.raises(RuntimeError, match="STOCK_EXPIRY_WARNING_DAYS must be a whole number"):
        env_int("STOCK_EXPIRY_WARNING_DAYS", 60)
    monkeypatch.setenv("STOCK_EXPIRY_WARNING_DAYS", "36500")
    assert env_int("STOCK_EXPIRY_WARNING_DAYS", 60) == 36_500
