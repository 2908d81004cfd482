"""A worker refers a participant during an encounter, then closes it as linked from the queue."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from outreach.extensions import db
from outreach.referrals.models import Referral
from outreach.referrals.services import local_today
from tests import factories
from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    log_in,
    make_user_in,
    seen_before,
)

PASSWORD = "tangerine ladder quietly 42 orbit"


def set_up_program(app) -> None:
    """Add the worker's site and two agencies taking different referral types."""
    with app.app_context():
        site = factories.make_site("Van 1", kind="mobile")
        factories.make_agency("Bridge Clinic", types=("moud", "hcv"), notes="Walk-in mornings")
        factories.make_agency("Home Base", types=("housing",))
        worker = db.session.scalar(
            db.select(factories.User).where(factories.User.username == "wren")
        )
        worker.sites = [site]
        db.session.commit()


def test_referral_made_at_an_encounter_is_closed_as_linked_from_the_queue(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    set_up_program(live_server.app)
    with live_server.app.app_context():
        today = local_today()
    log_in(page, live_server.url, "wren", PASSWORD)

    page.goto(f"{live_server.url}/encounters/new")
    page.get_by_label("New participant").check()
    page.get_by_label("Mother's first name").fill("Maria")
    page.get_by_label("Birth month").fill("7")
    page.get_by_label("Birth year", exact=True).fill("1985")

    row = page.locator("[data-referral-row]").first
    row.get_by_label("Type").select_option("moud")
    agency = row.get_by_label("Agency")
    expect(agency.locator("option", has_text="Home Base")).to_be_disabled()
    expect(row.get_by_label("Follow-up on")).to_have_value((today + timedelta(days=3)).isoformat())
    agency.select_option(label="Bridge Clinic")
    row.get_by_label("Follow-up on").fill(today.isoformat())
    page.get_by_role("button", name="Save encounter").click()

    expect(page.get_by_text("Encounter saved.")).to_be_visible()
    panel = page.locator(".referrals-panel")
    expect(panel).to_contain_text("MOUD")
    expect(panel).to_contain_text("Bridge Clinic")

    page.get_by_role("link", name="Follow-up").click()
    expect(page.get_by_role("heading", name="Referral follow-up")).to_be_visible()
    item = page.locator("article.queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Bridge Clinic")
    assert_accessible(page)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page)

    item.get_by_role("button", name="Linked today").tap()
    expect(page.get_by_text("Referral linked.")).to_be_visible()
    expect(page.locator("article.queue-item")).to_have_count(0)
    with live_server.app.app_context():
        referral = db.session.scalar(db.select(Referral))
        assert (referral.status, referral.linked_on) == ("linked", today)

    page.goto(f"{live_server.url}/referrals/{referral.id}")
    history = page.get_by_role("table")
    expect(history).to_contain_text("Referred")
    expect(history).to_contain_text(re.compile(r"Linked \(\d{4}-\d\d-\d\d\)"))
    assert_accessible(page)


def test_a_past_follow_up_date_is_refused_at_the_field(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    set_up_program(live_server.app)
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/encounters/new")
    page.get_by_label("New participant").check()
    page.get_by_label("Mother's first name").fill("Ana")
    page.get_by_label("Birth month").fill("3")
    page.get_by_label("Birth year", exact=True).fill("1990")
    row = page.locator("[data-referral-row]").nth(1)
    row.get_by_label("Type").select_option("housing")
    row.get_by_label("Follow-up on").fill("2020-01-01")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("The follow-up date cannot be in the past.")).to_be_visible()
    expect(page.locator("#referrals-1-type")).to_have_value("housing")
    expect(page.get_by_label("Mother's first name")).to_have_value("Ana")
    assert_accessible(page)
    with live_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Referral.id))) == 0


def test_admin_keeps_the_agency_directory(live_server, page):
    make_user_in(live_server.app, "admin", "ada", PASSWORD)
    log_in(page, live_server.url, "ada", PASSWORD)
    page.goto(f"{live_server.url}/admin/agencies")
    assert_accessible(page)
    page.get_by_role("link", name="Add an agency").click()
    page.get_by_label("Name").fill("Bridge Clinic")
    page.get_by_label("MOUD (buprenorphine, methadone)").check()
    page.get_by_label("Agency phone").fill("555-010-0199")
    page.get_by_label("Notes for workers").fill("Call Maria at 555-201-3344")
    page.get_by_role("button", name="Add agency").click()
    expect(page.get_by_text("This looks like a phone number.")).to_be_visible()
    expect(page.get_by_label("Agency phone")).to_have_value("555-010-0199")
    assert_accessible(page)
    assert_touch_targets(page)
    page.get_by_label("Notes for workers").fill("Walk-in mornings; bring any ID if there is one.")
    page.get_by_role("button", name="Add agency").click()
    expect(page.get_by_text("Bridge Clinic is added to the directory.")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)
    page.get_by_role("link", name="Bridge Clinic").click()
    assert_accessible(page)
    assert_touch_targets(page)


def test_worker_adds_a_referral_from_the_participant_page(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    set_up_program(live_server.app)
    participant_id = seen_before(live_server.app, "wren")
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/participants/{participant_id}")
    page.get_by_role("link", name="Add a referral").click()
    assert_accessible(page)
    assert_touch_targets(page)
    page.get_by_label("Type").select_option("hcv")
    page.get_by_label("Agency").select_option(label="Bridge Clinic")
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_text("Referral saved.")).to_be_visible()
    page.locator(".referrals-panel").get_by_role("link", name="Hepatitis C testing or care").click()
    expect(page.get_by_role("heading", name="Hepatitis C testing or care referral")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)
    page.get_by_label("New status").select_option("scheduled")
    page.get_by_label("Reason").select_option("appointment_made")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_text("Referral scheduled.")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Appointment made")
    page.goto(f"{live_server.url}/referrals/agencies")
    assert_accessible(page)
    assert_touch_targets(page)
