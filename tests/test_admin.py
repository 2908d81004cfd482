"""Administration: users, roles, sessions and sites, through the pages and the command line."""

import re
import uuid

from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.auth.models import UserSession
from outreach.auth.passwords import verify_password
from outreach.extensions import db
from outreach.inventory import services as stock_services
from outreach.users.models import Role, Site, User
from tests import factories
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "tangerine ladder quietly 42 orbit"


def count(model) -> int:
    """Count the rows of a model's table."""
    return db.session.scalar(select(func.count()).select_from(model))


def user_named(username: str) -> User | None:
    """Return the user with this username, read afresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def site_named(name: str) -> Site | None:
    """Return the site with this name, read afresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(Site).where(Site.name == name))


def page(response) -> str:
    """Return a response's body as text."""
    return response.get_data(as_text=True)


def one_time_password(response) -> str:
    """Read the one-time password from the page that shows it once."""
    match = re.search(r'<p class="secret"[^>]*><code>([^<]+)</code>', page(response))
    assert match, "the page shows a one-time password"
    return match.group(1)


def field_error(response, field: str) -> str:
    """Return the message shown next to a form field (empty when there is none)."""
    match = re.search(rf'id="{field}-error">([^<]*)<', page(response))
    return match.group(1) if match else ""


def user_form(**fields) -> dict:
    """Return a filled-in "Add a user" form with a fresh idempotency key."""
    return {"username": "wanda", "role": "worker", "idempotency_key": str(uuid.uuid4())} | fields


def site_form(**fields) -> dict:
    """Return a filled-in site form with a fresh idempotency key."""
    form = {"name": "Downtown van", "kind": "mobile", "active": "y"}
    return form | {"idempotency_key": str(uuid.uuid4())} | fields


def another_device(client):
    """Return a second browser on the same app, with its own cookie jar."""
    return client.application.test_client()


def log_in(browser, username: str, password: str = TEST_PASSWORD):
    """Log a browser in and return the response."""
    return browser.post("/auth/login", data={"username": username, "password": password})


def is_sent_to_login(response) -> bool:
    """Tell whether a response sends the browser to the login page."""
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


# Users


def test_admin_creates_a_worker_and_sees_the_password_once(client, login_as):
    van = factories.make_site("Downtown van")
    admin = login_as("admin")
    response = client.post("/admin/users/new", data=user_form(username=" Wanda.K ", sites=[van.id]))
    assert response.status_code == 200
    password = one_time_password(response)

    wanda = user_named("wanda.k")
    assert wanda.role == Role.WORKER
    assert wanda.must_change_password
    assert [site.name for site in wanda.sites] == ["Downtown van"]
    assert verify_password(wanda.password_hash, password)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert (event.actor_id, event.entity_type, event.entity_id) == (admin.id, "user", str(wanda.id))

    assert password not in page(client.get(f"/admin/users/{wanda.id}"))
    assert password not in page(client.get("/admin/users"))
    assert "wanda.k" in page(client.get("/admin/users"))

    tablet = another_device(client)
    assert log_in(tablet, "wanda.k", password).status_code == 302
    assert tablet.get("/").headers["Location"].endswith("/auth/password")


def test_a_taken_username_is_refused_at_the_field_and_nothing_is_written(client, login_as):
    factories.make_user("worker", username="wanda")
    login_as("admin")
    users, events = count(User), count(AuditEvent)
    response = client.post("/admin/users/new", data=user_form(username="WANDA"))
    assert response.status_code == 422
    assert field_error(response, "username") == "That username is taken."
    assert 'value="WANDA"' in page(response), "the form keeps what was typed"
    assert (count(User), count(AuditEvent)) == (users, events)


def test_a_badly_formed_username_gets_a_message(client, login_as):
    login_as("admin")
    users = count(User)
    for username in ("w", "wanda k", "wanda!", "émile", "-wanda", "x" * 41):
        response = client.post("/admin/users/new", data=user_form(username=username))
        assert response.status_code == 422, username
        assert field_error(response, "username"), username
    assert count(User) == users


