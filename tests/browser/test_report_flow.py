"""A supervisor makes October's report on a tablet and downloads the PDF."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from outreach.extensions import db
from tests import factories
from tests.browser.conftest import assert_accessible, assert_touch_targets, log_in, make_user_in

PASSWORD = "tangerine ladder quietly 42 orbit"


def test_supervisor_downloads_the_monthly_pdf(live_server, page, tmp_path):
    make_user_in(live_server.app, "supervisor", "sam", PASSWORD)
    with live_server.app.app_context():
        site = factories.make_site("Van 1")
        worker = factories.make_user("worker")
        kit = factories.make_item("Naloxone kit", category="naloxone", doses_per_unit=2)
        moment = datetime(2026, 10, 12, 18, 0, tzinfo=UTC)
        factories.make_encounter(worker, site, None, moment, {kit: 3})
        db.session.commit()
    log_in(page, live_server.url, "sam", PASSWORD)
    refused = []
    page.on("console", lambda message: message.type == "error" and refused.append(message.text))
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert_accessible(page)
    assert refused == [], "the page's own Content-Security-Policy refused part of it"
    chart = page.get_by_role("img", name=re.compile("^Encounters, last 12 months"))
    expect(chart).to_be_visible()
    month_label = chart.locator("text").first
    assert month_label.evaluate("label => getComputedStyle(label).fontSize") == "6px"
    family = month_label.evaluate("label => getComputedStyle(label).fontFamily")
    assert family.endswith("sans-serif"), family
    bar_colours = chart.locator("rect[fill]").evaluate_all(
        "bars => bars.map(bar => getComputedStyle(bar).fill)"
    )
    assert "rgb(191, 191, 191)" in bar_colours, "other months' bars are grey"
    page.get_by_role("link", name="Make a monthly report").click()
    assert_accessible(page)
    assert_touch_targets(page)
    page.get_by_label("Month").fill("2026-10")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Make report").click()
    download = download_info.value
    assert re.fullmatch(r"outreach-2026-10\.pdf", download.suggested_filename)
    path = tmp_path / "report.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
