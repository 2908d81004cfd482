"""A worker's street shift on a tablet: new participant, steppers, find by card, history."""

import re

from playwright.sync_api import expect

from outreach.encounters.models import Encounter
from outreach.extensions import db
from tests import factories
from tests.browser.conftest import (
    assert_accessible,
    assert_touch_targets,
    log_in,
    make_user_in,
    seen_before,
)

PASSWORD = "tangerine ladder quietly 42 orbit"


def stock_the_program(app) -> None:
    """Add a site the worker works at and two supply items."""
    with app.app_context():
        site = factories.make_site("Van 1", kind="mobile")
        factories.make_item("1 mL syringes", units_per_pack=10)
        factories.make_item("Naloxone kit", category="naloxone", doses_per_unit=2)
        worker = db.session.scalar(
            db.select(factories.User).where(factories.User.username == "wren")
        )
        worker.sites = [site]
        db.session.commit()


def test_worker_logs_new_participant_and_finds_them_by_card(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    stock_the_program(live_server.app)
    log_in(page, live_server.url, "wren", PASSWORD)

    page.get_by_role("link", name=re.compile("Log an encounter")).first.click()
    expect(page.get_by_role("heading", name="Log an encounter")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)
    # The date and time gets the whole row, so a 12-hour clock's AM/PM is never cut off.
    when = page.get_by_label("Date and time").bounding_box()
    assert when["width"] >= 0.8 * page.locator("fieldset:has(#occurred_at)").bounding_box()["width"]

    page.get_by_label("New participant").check()
    # Numbers bring up the number keyboard; letters keep the letter keyboard.
    expect(page.get_by_label("Birth month")).to_have_attribute("inputmode", "numeric")
    expect(page.get_by_label("Birth year", exact=True)).to_have_attribute("inputmode", "numeric")
    expect(page.get_by_label("Mother's first name")).not_to_have_attribute("inputmode", "numeric")
    page.get_by_label("Mother's first name").fill("Maria")
    page.get_by_label("Birth month").fill("7")
    page.get_by_label("Birth year", exact=True).fill("1985")
    more_syringes = page.get_by_role("button", name="One more 1 mL syringes")
    more_syringes.tap()
    more_syringes.tap()
    more_syringes.tap()
    page.get_by_role("button", name="One less 1 mL syringes").tap()
    page.get_by_role("button", name="One more Naloxone kit").tap()
    expect(page.get_by_label(re.compile("^1 mL syringes"))).to_have_value("2")
    page.get_by_label("HIV test").check()
    page.get_by_role("button", name="Save encounter").click()

    expect(page.get_by_text("Encounter saved.")).to_be_visible()
    card = page.locator("h1 .card-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", card)
    assert_accessible(page)

    page.get_by_role("link", name="Find participant").click()
    page.get_by_role("textbox", name="Card code").fill(card.lower().replace("-", ""))
    page.get_by_role("button", name="Find").click()
    expect(page.locator("h1 .card-code")).to_have_text(card)
    history = page.get_by_role("table")
    expect(history).to_contain_text("2 × 1 mL syringes")
    expect(history).to_contain_text("1 × Naloxone kit")
    expect(history).to_contain_text("hiv test")

    history.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Encounter on"))).to_be_visible()
    expect(page.get_by_role("link", name=card)).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)