def test_a_double_tap_on_create_makes_one_user(client, login_as):
    login_as("admin")
    form = user_form(username="wanda")
    first = client.post("/admin/users/new", data=form)
    again = client.post("/admin/users/new", data=form)
    assert first.status_code == 200
    wanda = user_named("wanda")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/admin/users/{wanda.id}")
    assert count(User) == 2, "the admin and one wanda"
    assert "already created" in page(client.get(again.headers["Location"]))


def test_admin_changes_a_users_role_and_sites(client, login_as):
    office, van, street = (factories.make_site(name) for name in ("Office", "Van", "Street"))
    wanda = factories.make_user("worker", username="wanda", sites=[office])
    login_as("admin")
    response = client.post(
        f"/admin/users/{wanda.id}", data={"role": "supervisor", "sites": [van.id, street.id]}
    )
    assert response.status_code == 302
    wanda = user_named("wanda")
    assert wanda.role == Role.SUPERVISOR
    assert sorted(site.name for site in wanda.sites) == ["Street", "Van"]


def test_the_last_active_admin_cannot_be_demoted(client, login_as):
    admin = login_as("admin", username="root")
    factories.make_user("admin", username="retired", active=False)
    events = count(AuditEvent)
    response = client.post(f"/admin/users/{admin.id}", data={"role": "worker"})
    assert response.status_code == 422
    assert "last active administrator" in field_error(response, "role")
    assert user_named("root").role == Role.ADMIN
    assert count(AuditEvent) == events


def test_the_last_active_admin_cannot_be_deactivated(client, login_as):
    admin = login_as("admin", username="root")
    events = count(AuditEvent)
    response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "This is the last active administrator" in page(response)
    assert user_named("root").active
    assert count(AuditEvent) == events
    assert client.get("/admin/users").status_code == 200, "still logged in"


def test_with_a_second_admin_the_first_may_step_down(client, login_as):
    admin = login_as("admin", username="root")
    factories.make_user("admin", username="deputy")
    response = client.post(f"/admin/users/{admin.id}", data={"role": "supervisor"})
    assert response.status_code == 302
    assert user_named("root").role == Role.SUPERVISOR
    assert client.get("/admin/users").status_code == 403, "the new role applies at once"


def test_deactivating_a_worker_logs_them_out_on_every_device(client, login_as):
    wanda = factories.make_user("worker", username="wanda")
    tablet, phone = another_device(client), another_device(client)
    log_in(tablet, "wanda")
    log_in(phone, "wanda")
    login_as("admin")
    response = client.post(f"/admin/users/{wanda.id}/deactivate")
    assert response.status_code == 302
    assert not user_named("wanda").active
    assert is_sent_to_login(tablet.get("/"))
    assert is_sent_to_login(phone.get("/"))
    assert log_in(another_device(client), "wanda").status_code == 401
    ended = select(UserSession.end_reason).where(UserSession.user_id == wanda.id)
    reasons = db.session.scalars(ended)
    assert set(reasons) == {"deactivated"}


def test_a_reactivated_worker_can_log_in_again(client, login_as):
    wanda = factories.make_user("worker", username="wanda", active=False, failed_logins=3)
    login_as("admin")
    response = client.post(f"/admin/users/{wanda.id}/reactivate", follow_redirects=True)
    assert "wanda can log in again." in page(response)
    wanda = user_named("wanda")
    assert wanda.active
    assert wanda.failed_logins == 0
    assert log_in(another_device(client), "wanda").status_code == 302


