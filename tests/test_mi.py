"""MI notes: written with an encounter, guarded, read only by whom it should be, audited."""

import json
import logging
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.mi.models import MIChangeTalk, MINote
from outreach.mi.services import MINoteInput, open_text
from outreach.templating import program_zone
from outreach.users.models import Role
from tests import factories
from tests.mi_helpers import GOAL, NEXT_STEPS, PLAINTEXTS, SUMMARY, note_on


@pytest.fixture
def setting(app):
    """A site and a participant."""
    site = factories.make_site("Van 1", kind="mobile")
    participant = factories.make_participant()
    db.session.commit()
    return {"site": site, "participant": participant}


def count(model) -> int:
    """Count rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))


def local_now() -> str:
    """Return a datetime-local value in the program's zone."""
    return utcnow().astimezone(program_zone()).strftime("%Y-%m-%dT%H:%M")


def encounter_form(setting, mode="known", **fields) -> dict:
    """Return a valid encounter form with the setting's participant, changed by ``fields``."""
    form = {
        "idempotency_key": str(uuid.uuid4()),
        "participant_mode": mode,
        "participant_id": str(setting["participant"].id) if mode == "known" else "",
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


def mi_fields(**changes) -> dict:
    """Return a filled MI section, changed by ``changes`` (keys without the ``mi-`` prefix)."""
    fields = {
        "focus": "safer_use",
        "stage": "preparation",
        "importance": "8",
        "confidence": "5",
        "readiness": "",
        "change_talk": ["desire", "commitment"],
        "sustain_talk": "some",
        "goal": GOAL,
        "next_steps": NEXT_STEPS,
        "summary": SUMMARY,
    }
    fields.update(changes)
    return {f"mi-{key}": value for key, value in fields.items()}


def test_worker_records_an_mi_conversation_with_the_encounter(client, login_as, setting):
    worker = login_as("worker")
    response = client.post("/encounters/new", data=encounter_form(setting, **mi_fields()))
    assert response.status_code == 302, response.get_data(as_text=True)
    note = db.session.scalar(select(MINote))
    encounter = db.session.scalar(select(Encounter))
    assert note.encounter_id == encounter.id
    assert note.participant_id == setting["participant"].id
    assert note.author_id == worker.id
    assert (note.focus, note.stage, note.sustain_talk) == ("safer_use", "preparation", "some")
    assert (note.importance, note.confidence, note.readiness) == (8, 5, None)
    assert note.change_talk_codes == ["desire", "commitment"]
    assert open_text(note).goal == GOAL
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["encounter.create", "mi_note.create"]


def test_an_untouched_mi_section_makes_no_note(client, login_as, setting):
    login_as("worker")
    response = client.post("/encounters/new", data=encounter_form(setting))
    assert response.status_code == 302
    assert count(Encounter) == 1
    assert count(MINote) == 0


def test_an_anonymous_encounter_with_mi_fields_is_refused_at_the_fields(client, login_as, setting):
    login_as("worker")
    form = encounter_form(setting, mode="anonymous", **mi_fields(summary="", focus="treatment"))
    response = client.post("/encounters/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert count(Encounter) == 0 and count(MINote) == 0
    assert 'id="mi-focus-error"' in page and 'id="mi-goal-error"' in page
    assert 'id="mi-summary-error"' not in page
    assert "only for encounters with a participant" in page
    assert GOAL in page  # everything typed is kept
    assert '<details class="card section mi-section" open>' in page


def test_focus_and_stage_are_needed_once_anything_is_recorded(client, login_as, setting):
    login_as("worker")
    form = encounter_form(setting, **{"mi-importance": "6"})
    response = client.post("/encounters/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the behaviour the participant chose to talk about." in page
    assert "Choose the stage of change." in page
    assert count(Encounter) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("importance", "11", "Choose a number from 0 to 10"),
        ("confidence", "-1", "Choose a number from 0 to 10"),
        ("readiness", "١٢³", "Choose a number from 0 to 10"),
        ("readiness", "9" * 5000, "Choose a number from 0 to 10"),
        ("importance", " 07", "Choose a number from 0 to 10"),
        ("stage", "relapse", "Choose one of the options shown."),
        ("change_talk", ["desire", "bargaining"], "Choose one of the options shown."),
        ("summary", "x" * 1201, "Keep this to 1200 characters or fewer"),
    ],
)
def test_bad_mi_values_are_refused(client, login_as, setting, field, value, message):
    login_as("worker")
    response = client.post(
        "/encounters/new", data=encounter_form(setting, **mi_fields(**{field: value}))
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(MINote) == 0 and count(Encounter) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("goal", "Call her at 555-867-5309 tomorrow", "This looks like a phone number."),
        ("next_steps", "E-mail jo.smith@example.org the forms", "This looks like an e-mail"),
        ("summary", "Her boyfriend Marcus came along", "This looks like a name."),
        ("summary", "DOB 04/12/1988 per intake", "This looks like a date of birth"),
    ],
)
def test_the_free_text_guard_refuses_identifying_text(
    client, login_as, setting, field, value, message
):
    login_as("worker")
    response = client.post(
        "/encounters/new", data=encounter_form(setting, **mi_fields(**{field: value}))
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="mi-{field}-error"' in page
    assert message in page
    assert count(MINote) == 0 and count(Encounter) == 0


def test_author_reads_the_note_and_the_read_is_audited_with_ids_only(client, login_as, setting):
    worker = login_as("worker")
    note = note_on(setting, worker, goal=GOAL, next_steps=NEXT_STEPS, summary=SUMMARY)
    response = client.get(f"/mi/notes/{note.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert all(plaintext in page for plaintext in PLAINTEXTS)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mi_note.read")).one()
    assert event.actor_id == worker.id
    assert (event.entity_type, event.entity_id) == ("mi_note", str(note.id))
    assert json.loads(event.data) == {
        "encounter": note.encounter_id,
        "participant": note.participant_id,
    }


