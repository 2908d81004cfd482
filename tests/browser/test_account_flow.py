"""Two-factor set-up and sessions in a tablet browser: usable, accessible, finger-sized."""

import re
import time

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    log_in,
    make_user_in,
)
from tests.factories import TEST_PASSWORD


def assert_usable(page: Page) -> None:
    """Check the page with axe-core, for finger-sized targets and no sideways scrolling."""
    assert_accessible(page)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page)


def fresh_code(key: str) -> str:
    """Return the app's code, waiting out the last seconds of a step (as a person would)."""
    if 30 - time.time() % 30 < 5:
        time.sleep(30 - time.time() % 30 + 0.5)
    return pyotp.TOTP(key).now()


def test_a_supervisor_sets_up_two_factor_login_and_logs_in_with_a_recovery_code(
    live_server_factory, page
):
    server = live_server_factory(MFA_REQUIRED_ROLES="supervisor,admin")
    make_user_in(server.app, "supervisor", "sam", TEST_PASSWORD)

    log_in(page, server.url, "sam", TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/auth/account$"))
    expect(page.get_by_text("Your role needs two-factor login.").first).to_be_visible()
    assert_usable(page)

    page.get_by_label("Your password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Set up two-factor login").click()
    expect(page.get_by_role("heading", name="Set up two-factor login")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code to scan with the authenticator app")
    ).to_be_visible()
    assert_usable(page)

    key = page.get_by_label("Key to type in the app").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(fresh_code(key))
    page.get_by_role("button", name="Turn on two-factor login").click()
    expect(page.get_by_role("heading", name="Two-factor login is on")).to_be_visible()
    codes = page.get_by_label("Recovery codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10
    assert_usable(page)

    page.get_by_role("link", name="I have written them down").click()
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text("Recovery codes left: 10")).to_be_visible()
    assert_usable(page)
    page.get_by_role("link", name="See and end sessions").click()
    expect(page.get_by_role("heading", name="Your sessions")).to_be_visible()
    expect(page.get_by_text("This session")).to_be_visible()
    assert_usable(page)

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    assert_usable(page)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page).to_have_url(f"{server.url}/")