def encounters_saved(app) -> int:
    """Count the encounters in the live server's database."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Encounter))


def start_anonymous_encounter(live_server, page) -> None:
    """Log in as a worker and start an anonymous encounter with one naloxone kit."""
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    stock_the_program(live_server.app)
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/encounters/new")
    page.get_by_label("Anonymous").check()
    page.get_by_role("button", name="One more Naloxone kit").tap()


def test_bad_input_comes_back_with_everything_typed(live_server, page):
    start_anonymous_encounter(live_server, page)
    page.get_by_label("Overdose reversals reported").fill("0")
    page.get_by_label("Naloxone doses used").fill("2")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Doses used are recorded with a reversal")).to_be_visible()
    expect(page.get_by_label(re.compile("^Naloxone kit"))).to_have_value("1")
    assert_accessible(page)


def test_back_button_and_save_again_makes_no_second_encounter(live_server, page):
    start_anonymous_encounter(live_server, page)
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Encounter saved.")).to_be_visible()

    # The saved form gave way to a blank one (same address): Back leaves the screen, and
    # Forward brings the blank form, never the filled one. Were it refilled (autocomplete
    # off prevents it), it would carry a new idempotency key and save a second encounter.
    page.go_back()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", name="Log an encounter")).to_be_visible()
    expect(page.get_by_label(re.compile("^Naloxone kit"))).to_have_value("")
    expect(page.get_by_label("Anonymous")).not_to_be_checked()
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Nothing was saved yet")).to_be_visible()
    assert encounters_saved(live_server.app) == 1


def test_leaving_with_unsaved_input_asks_first_but_saving_does_not(live_server, page):
    start_anonymous_encounter(live_server, page)
    asked = []
    answer = {"leave": False}

    def on_dialog(dialog) -> None:
        asked.append(dialog.type)
        dialog.accept() if answer["leave"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_label(re.compile("^Naloxone kit"))).to_have_value("1")
    assert asked == ["beforeunload"]

    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Encounter saved.")).to_be_visible()
    assert asked == ["beforeunload"]

    page.goto(f"{live_server.url}/encounters/new")
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    assert asked == ["beforeunload"], "an untouched form must not ask"

    start_over = page.goto(f"{live_server.url}/encounters/new")
    assert start_over.ok
    page.get_by_label("Anonymous").check()
    answer["leave"] = True
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    assert asked == ["beforeunload", "beforeunload"]


def test_a_form_sent_back_with_errors_asks_before_it_is_left(live_server, page):
    start_anonymous_encounter(live_server, page)
    page.get_by_label("Naloxone doses used").fill("2")
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Doses used are recorded with a reversal")).to_be_visible()

    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_label("Naloxone doses used")).to_have_value("2")
    assert asked == ["beforeunload"]


def test_idle_logout_leaves_an_unsaved_form_without_asking(live_server_factory, page):
    server = live_server_factory(SESSION_IDLE_MINUTES=1, SESSION_WARNING_SECONDS=30)
    page.clock.install()
    start_anonymous_encounter(server, page)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))

    page.clock.run_for("02:00")
    expect(page).not_to_have_url(re.compile(r"/encounters/new"))
    assert asked == []


def test_a_save_on_a_dropped_connection_keeps_the_form_and_is_never_made_twice(live_server, page):
    start_anonymous_encounter(live_server, page)
    page.get_by_label("Syringes collected").fill("37")
    save = page.get_by_role("button", name="Save encounter")

    # No signal: nothing reaches the server, and everything typed stays. The message shows
    # in the Save bar, in view wherever the worker is on the long form.
    page.context.set_offline(True)
    page.evaluate("window.scrollTo(0, 0)")
    save.click()
    expect(page.get_by_text("Not saved yet: the connection failed.")).to_be_in_viewport()
    expect(page.get_by_label(re.compile("^Naloxone kit"))).to_have_value("1")
    expect(page.get_by_label("Syringes collected")).to_have_value("37")
    page.context.set_offline(False)

    # The server saves, but its answer is lost on the way back.
    def save_then_lose_the_answer(route) -> None:
        route.fetch()
        route.abort()

    page.route("**/encounters/new", save_then_lose_the_answer)
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Not saved yet: the connection failed.")).to_be_visible()
    page.unroute("**/encounters/new")
    assert encounters_saved(live_server.app) == 1

    # A proxy's error page is not Outreach's answer either: the form stays.
    page.route(
        "**/encounters/new",
        lambda route: route.fulfill(status=502, content_type="text/html", body="Bad Gateway"),
    )
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Not saved yet: the connection failed.")).to_be_visible()
    expect(page.get_by_label("Syringes collected")).to_have_value("37")
    page.unroute("**/encounters/new")

    # Tapping Save again finds the encounter already saved.
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("This encounter was already saved.")).to_be_visible()
    assert encounters_saved(live_server.app) == 1


def test_go_in_the_card_box_checks_the_card_and_saves_nothing(live_server, page):
    start_anonymous_encounter(live_server, page)
    page.get_by_role("radio", name="Card code").check()
    box = page.get_by_role("textbox", name="Card code")
    box.fill("K7QM-2XPA")
    box.press("Enter")
    expect(page.locator("[data-lookup-result]")).not_to_be_empty()
    expect(page.get_by_role("heading", name="Log an encounter")).to_be_visible()
    assert encounters_saved(live_server.app) == 0


def test_same_as_last_time_counts_as_unsaved_input(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    stock_the_program(live_server.app)
    participant_id = seen_before(live_server.app, "wren", {"Naloxone kit": 2})
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/encounters/new?participant={participant_id}")
    page.get_by_role("button", name="Same as last time").tap()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Log an encounter")).to_be_visible()
    assert asked == ["beforeunload"]


def test_choosing_how_to_identify_puts_the_cursor_in_its_first_box(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    stock_the_program(live_server.app)
    with live_server.app.app_context():
        factories.make_site("Drop-in", kind="fixed")
        db.session.commit()
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/encounters/new")
    expect(page.get_by_label("Contact type")).to_have_value("mobile")
    page.get_by_label("Anonymous").check()
    head_count = page.get_by_label("People in the group")
    expect(head_count).to_be_focused()
    page.keyboard.type("4")
    expect(head_count).to_have_value("4")
    page.get_by_role("radio", name="Card code").check()
    expect(page.get_by_role("textbox", name="Card code")).to_be_focused()
    page.get_by_label("Site").select_option(label="Drop-in")
    expect(page.get_by_label("Contact type")).to_have_value("fixed_site")
    page.get_by_label("Contact type").select_option("event")
    page.get_by_label("Site").select_option(label="Van 1")
    expect(page.get_by_label("Contact type")).to_have_value("event")  # the worker's pick stays


def test_changing_an_encounters_site_keeps_its_recorded_contact_type(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    stock_the_program(live_server.app)
    with live_server.app.app_context():
        factories.make_site("Drop-in", kind="fixed")
        worker = db.session.scalar(
            db.select(factories.User).where(factories.User.username == "wren")
        )
        encounter = factories.make_encounter(worker, worker.sites[0], contact_type="virtual")
        db.session.commit()
        encounter_id = encounter.id
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/encounters/{encounter_id}/edit")
    page.get_by_label("Site").select_option(label="Drop-in")
    expect(page.get_by_label("Contact type")).to_have_value("virtual")


def test_a_save_after_logging_in_again_elsewhere_keeps_the_form_and_goes_through(live_server, page):
    start_anonymous_encounter(live_server, page)
    other_tab = page.context.new_page()
    other_tab.goto(f"{live_server.url}/")
    other_tab.get_by_role("button", name="Log out").click()

    page.bring_to_front()
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Not saved: you are logged out.")).to_be_visible()
    expect(page.get_by_label(re.compile("^Naloxone kit"))).to_have_value("1")
    assert encounters_saved(live_server.app) == 0

    log_in(other_tab, live_server.url, "wren", PASSWORD)
    page.bring_to_front()
    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Encounter saved.")).to_be_visible()
    assert encounters_saved(live_server.app) == 1


def test_keys_move_through_the_modes_and_enter_never_saves(live_server, page):
    start_anonymous_encounter(live_server, page)
    page.get_by_label("Syringes collected").fill("5")
    page.get_by_label("Syringes collected").press("Enter")
    page.get_by_role("radio", name="Card code").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="New participant")).to_be_checked()
    expect(page.get_by_role("radio", name="New participant")).to_be_focused()
    assert encounters_saved(live_server.app) == 0
