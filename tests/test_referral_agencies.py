"""The agency directory: administrators add, change, deactivate and remove agencies."""

import uuid

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.referrals.models import Agency
from tests import factories


def agency_form(**fields) -> dict:
    """Return a valid new-agency form, changed by ``fields``."""
    form = {
        "idempotency_key": str(uuid.uuid4()),
        "name": "Bridge Clinic",
        "types": ["moud", "hcv"],
        "phone": "(555) 010-0199 ext 2",
        "email": "intake@bridge.example.org",
        "website": "bridge.example.org",
        "address": "120 Main Street, Suite 4",
        "notes": "Walk-in Mon to Fri 9 to 3. Bring any ID if you have one; none is required.",
    }
    form.update(fields)
    return form


def agency_count() -> int:
    """Count agencies."""
    return db.session.scalar(select(func.count(Agency.id)))


def test_admin_adds_an_agency_with_its_own_contact_details(client, login_as):
    login_as("admin")
    form = agency_form()
    response = client.post("/admin/agencies/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.post("/admin/agencies/new", data=form).status_code == 302
    agency = db.session.scalar(select(Agency))
    assert agency_count() == 1
    assert agency.type_codes == ["moud", "hcv"]
    assert agency.phone == "(555) 010-0199 ext 2" and agency.address.startswith("120 Main")
    assert agency.website == "https://bridge.example.org"
    page = client.get("/admin/agencies").get_data(as_text=True)
    assert "Bridge Clinic" in page and "MOUD (buprenorphine, methadone)" in page


def test_notes_for_workers_go_through_the_free_text_guard(client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/agencies/new", data=agency_form(notes="Ask for Mr Jones, cell 555-201-3344")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="notes-error"' in page and "phone number" in page
    assert "Ask for Mr Jones" in page
    assert agency_count() == 0


def test_bad_agency_fields_each_get_a_message(client, login_as):
    login_as("admin")
    factories.make_agency("Bridge Clinic")
    db.session.commit()
    response = client.post(
        "/admin/agencies/new",
        data=agency_form(
            name=" bridge   clinic ",
            types=["moud", "tarot"],
            phone="call me",
            email="nobody",
            website="javascript:alert(1)",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("name", "types", "phone", "email", "website"):
        assert f'id="{field}-error"' in page, field
    no_types = client.post("/admin/agencies/new", data=agency_form(name="Other", types=[]))
    assert no_types.status_code == 422 and "at least one" in no_types.get_data(as_text=True)
    assert agency_count() == 1


def test_a_name_taken_in_another_case_is_refused_accents_included(client, login_as):
    login_as("admin")
    assert (
        client.post("/admin/agencies/new", data=agency_form(name="Ärzte Hilfe")).status_code == 302
    )
    for copy in ("Ärzte Hilfe", "ärzte hilfe", "ÄRZTE HILFE"):
        response = client.post("/admin/agencies/new", data=agency_form(name=copy))
        assert response.status_code == 422, copy
        assert "Another agency already has that name" in response.get_data(as_text=True)
        assert f'value="{copy}"' in response.get_data(as_text=True)
    assert agency_count() == 1


def test_admin_deactivates_and_workers_no_longer_see_it(client, login_as):
    agency = factories.make_agency("Bridge Clinic", types=("moud",))
    db.session.commit()
    login_as("admin")
    form = agency_form(active="y")
    form.pop("idempotency_key")
    response = client.post(
        f"/admin/agencies/{agency.id}", data={**form, "active": ""}, follow_redirects=True
    )
    assert "Bridge Clinic is saved." in response.get_data(as_text=True)
    db.session.refresh(agency)
    assert agency.active is False and agency.type_codes == ["moud", "hcv"]
    login_as("worker")
    assert "Bridge Clinic" not in client.get("/referrals/agencies").get_data(as_text=True)
    assert "Bridge Clinic" not in client.get("/encounters/new").get_data(as_text=True)


def test_an_agency_named_by_a_referral_cannot_be_removed(client, login_as):
    used = factories.make_agency("Used")
    unused = factories.make_agency("Unused")
    worker = factories.make_user("worker")
    encounter = factories.make_encounter(worker, factories.make_site(), None)
    factories.make_referral(encounter, agency_id=used.id)
    db.session.commit()
    login_as("admin")
    refused = client.post(
        f"/admin/agencies/{used.id}/delete", data={"confirm": used.id}, follow_redirects=True
    )
    assert "stays on record" in refused.get_data(as_text=True)
    unconfirmed = client.post(f"/admin/agencies/{unused.id}/delete", follow_redirects=True)
    assert "not removed" in unconfirmed.get_data(as_text=True)
    removed = client.post(f"/admin/agencies/{unused.id}/delete", data={"confirm": unused.id})
    assert removed.status_code == 302
    assert db.session.scalars(select(Agency.name)).all() == ["Used"]


def test_workers_directory_filters_by_type(client, login_as):
    factories.make_agency("Bridge Clinic", types=("moud",), notes="Walk-in mornings")
    factories.make_agency("Home Base", types=("housing",))
    db.session.commit()
    login_as("worker")
    page = client.get("/referrals/agencies?type=housing").get_data(as_text=True)
    assert "Home Base" in page and "Bridge Clinic" not in page
    every = client.get("/referrals/agencies?type=nonsense").get_data(as_text=True)
    assert "Home Base" in every and "Walk-in mornings" in every
