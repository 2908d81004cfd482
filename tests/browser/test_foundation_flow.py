"""A tablet day with the foundation: first login, users, sites, idle warning, focus, audit log."""

import re

from playwright.sync_api import Page, expect

from outreach.audit.services import record
from outreach.extensions import db
from tests.browser.conftest import (
    DESKTOP,
    TABLET,
    assert_accessible,
    assert_focus_rings,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    focus_ring_contrasts,
    log_in,
    make_user_in,
)
from tests.factories import TEST_PASSWORD

STRONG_PASSWORD = "tangerine ladder quietly 42 orbit"


def assert_usable(page: Page) -> None:
    """Check the page with axe-core and for finger-sized targets."""
    assert_accessible(page)
    assert_touch_targets(page)


def change_password(page: Page, current: str, new: str) -> None:
    """Fill in and send the change-password form."""
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Save password").click()


def test_first_admin_changes_password_and_every_admin_page_is_usable(live_server, page):
    make_user_in(live_server.app, "admin", "ada", TEST_PASSWORD, must_change_password=True)

    page.goto(f"{live_server.url}/auth/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_usable(page)

    log_in(page, live_server.url, "ada", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/auth/password$"))
    expect(page.get_by_text("Choose a new password before you go on.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    assert_usable(page)

    change_password(page, TEST_PASSWORD, STRONG_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Hello, ada")).to_be_visible()
    assert_usable(page)

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    assert_usable(page)

    page.get_by_role("link", name="Add a user").click()
    expect(page.get_by_role("heading", name="Add a user")).to_be_visible()
    assert_usable(page)

    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Enter a username.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    assert_usable(page)

    nav.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="ada", exact=True).click()
    expect(page.get_by_role("heading", name="ada", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Active sessions")).to_be_visible()
    assert_usable(page)

    nav.get_by_role("link", name="Sites").click()
    expect(page.get_by_role("heading", name="Sites", exact=True)).to_be_visible()
    assert_usable(page)

    page.get_by_role("link", name="Add a site").click()
    expect(page.get_by_role("heading", name="Add a site")).to_be_visible()
    assert_usable(page)

    nav.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_role("cell", name="auth.login", exact=True)).to_be_visible()
    assert_usable(page)


def test_admin_adds_a_van_and_a_worker_who_then_chooses_a_password(live_server, page):
    make_user_in(live_server.app, "admin", "ada", TEST_PASSWORD)
    log_in(page, live_server.url, "ada", TEST_PASSWORD)
    nav = page.get_by_role("navigation", name="Main")

    nav.get_by_role("link", name="Sites").click()
    page.get_by_role("link", name="Add a site").click()
    page.get_by_label("Name").fill("Van 2")
    page.get_by_label("Kind").select_option(label="Mobile (van)")
    page.get_by_role("button", name="Save site").click()
    expect(page.get_by_text("Site Van 2 is added.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"Van 2\s+mobile\s+Active"))).to_be_visible()

    nav.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Username").fill("wanda")
    page.get_by_label("Role").select_option(label="Field worker")
    page.get_by_label("Van 2").check()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="wanda is created")).to_be_visible()
    one_time = page.get_by_label("One-time password").inner_text().strip()
    assert len(one_time) >= 12, one_time
    assert_usable(page)

    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", name="wanda", exact=True)).to_be_visible()
    expect(page.get_by_label("Van 2")).to_be_checked()
    expect(page.get_by_label("Role")).to_have_value("worker")

    with page.expect_request(re.compile(r"/auth/logout$")) as logout:
        page.get_by_role("button", name="Log out").click()
    assert logout.value.method == "POST"
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    log_in(page, live_server.url, "wanda", one_time)
    expect(page).to_have_url(re.compile(r"/auth/password$"))
    expect(page.get_by_text("Choose a new password before you go on.")).to_be_visible()
    change_password(page, one_time, STRONG_PASSWORD)
    expect(page.get_by_role("heading", name="Hello, wanda")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)


def test_idle_warning_lets_a_worker_stay_logged_in(live_server_factory, page):
    server = live_server_factory(SESSION_IDLE_MINUTES=1, SESSION_WARNING_SECONDS=55)
    make_user_in(server.app, "worker", "wanda", TEST_PASSWORD)
    log_in(page, server.url, "wanda", TEST_PASSWORD)
    home = page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")
    home.focus()

    dialog = page.get_by_role("alertdialog", name="Still there?")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text(re.compile(r"logged out in 0:[0-5]\d"))
    stay = dialog.get_by_role("button", name="Stay logged in")
    expect(stay).to_be_focused()
    assert_accessible(page)
    assert_touch_targets(page)

    # The page behind the dialog is out of reach: the keyboard stays on the dialog's button.
    expect(page.locator("header[inert]")).to_have_count(1)
    expect(page.locator("main[inert]")).to_have_count(1)
    for key in ("Tab", "Tab", "Shift+Tab", "Shift+Tab"):
        page.keyboard.press(key)
        expect(stay).to_be_focused()

    with page.expect_response(re.compile(r"/auth/keepalive$")) as keepalive:
        stay.click()
    assert keepalive.value.ok
    expect(dialog).to_be_hidden()
    expect(page.locator("[inert]")).to_have_count(0)
    expect(home).to_be_focused()

    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_role("heading", name="Hello, wanda")).to_be_visible()


def test_focus_rings_stand_out_on_the_dark_header_and_the_page(live_server, page):
    make_user_in(live_server.app, "admin", "ada", TEST_PASSWORD)
    log_in(page, live_server.url, "ada", TEST_PASSWORD)

    stops = [stop for stop, _ in focus_ring_contrasts(page)]
    for control in ('a "Skip to content"', 'a "Home"', 'a "Audit log"', 'button "Log out"'):
        assert control in stops, stops
    assert_focus_rings(page)

    page.goto(f"{live_server.url}/admin/users")
    assert_focus_rings(page)


def test_a_wide_audit_log_scrolls_by_keyboard_on_a_tablet(live_server, page):
    make_user_in(live_server.app, "admin", "administrator", TEST_PASSWORD)
    with live_server.app.app_context():
        for _ in range(5):
            record(
                "settings.code_recipe", "setting", "code_recipe", {"from": "neo", "to": "extended"}
            )
            record("mi_note.read_journey", "participant", 123456)
            record("supply_item.create", "supply_item", 12)
        db.session.commit()
    log_in(page, live_server.url, "administrator", TEST_PASSWORD)

    page.goto(f"{live_server.url}/admin/audit")
    expect(page.get_by_role("cell", name="mi_note.read_journey").first).to_be_visible()
    assert_accessible(page)
    events = page.get_by_role("region", name="Audit events, newest first")
    expect(events).to_have_attribute("tabindex", "0")
    # The box is a tab stop with a visible ring.
    stops = [stop for stop, _ in focus_ring_contrasts(page)]
    assert 'div "Audit events, newest first"' in stops, stops
    assert_focus_rings(page)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page)

    events.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.table-wrap').scrollLeft > 0")

    # Where the table fits, the box is no tab stop of its own.
    page.set_viewport_size(DESKTOP)
    expect(page.locator(".table-wrap[tabindex]")).to_have_count(0)
    expect(page.get_by_role("region", name="Audit events, newest first")).to_have_count(0)


def test_home_and_users_fit_the_window_on_tablet_and_desktop(live_server, page):
    make_user_in(live_server.app, "admin", "ada", TEST_PASSWORD)
    log_in(page, live_server.url, "ada", TEST_PASSWORD)

    for viewport in (TABLET, DESKTOP):
        page.set_viewport_size(viewport)
        for path in ("/", "/admin/users"):
            page.goto(f"{live_server.url}{path}")
            assert_no_horizontal_scroll(page)
