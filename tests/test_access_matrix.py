"""Who reaches what: every endpoint, for an anonymous visitor and for each role."""

import functools
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.routing import Rule

from outreach.auth.models import UserSession
from outreach.extensions import db
from outreach.users.models import Role, User
from tests import factories
from tests.factories import TEST_PASSWORD

LOGIN, FORBIDDEN, OK = "login", "forbidden", "ok"
ROLES = ("anon", "worker", "supervisor", "admin")


def row(*, anon: str, worker: str, supervisor: str, admin: str) -> dict[str, str]:
    """Return one endpoint's expected outcome for each role."""
    return {"anon": anon, "worker": worker, "supervisor": supervisor, "admin": admin}


# To add an endpoint: add one line to EXPECTED and, if its URL has arguments, one builder to
# URL_ARGS. "login": the login gate stopped the request before its view ran (302 to
# /auth/login). "forbidden": 403. "ok": the view ran and did not answer 403, 404 or 500 (nor,
# for a GET, send the browser to the login page); POSTs carry an empty form.
#: Every endpoint but "static", and the outcome each role meets there.
EXPECTED: dict[str, dict[str, str]] = {
    "main.home": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "main.health": row(anon=OK, worker=OK, supervisor=OK, admin=OK),
    "auth.login": row(anon=OK, worker=OK, supervisor=OK, admin=OK),
    "auth.logout": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "auth.change_password": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "auth.keepalive": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "auth.login_code": row(anon=OK, worker=OK, supervisor=OK, admin=OK),
    "account.index": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.mfa_start": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.mfa_confirm": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.mfa_recovery_codes": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.mfa_disable": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.sessions": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.session_end": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.sessions_end_others": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "account.sessions_confirm": row(anon=LOGIN, worker=OK, supervisor=OK, admin=OK),
    "users.index": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.create": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.detail": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.deactivate": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.reactivate": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.reset_password": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.end_session": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.reset_two_factor": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.sites": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.site_create": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "users.site_edit": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "audit.index": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "clients.find": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "clients.lookup": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "clients.detail": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "clients.edit": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "clients.recipe": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "encounters.index": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "encounters.new": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "encounters.detail": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "encounters.edit": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "encounters.delete": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "mi.view": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "mi.edit": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "mi.add": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "reports.dashboard": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=OK),
    "reports.monthly": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=OK),
    "inventory.index": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.receive": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.transfer": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.count": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.write_off": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.movements": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.items": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "inventory.item_settings": row(anon=LOGIN, worker=FORBIDDEN, supervisor=OK, admin=FORBIDDEN),
    "supplies.index": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "supplies.create": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "supplies.edit": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "imports.upload": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "imports.result": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "referrals.queue": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "referrals.detail": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "referrals.status": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "referrals.new": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "referrals.directory": row(anon=LOGIN, worker=OK, supervisor=OK, admin=FORBIDDEN),
    "referrals.agencies_index": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "referrals.agency_create": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "referrals.agency_edit": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
    "referrals.agency_delete": row(anon=LOGIN, worker=FORBIDDEN, supervisor=FORBIDDEN, admin=OK),
}


def a_worker(me: User | None = None) -> User:
    """Add a field worker other than the requester."""
    return factories.make_user(Role.WORKER)


def a_live_session(me: User | None = None) -> dict:
    """Add a worker with a live session; return the ids its URL needs."""
    worker = a_worker()
    record = UserSession(token_hash=secrets.token_hex(32), user_id=worker.id)
    db.session.add(record)
    db.session.flush()
    return {"user_id": worker.id, "session_id": record.id}


def an_own_session(me: User | None = None) -> int:
    """Add another live session of the requester (of a worker when anonymous); return its id."""
    record = UserSession(token_hash=secrets.token_hex(32), user_id=(me or a_worker()).id)
    db.session.add(record)
    db.session.flush()
    return record.id


def an_import_event(me: User | None = None) -> int:
    """Add the audit event of a finished encounter import; return its id."""
    from outreach.audit.services import record

    counts = {"rows": 1, "encounters": 1, "skipped": 0, "participants": 0, "referrals": 0}
    return record("import.encounters", "import", None, data=counts, with_id=True).id


