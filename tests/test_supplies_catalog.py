"""An administrator keeps the supply catalog: pages, rules, audit, access and the CLI."""

import html
import json
import re
import uuid

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.dbtypes import utcnow
from outreach.encounters.models import ContactType, Encounter, EncounterSupply
from outreach.extensions import db
from outreach.idempotency import earlier_submission
from outreach.supplies import services, views
from outreach.supplies.cli import DEFAULT_ITEMS
from outreach.supplies.models import SupplyCategory, SupplyItem
from outreach.supplies.queries import active_items_by_category
from tests import factories

GOOD = {
    "name": "Syringes 1 mL (box of 10)",
    "category": "syringes",
    "unit": "box",
    "units_per_pack": "10",
    "doses_per_unit": "",
    "max_per_encounter": "100",
    "display_order": "10",
}


def form(**changes) -> dict:
    """Return a valid create form with some fields changed and a fresh idempotency key."""
    return {**GOOD, "idempotency_key": str(uuid.uuid4()), **changes}


def make_item(name: str = "Condoms", category: str = "safer_sex", **fields) -> SupplyItem:
    """Add a catalog item through the service."""
    item = services.supply_item_create(name=name, category=category, **fields)
    db.session.commit()
    return item


def item_count() -> int:
    """Count catalog items."""
    return db.session.scalar(select(func.count(SupplyItem.id)))


def audit_count() -> int:
    """Count audit events."""
    return db.session.scalar(select(func.count(AuditEvent.id)))


