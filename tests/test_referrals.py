"""Referrals: status transitions, the follow-up queue, the encounter section, bad input."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.referrals.models import ALLOWED_TRANSITIONS, Referral, ReferralStatusChange
from outreach.referrals.services import ReferralError, local_today, referral_status_change
from outreach.templating import program_zone
from outreach.users.models import User
from tests import factories


def count(model) -> int:
    """Count rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def today():
    """Today in the program's time zone."""
    return local_today()


@pytest.fixture
def met(app):
    """A site, a worker assigned to it, a participant and an encounter with them today."""
    site = factories.make_site("Van 1", kind="mobile")
    worker = factories.make_user("worker", username="wren", sites=[site])
    participant = factories.make_participant()
    encounter = factories.make_encounter(worker, site, participant)
    db.session.commit()
    return {"site": site, "worker": worker, "participant": participant, "encounter": encounter}


def change(referral, to_status, **fields):
    """Change a referral's status as its maker."""
    by = db.session.get(User, referral.created_by_id)
    return referral_status_change(referral=referral, to_status=to_status, by=by, **fields)


ALLOWED = [
    (current, target) for current, targets in ALLOWED_TRANSITIONS.items() for target in targets
]
EVERY = [(current, target) for current in ALLOWED_TRANSITIONS for target in ALLOWED_TRANSITIONS]
REFUSED = [pair for pair in EVERY if pair not in ALLOWED]


def test_the_allowed_transitions_are_the_issue_s():
    assert sorted(ALLOWED) == sorted(
        [
            ("referred", "scheduled"),
            ("referred", "linked"),
            ("referred", "not_linked"),
            ("referred", "declined"),
            ("scheduled", "linked"),
            ("scheduled", "not_linked"),
            ("scheduled", "declined"),
        ]
    )


def reach(referral, status, today):
    """Bring a referral to a status with one allowed step from ``referred``."""
    if status != "referred":
        change(referral, status, linked_on=today if status == "linked" else None)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transitions_are_kept_in_history(met, today, current, target):
    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    reach(referral, current, today)
    change(referral, target, linked_on=today if target == "linked" else None, reason_code="other")
    assert referral.status == target
    assert (referral.linked_on == today) == (target == "linked")
    steps = [(step.from_status, step.to_status) for step in referral_history(referral)]
    assert steps[0] == (None, "referred")
    assert steps[-1] == (current, target)


def referral_history(referral) -> list[ReferralStatusChange]:
    """Return a referral's history steps, oldest first."""
    query = select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral.id)
    return list(db.session.scalars(query.order_by(ReferralStatusChange.id)))


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_other_transitions_are_refused_with_a_clear_message(met, today, current, target):
    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    reach(referral, current, today)
    steps = len(referral_history(referral))
    with pytest.raises(ReferralError) as refused:
        change(referral, target, linked_on=today if target == "linked" else None)
    message = refused.value.errors["status"]
    assert "closed" in message or "cannot become" in message
    assert referral.status == current
    assert len(referral_history(referral)) == steps


def test_linking_needs_a_date_not_before_the_referral_nor_ahead(met, today):
    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    for linked_on, words in [
        (None, "Enter the date"),
        (referral.referred_on - timedelta(days=1), "before the referral"),
        (today + timedelta(days=1), "in the future"),
    ]:
        with pytest.raises(ReferralError) as refused:
            change(referral, "linked", linked_on=linked_on)
        assert words in refused.value.errors["linked_on"]
    assert referral.status == "referred" and len(referral_history(referral)) == 1


def test_anonymous_referrals_are_counted_but_not_followed_up(met, today):
    anonymous = factories.make_encounter(met["worker"], met["site"])
    referral = factories.make_referral(anonymous)
    with pytest.raises(ReferralError) as refused:
        change(referral, "linked", linked_on=today)
    assert "anonymous" in refused.value.errors["status"]


def test_a_change_made_meanwhile_is_not_overwritten(met, today):
    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    change(referral, "scheduled")
    with pytest.raises(ReferralError) as refused:
        change(referral, "declined", expected_status="referred")
    assert "Someone changed this referral" in refused.value.errors["status"]


def test_scheduling_moves_the_follow_up_date(met, today):
    referral = factories.make_referral(
        met["encounter"], referral_type="housing", follow_up_on=today
    )
    change(referral, "scheduled")
    assert referral.follow_up_on == today + timedelta(days=14)
    with pytest.raises(ReferralError) as refused:
        change(referral, "linked", linked_on=today, reason_text="Call her at 555-201-3344")
    assert "phone number" in refused.value.errors["reason_text"]


