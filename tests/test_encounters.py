"""Logging encounters: participants by code, supplies, validation, idempotency, edits."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.clients.models import Participant
from outreach.clients.services import recipe_set
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.encounters.queries import participant_history
from outreach.extensions import db
from outreach.templating import program_zone
from tests import factories


def count(model) -> int:
    """Count rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))


def local_now(delta: timedelta = timedelta()) -> str:
    """Return a datetime-local value in the program's zone."""
    return (utcnow() + delta).astimezone(program_zone()).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def setting(app):
    """A site, two supply items and a worker assigned to the site."""
    site = factories.make_site("Van 1", kind="mobile")
    box = factories.make_item("1 mL syringes, box of 10", units_per_pack=10, max_per_encounter=20)
    kit = factories.make_item("Naloxone nasal kit", category="naloxone", doses_per_unit=2)
    db.session.commit()
    return {"site": site, "box": box, "kit": kit}


def encounter_form(setting, **fields) -> dict:
    """Return a valid anonymous-encounter form, changed by ``fields``."""
    form = {
        "idempotency_key": str(uuid.uuid4()),
        "participant_mode": "anonymous",
        "people_count": "1",
        "occurred_at": local_now(),
        "site_id": str(setting["site"].id),
        "contact_type": "street",
        "collection_method": "counted",
        "syringes_collected": "0",
        "secondary_people": "0",
        "reversals": "0",
        "reversal_doses": "0",
    }
    form.update(fields)
    return form


