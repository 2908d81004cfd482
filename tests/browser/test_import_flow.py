"""An administrator moves past encounters in from a CSV file, on a tablet."""

import re

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
HEADER = "occurred_at,site,worker,contact_type,client_code,supplies,external_id\n"
BAD = HEADER + (
    "2024-03-01 14:30,Van 1,alex,street,MA0785,Cookers=2,OLD-1\n"
    "2024-03-01 15:00,Nowhere,alex,street,,,OLD-2\n"
    "2024-03-01 15:10,Van 1,alex,bus,J*NE,Needles=1,OLD-3\n"
)
GOOD = HEADER + (
    "2024-03-01 14:30,Van 1,alex,street,MA0785,Cookers=2,OLD-1\n"
    "2024-03-01 15:00,Van 1,alex,mobile,,,OLD-2\n"
)


def upload(page, text: str, dry_run: bool = False) -> None:
    """Choose a CSV file and send the form."""
    page.get_by_label("CSV file of encounters").set_input_files(
        {"name": "past.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    if dry_run:
        page.get_by_label("Dry run").check()
    page.get_by_role("button", name="Check and import").click()


def test_admin_fixes_a_bad_file_checks_it_and_imports_it(live_server, page):
    make_user_in(live_server.app, "admin", "ada", PASSWORD)
    make_user_in(live_server.app, "worker", "alex", PASSWORD)
    with live_server.app.app_context():
        factories.make_site("Van 1", kind="mobile")
        factories.make_item("Cookers", category="injection_equipment")
        db.session.commit()
    log_in(page, live_server.url, "ada", PASSWORD)

    page.get_by_role("link", name=re.compile("Import encounters")).click()
    expect(page.get_by_role("heading", name="Import past encounters")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page)

    upload(page, BAD)
    expect(page.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(5)  # a header and four problems
    expect(table).to_contain_text("No site is called “Nowhere”.")
    expect(table).to_contain_text("letters A to Z and digits only")
    expect(page.locator("main")).not_to_contain_text("J*NE")
    assert_accessible(page)
    assert_touch_targets(page)

    upload(page, GOOD, dry_run=True)
    expect(page.get_by_role("heading", name="Dry run: the file is good")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Encounters to create")
    assert_accessible(page)

    upload(page, GOOD)
    expect(page.get_by_role("heading", name="Import done")).to_be_visible()
    expect(page.get_by_text("Imported 2 encounter(s).")).to_be_visible()
    assert_accessible(page)
    assert_touch_targets(page)