def status_form(referral, **fields) -> dict:
    """Return a one-tap status form for a referral."""
    form = {"idempotency_key": str(uuid.uuid4()), "expected_status": referral.status}
    form.update(fields)
    return form


def test_one_tap_from_the_queue_links_and_returns_to_the_queue(client, login_as, met, today):
    me = login_as("worker")
    encounter = factories.make_encounter(me, met["site"], met["participant"])
    referral = factories.make_referral(encounter, follow_up_on=today)
    form = status_form(
        referral, status="linked", linked_on=today.isoformat(), back="queue", type="moud"
    )
    response = client.post(f"/referrals/{referral.id}/status", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/referrals/queue?type=moud")
    again = client.post(f"/referrals/{referral.id}/status", data=form)
    assert again.status_code == 302
    db.session.refresh(referral)
    assert referral.status == "linked" and referral.linked_on == today
    assert [step.to_status for step in referral_history(referral)] == ["referred", "linked"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.status"))
    assert event.entity_id == str(referral.id) and '"to":"linked"' in event.data


def test_bad_status_input_comes_back_at_the_field_and_writes_nothing(client, login_as, met, today):
    login_as("worker")
    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    before = referral.referred_on - timedelta(days=3)
    response = client.post(
        f"/referrals/{referral.id}/status",
        data=status_form(
            referral,
            status="linked",
            linked_on=before.isoformat(),
            reason_text="Her sister Maria drove her",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="linked_on-error"' in page and "before the referral" in page
    assert 'id="reason_text-error"' in page and "looks like a name" in page
    assert "Her sister Maria drove her" in page
    db.session.refresh(referral)
    assert referral.status == "referred" and len(referral_history(referral)) == 1
    for hostile in ("dead", "linked'; DROP TABLE referrals;--", "x" * 500):
        response = client.post(
            f"/referrals/{referral.id}/status",
            data=status_form(referral, status=hostile, linked_on="31/02/2026", reason_code=hostile),
        )
        assert response.status_code == 422
    assert len(referral_history(referral)) == 1


def due_referral(met, days_ago: int, **fields):
    """Add an open referral whose follow-up date was some days ago."""
    encounter = fields.pop("encounter", met["encounter"])
    return factories.make_referral(
        encounter, follow_up_on=local_today() - timedelta(days=days_ago), **fields
    )


def queue_ids(page: str) -> list[int]:
    """Return the referral ids in queue order, as the page links them."""
    import re

    return [int(found) for found in re.findall(r'id="referral-(\d+)-title"', page)]


def test_queue_shows_due_referrals_oldest_first_and_marks_overdue(client, login_as, met):
    me = login_as("worker")
    mine = factories.make_encounter(me, met["site"], met["participant"])
    today_one = due_referral(met, 0, encounter=mine)
    oldest = due_referral(met, 9, encounter=mine, referral_type="housing")
    middle = due_referral(met, 2, encounter=mine, referral_type="hiv")
    due_referral(met, -3, encounter=mine)  # not due yet
    closed = due_referral(met, 5, encounter=mine)
    change(closed, "declined")
    factories.make_referral(factories.make_encounter(me, met["site"]))  # anonymous
    response = client.get("/referrals/queue")
    page = response.get_data(as_text=True)
    assert queue_ids(page) == [oldest.id, middle.id, today_one.id]
    assert page.count("overdue-badge") == 2
    assert "3 referrals due" in page


def test_queue_filters_by_worker_type_and_site(client, login_as, met):
    other_site = factories.make_site("Fixed site")
    colleague_encounter = met["encounter"]
    colleague = due_referral(met, 1)
    me = login_as("worker")
    van = factories.make_encounter(me, met["site"], met["participant"])
    mine_van = due_referral(met, 3, encounter=van)
    away = factories.make_encounter(me, other_site, met["participant"])
    mine_fixed = due_referral(met, 2, encounter=away, referral_type="hiv")
    assert colleague_encounter.worker_id != me.id
    assert queue_ids(client.get("/referrals/queue").get_data(as_text=True)) == [
        mine_van.id,
        mine_fixed.id,
    ]
    everyone = client.get("/referrals/queue?worker=all").get_data(as_text=True)
    assert queue_ids(everyone) == [mine_van.id, mine_fixed.id, colleague.id]
    by_colleague = f"/referrals/queue?worker={met['worker'].id}"
    assert queue_ids(client.get(by_colleague).get_data(as_text=True)) == [colleague.id]
    by_type = client.get("/referrals/queue?worker=all&type=hiv").get_data(as_text=True)
    assert queue_ids(by_type) == [mine_fixed.id]
    by_site = client.get(f"/referrals/queue?worker=all&site={met['site'].id}")
    assert queue_ids(by_site.get_data(as_text=True)) == [mine_van.id, colleague.id]
    odd = client.get("/referrals/queue?worker=x&type=nope&site=-1&page=0")
    assert odd.status_code == 200


def test_supervisors_see_everyone_by_default(client, login_as, met):
    colleague = due_referral(met, 1)
    login_as("supervisor")
    assert queue_ids(client.get("/referrals/queue").get_data(as_text=True)) == [colleague.id]


def encounter_form(met, **fields) -> dict:
    """Return a valid encounter form with the participant, changed by ``fields``."""
    form = {
        "idempotency_key": str(uuid.uuid4()),
        "participant_mode": "known",
        "participant_id": str(met["participant"].id),
        "occurred_at": factories_now(),
        "site_id": str(met["site"].id),
        "contact_type": "street",
        "collection_method": "counted",
    }
    form.update(fields)
    return form


def factories_now() -> str:
    """Return now as a datetime-local value in the program's zone."""
    from outreach.dbtypes import utcnow

    return utcnow().astimezone(program_zone()).strftime("%Y-%m-%dT%H:%M")


def test_encounter_form_makes_referrals_with_default_follow_up(client, login_as, met, today):
    login_as("worker")
    agency = factories.make_agency("Bridge Clinic", types=("moud", "hcv"))
    db.session.commit()
    form = encounter_form(
        met,
        **{
            "referrals-0-type": "moud",
            "referrals-0-agency": str(agency.id),
            "referrals-1-type": "housing",
            "referrals-1-follow_up": (today + timedelta(days=30)).isoformat(),
        },
    )
    response = client.post(f"/encounters/new?participant={met['participant'].id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    referrals = db.session.scalars(select(Referral).order_by(Referral.id)).all()
    assert [(r.referral_type, r.agency_id) for r in referrals] == [
        ("moud", agency.id),
        ("housing", None),
    ]
    assert referrals[0].follow_up_on == today + timedelta(days=3)
    assert referrals[1].follow_up_on == today + timedelta(days=30)
    assert referrals[0].participant_id == met["participant"].id
    assert referrals[0].referred_on == today
    assert count(ReferralStatusChange) == 2


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"type": "moud", "follow_up": "2001-01-01"}, "follow_up", "cannot be in the past"),
        ({"type": "astrology"}, "type", "Choose a referral type"),
        ({"type": "moud", "agency": "999999"}, "agency", "Choose an agency"),
        ({"type": "housing", "agency": "AGENCY"}, "agency", "does not take Housing"),
        ({"type": "moud", "agency": "INACTIVE"}, "agency", "no longer in the directory"),
        ({"agency": "AGENCY"}, "type", "Choose the type"),
        ({"type": "moud", "follow_up": "soon"}, "follow_up", "as a date"),
    ],
)
def test_bad_referral_rows_save_nothing_at_all(client, login_as, met, row, field, words):
    login_as("worker")
    agency = factories.make_agency("Bridge Clinic", types=("moud",))
    inactive = factories.make_agency("Closed Clinic", types=("moud",), active=False)
    db.session.commit()
    names = {"AGENCY": str(agency.id), "INACTIVE": str(inactive.id)}
    values = {f"referrals-1-{key}": names.get(value, value) for key, value in row.items()}
    encounters = count(Encounter)
    response = client.post("/encounters/new", data=encounter_form(met, **values))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="referrals-1-{field}-error"' in page and words in page
    assert count(Encounter) == encounters and count(Referral) == 0


def test_anonymous_encounter_referral_has_no_follow_up(client, login_as, met):
    login_as("worker")
    form = encounter_form(
        met, participant_mode="anonymous", people_count="1", **{"referrals-0-type": "food"}
    )
    form["referrals-0-follow_up"] = "2001-01-01"  # ignored: cannot be followed up
    assert client.post("/encounters/new", data=form).status_code == 302
    referral = db.session.scalar(select(Referral))
    assert referral.participant_id is None and referral.follow_up_on is None


def test_removing_an_encounter_removes_its_referrals_from_the_queue(client, login_as, met):
    referral = due_referral(met, 1)
    login_as("supervisor")
    response = client.post(
        f"/encounters/{met['encounter'].id}/delete", data={"reason": "duplicate"}
    )
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.deleted_at is not None
    assert queue_ids(client.get("/referrals/queue").get_data(as_text=True)) == []
    assert client.get(f"/referrals/{referral.id}").status_code == 404


def test_referral_from_the_participant_page(client, login_as, met, today):
    login_as("worker")
    agency = factories.make_agency("Legal Aid", types=("legal",))
    db.session.commit()
    url = f"/participants/{met['participant'].id}/referrals/new"
    assert "Made at the encounter" in client.get(url).get_data(as_text=True)
    base = {
        "idempotency_key": str(uuid.uuid4()),
        "encounter_id": str(met["encounter"].id),
        "referral_type": "legal",
        "agency_id": str(agency.id),
    }
    past = client.post(url, data={**base, "follow_up_on": "2020-01-01"})
    assert past.status_code == 422 and "cannot be in the past" in past.get_data(as_text=True)
    other = client.post(url, data={**base, "encounter_id": "99999"})
    assert other.status_code == 422 and count(Referral) == 0
    saved = client.post(url, data=base)
    assert saved.status_code == 302
    again = client.post(url, data=base)
    assert again.status_code == 302 and count(Referral) == 1
    referral = db.session.scalar(select(Referral))
    assert referral.follow_up_on == today + timedelta(days=14)


def test_participant_page_shows_open_referrals_first(client, login_as, met, today):
    login_as("worker")
    closed = factories.make_referral(met["encounter"], referral_type="hiv", follow_up_on=today)
    change(closed, "linked", linked_on=today)
    factories.make_referral(met["encounter"], referral_type="housing", follow_up_on=today)
    page = client.get(f"/participants/{met['participant'].id}").get_data(as_text=True)
    assert page.index("Housing") < page.index("HIV testing or care") < page.index("<h2>History")
    assert page.index(">Open<") < page.index(">Closed<")


def test_encounter_page_lists_the_referrals_made_there(client, login_as, met, today):
    login_as("worker")
    agency = factories.make_agency("Harbor Clinic", types=("moud",))
    kept = factories.make_referral(met["encounter"], follow_up_on=today, agency_id=agency.id)
    removed = factories.make_referral(met["encounter"], referral_type="housing")
    removed.deleted_at = removed.created_at
    elsewhere = factories.make_encounter(met["worker"], met["site"], met["participant"])
    factories.make_referral(elsewhere, referral_type="hiv")
    db.session.commit()
    page = client.get(f"/encounters/{met['encounter'].id}").get_data(as_text=True)
    assert f'href="/referrals/{kept.id}"' in page
    assert "Harbor Clinic" in page and f"follow up {today.isoformat()}" in page
    assert "Housing" not in page and "HIV testing or care" not in page
    none_made = factories.make_encounter(met["worker"], met["site"], met["participant"])
    db.session.commit()
    empty = client.get(f"/encounters/{none_made.id}").get_data(as_text=True)
    assert "Referrals made at this encounter" in empty and '<p class="hint">None.</p>' in empty


def test_detail_shows_history_and_no_free_text_reaches_the_audit(client, login_as, met, today):
    login_as("worker")
    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    change(referral, "scheduled", reason_code="waitlist", reason_text="Intake next week")
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "On a waiting list: Intake next week" in page
    assert "Intake" not in " ".join(db.session.scalars(select(AuditEvent.data)))


def test_editing_an_encounter_keeps_its_referrals_in_step(met, today):
    from outreach.referrals.services import local_date, referrals_follow_encounter

    referral = factories.make_referral(met["encounter"], follow_up_on=today)
    encounter = met["encounter"]
    encounter.occurred_at -= timedelta(days=2)
    referrals_follow_encounter(encounter, "update")
    assert referral.referred_on == local_date(encounter.occurred_at)
    encounter.participant_id = None
    referrals_follow_encounter(encounter, "update")
    assert referral.participant_id is None and referral.follow_up_on is None


def test_a_follow_up_date_set_by_an_encounter_edit_is_in_the_history(met, today):
    from outreach.referrals.queries import open_and_overdue
    from outreach.referrals.services import referrals_follow_encounter

    encounter = met["encounter"]
    encounter.participant_id = None
    referral = factories.make_referral(encounter, "moud")
    assert referral.follow_up_on is None
    encounter.participant_id = met["participant"].id
    referrals_follow_encounter(encounter, "update")
    db.session.commit()
    assert referral.follow_up_on is not None
    last = referral_history(referral)[-1]
    assert (last.from_status, last.to_status) == ("referred", "referred")
    assert (last.follow_up_on, last.changed_by_id) == (referral.follow_up_on, met["worker"].id)
    later = datetime.combine(referral.follow_up_on + timedelta(days=3), datetime.min.time(), UTC)
    assert open_and_overdue(later, None) == (1, 1), "the report agrees with the queue"