def test_worker_logs_a_new_participant_with_supplies(client, login_as, setting):
    login_as("worker")
    form = encounter_form(
        setting,
        participant_mode="new",
        answer_mother_first_name_2="María",
        answer_birth_month="7",
        answer_birth_year_2="1985",
        gender="woman",
        birth_year="1985",
        races=["hispanic_latino"],
        **{f"supply-{setting['box'].id}": "3", f"supply-{setting['kit'].id}": "1"},
        syringes_collected="25",
        services=["hiv_test"],
    )
    response = client.post("/encounters/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    participant = db.session.scalar(select(Participant))
    assert response.headers["Location"].endswith(f"/participants/{participant.id}")
    encounter = db.session.scalar(select(Encounter))
    assert encounter.participant_id == participant.id
    assert {line.item_id: line.quantity for line in encounter.supplies} == {
        setting["box"].id: 3,
        setting["kit"].id: 1,
    }
    assert encounter.syringes_collected == 25
    assert encounter.service_codes == ["hiv_test"]
    assert participant.gender == "woman" and participant.race_codes == ["hispanic_latino"]
    page = client.get(f"/participants/{participant.id}").get_data(as_text=True)
    assert participant.card_code in page
    assert "3 × 1 mL syringes" in page
    assert "MA0785" not in page and "María" not in page


def test_the_code_is_never_stored(app, client, login_as, setting):
    login_as("worker")
    form = encounter_form(
        setting,
        participant_mode="new",
        answer_mother_first_name_2="Maria",
        answer_birth_month="07",
        answer_birth_year_2="85",
    )
    client.post("/encounters/new", data=form)
    participant = db.session.scalar(select(Participant))
    assert "MA0785" not in participant.code_hash
    events = " ".join(db.session.scalars(select(AuditEvent.data)))
    assert "MA0785" not in events and participant.card_code not in events


def answer_input(page: str, key: str) -> str:
    """Return the <input> tag of one code answer on a page."""
    found = re.search(rf'<input[^>]*name="answer_{key}"[^>]*>', page)
    assert found, f"no answer_{key} input"
    return found.group(0)


def test_number_answers_bring_up_the_number_keyboard(client, login_as, setting):
    recipe_set(name="extended")
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"])
    db.session.commit()
    for path in ("/encounters/new", f"/encounters/{encounter.id}/edit", "/participants/find"):
        page = client.get(path).get_data(as_text=True)
        for key, digits in (("birth_day", 2), ("birth_month", 2), ("birth_year_2", 4)):
            tag = answer_input(page, key)
            assert 'inputmode="numeric"' in tag, (path, tag)
            assert f'maxlength="{digits}"' in tag, (path, tag)
            assert 'pattern="[0-9]*"' in tag, (path, tag)
        for key in ("mother_first_name_2", "own_first_name_2"):
            assert "inputmode" not in answer_input(page, key), path


def test_same_answers_find_the_same_participant(client, login_as, setting):
    login_as("worker")
    answers = {
        "answer_mother_first_name_2": "Maria",
        "answer_birth_month": "7",
        "answer_birth_year_2": "1985",
    }
    client.post("/encounters/new", data=encounter_form(setting, participant_mode="new", **answers))
    again = {
        "answer_mother_first_name_2": " maría ",
        "answer_birth_month": "07",
        "answer_birth_year_2": "85",
    }
    response = client.post(
        "/encounters/new", data=encounter_form(setting, participant_mode="answers", **again)
    )
    assert response.status_code == 302
    assert count(Participant) == 1
    assert count(Encounter) == 2


def test_a_second_person_with_the_same_code_gets_a_suffix(client, login_as, setting):
    login_as("worker")
    answers = {
        "answer_mother_first_name_2": "Maria",
        "answer_birth_month": "7",
        "answer_birth_year_2": "1985",
    }
    client.post("/encounters/new", data=encounter_form(setting, participant_mode="new", **answers))
    refused = client.post(
        "/encounters/new", data=encounter_form(setting, participant_mode="new", **answers)
    )
    assert refused.status_code == 422
    assert "Someone already has this code" in refused.get_data(as_text=True)
    assert count(Participant) == 1
    accepted = client.post(
        "/encounters/new",
        data=encounter_form(setting, participant_mode="new", different_person="y", **answers),
    )
    assert accepted.status_code == 302
    suffixes = sorted(db.session.scalars(select(Participant.suffix)))
    assert suffixes == [0, 2]
    ambiguous = client.post(
        "/encounters/new", data=encounter_form(setting, participant_mode="answers", **answers)
    )
    assert "2 people share this code" in ambiguous.get_data(as_text=True)


def test_find_by_card_code_with_typos_caught(client, login_as, setting):
    login_as("worker")
    participant = factories.make_participant("AB0190")
    db.session.commit()
    card = participant.card_code
    found = client.post(
        "/participants/find",
        data={"participant_mode": "card", "card_code": card.lower().replace("-", " ")},
    )
    assert found.headers["Location"].endswith(f"/participants/{participant.id}")
    wrong_last = card[:-1] + ("0" if card[-1] != "0" else "1")
    typo = client.post(
        "/participants/find", data={"participant_mode": "card", "card_code": wrong_last}
    )
    assert typo.status_code == 422
    assert "typo" in typo.get_data(as_text=True)


def test_card_code_encounter_and_lookup(client, login_as, setting):
    worker = login_as("worker")
    participant = factories.make_participant("AB0190")
    factories.make_encounter(worker, setting["site"], participant, supplies={setting["box"]: 2})
    db.session.commit()
    lookup = client.post("/participants/lookup", data={"card_code": participant.card_code})
    assert lookup.json["last_supplies"] == {str(setting["box"].id): 2}
    response = client.post(
        "/encounters/new",
        data=encounter_form(setting, participant_mode="card", card_code=participant.card_code),
    )
    assert response.status_code == 302
    assert count(Encounter) == 2


@pytest.mark.parametrize(
    ("fields", "field_message"),
    [
        ({"occurred_at": "not a date"}, "Not a valid datetime value"),
        ({"occurred_at": timedelta(hours=2)}, "cannot be in the future"),
        ({"occurred_at": -timedelta(days=30)}, "up to 7 days back"),
        ({"contact_type": "teleport"}, "Not a valid choice"),
        ({"site_id": "999999"}, "Not a valid choice"),
        ({"syringes_collected": "-4"}, "whole number from 0"),
        ({"syringes_collected": "abc"}, "Not a valid integer value"),
        ({"secondary_people": "1000"}, "whole number from 0 to 100"),
        ({"reversals": "0", "reversal_doses": "2"}, "Doses used are recorded with a reversal"),
        ({"collection_method": "estimated"}, "volume in litres"),
        *(
            ({"collection_method": "estimated", "sharps_litres": litres}, message)
            for litres, message in [
                ("99999999999999999999999999999", "litres from 0 to 200"),
                ("1e400", "litres from 0 to 200"),
                ("NaN", "number of litres, like 1.5"),
                ("-Infinity", "number of litres, like 1.5"),
                ("1,5", "number of litres, like 1.5"),
                ("199.999", "at most 2 decimals"),
            ]
        ),
        ({"collection_method": "sideways"}, "Not a valid choice"),
        ({"people_count": "0"}, "head count from 1 to 500"),
        ({"participant_mode": "card", "card_code": "ZZZZ"}, "8 characters"),
        ({"participant_mode": "answers", "answer_birth_month": "13"}, "from 1 to 12"),
        ({"services": ["astrology"]}, "not a valid choice"),
    ],
)
def test_bad_input_keeps_everything_and_writes_nothing(
    client, login_as, setting, fields, field_message
):
    login_as("worker")
    fields = {k: local_now(v) if isinstance(v, timedelta) else v for k, v in fields.items()}
    form = encounter_form(setting, **{f"supply-{setting['box'].id}": "4"}, **fields)
    response = client.post("/encounters/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_message.lower() in page.lower()
    assert f'name="supply-{setting["box"].id}" value="4"' in page, "typed supplies are kept"
    assert count(Encounter) == 0 and count(AuditEvent) == 1  # the login only


@pytest.mark.parametrize(
    ("zone", "moment"),
    [("America/Chicago", "9999-12-31T23:59"), ("Europe/Berlin", "0001-01-01T00:00")],
)
def test_times_at_the_ends_of_the_calendar_are_refused(
    app, client, login_as, setting, zone, moment
):
    app.config["OUTREACH_TIMEZONE"] = zone
    login_as("supervisor")
    response = client.post("/encounters/new", data=encounter_form(setting, occurred_at=moment))
    assert response.status_code == 422
    assert "Enter a year from 1900 to 2999." in response.get_data(as_text=True)
    assert count(Encounter) == 0


def test_quantity_above_item_maximum_is_refused(client, login_as, setting):
    login_as("worker")
    form = encounter_form(setting, **{f"supply-{setting['box'].id}": "21"})
    response = client.post("/encounters/new", data=form)
    assert response.status_code == 422
    assert "from 0 to 20 for 1 mL syringes" in response.get_data(as_text=True)
    assert count(EncounterSupply) == 0


def test_double_submit_makes_one_encounter(client, login_as, setting):
    login_as("worker")
    form = encounter_form(setting, **{f"supply-{setting['box'].id}": "1"})
    first = client.post("/encounters/new", data=form)
    # The resubmit passes the checks, is saved again, and its key refuses it at the commit
    # (at the key's INSERT on SQLite, at the COMMIT in PostgreSQL's pipeline): all rolled back.
    second = client.post("/encounters/new", data=form)
    assert first.status_code == second.status_code == 302
    db.session.expire_all()
    assert (count(Encounter), count(EncounterSupply)) == (1, 1)
    encounter_id = db.session.scalar(select(Encounter.id))
    assert second.headers["Location"].endswith(f"/encounters/{encounter_id}")
    creates = select(func.count()).where(AuditEvent.action == "encounter.create")
    assert db.session.scalar(creates) == 1
    assert "already saved" in client.get(second.headers["Location"]).get_data(as_text=True)


def test_resubmitting_a_new_participant_ends_on_the_first_encounter(client, login_as, setting):
    login_as("worker")
    answers = {
        "answer_mother_first_name_2": "Ana",
        "answer_birth_month": "3",
        "answer_birth_year_2": "1990",
    }
    form = encounter_form(setting, participant_mode="new", **answers)
    assert client.post("/encounters/new", data=form).status_code == 302
    # Now the code is taken, so the resubmit fails its checks; its key answers instead.
    again = client.post("/encounters/new", data=form)
    assert again.status_code == 302
    encounter_id = db.session.scalar(select(Encounter.id))
    assert again.headers["Location"].endswith(f"/encounters/{encounter_id}")
    assert (count(Participant), count(Encounter)) == (1, 1)


def test_estimated_collection_uses_the_litre_factor(client, login_as, setting):
    login_as("worker")
    form = encounter_form(setting, collection_method="estimated", sharps_litres="1.5")
    assert client.post("/encounters/new", data=form).status_code == 302
    encounter = db.session.scalar(select(Encounter))
    assert encounter.syringes_collected == 150
    assert encounter.collection_method == "estimated"


def test_anonymous_group_head_count(client, login_as, setting):
    login_as("worker")
    client.post("/encounters/new", data=encounter_form(setting, people_count="6"))
    encounter = db.session.scalar(select(Encounter))
    assert encounter.participant_id is None and encounter.people_count == 6


def edit_form(setting, encounter, **fields) -> dict:
    """Return an edit form for an encounter."""
    form = encounter_form(setting, version=str(encounter.version), **fields)
    form["occurred_at"] = encounter.occurred_at.astimezone(program_zone()).strftime(
        "%Y-%m-%dT%H:%M"
    )
    return form


def test_worker_edits_own_encounter_and_it_is_audited(client, login_as, setting):
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"], supplies={setting["box"]: 1})
    db.session.commit()
    form = edit_form(setting, encounter, **{f"supply-{setting['box'].id}": "5"})
    response = client.post(f"/encounters/{encounter.id}/edit", data=form)
    assert response.status_code == 302
    db.session.refresh(encounter)
    assert encounter.supplies[0].quantity == 5 and encounter.version == 2
    assert "encounter.update" in db.session.scalars(select(AuditEvent.action)).all()


def test_stale_edit_is_refused_with_both_versions(client, login_as, setting):
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"], supplies={setting["box"]: 1})
    db.session.commit()
    opened = edit_form(setting, encounter, **{f"supply-{setting['box'].id}": "2"})
    assert client.post(f"/encounters/{encounter.id}/edit", data=opened).status_code == 302
    stale = dict(opened, **{f"supply-{setting['box'].id}": "9"})
    response = client.post(f"/encounters/{encounter.id}/edit", data=stale)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this encounter" in page
    assert "2 × 1 mL syringes" in page and "9 × 1 mL syringes" in page
    db.session.refresh(encounter)
    assert encounter.supplies[0].quantity == 2


def test_the_same_edit_sent_twice_is_saved_once_without_a_conflict(client, login_as, setting):
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"], supplies={setting["box"]: 1})
    db.session.commit()
    opened = edit_form(
        setting, encounter, services=["hiv_test"], **{f"supply-{setting['box'].id}": "3"}
    )
    assert client.post(f"/encounters/{encounter.id}/edit", data=opened).status_code == 302
    again = client.post(f"/encounters/{encounter.id}/edit", data=opened, follow_redirects=True)
    assert again.status_code == 200
    assert "These changes were already saved." in again.get_data(as_text=True)
    db.session.refresh(encounter)
    assert (encounter.version, encounter.supplies[0].quantity) == (2, 3)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("encounter.update") == 1


def test_workers_cannot_edit_others_or_old_encounters(app, client, login_as, setting):
    login_as("worker")
    other = factories.make_user("worker")
    theirs = factories.make_encounter(other, setting["site"])
    db.session.commit()
    assert client.get(f"/encounters/{theirs.id}/edit").status_code == 403
    mine_user = db.session.scalar(
        select(factories.User).where(
            factories.User.username != other.username, factories.User.role == "worker"
        )
    )
    old = factories.make_encounter(mine_user, setting["site"])
    old.created_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    assert client.get(f"/encounters/{old.id}/edit").status_code == 403


def test_supervisor_soft_deletes_with_a_reason(client, login_as, setting):
    login_as("supervisor")
    worker = factories.make_user("worker")
    encounter = factories.make_encounter(worker, setting["site"])
    db.session.commit()
    assert client.post(f"/encounters/{encounter.id}/delete", data={}).status_code == 302
    db.session.refresh(encounter)
    assert encounter.deleted_at is None, "no reason, no delete"
    client.post(f"/encounters/{encounter.id}/delete", data={"reason": "duplicate"})
    db.session.refresh(encounter)
    assert encounter.deleted_at is not None and encounter.delete_reason == "duplicate"
    assert client.get(f"/encounters/{encounter.id}").status_code == 404
    assert count(Encounter) == 1, "soft delete keeps the row"


def test_workers_cannot_delete(client, login_as, setting):
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"])
    db.session.commit()
    response = client.post(f"/encounters/{encounter.id}/delete", data={"reason": "duplicate"})
    assert response.status_code == 403


def test_admins_do_not_log_encounters(client, login_as, setting):
    login_as("admin")
    assert client.get("/encounters/new").status_code == 403
    assert client.get("/participants/find").status_code == 403


def test_same_as_last_time_offers_previous_supplies(client, login_as, setting):
    worker = login_as("worker")
    participant = factories.make_participant()
    factories.make_encounter(worker, setting["site"], participant, supplies={setting["kit"]: 2})
    db.session.commit()
    page = client.get(f"/encounters/new?participant={participant.id}").get_data(as_text=True)
    assert "Same as last time" in page
    assert f'"{setting["kit"].id}": 2' in page


def test_history_is_newest_first_with_its_lines_in_order_and_removed_ones_left_out(app):
    worker, site = factories.make_user(role="worker"), factories.make_site()
    cookers, kits = factories.make_item(name="Cookers"), factories.make_item(name="Kits")
    participant, other = factories.make_participant(), factories.make_participant()
    now = utcnow().replace(microsecond=0)
    oldest = factories.make_encounter(worker, site, participant, now - timedelta(days=2))
    tied_first = factories.make_encounter(
        worker, site, participant, now - timedelta(days=1), supplies={kits: 1, cookers: 3}
    )
    tied_second = factories.make_encounter(worker, site, participant, now - timedelta(days=1))
    removed = factories.make_encounter(worker, site, participant, now, deleted_at=now)
    factories.make_encounter(worker, site, other, now, supplies={cookers: 9})
    db.session.add_all(
        EncounterService(encounter_id=tied_first.id, service=service)
        for service in ("wound_care", "hiv_test")
    )
    db.session.commit()

    history = participant_history(participant.id)
    assert [entry.id for entry in history] == [tied_second.id, tied_first.id, oldest.id]
    assert removed.id not in [entry.id for entry in history]
    assert history[1].supplies_text == "3 × Cookers, 1 × Kits"
    assert history[1].services == ["hiv_test", "wound_care"]
    assert history[1].occurred_at == now - timedelta(days=1)
    assert (history[0].supplies_text, history[0].services, history[0].site_name) == (
        "—",
        [],
        site.name,
    )
    assert [entry.id for entry in participant_history(participant.id, limit=1)] == [tied_second.id]


def test_unasked_demographics_read_not_asked_alike(client, login_as):
    login_as("worker")
    participant = factories.make_participant()
    db.session.commit()
    page = client.get(f"/participants/{participant.id}").get_data(as_text=True)
    assert "<dt>Gender</dt><dd>Not asked</dd>" in page
    assert "not asked" not in page


def test_demographics_read_as_the_form_labels_them(client, login_as):
    from outreach.clients.models import ParticipantRace, ParticipantSubstance

    login_as("worker")
    participant = factories.make_participant(gender="trans_woman", age_band="25_34")
    participant.races = [ParticipantRace(race="hispanic_latino"), ParticipantRace(race="black")]
    participant.substances = [ParticipantSubstance(substance="methamphetamine")]
    db.session.commit()
    page = client.get(f"/participants/{participant.id}").get_data(as_text=True)
    assert "<dt>Gender</dt><dd>Trans woman</dd>" in page
    assert "<dt>Birth year</dt><dd>25–34</dd>" in page
    assert "Black or African American, Hispanic or Latino/a/e" in page
    assert "<dd>Methamphetamine</dd>" in page
    assert "hispanic latino" not in page


SCRIPTED = {"X-Outreach-Save": "1", "Accept": "application/json"}


def test_a_scripted_save_is_told_where_to_go_and_the_message_waits_there(client, login_as, setting):
    login_as("worker", sites=[setting["site"]])
    form = encounter_form(setting, **{f"supply-{setting['kit'].id}": "1"})
    saved = client.post("/encounters/new", data=form, headers=SCRIPTED)
    assert saved.status_code == 200 and saved.mimetype == "application/json"
    assert saved.json["location"].endswith("/encounters/new")
    assert "Content-Security-Policy" in saved.headers
    assert "Encounter saved." in client.get(saved.json["location"]).get_data(as_text=True)
    again = client.post("/encounters/new", data=form, headers=SCRIPTED)
    assert again.json["location"].endswith(f"/encounters/{db.session.scalar(select(Encounter.id))}")
    assert count(Encounter) == 1, "a retry after a lost answer is not a second encounter"
    refused = client.post(
        "/encounters/new",
        data={**form, "idempotency_key": str(uuid.uuid4()), "reversal_doses": "2"},
        headers=SCRIPTED,
    )
    assert refused.status_code == 422 and refused.mimetype == "text/html"
    client.post("/auth/logout")
    logged_out = client.post("/encounters/new", data=encounter_form(setting), headers=SCRIPTED)
    assert "/auth/login" in logged_out.json["location"] and count(Encounter) == 1


def test_the_contact_type_starts_from_the_kind_of_the_workers_site(client, login_as, setting):
    login_as("worker", sites=[setting["site"]])
    page = client.get("/encounters/new").get_data(as_text=True)
    site_id = setting["site"].id
    assert f'<option data-contact-type="mobile" selected value="{site_id}">' in page
    assert '<option selected value="mobile">' in page, "the van's encounters are mobile"