def test_a_password_reset_logs_the_worker_out_and_forces_a_new_password(client, login_as):
    wanda = factories.make_user("worker", username="wanda")
    tablet = another_device(client)
    log_in(tablet, "wanda")
    login_as("admin")
    response = client.post(f"/admin/users/{wanda.id}/reset-password")
    assert response.status_code == 200
    password = one_time_password(response)
    assert user_named("wanda").must_change_password

    assert is_sent_to_login(tablet.get("/"))
    assert log_in(tablet, "wanda", TEST_PASSWORD).status_code == 401, "the old password is gone"
    assert log_in(tablet, "wanda", password).status_code == 302
    assert tablet.get("/").headers["Location"].endswith("/auth/password")
    changed = tablet.post(
        "/auth/password",
        data={
            "current_password": password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert tablet.get("/").status_code == 200


def test_admin_ends_one_session_and_leaves_the_other(client, login_as):
    wanda = factories.make_user("worker", username="wanda")
    tablet, phone = another_device(client), another_device(client)
    log_in(tablet, "wanda")
    log_in(phone, "wanda")
    first, second = db.session.scalars(
        select(UserSession).where(UserSession.user_id == wanda.id).order_by(UserSession.id)
    )
    login_as("admin")
    detail = page(client.get(f"/admin/users/{wanda.id}"))
    assert f"/admin/users/{wanda.id}/sessions/{first.id}/end" in detail
    assert f"/admin/users/{wanda.id}/sessions/{second.id}/end" in detail

    response = client.post(f"/admin/users/{wanda.id}/sessions/{first.id}/end")
    assert response.status_code == 302
    assert is_sent_to_login(tablet.get("/"))
    assert phone.get("/").status_code == 200
    db.session.refresh(first)
    assert first.end_reason == "ended_by_admin"
    detail = page(client.get(f"/admin/users/{wanda.id}"))
    assert f"/sessions/{first.id}/end" not in detail


def test_a_session_can_only_be_ended_through_its_own_user(client, login_as):
    wanda = factories.make_user("worker", username="wanda")
    walter = factories.make_user("worker", username="walter")
    tablet = another_device(client)
    log_in(tablet, "wanda")
    session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == wanda.id))
    login_as("admin")
    response = client.post(f"/admin/users/{walter.id}/sessions/{session_id}/end")
    assert response.status_code == 404
    assert tablet.get("/").status_code == 200


def test_ending_a_session_that_already_ended_rewrites_nothing(client, login_as):
    wanda = factories.make_user("worker", username="wanda")
    tablet = another_device(client)
    log_in(tablet, "wanda")
    tablet.post("/auth/logout")
    ended = db.session.scalar(select(UserSession).where(UserSession.user_id == wanda.id))
    ended_at = ended.ended_at
    login_as("admin")
    events = count(AuditEvent)
    for _ in range(2):
        response = client.post(f"/admin/users/{wanda.id}/sessions/{ended.id}/end")
        assert response.status_code == 302
    db.session.refresh(ended)
    assert (ended.end_reason, ended.ended_at) == ("logout", ended_at)
    assert count(AuditEvent) == events


def test_actions_on_a_missing_user_are_not_found(client, login_as):
    login_as("admin")
    for path in ("", "/deactivate", "/reactivate", "/reset-password", "/sessions/1/end"):
        method = client.get if path == "" else client.post
        assert method(f"/admin/users/99999{path}").status_code == 404, path


# Sites


def test_admin_adds_renames_and_deactivates_a_site(client, login_as):
    login_as("admin")
    response = client.post("/admin/sites/new", data=site_form(name="  Downtown   van "))
    assert response.status_code == 302
    van = site_named("Downtown van")
    assert (van.kind, van.active) == ("mobile", True)
    assert "Downtown van" in page(client.get("/admin/sites"))

    renamed = client.post(f"/admin/sites/{van.id}", data=site_form(name="Van 1", kind="mobile"))
    assert renamed.status_code == 302
    assert site_named("Van 1").id == van.id

    form = site_form(name="Van 1", kind="mobile")
    del form["active"]
    assert client.post(f"/admin/sites/{van.id}", data=form).status_code == 302
    assert not site_named("Van 1").active
    assert "Inactive" in page(client.get("/admin/sites"))