def test_no_audit_event_holds_note_text(client, login_as, setting):
    login_as("worker")
    client.post("/encounters/new", data=encounter_form(setting, **mi_fields()))
    note = db.session.scalar(select(MINote))
    client.get(f"/mi/notes/{note.id}")
    client.get(f"/mi/notes/{note.id}/edit")
    client.post(
        f"/mi/notes/{note.id}/edit",
        data={**mi_fields(goal="Test before using alone"), "version": str(note.version)},
    )
    client.get(f"/participants/{setting['participant'].id}")
    events = db.session.scalars(select(AuditEvent)).all()
    assert {"mi_note.create", "mi_note.read", "mi_note.update", "mi_note.read_journey"} <= {
        event.action for event in events
    }
    everything = " ".join(f"{event.action} {event.entity_id} {event.data}" for event in events)
    for plaintext in (*PLAINTEXTS, "Test before using alone", "preparation", "safer_use"):
        assert plaintext not in everything


def test_another_worker_sees_only_the_newest_notes_fields(client, login_as, setting):
    author = factories.make_user(Role.WORKER)
    older = note_on(setting, author, stage="contemplation", days_ago=3, goal=GOAL)
    newest = note_on(setting, author, stage="preparation", goal=GOAL, summary=SUMMARY)
    login_as("worker")
    response = client.get(f"/mi/notes/{newest.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preparation" in page
    assert GOAL not in page and SUMMARY not in page
    assert "Only its author and supervisors read" in page
    assert client.get(f"/mi/notes/{older.id}").status_code == 403
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "mi_note.read_fields" in actions and "mi_note.read" not in actions


def test_supervisor_reads_any_note_and_admin_none(client, login_as, setting):
    author = factories.make_user(Role.WORKER)
    note = note_on(setting, author, goal=GOAL)
    login_as("supervisor")
    response = client.get(f"/mi/notes/{note.id}")
    assert response.status_code == 200 and GOAL in response.get_data(as_text=True)
    client.post("/auth/logout")
    login_as("admin")
    response = client.get(f"/mi/notes/{note.id}")
    assert response.status_code == 403
    assert GOAL not in response.get_data(as_text=True)


def test_only_the_author_edits_a_note(client, login_as, setting):
    author = login_as("worker")
    note = note_on(setting, author, goal=GOAL)
    response = client.get(f"/mi/notes/{note.id}/edit")
    assert response.status_code == 200 and GOAL in response.get_data(as_text=True)
    response = client.post(
        f"/mi/notes/{note.id}/edit",
        data={
            **mi_fields(stage="action", importance="10", change_talk=["taking_steps"]),
            "version": str(note.version),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    note = db.session.get(MINote, note.id)
    assert (note.stage, note.importance) == ("action", 10)
    assert note.change_talk_codes == ["taking_steps"]
    assert count(MIChangeTalk) == 1
    client.post("/auth/logout")
    login_as("supervisor")
    assert client.get(f"/mi/notes/{note.id}/edit").status_code == 403


def test_an_edit_from_a_stale_page_is_refused_and_shows_both(client, login_as, setting):
    author = login_as("worker")
    note = note_on(setting, author, goal=GOAL)
    page = client.get(f"/mi/notes/{note.id}/edit").get_data(as_text=True)
    opened_at = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    # The author saves from a second device first…
    first = client.post(
        f"/mi/notes/{note.id}/edit",
        data={**mi_fields(stage="action", summary="Saved on the phone"), "version": opened_at},
    )
    assert first.status_code == 302
    # …then from the first page, still at the old version.
    typed = mi_fields(stage="maintenance", summary="Typed on the tablet")
    stale = client.post(f"/mi/notes/{note.id}/edit", data={**typed, "version": opened_at})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "saved again after you opened it" in page
    assert "Saved on the phone" in page and "Typed on the tablet" in page
    db.session.expire_all()
    saved = db.session.get(MINote, note.id)
    assert saved.stage == "action" and open_text(saved).summary == "Saved on the phone"
    updates = select(func.count()).where(AuditEvent.action == "mi_note.update")
    assert db.session.scalar(updates) == 1
    # Sent by the page's script, the refusal is brief and reads nothing: the script sends
    # the form again the ordinary way to show the page above (one audited read, not two).
    reads = select(func.count()).where(AuditEvent.action == "mi_note.read")
    before = db.session.scalar(reads)
    scripted = client.post(
        f"/mi/notes/{note.id}/edit",
        data={**typed, "version": opened_at},
        headers={"X-Outreach-Save": "1"},
    )
    assert scripted.status_code == 409 and scripted.get_data() == b""
    assert db.session.scalar(reads) == before
    # Saving again from the refusal page replaces the note on purpose.
    now_at = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    assert now_at != opened_at
    again = client.post(f"/mi/notes/{note.id}/edit", data={**typed, "version": now_at})
    assert again.status_code == 302
    db.session.expire_all()
    assert open_text(db.session.get(MINote, note.id)).summary == "Typed on the tablet"


def test_an_edit_with_identifying_text_is_refused_and_keeps_what_was_typed(
    client, login_as, setting
):
    author = login_as("worker")
    note = note_on(setting, author, goal=GOAL)
    typed = "Text me on 312 555 0199 first"
    response = client.post(f"/mi/notes/{note.id}/edit", data=mi_fields(next_steps=typed))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This looks like a phone number." in page and typed in page
    db.session.expire_all()
    assert open_text(db.session.get(MINote, note.id)).next_steps == ""


def test_a_note_is_added_to_an_existing_encounter_once(client, login_as, setting):
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"], setting["participant"])
    db.session.commit()
    assert client.get(f"/mi/encounters/{encounter.id}/note").status_code == 200
    form = {"idempotency_key": str(uuid.uuid4()), **mi_fields()}
    first = client.post(f"/mi/encounters/{encounter.id}/note", data=form)
    assert first.status_code == 302
    again = client.post(f"/mi/encounters/{encounter.id}/note", data=form)
    assert again.status_code == 302 and "/mi/notes/" in again.headers["Location"]
    assert count(MINote) == 1


def test_a_note_added_after_another_was_saved_keeps_everything_typed(client, login_as, setting):
    worker = login_as("worker")
    encounter = factories.make_encounter(worker, setting["site"], setting["participant"])
    db.session.commit()
    url = f"/mi/encounters/{encounter.id}/note"
    phone = {"idempotency_key": str(uuid.uuid4()), **mi_fields(summary="Saved on the phone")}
    tablet = {"idempotency_key": str(uuid.uuid4()), **mi_fields(summary="Typed on the tablet")}
    assert client.post(url, data=phone).status_code == 302
    refused = client.post(url, data=tablet)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "you saved an MI note for this encounter" in page
    assert "Saved on the phone" in page and "Typed on the tablet" in page
    assert 'data-unsaved-warning="held"' in page
    assert count(MINote) == 1
    assert client.post(url, data=tablet).status_code == 409, "sent again, still kept"


def test_a_refused_add_shows_only_what_the_worker_may_see_of_the_saved_note(
    client, login_as, setting
):
    worker = login_as("worker")
    supervisor = factories.make_user(Role.SUPERVISOR)
    older = factories.make_encounter(
        worker, setting["site"], setting["participant"], occurred_at=utcnow() - timedelta(days=3)
    )
    factories.make_mi_note(older, author=supervisor, stage="maintenance", importance=3)
    note_on(setting, supervisor, stage="action")  # a newer note: the older one is hidden
    db.session.commit()
    before = count(AuditEvent)
    form = {"idempotency_key": str(uuid.uuid4()), **mi_fields(summary="Typed by the worker")}
    refused = client.post(f"/mi/encounters/{older.id}/note", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Typed by the worker" in page
    assert "<dt>Stage of change</dt>" not in page and "3 of 10" not in page
    assert count(AuditEvent) == before


def test_the_same_note_edit_sent_twice_is_already_saved(client, login_as, setting):
    author = login_as("worker")
    note = note_on(setting, author, goal=GOAL)
    page = client.get(f"/mi/notes/{note.id}/edit").get_data(as_text=True)
    opened_at = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    edit = {**mi_fields(stage="action", summary="Retried"), "version": opened_at}
    assert client.post(f"/mi/notes/{note.id}/edit", data=edit).status_code == 302
    retry = client.post(f"/mi/notes/{note.id}/edit", data=edit)
    assert retry.status_code == 302 and retry.headers["Location"].endswith(f"/mi/notes/{note.id}")
    assert "These changes were already saved." in client.get(retry.headers["Location"]).get_data(
        as_text=True
    )
    changed = {**edit, "mi-summary": "Something else"}
    assert client.post(f"/mi/notes/{note.id}/edit", data=changed).status_code == 409


def test_a_note_cannot_be_added_to_an_anonymous_or_someone_elses_encounter(
    client, login_as, setting
):
    login_as("worker")
    other = factories.make_user(Role.WORKER)
    anonymous = factories.make_encounter(other, setting["site"])
    theirs = factories.make_encounter(other, setting["site"], setting["participant"])
    db.session.commit()
    form = {"idempotency_key": str(uuid.uuid4()), **mi_fields()}
    response = client.post(f"/mi/encounters/{anonymous.id}/note", data=form)
    assert response.status_code == 302 and count(MINote) == 0
    assert client.post(f"/mi/encounters/{theirs.id}/note", data=form).status_code == 403
    assert count(MINote) == 0


def test_removing_the_encounter_hides_its_note(client, login_as, setting):
    worker = factories.make_user(Role.WORKER)
    note = note_on(setting, worker, goal=GOAL)
    login_as("supervisor")
    response = client.post(
        f"/encounters/{note.encounter_id}/delete", data={"reason": "entered_in_error"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MINote, note.id).deleted_at is not None
    assert client.get(f"/mi/notes/{note.id}").status_code == 404


def test_continuity_shows_the_previous_focus_stage_and_goal_to_the_author(
    client, login_as, setting
):
    author = login_as("worker")
    note_on(setting, author, stage="contemplation", focus="treatment", goal=GOAL)
    page = client.get(f"/encounters/new?participant={setting['participant'].id}").get_data(
        as_text=True
    )
    assert "Last MI conversation" in page
    assert "Treatment" in page and "Contemplation" in page and GOAL in page
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "mi_note.read")) == 1


def test_continuity_hides_another_workers_goal(client, login_as, setting):
    author = factories.make_user(Role.WORKER)
    note_on(setting, author, stage="action", focus="housing", goal=GOAL)
    login_as("worker")
    page = client.get(f"/encounters/new?participant={setting['participant'].id}").get_data(
        as_text=True
    )
    assert "Housing" in page and "Action" in page
    assert GOAL not in page
    assert "Only its author and supervisors read the goal." in page


def test_the_journey_panel_draws_an_svg_with_a_table(client, login_as, setting):
    author = factories.make_user(Role.WORKER)
    note_on(setting, author, stage="precontemplation", days_ago=20, importance=2)
    note_on(setting, author, stage="contemplation", days_ago=10, importance=5, confidence=3)
    note_on(setting, author, stage="recurrence", days_ago=1, readiness=7)
    login_as("supervisor")
    page = client.get(f"/participants/{setting['participant'].id}").get_data(as_text=True)
    assert "MI journey" in page
    assert page.count("<svg") == 2
    assert '<title id="mi-stage-chart-title">' in page
    assert "<table>" in page and "Precontemplation" in page and "Recurrence" in page
    assert "<script" not in page.split("MI journey")[1]


def test_a_worker_sees_only_their_own_conversations_on_the_journey(client, login_as, setting):
    other = factories.make_user(Role.WORKER)
    note_on(setting, other, stage="maintenance", days_ago=5)
    me = login_as("worker")
    page = client.get(f"/participants/{setting['participant'].id}").get_data(as_text=True)
    assert "You see the conversations you recorded" in page
    assert "<svg" not in page  # none of mine yet; only the newest note's fields
    assert "Maintenance" in page
    note_on(setting, me, stage="action")
    page = client.get(f"/participants/{setting['participant'].id}").get_data(as_text=True)
    assert page.count("<svg") == 1  # stage only: no rulers asked


def test_note_text_never_reaches_the_logs(client, login_as, setting, caplog):
    caplog.set_level(logging.DEBUG)
    login_as("worker")
    client.post("/encounters/new", data=encounter_form(setting, **mi_fields()))
    note = db.session.scalar(select(MINote))
    client.get(f"/mi/notes/{note.id}")
    client.post(f"/mi/notes/{note.id}/edit", data=mi_fields(goal="Call 555-123-4567"))
    assert not any(plaintext in caplog.text for plaintext in (*PLAINTEXTS, "555-123-4567"))
    assert GOAL not in repr(MINoteInput(focus="other", stage="action", goal=GOAL))


def test_a_note_is_saved_with_a_new_participant_in_the_same_transaction(client, login_as, setting):
    login_as("worker")
    form = encounter_form(
        setting,
        mode="new",
        answer_mother_first_name_2="Ana",
        answer_birth_month="3",
        answer_birth_year_2="1990",
        **mi_fields(),
    )
    response = client.post("/encounters/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    encounter = db.session.scalar(select(Encounter))
    note = db.session.scalar(select(MINote))
    assert encounter.participant_id != setting["participant"].id
    assert note.participant_id == encounter.participant_id


def test_a_note_follows_its_encounter_to_another_participant_and_hides_when_anonymous(app, setting):
    from outreach.mi.hooks import encounter_changed

    note = note_on(setting, factories.make_user(Role.WORKER))
    encounter = db.session.get(Encounter, note.encounter_id)
    encounter.participant_id = None
    encounter_changed(encounter, "update")
    assert note.deleted_at is not None
    other = factories.make_participant()
    encounter.participant_id = other.id
    encounter_changed(encounter, "update")
    assert (note.deleted_at, note.participant_id) == (None, other.id)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["mi_note.hide", "mi_note.follow_encounter"]