def an_encounter(me: User | None = None):
    """Add an encounter, logged by the requester when they log encounters (else by a worker)."""
    worker = me if me is not None and me.role in (Role.WORKER, Role.SUPERVISOR) else a_worker()
    return factories.make_encounter(worker, factories.make_site(), factories.make_participant())


def an_mi_note(me: User | None = None):
    """Add an MI note written by the requester at their encounter (else by a worker)."""
    return factories.make_mi_note(an_encounter(me), goal="Wants to try a safer route")


def a_referral(me: User | None = None) -> dict:
    """Add an open referral, due today, at an encounter of the requester (or of a worker)."""
    from outreach.referrals.services import local_today

    referral = factories.make_referral(an_encounter(me), follow_up_on=local_today())
    return {"referral_id": referral.id}


#: For endpoints whose URL has arguments: build the rows they point at, given the requester.
URL_ARGS: dict[str, Callable[[User | None], dict]] = {
    "static": lambda me: {"filename": "css/app.css"},
    "users.detail": lambda me: {"user_id": a_worker().id},
    "users.deactivate": lambda me: {"user_id": a_worker().id},
    "users.reactivate": lambda me: {"user_id": a_worker().id},
    "users.reset_password": lambda me: {"user_id": a_worker().id},
    "users.end_session": a_live_session,
    "users.reset_two_factor": lambda me: {"user_id": a_worker().id},
    "account.session_end": lambda me: {"session_id": an_own_session(me)},
    "users.site_edit": lambda me: {"site_id": factories.make_site().id},
    "clients.detail": lambda me: {"participant_id": factories.make_participant().id},
    "clients.edit": lambda me: {"participant_id": factories.make_participant().id},
    "encounters.detail": lambda me: {"encounter_id": an_encounter(me).id},
    "encounters.edit": lambda me: {"encounter_id": an_encounter(me).id},
    "encounters.delete": lambda me: {"encounter_id": an_encounter(me).id},
    "mi.view": lambda me: {"note_id": an_mi_note(me).id},
    "mi.edit": lambda me: {"note_id": an_mi_note(me).id},
    "mi.add": lambda me: {"encounter_id": an_encounter(me).id},
    "supplies.edit": lambda me: {"item_id": factories.make_item().id},
    "inventory.item_settings": lambda me: {"item_id": factories.make_item().id},
    "imports.result": lambda me: {"event_id": an_import_event()},
    "referrals.detail": a_referral,
    "referrals.status": a_referral,
    "referrals.new": lambda me: {"participant_id": factories.make_participant().id},
    "referrals.agency_edit": lambda me: {"agency_id": factories.make_agency().id},
    "referrals.agency_delete": lambda me: {"agency_id": factories.make_agency().id},
}


def url_for_endpoint(app: Flask, endpoint: str, me: User | None = None) -> str:
    """Build an endpoint's URL, adding the rows its arguments point at."""
    values = URL_ARGS[endpoint](me) if endpoint in URL_ARGS else {}
    db.session.commit()
    return app.url_map.bind("localhost").build(endpoint, values)


def rule_of(app: Flask, endpoint: str) -> Rule:
    """Return the URL rule of an endpoint."""
    return next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)


def methods_to_try(rule: Rule, expected: str) -> list[str]:
    """GET if the endpoint has it, else POST; a refused endpoint is tried with POST too."""
    methods = ["GET"] if "GET" in rule.methods else ["POST"]
    if expected != OK and "GET" in rule.methods and "POST" in rule.methods:
        methods.append("POST")
    return methods


def noting_visits(view: Callable, endpoint: str, visited: set[str]) -> Callable:
    """Wrap a view so that running it notes its endpoint: the login gate runs before views."""

    @functools.wraps(view)
    def noted(*args, **kwargs):
        """Note the visit, then run the view."""
        visited.add(endpoint)
        return view(*args, **kwargs)

    return noted


@pytest.fixture
def visited(client) -> set[str]:
    """The endpoints whose views ran since the set was last cleared."""
    seen: set[str] = set()
    views = client.application.view_functions
    for endpoint, view in list(views.items()):
        views[endpoint] = noting_visits(view, endpoint, seen)
    return seen