def test_deactivating_a_site_that_holds_stock_warns_but_is_saved(client, login_as):
    van = factories.make_site("Van 1", kind="mobile")
    office = factories.make_site("Office")
    item = factories.make_item("Cookers")
    supervisor = factories.make_user("supervisor")
    stock_services.stock_receive(site_id=van.id, item_id=item.id, quantity=4, by=supervisor)
    db.session.commit()
    login_as("admin")
    for site in (office, van):
        form = site_form(name=site.name, kind=site.kind)
        del form["active"]
        response = client.post(f"/admin/sites/{site.id}", data=form, follow_redirects=True)
        assert response.status_code == 200 and not site_named(site.name).active
        warned = "Van 1 still has stock on the ledger" in page(response)
        assert warned == (site is van), site.name


def test_a_site_name_in_use_is_refused_whatever_its_case(client, login_as):
    factories.make_site("Downtown van")
    office = factories.make_site("Office")
    login_as("admin")
    sites, events = count(Site), count(AuditEvent)
    for name in ("downtown VAN", "Downtown van", " downtown  van "):
        added = client.post("/admin/sites/new", data=site_form(name=name))
        assert added.status_code == 422, name
        assert field_error(added, "name") == "Another site already has that name."
        renamed = client.post(f"/admin/sites/{office.id}", data=site_form(name=name))
        assert renamed.status_code == 422, name
        assert field_error(renamed, "name") == "Another site already has that name."
    assert (count(Site), count(AuditEvent)) == (sites, events)
    assert site_named("Office") is not None


def test_a_site_may_change_the_case_of_its_own_name(client, login_as):
    van = factories.make_site("Downtown van")
    login_as("admin")
    response = client.post(f"/admin/sites/{van.id}", data=site_form(name="Downtown Van"))
    assert response.status_code == 302
    assert site_named("Downtown Van").id == van.id


def test_a_double_tap_on_add_site_makes_one_site(client, login_as):
    login_as("admin")
    form = site_form(name="Office")
    assert client.post("/admin/sites/new", data=form).status_code == 302
    assert client.post("/admin/sites/new", data=form).status_code == 302
    assert count(Site) == 1


# Bad input


def bad_requests(user_id: int, site_id: int) -> list[tuple[str, dict]]:
    """Return form posts no person would send, each with the path it goes to."""
    create, detail = "/admin/users/new", f"/admin/users/{user_id}"
    site_new, site_edit = "/admin/sites/new", f"/admin/sites/{site_id}"
    return [
        (create, user_form(role="superuser")),
        (create, user_form(role="")),
        (create, user_form(sites=["99999"])),
        (create, user_form(sites=["not-a-number"])),
        (create, user_form(sites=[str(site_id), "99999"])),
        (create, user_form(username="w" * 10_000)),
        (create, user_form(username="wan\x00da")),
        (create, user_form(username="\x00")),
        (create, user_form(idempotency_key="not-a-uuid")),
        (create, user_form(idempotency_key="\x00" * 36)),
        (create, {}),
        (detail, {"role": "root"}),
        (detail, {"role": "worker", "sites": ["99999"]}),
        (detail, {"role": "worker\x00"}),
        (site_new, site_form(name="x" * 10_000)),
        (site_new, site_form(name="Van\x00 2")),
        (site_new, site_form(name="")),
        (site_new, site_form(name="x")),
        (site_new, site_form(kind="spaceship")),
        (site_edit, site_form(name="Office\x00")),
        (site_edit, site_form(kind="")),
    ]


def test_bad_input_never_breaks_the_admin_pages(client, login_as):
    site = factories.make_site("Office")
    wanda = factories.make_user("worker", username="wanda", sites=[site])
    login_as("admin")
    users, sites, events = count(User), count(Site), count(AuditEvent)
    for path, form in bad_requests(wanda.id, site.id):
        response = client.post(path, data=form)
        assert response.status_code in (400, 422), (path, form)
    assert (count(User), count(Site), count(AuditEvent)) == (users, sites, events)
    wanda = user_named("wanda")
    assert (wanda.role, [s.name for s in wanda.sites]) == (Role.WORKER, ["Office"])
    assert site_named("Office").kind == "fixed"


