"""The stock screens: forms that refuse bad input at the field, counts, history, warnings."""

import re
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.inventory import hooks, queries, services
from outreach.inventory.models import StockLot, StockMovement
from outreach.templating import program_zone
from tests import factories


@pytest.fixture
def shelf(app):
    """Two sites and two items: a naloxone kit (kept by lot) and a box of syringes."""
    office = factories.make_site("Office")
    van = factories.make_site("Van 1", kind="mobile")
    kit = factories.make_item("Naloxone nasal kit", category="naloxone", doses_per_unit=2)
    box = factories.make_item("Syringes box of 10", units_per_pack=10)
    db.session.commit()
    return {"office": office, "van": van, "kit": kit, "box": box}


def movements() -> int:
    """Count ledger lines."""
    return db.session.scalar(select(func.count(StockMovement.id)))


def form(**fields) -> dict:
    """Return form data with a fresh idempotency key."""
    return {"idempotency_key": str(uuid.uuid4()), **{k: str(v) for k, v in fields.items()}}


def error_at(page: str, field: str) -> str:
    """Return the error message shown under a field, or ""."""
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


def in_days(days: int) -> str:
    """Return an ISO date so many days from today."""
    return (queries.local_today() + timedelta(days=days)).isoformat()


def put_on_shelf(shelf, item, quantity, lot=None, expires=None, site="office"):
    """Receive stock directly through the service."""
    supervisor = factories.make_user("supervisor")
    services.stock_receive(
        site_id=shelf[site].id,
        item_id=item.id,
        quantity=quantity,
        lot_number=lot,
        expires_on=None if expires is None else queries.local_today() + timedelta(days=expires),
        by=supervisor,
    )
    db.session.commit()