def browser_as(client, role: str):
    """Return a new browser, logged in with a new user of the role (unless anonymous)."""
    browser = client.application.test_client()
    if role == "anon":
        return browser, None
    user = factories.make_user(role)
    db.session.commit()
    response = browser.post(
        "/auth/login", data={"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return browser, user


def outcome(response, method: str, view_ran: bool) -> str:
    """Name what happened to a request: login, forbidden, ok, or the odd status."""
    location = urlsplit(response.headers.get("Location", "")).path
    to_login = response.status_code == 302 and location == "/auth/login"
    if response.status_code == 403:
        return FORBIDDEN
    if to_login and not view_ran:
        return LOGIN
    if view_ran and (method == "POST" or (response.status_code not in (404, 500) and not to_login)):
        return OK
    return f"HTTP {response.status_code} {location}".strip()


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_each_role_meets_the_expected_door(app, client, visited, endpoint):
    rule = rule_of(app, endpoint)
    mismatches = {}
    for role in ROLES:
        expected = EXPECTED[endpoint][role]
        browser, me = browser_as(client, role)
        for method in methods_to_try(rule, expected):
            url = url_for_endpoint(app, endpoint, me)
            visited.clear()
            response = browser.open(url, method=method, data={} if method == "POST" else None)
            got = outcome(response, method, endpoint in visited)
            if got != expected:
                mismatches[f"{role} {method} {url}"] = f"expected {expected}, got {got}"
    report = "; ".join(f"{request}: {problem}" for request, problem in mismatches.items())
    assert not mismatches, f"{endpoint}: {report}"


def test_every_endpoint_has_a_row_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    missing = sorted(endpoints - set(EXPECTED))
    assert missing == [], f"add these endpoints to EXPECTED in {__name__}: {missing}"


def test_the_matrix_names_no_endpoint_that_is_gone(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(set(EXPECTED) - endpoints) == []
    assert sorted(set(URL_ARGS) - endpoints) == []


def test_every_endpoint_with_url_arguments_knows_how_to_build_them(app):
    needing = {rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments}
    missing = sorted(needing - set(URL_ARGS))
    assert missing == [], f"add builders to URL_ARGS in {__name__}: {missing}"


def test_every_role_in_the_matrix_is_a_real_role():
    assert set(ROLES) == {"anon"} | {role.value for role in Role}
    assert all(set(expected) == set(ROLES) for expected in EXPECTED.values())
    assert all(
        outcome in (LOGIN, FORBIDDEN, OK)
        for expected in EXPECTED.values()
        for outcome in expected.values()
    )


#: Who reads an MI note, for (the participant's newest note, an older note): "text" is the whole
#: note; "fields" the structured fields without the goal, next steps and summary.
MI_NOTE_READERS: dict[str, tuple[str, str]] = {
    "the author": ("text", "text"),
    "another worker": ("fields", FORBIDDEN),
    "a supervisor": ("text", "text"),
    "an administrator (not a supervisor)": (FORBIDDEN, FORBIDDEN),
}
READER_ROLES = {
    "another worker": Role.WORKER,
    "a supervisor": Role.SUPERVISOR,
    "an administrator (not a supervisor)": Role.ADMIN,
}


@pytest.mark.parametrize("reader", sorted(MI_NOTE_READERS))
def test_who_reads_an_mi_note(app, client, reader):
    goal = "Wants to try a safer route"
    author = factories.make_user(Role.WORKER)
    site, participant = factories.make_site(), factories.make_participant()
    older_encounter = factories.make_encounter(author, site, participant)
    older_encounter.occurred_at = older_encounter.occurred_at.replace(year=2025)
    older = factories.make_mi_note(older_encounter, goal=goal)
    newest = factories.make_mi_note(factories.make_encounter(author, site, participant), goal=goal)
    db.session.commit()
    if reader == "the author":
        browser = client.application.test_client()
        login = {"username": author.username, "password": TEST_PASSWORD}
        assert browser.post("/auth/login", data=login).status_code == 302
    else:
        browser, _ = browser_as(client, READER_ROLES[reader])
    seen = []
    for note in (newest, older):
        response = browser.get(f"/mi/notes/{note.id}")
        if response.status_code == 403:
            seen.append(FORBIDDEN)
        else:
            assert response.status_code == 200
            seen.append("text" if goal in response.get_data(as_text=True) else "fields")
    assert tuple(seen) == MI_NOTE_READERS[reader]
