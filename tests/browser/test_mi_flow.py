"""A worker records an MI conversation during an encounter on a tablet, then sees the journey."""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.mi.models import MINote
from outreach.mi.services import open_text
from outreach.users.models import User
from tests import factories
from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    log_in,
    make_user_in,
)

PASSWORD = "tangerine ladder quietly 42 orbit"
GOAL = "Never use alone this month"


def a_returning_participant(app) -> int:
    """Add the worker's site and a participant with an earlier encounter and MI note."""
    with app.app_context():
        site = factories.make_site("Van 1", kind="mobile")
        worker = db.session.scalar(select(User).where(User.username == "wren"))
        worker.sites = [site]
        participant = factories.make_participant()
        earlier = factories.make_encounter(
            worker, site, participant, occurred_at=utcnow() - timedelta(days=3)
        )
        factories.make_mi_note(earlier, stage="contemplation", focus="safer_use", importance=4)
        db.session.commit()
        return participant.id


def tap_chip(page, group: str, label: str) -> None:
    """Tap the chip with this label inside the named group of chips."""
    page.get_by_role("group", name=group).locator(
        "label.chip", has_text=re.compile(f"^\\s*{label}\\s*$")
    ).tap()


def test_worker_writes_an_mi_note_during_an_encounter(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    participant_id = a_returning_participant(live_server.app)
    log_in(page, live_server.url, "wren", PASSWORD)

    page.goto(f"{live_server.url}/encounters/new?participant={participant_id}")
    section = page.locator("details.mi-section")
    expect(section).not_to_have_attribute("open", "")
    section.locator("summary").tap()
    expect(page.get_by_text("Last MI conversation")).to_be_visible()
    expect(section.locator(".mi-previous")).to_contain_text("Contemplation")

    page.get_by_label("Focus: what the participant chose to talk about").select_option("safer_use")
    page.get_by_label("Stage of change").select_option("preparation")
    tap_chip(page, "Importance", "9")
    tap_chip(page, "Confidence", "6")
    tap_chip(page, "Readiness", "7")
    tap_chip(page, "Change talk heard", "Desire")
    tap_chip(page, "Change talk heard", "Commitment")
    tap_chip(page, "Change talk heard", "Desire")  # a second tap turns it off again
    tap_chip(page, "Sustain talk heard", "Some")
    expect(page.locator("#mi-importance-9")).to_be_checked()
    expect(page.locator("#mi-change_talk-desire")).not_to_be_checked()
    expect(page.locator("#mi-change_talk-commitment")).to_be_checked()
    page.get_by_label("The participant's goal, in their words").fill(GOAL)
    assert_accessible(page)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page)

    page.get_by_role("button", name="Save encounter").click()
    expect(page.get_by_text("Encounter saved.")).to_be_visible()
    journey = page.locator("section.mi-journey")
    expect(journey.locator("svg")).to_have_count(2)
    journey.get_by_text("The journey as a table").tap()
    expect(journey.get_by_role("table")).to_contain_text("Preparation")
    assert_accessible(page)
    assert_touch_targets(page)

    journey.get_by_role("table").get_by_role("link").last.tap()
    expect(page.get_by_role("heading", name=re.compile("^MI conversation"))).to_be_visible()
    expect(page.get_by_text(GOAL)).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)

    with live_server.app.app_context():
        note = db.session.scalars(select(MINote).order_by(MINote.id.desc())).first()
        assert (note.stage, note.importance, note.confidence, note.readiness) == (
            "preparation",
            9,
            6,
            7,
        )
        assert note.change_talk_codes == ["commitment"]
        assert note.sustain_talk == "some"
        assert open_text(note).goal == GOAL


def test_mi_fields_on_an_anonymous_encounter_are_refused_at_the_field(live_server, page):
    make_user_in(live_server.app, "worker", "wren", PASSWORD)
    a_returning_participant(live_server.app)
    log_in(page, live_server.url, "wren", PASSWORD)
    page.goto(f"{live_server.url}/encounters/new")
    page.get_by_label("Anonymous").check()
    page.locator("details.mi-section summary").tap()
    tap_chip(page, "Importance", "5")
    page.get_by_role("button", name="Save encounter").click()
    error = page.locator("#mi-importance-error")
    expect(error).to_contain_text("only for encounters with a participant")
    expect(page.locator("details.mi-section")).to_have_attribute("open", "")
    expect(page.locator("#mi-importance-5")).to_be_checked()
    assert_accessible(page)