def events(action: str) -> list[AuditEvent]:
    """Return the audit events of one action, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def field_error(response, field: str) -> str | None:
    """Return the message shown at a field, if any."""
    found = re.search(rf'id="{field}-error">(.*?)</p>', response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else None


def edit_form(item: SupplyItem, **changes) -> dict:
    """Return the edit form of an item as it stands, with some fields changed."""
    data = {
        "name": item.name,
        "category": item.category,
        "unit": item.unit,
        "units_per_pack": str(item.units_per_pack),
        "doses_per_unit": str(item.doses_per_unit),
        "max_per_encounter": str(item.max_per_encounter),
        "display_order": str(item.display_order),
        "active": "y" if item.active else "",
        "idempotency_key": str(uuid.uuid4()),
    }
    return {**data, **changes}


# Pages


def test_admin_adds_an_item(client, login_as):
    admin = login_as("admin")
    page = client.get("/admin/supplies/new")
    assert page.status_code == 200
    for label in ("Name", "Category", "Unit", "Units per pack", "Most per encounter"):
        assert f">{label}</label>" in page.get_data(as_text=True)
    response = client.post("/admin/supplies/new", data=form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/supplies/")
    item = db.session.scalar(select(SupplyItem))
    assert (item.name, item.category, item.unit) == (GOOD["name"], "syringes", "box")
    assert (item.units_per_pack, item.doses_per_unit, item.max_per_encounter) == (10, 0, 100)
    assert item.active
    [event] = events("supply_item.create")
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        admin.id,
        "supply_item",
        str(item.id),
    )
    assert json.loads(event.data) == {
        "category": "syringes",
        "units_per_pack": 10,
        "doses_per_unit": 0,
        "max_per_encounter": 100,
        "display_order": 10,
        "active": True,
    }
    listing = client.get("/admin/supplies/").get_data(as_text=True)
    assert "is added to the catalog" in listing
    assert html.escape(GOOD["name"]) in listing


def test_naloxone_kits_default_to_two_doses(client, login_as):
    login_as("admin")
    nasal = form(name="Naloxone nasal kit", category="naloxone", unit="kit", units_per_pack="1")
    assert client.post("/admin/supplies/new", data=nasal).status_code == 302
    vial = form(name="Naloxone vial", category="naloxone", doses_per_unit="1", units_per_pack="1")
    assert client.post("/admin/supplies/new", data=vial).status_code == 302
    doses = dict(db.session.execute(select(SupplyItem.name, SupplyItem.doses_per_unit)).all())
    assert doses == {"Naloxone nasal kit": 2, "Naloxone vial": 1}


BAD_INPUTS = [
    ({"name": ""}, "name", "Give the item a name."),
    ({"name": "   "}, "name", "Give the item a name."),
    ({"name": "x" * 81}, "name", "Use at most 80 characters for the name."),
    ({"name": "condoms"}, "name", "Another item already has that name."),
    ({"category": "snacks"}, "category", "Not a valid choice."),
    ({"unit": "u" * 31}, "unit", "Field cannot be longer than 30 characters."),
    ({"units_per_pack": "0"}, "units_per_pack", "Use a whole number from 1 to 10000."),
    ({"units_per_pack": "ten"}, "units_per_pack", "Enter a whole number."),
    ({"units_per_pack": "1.5"}, "units_per_pack", "Enter a whole number."),
    ({"units_per_pack": ""}, "units_per_pack", "Enter a whole number."),
    ({"doses_per_unit": "-1"}, "doses_per_unit", "Use a whole number from 0 to 50."),
    ({"doses_per_unit": "2"}, "doses_per_unit", "Only naloxone items count doses; use 0."),
    (
        {"category": "naloxone", "doses_per_unit": "0"},
        "doses_per_unit",
        "A naloxone item holds at least 1 dose (nasal kits usually 2).",
    ),
    ({"max_per_encounter": "0"}, "max_per_encounter", "Use a whole number from 1 to 10000."),
    ({"max_per_encounter": "10001"}, "max_per_encounter", "Use a whole number from 1 to 10000."),
    ({"max_per_encounter": "99999999999"}, "max_per_encounter", "Use a whole number from 1"),
    ({"display_order": "-5"}, "display_order", "Use a whole number from 0 to 9999."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUTS)
def test_bad_input_is_refused_at_its_field(client, login_as, changes, field, message):
    login_as("admin")
    make_item("Condoms")
    before = (item_count(), audit_count())
    response = client.post("/admin/supplies/new", data=form(**changes))
    assert response.status_code == 422
    assert message in (field_error(response, field) or "")
    assert (item_count(), audit_count()) == before, "nothing is written"


def test_input_is_kept_after_an_error(client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/supplies/new", data=form(name="Foil sheets", unit="sheet", max_per_encounter="0")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Foil sheets"' in page
    assert 'value="sheet"' in page
    assert 'value="0"' in page
    assert field_error(response, "name") is None


def test_double_submit_makes_one_item(client, login_as):
    login_as("admin")
    data = form()
    first = client.post("/admin/supplies/new", data=data)
    second = client.post("/admin/supplies/new", data=data)
    assert first.status_code == second.status_code == 302
    assert item_count() == 1
    assert len(events("supply_item.create")) == 1
    assert "already added" in client.get("/admin/supplies/").get_data(as_text=True)


def test_racing_double_submit_ends_on_the_first_item(client, login_as, monkeypatch):
    login_as("admin")
    data = form()
    assert client.post("/admin/supplies/new", data=data).status_code == 302
    # The second submit raced the first: it checked before the first one committed.
    checks = []

    def racing(key, entity_type):
        checks.append(key)
        return None if len(checks) == 1 else earlier_submission(key, entity_type)

    monkeypatch.setattr(views, "earlier_submission", racing)
    monkeypatch.setattr(services, "checked_name", lambda name, item_id=None: name)
    again = client.post("/admin/supplies/new", data=data)
    assert again.status_code == 302
    assert "already added" in client.get("/admin/supplies/").get_data(as_text=True)
    assert item_count() == 1
    assert len(events("supply_item.create")) == 1


def test_racing_same_name_is_refused_at_the_name(client, login_as, monkeypatch):
    login_as("admin")
    assert client.post("/admin/supplies/new", data=form()).status_code == 302
    monkeypatch.setattr(services, "checked_name", lambda name, item_id=None: name)
    response = client.post("/admin/supplies/new", data=form())
    assert response.status_code == 422
    assert field_error(response, "name") == "Another item already has that name."
    assert item_count() == 1


def test_admin_edits_and_deactivates_an_item(client, login_as):
    login_as("admin")
    item = make_item("Condoms", max_per_encounter=50)
    page = client.get(f"/admin/supplies/{item.id}")
    assert page.status_code == 200
    assert 'value="Condoms"' in page.get_data(as_text=True)
    changes = edit_form(item, name="Internal condoms", max_per_encounter="30", active="")
    response = client.post(f"/admin/supplies/{item.id}", data=changes)
    assert response.status_code == 302
    db.session.refresh(item)
    assert (item.name, item.max_per_encounter, item.active) == ("Internal condoms", 30, False)
    [event] = events("supply_item.update")
    data = json.loads(event.data)
    assert data["changed"] == ["active", "max_per_encounter", "name"]
    assert data["max_per_encounter"] == 30
    assert data["active"] is False
    assert "condoms" not in event.data.lower(), "the audit log holds no free text"
    assert "Inactive" in client.get("/admin/supplies/").get_data(as_text=True)


def test_renaming_to_a_different_case_of_its_own_name_is_allowed(client, login_as):
    login_as("admin")
    item = make_item("condoms")
    response = client.post(f"/admin/supplies/{item.id}", data=edit_form(item, name="Condoms"))
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.name == "Condoms"


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUTS)
def test_bad_edit_is_refused_at_its_field(client, login_as, changes, field, message):
    login_as("admin")
    make_item("Condoms")
    item = make_item("Lubricant", unit="sachet", max_per_encounter=40)
    before = audit_count()
    response = client.post(f"/admin/supplies/{item.id}", data=edit_form(item, **changes))
    assert response.status_code == 422
    assert message in (field_error(response, field) or "")
    db.session.refresh(item)
    assert (item.name, item.unit, item.max_per_encounter) == ("Lubricant", "sachet", 40)
    assert audit_count() == before


def test_counting_of_a_handed_out_item_cannot_change(client, login_as):
    admin = login_as("admin")
    item = make_item("Syringe box", "syringes", unit="box", units_per_pack=10)
    encounter = Encounter(
        occurred_at=utcnow(),
        site=factories.make_site(),
        contact_type=ContactType.STREET,
        worker_id=admin.id,
    )
    encounter.supplies.append(EncounterSupply(item_id=item.id, quantity=2))
    db.session.add(encounter)
    db.session.commit()
    response = client.post(f"/admin/supplies/{item.id}", data=edit_form(item, units_per_pack="100"))
    assert response.status_code == 422
    assert "would rewrite past reports" in field_error(response, "units_per_pack")
    allowed = edit_form(item, max_per_encounter="20", active="")
    assert client.post(f"/admin/supplies/{item.id}", data=allowed).status_code == 302
    db.session.refresh(item)
    assert (item.units_per_pack, item.max_per_encounter, item.active) == (10, 20, False)


def test_unknown_item_is_not_found(client, login_as):
    login_as("admin")
    assert client.get("/admin/supplies/999").status_code == 404


# Reads


def test_active_items_come_by_category_then_order_then_name(app):
    make_item("Hygiene kit", "hygiene")
    make_item("b single syringe", "syringes", display_order=20)
    make_item("A single syringe", "syringes", display_order=20)
    make_item("Box of 10", "syringes", display_order=10, units_per_pack=10)
    make_item("Nasal kit", "naloxone")
    make_item("Old cooker", "injection_equipment").active = False
    db.session.commit()
    groups = [(label, [item.name for item in items]) for label, items in active_items_by_category()]
    assert groups == [
        ("Syringes", ["Box of 10", "A single syringe", "b single syringe"]),
        ("Naloxone", ["Nasal kit"]),
        ("Hygiene", ["Hygiene kit"]),
    ]


# Access


ENDPOINTS = [
    ("get", "/admin/supplies/"),
    ("get", "/admin/supplies/new"),
    ("post", "/admin/supplies/new"),
    ("get", "/admin/supplies/{id}"),
    ("post", "/admin/supplies/{id}"),
]


@pytest.mark.parametrize("role", ["worker", "supervisor"])
def test_field_staff_cannot_touch_the_catalog(client, login_as, role):
    login_as(role)
    item = make_item("Condoms")
    before = audit_count()
    for method, path in ENDPOINTS:
        url = path.format(id=item.id)
        data = edit_form(item, name="Hacked") if method == "post" else None
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, f"{method} {url}"
    db.session.refresh(item)
    assert item.name == "Condoms"
    assert (item_count(), audit_count()) == (1, before)


def test_anonymous_is_sent_to_login(client):
    item = make_item("Condoms")
    for method, path in ENDPOINTS:
        response = getattr(client, method)(path.format(id=item.id), data=form())
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]
    assert item_count() == 1


def test_only_administrators_see_the_supplies_link(client, login_as):
    login_as("worker")
    assert "/admin/supplies/" not in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    login_as("admin")
    assert "/admin/supplies/" in client.get("/").get_data(as_text=True)


# Command line


def run(app, *args: str):
    """Run ``flask supplies ...`` and return the result."""
    return app.test_cli_runner().invoke(args=["supplies", *args])


def test_cli_adds_and_lists_items(app):
    result = run(
        app, "add", "Syringes 1 mL (box of 10)", "--category", "syringes", "--unit", "box",
        "--units-per-pack", "10", "--max-per-encounter", "50",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Added Syringes 1 mL (box of 10)" in result.output
    result = run(app, "add", "Nasal naloxone", "--category", "naloxone", "--unit", "kit")
    assert result.exit_code == 0, result.output
    item = db.session.scalar(select(SupplyItem).where(SupplyItem.name == "Nasal naloxone"))
    assert item.doses_per_unit == 2
    [event, _] = events("supply_item.create")
    assert event.actor_id is None
    assert event.client_address == "cli"
    listing = run(app, "list")
    assert listing.exit_code == 0
    assert listing.output.index("Syringes:") < listing.output.index("Naloxone:")
    assert "box of 10" in listing.output
    assert "2 doses" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Foil"], "Missing option '--category'"),
        (["Foil", "--category", "snacks"], "Invalid value for '--category'"),
        (["Foil", "--category", "smoking", "--units-per-pack", "ten"], "is not a valid integer"),
    ],
)
def test_cli_usage_errors(app, args, message):
    result = run(app, "add", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert item_count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Condoms", "--category", "safer_sex"], "NAME: Another item already has that name."),
        (["", "--category", "other"], "NAME: Give the item a name."),
        (["Foil", "--category", "smoking", "--units-per-pack", "0"], "--units-per-pack: Use a"),
        (["Foil", "--category", "smoking", "--doses-per-unit", "2"], "--doses-per-unit: Only"),
        (["Kit", "--category", "naloxone", "--doses-per-unit", "0"], "--doses-per-unit: A nal"),
        (["Foil", "--category", "smoking", "--max-per-encounter", "10001"], "--max-per-encounter"),
    ],
)
def test_cli_refuses_bad_items(app, args, message):
    make_item("Condoms")
    result = run(app, "add", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert item_count() == 1


def test_seed_defaults_only_fills_an_empty_catalog(app):
    result = run(app, "seed-defaults")
    assert result.exit_code == 0, result.output
    assert item_count() == len(DEFAULT_ITEMS)
    names = set(db.session.scalars(select(SupplyItem.name)))
    assert {"Naloxone nasal kit (2 doses)", "Fentanyl test strips", "Hygiene kit"} <= names
    kit = db.session.scalar(select(SupplyItem).where(SupplyItem.category == "naloxone"))
    assert kit.doses_per_unit == 2
    assert {item.category for item in db.session.scalars(select(SupplyItem))} == set(
        SupplyCategory
    ) - {SupplyCategory.OTHER}
    again = run(app, "seed-defaults")
    assert again.exit_code == 0
    assert "nothing added" in again.output
    assert item_count() == len(DEFAULT_ITEMS)
    assert len(events("supply_item.create")) == len(DEFAULT_ITEMS)


def test_seed_defaults_leaves_a_started_catalog_alone(app):
    make_item("Condoms")
    result = run(app, "seed-defaults")
    assert result.exit_code == 0
    assert "nothing added" in result.output
    assert item_count() == 1