def test_a_form_key_already_used_by_another_form_is_refused(client, login_as):
    login_as("admin")
    key = str(uuid.uuid4())
    assert client.post("/admin/sites/new", data=site_form(idempotency_key=key)).status_code == 302
    users, events = count(User), count(AuditEvent)
    response = client.post("/admin/users/new", data=user_form(idempotency_key=key))
    assert response.status_code == 400
    assert (count(User), count(AuditEvent)) == (users, events)


def test_a_strange_username_at_login_fails_quietly(client):
    for username in ("wan\x00da", "w" * 10_000, "\x00"):
        response = log_in(client, username, "whatever it is")
        assert response.status_code in (200, 400, 401), repr(username[:10])
        assert is_sent_to_login(client.get("/"))


# Command line


def test_cli_creates_a_user_and_prints_the_password(app):
    factories.make_site("Downtown van")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "wanda", "--role", "supervisor", "--site", "downtown  Van"]
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password.*: (\S+)", result.output).group(1)
    wanda = user_named("wanda")
    assert wanda.role == Role.SUPERVISOR
    assert wanda.must_change_password
    assert [site.name for site in wanda.sites] == ["Downtown van"]
    assert verify_password(wanda.password_hash, password)


def test_cli_refuses_an_unknown_site_and_creates_nobody(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "wanda", "--site", "Mars"])
    assert result.exit_code != 0
    assert "There is no site called 'Mars'" in result.output
    assert user_named("wanda") is None


def test_cli_refuses_a_taken_username(app):
    factories.make_user("worker", username="wanda")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "create", "Wanda"])
    assert result.exit_code != 0
    assert "That username is taken." in result.output
    assert count(User) == 1


def test_cli_refuses_an_unknown_role(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "wanda", "--role", "root"])
    assert result.exit_code != 0
    assert user_named("wanda") is None


def test_cli_lists_users_with_role_state_and_sites(app):
    van = factories.make_site("Downtown van")
    factories.make_user("supervisor", username="sam", sites=[van])
    factories.make_user("worker", username="wanda", active=False)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0
    sam, wanda = result.output.splitlines()
    assert sam.split()[:3] == ["sam", "supervisor", "active"]
    assert "last login never" in sam
    assert sam.endswith("sites: Downtown van")
    assert wanda.split()[:3] == ["wanda", "worker", "inactive"]


def test_ensure_admin_makes_the_first_admin_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0
    password = re.search(r"One-time password:\s+(\S+)", first.output).group(1)
    admin = user_named("admin")
    assert admin.role == Role.ADMIN
    assert verify_password(admin.password_hash, password)
    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.exit_code == 0
    assert "nothing to do" in second.output
    assert password not in second.output
    assert count(User) == 1


def test_ensure_admin_will_not_take_over_a_workers_name(app):
    factories.make_user("worker", username="admin")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "ensure-admin"])
    assert result.exit_code != 0
    assert "choose --username" in result.output
    assert user_named("admin").role == Role.WORKER
    made = app.test_cli_runner().invoke(args=["users", "ensure-admin", "--username", "boss"])
    assert made.exit_code == 0
    assert user_named("boss").role == Role.ADMIN


def test_cli_adds_a_site_and_refuses_a_duplicate(app):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["sites", "add", "Downtown van", "--kind", "mobile"])
    assert added.exit_code == 0
    assert "Added site Downtown van (mobile)." in added.output
    again = runner.invoke(args=["sites", "add", "DOWNTOWN VAN"])
    assert again.exit_code != 0
    assert "Another site already has that name." in again.output
    assert count(Site) == 1
