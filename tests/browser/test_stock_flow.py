"""A supervisor's stock morning on a tablet: receive naloxone, see it on hand, see warnings."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from outreach.extensions import db
from tests import factories
from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    log_in,
    make_user_in,
)

PASSWORD = "tangerine ladder quietly 42 orbit"


def set_up_program(app) -> None:
    """Add the office, a van and two catalog items."""
    with app.app_context():
        factories.make_site("Office")
        factories.make_site("Van 1", kind="mobile")
        factories.make_item("1 mL syringes", units_per_pack=10)
        factories.make_item("Naloxone kit", category="naloxone", doses_per_unit=2)
        db.session.commit()


def test_supervisor_receives_naloxone_and_sees_it_on_hand(live_server, page):
    make_user_in(live_server.app, "supervisor", "sam", PASSWORD)
    set_up_program(live_server.app)
    log_in(page, live_server.url, "sam", PASSWORD)

    page.get_by_role("link", name="Stock", exact=True).first.click()
    expect(page.get_by_role("heading", name="Stock on hand")).to_be_visible()
    expect(page.get_by_text("No stock recorded yet.")).to_be_visible()
    page.get_by_role("navigation", name="Stock").get_by_role("link", name="Receive").click()
    expect(page.get_by_role("heading", name="Receive stock")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)

    page.get_by_label("Site").select_option(label="Van 1")
    page.get_by_label("Item").select_option(label="Naloxone kit")
    page.get_by_label("How many received").fill("-3")
    page.get_by_label("Lot number").fill("ta0b67")
    page.get_by_role("button", name="Record receipt").click()
    expect(page.locator("#quantity-error")).to_contain_text("from 1 to")
    expect(page.locator("#expires_on-error")).to_contain_text("expiry date")
    expect(page.get_by_label("Lot number")).to_have_value("ta0b67")
    assert_accessible(page)

    expiry = date.today() + timedelta(days=45)
    page.get_by_label("How many received").fill("24")
    page.get_by_label("Expiry date").fill(expiry.isoformat())
    page.get_by_role("button", name="Record receipt").click()

    expect(page.get_by_text("Received: 24 each of Naloxone kit at Van 1.")).to_be_visible()
    table = page.get_by_role("table", name="Stock on hand at Van 1")
    expect(table).to_contain_text("Naloxone kit")
    expect(table).to_contain_text("TA0B67")
    expect(table).to_contain_text(expiry.isoformat())
    expect(table.get_by_role("row", name=re.compile(r"^Naloxone kit 1 lot"))).to_contain_text("24")
    expect(table.get_by_role("row", name=re.compile("TA0B67"))).to_contain_text("24")
    expect(page.get_by_text("Expired or expiring soon")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page)

    page.get_by_role("link", name="Home").click()
    warnings = page.get_by_role("region", name="Stock needs attention")
    expect(warnings).to_contain_text("lot TA0B67 at Van 1")
    assert_accessible(page)
    assert_touch_targets(page)