def test_supervisor_receives_stock_and_sees_it_on_hand(client, login_as, shelf):
    login_as("supervisor")
    data = form(
        site_id=shelf["van"].id,
        item_id=shelf["kit"].id,
        quantity=24,
        lot_number="ta0b67",
        expires_on=in_days(400),
    )
    response = client.post("/stock/receive", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/stock").get_data(as_text=True)
    assert "Van 1" in page and "TA0B67" in page and in_days(400) in page
    assert queries.item_on_hand(shelf["kit"].id, shelf["van"].id) == 24
    assert client.post("/stock/receive", data=data).status_code == 302
    assert movements() == 1, "a repeated submit records the receipt once"


def test_a_delivery_is_dated_the_day_it_arrived(client, login_as, shelf):
    login_as("supervisor")
    assert f'value="{in_days(0)}"' in client.get("/stock/receive").get_data(as_text=True)
    data = form(
        site_id=shelf["office"].id, item_id=shelf["box"].id, quantity=6, received_on=in_days(-3)
    )
    assert client.post("/stock/receive", data=data).status_code == 302
    line = db.session.scalar(select(StockMovement))
    assert line.occurred_at.astimezone(program_zone()).date().isoformat() == in_days(-3)
    assert line.recorded_at > line.occurred_at
    start = datetime.combine(queries.local_today() - timedelta(days=3), time(), program_zone())
    end = start + timedelta(days=1)
    figures = queries.month_stock_figures(start.astimezone(UTC), end.astimezone(UTC))
    assert [(row.item_id, row.received) for row in figures if row.received] == [
        (shelf["box"].id, 6)
    ]


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (1, "The date cannot be in the future."),
        (-32, "Receipts can be dated up to 31 days back."),
        (None, "year-month-day"),
    ],
)
def test_a_receipt_date_out_of_range_is_refused_at_the_field(
    client, login_as, shelf, days, message
):
    login_as("supervisor")
    received_on = "27/11" if days is None else in_days(days)
    data = form(
        site_id=shelf["office"].id, item_id=shelf["box"].id, quantity=6, received_on=received_on
    )
    response = client.post("/stock/receive", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in error_at(page, "received_on")
    assert f'value="{received_on}"' in page
    assert movements() == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quantity": "-5"}, "quantity", "from 1 to"),
        ({"quantity": "lots"}, "quantity", "Enter a whole number."),
        ({"quantity": "5", "item": "kit"}, "lot_number", "kept by lot"),
        ({"quantity": "5", "item": "kit", "lot_number": "NEW1"}, "expires_on", "expiry date"),
        (
            {"quantity": "5", "item": "kit", "lot_number": "A1", "expires_on": "31/05"},
            "expires_on",
            "year-month-day",
        ),
        ({"quantity": "5", "site_id": ""}, "site_id", "Choose one of the sites."),
    ],
)
def test_bad_receipts_come_back_with_the_message_at_the_field(
    client, login_as, shelf, fields, field, message
):
    login_as("supervisor")
    fields = dict(fields)
    item = shelf[fields.pop("item", "box")]
    data = form(**{"site_id": shelf["office"].id, "item_id": item.id, **fields})
    response = client.post("/stock/receive", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error_at(page, field), page
    assert f'value="{fields["quantity"]}"' in page, "what was typed is kept"
    assert movements() == 0 and db.session.scalar(select(func.count(StockLot.id))) == 0


def test_transfer_to_the_same_site_and_unknown_lot_are_refused(client, login_as, shelf):
    put_on_shelf(shelf, shelf["kit"], 10, "LOT111", expires=90)
    login_as("supervisor")
    same = form(
        from_site_id=shelf["office"].id,
        to_site_id=shelf["office"].id,
        item_id=shelf["kit"].id,
        lot_number="LOT111",
        quantity=2,
    )
    response = client.post("/stock/transfer", data=same)
    assert response.status_code == 422
    assert "different site" in error_at(response.get_data(as_text=True), "to_site_id")
    unknown = dict(same, to_site_id=str(shelf["van"].id), lot_number="LOT999")
    response = client.post("/stock/transfer", data=unknown)
    assert response.status_code == 422
    assert "No lot LOT999" in error_at(response.get_data(as_text=True), "lot_number")
    too_many = dict(same, to_site_id=str(shelf["van"].id), quantity="11")
    response = client.post("/stock/transfer", data=too_many)
    assert "Only 10 each on hand at Office, lot LOT111" in error_at(
        response.get_data(as_text=True), "quantity"
    )
    assert movements() == 1
    ok = dict(same, to_site_id=str(shelf["van"].id))
    assert client.post("/stock/transfer", data=ok).status_code == 302
    assert queries.item_on_hand(shelf["kit"].id, shelf["van"].id) == 2
    assert movements() == 3


def test_count_needs_a_number_and_notices_stock_that_moved(client, login_as, shelf):
    put_on_shelf(shelf, shelf["box"], 12)
    login_as("supervisor")
    args = f"site_id={shelf['office'].id}&item_id={shelf['box'].id}"
    page = client.get(f"/stock/count?{args}").get_data(as_text=True)
    assert "The ledger says <strong>12</strong>" in page
    seen = re.search(r'name="seen_version" type="hidden" value="(\d+)"', page).group(1)
    data = form(
        site_id=shelf["office"].id, item_id=shelf["box"].id, reason="count", seen_version=seen
    )
    response = client.post("/stock/count", data=dict(data, counted="ten"))
    assert response.status_code == 422
    assert "Enter a whole number." in error_at(response.get_data(as_text=True), "counted")

    put_on_shelf(shelf, shelf["box"], 3)
    response = client.post("/stock/count", data=dict(data, counted="10"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "the ledger now says 15" in error_at(page, "counted")
    assert movements() == 2
    seen = re.search(r'name="seen_version" type="hidden" value="(\d+)"', page).group(1)
    response = client.post("/stock/count", data=dict(data, counted="10", seen_version=seen))
    assert response.status_code == 302
    assert queries.item_on_hand(shelf["box"].id, shelf["office"].id) == 10


def test_the_no_lot_row_of_an_item_kept_by_lot_opens_a_count_that_clears_it(
    client, login_as, shelf
):
    put_on_shelf(shelf, shelf["kit"], 4, "LOT111", expires=90, site="van")
    worker = factories.make_user("worker")
    handed_out = factories.make_encounter(worker, shelf["van"], supplies={shelf["kit"]: 6})
    hooks.on_encounter_change(handed_out, "create")
    put_on_shelf(shelf, shelf["kit"], 5, "LOT222", expires=120, site="van")
    login_as("supervisor")
    assert "Negative stock" in client.get("/").get_data(as_text=True)
    stock_page = client.get("/stock").get_data(as_text=True)
    links = re.findall(r'href="(/stock/count\?[^"]*lot_number=)"', stock_page)
    assert len(links) == 1, "the No lot row's Count link"
    page = client.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert "The ledger says <strong>-2</strong>" in page
    seen = re.search(r'name="seen_version" type="hidden" value="(\d+)"', page).group(1)
    data = form(
        site_id=shelf["van"].id,
        item_id=shelf["kit"].id,
        lot_number="",
        counted=0,
        reason="entry_error",
        seen_version=seen,
    )
    response = client.post("/stock/count", data=data)
    assert response.status_code == 302, error_at(response.get_data(as_text=True), "lot_number")
    assert queries.bucket_on_hand(shelf["van"].id, shelf["kit"].id, None) == 0
    assert queries.item_on_hand(shelf["kit"].id, shelf["van"].id) == 5
    assert queries.stock_warnings().negative == []


def test_write_off_expired_lot(client, login_as, shelf):
    put_on_shelf(shelf, shelf["kit"], 6, "OLD123", expires=5)
    login_as("supervisor")
    data = form(
        site_id=shelf["office"].id,
        item_id=shelf["kit"].id,
        lot_number="OLD123",
        kind="disposed",
        quantity=6,
    )
    response = client.post("/stock/write-off", data=data)
    assert "Choose why." in error_at(response.get_data(as_text=True), "reason")
    assert client.post("/stock/write-off", data=dict(data, kind="expired")).status_code == 302
    assert queries.item_on_hand(shelf["kit"].id) == 0
    kinds = db.session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["received", "expired"]


def menu(page: str, name: str) -> list[str]:
    """Return the labels a page's menu offers."""
    found = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
    return re.findall(r"<option[^>]*>([^<]*)</option>", found.group(0))


def test_stock_of_a_retired_item_can_still_be_disposed_of_and_followed(client, login_as, shelf):
    put_on_shelf(shelf, shelf["box"], 40)
    retired_unused = factories.make_item("Old pipes", active=False)
    shelf["box"].active = False
    db.session.commit()
    login_as("supervisor")
    link = f"site_id={shelf['office'].id}&item_id={shelf['box'].id}&lot_number="
    for path in ("/stock/count", "/stock/write-off", "/stock/transfer"):
        page = client.get(f"{path}?{link}").get_data(as_text=True)
        assert "Syringes box of 10 (retired)" in menu(page, "item_id"), path
        assert retired_unused.name not in page, "retired and never in the ledger: not offered"
    assert "Syringes box of 10" not in menu(
        client.get("/stock/receive").get_data(as_text=True), "item_id"
    )
    history = client.get(f"/stock/movements?item_id={shelf['box'].id}").get_data(as_text=True)
    assert "Syringes box of 10 (retired)" in menu(history, "item_id") and "1 movement." in history

    data = form(
        site_id=shelf["office"].id,
        item_id=shelf["box"].id,
        lot_number="",
        kind="disposed",
        reason="other",
        quantity=40,
    )
    assert client.post("/stock/write-off", data=data).status_code == 302
    assert queries.item_on_hand(shelf["box"].id) == 0
    receipt = form(site_id=shelf["office"].id, item_id=shelf["box"].id, quantity=5)
    response = client.post("/stock/receive", data=receipt)
    assert response.status_code == 422
    assert "retired from the catalog" in error_at(response.get_data(as_text=True), "item_id")
    assert movements() == 2


def test_stock_at_a_deactivated_site_can_be_counted_written_off_and_moved_away(
    client, login_as, shelf
):
    put_on_shelf(shelf, shelf["kit"], 10, "V1", expires=20, site="van")
    put_on_shelf(shelf, shelf["box"], 6, site="van")
    shelf["van"].active = False
    db.session.commit()
    login_as("supervisor")
    van, office = shelf["van"].id, shelf["office"].id
    page = client.get(f"/stock/transfer?from_site_id={van}").get_data(as_text=True)
    assert "Van 1 (inactive)" in menu(page, "from_site_id")
    assert menu(page, "to_site_id") == ["Choose…", "Office"]
    for path in ("/stock/count", "/stock/write-off", "/stock/movements", "/stock"):
        page = client.get(f"{path}?site_id={van}").get_data(as_text=True)
        assert "Van 1 (inactive)" in menu(page, "site_id"), path
    assert "Van 1" not in menu(client.get("/stock/receive").get_data(as_text=True), "site_id")

    kit = {"item_id": shelf["kit"].id, "lot_number": "V1"}
    moved = form(from_site_id=van, to_site_id=office, quantity=7, **kit)
    assert client.post("/stock/transfer", data=moved).status_code == 302
    expired = form(site_id=van, kind="expired", quantity=3, **kit)
    assert client.post("/stock/write-off", data=expired).status_code == 302
    counted = form(site_id=van, item_id=shelf["box"].id, counted=0, reason="lost")
    assert client.post("/stock/count", data=counted).status_code == 302
    assert queries.stock_on_hand(van)[0].on_hand == 0 and not queries.site_holds_stock(van)
    assert "5 movements." in client.get(f"/stock/movements?site_id={van}").get_data(as_text=True)

    back = form(from_site_id=office, to_site_id=van, quantity=1, **kit)
    response = client.post("/stock/transfer", data=back)
    assert response.status_code == 422
    assert "Van 1 is inactive" in error_at(response.get_data(as_text=True), "to_site_id")
    receipt = form(site_id=van, item_id=shelf["box"].id, quantity=5)
    response = client.post("/stock/receive", data=receipt)
    assert "Van 1 is inactive" in error_at(response.get_data(as_text=True), "site_id")
    assert movements() == 6


def test_history_filters_and_pages(client, login_as, shelf):
    for _ in range(55):
        put_on_shelf(shelf, shelf["box"], 1)
    put_on_shelf(shelf, shelf["kit"], 2, "LOT777", expires=90, site="van")
    login_as("supervisor")
    page = client.get("/stock/movements").get_data(as_text=True)
    assert "56 movements." in page and "Page 1 of 2" in page
    second = client.get("/stock/movements?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 1 + 6
    only_van = client.get(f"/stock/movements?site_id={shelf['van'].id}").get_data(as_text=True)
    assert "1 movement." in only_van and "LOT777" in only_van
    by_lot = client.get("/stock/movements?lot_number=lot777&kind=received").get_data(as_text=True)
    assert "1 movement." in by_lot
    assert client.get("/stock/movements?kind=stolen").status_code == 400
    for far in ("date_to=9999-12-31", "date_from=0001-01-01"):
        response = client.get(f"/stock/movements?{far}")
        assert response.status_code == 400, far
        assert "between 1900 and 2999" in response.get_data(as_text=True)


def test_item_settings_and_home_warnings(client, login_as, shelf):
    put_on_shelf(shelf, shelf["box"], 8)
    put_on_shelf(shelf, shelf["kit"], 3, "EXP001", expires=20)
    login_as("supervisor")
    bad = client.post(
        f"/stock/items/{shelf['box'].id}", data={"low_stock_threshold": "-1", "lot_tracked": ""}
    )
    assert bad.status_code == 422
    response = client.post(f"/stock/items/{shelf['box'].id}", data={"low_stock_threshold": "10"})
    assert response.status_code == 302
    db.session.refresh(shelf["box"])
    assert shelf["box"].low_stock_threshold == 10 and shelf["box"].lot_tracked is False
    home = client.get("/").get_data(as_text=True)
    assert "Stock needs attention" in home
    assert "Syringes box of 10</strong>: 8 each on hand, warning below 10" in home
    assert "lot EXP001 at Office" in home


def test_workers_see_no_stock(client, login_as, shelf):
    put_on_shelf(shelf, shelf["kit"], 3, "EXP001", expires=20)
    login_as("worker")
    home = client.get("/").get_data(as_text=True)
    assert "Stock needs attention" not in home and "EXP001" not in home
    assert 'href="/stock"' not in home
    assert client.get("/stock").status_code == 403


def test_command_line_lists_stock_and_warnings(app, shelf):
    runner = app.test_cli_runner()
    assert "No stock recorded yet." in runner.invoke(args=["stock", "on-hand"]).output
    assert runner.invoke(args=["stock", "warnings"]).exit_code == 0
    put_on_shelf(shelf, shelf["kit"], 3, "EXP001", expires=20, site="van")
    listing = runner.invoke(args=["stock", "on-hand", "--site", "Van 1"])
    assert "Naloxone nasal kit" in listing.output and "lot EXP001" in listing.output
    assert runner.invoke(args=["stock", "on-hand", "--site", "Nowhere"]).exit_code == 1
    warned = runner.invoke(args=["stock", "warnings"])
    assert warned.exit_code == 1 and "expiry: Naloxone nasal kit lot EXP001" in warned.output
    for days in ("99999999", "-1"):
        refused = runner.invoke(args=["stock", "warnings", "--days", days])
        assert refused.exit_code == 2, refused.exception
        assert "'--days': " in refused.output and "0<=x<=3650" in refused.output
    assert runner.invoke(args=["stock", "warnings", "--days", "3650"]).exit_code == 1


def test_logging_and_editing_an_encounter_on_screen_moves_stock(client, login_as, shelf):
    put_on_shelf(shelf, shelf["box"], 20, site="van")
    worker = login_as("worker")
    when = utcnow().astimezone(program_zone()).strftime("%Y-%m-%dT%H:%M")
    encounter_form = form(
        participant_mode="anonymous",
        people_count=1,
        occurred_at=when,
        site_id=shelf["van"].id,
        contact_type="street",
        collection_method="counted",
        syringes_collected=0,
        secondary_people=0,
        reversals=0,
        reversal_doses=0,
        **{f"supply-{shelf['box'].id}": 3},
    )
    assert client.post("/encounters/new", data=encounter_form).status_code == 302
    line = db.session.scalar(select(StockMovement).where(StockMovement.kind == "distributed"))
    assert (line.quantity, line.site_id, line.recorded_by_id) == (-3, shelf["van"].id, worker.id)
    edit = dict(encounter_form, version="1", **{f"supply-{shelf['box'].id}": "5"})
    response = client.post(f"/encounters/{line.encounter_id}/edit", data=edit)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert queries.item_on_hand(shelf["box"].id, shelf["van"].id) == 15
