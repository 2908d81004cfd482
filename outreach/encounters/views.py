"""The encounter screen: log, view, edit and remove encounters."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from outreach.clients.codes import PARTS
from outreach.clients.models import Participant
from outreach.clients.queries import live_participant
from outreach.clients.services import ParticipantExists, current_recipe, participant_create
from outreach.dbtypes import utcnow
from outreach.encounters import services
from outreach.encounters.entry import NewParticipant, SupplyEntry, read_encounter, read_supplies
from outreach.encounters.forms import DeleteForm, EncounterForm
from outreach.encounters.models import Encounter
from outreach.encounters.queries import (
    CONTACT_AT_SITE,
    last_supplies,
    recent_encounters,
    site_choices_for,
)
from outreach.encounters.sections import SectionContext, SectionInput, sections
from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.pipeline import pipelined
from outreach.referrals.queries import encounter_referrals
from outreach.security import Permission, has_permission, permission_required
from outreach.supplies.queries import active_items_by_category
from outreach.templating import program_zone
from outreach.urls import record_id

blueprint = Blueprint("encounters", __name__, url_prefix="/encounters")


def prepare_form(form: EncounterForm, participant: Participant | None) -> None:
    """Fill the choices that depend on the user and the chosen participant."""
    form.site_id.choices = site_choices_for(current_user)
    if participant is not None:
        form.participant_mode.choices = [
            ("known", "This participant"),
            *form.participant_mode.choices,
        ]


def read_sections(context: SectionContext) -> dict[str, SectionInput]:
    """Read every extra section of the form (referrals, notes…)."""
    return {section.key: section.read(request.form, context) for section in sections()}


def render_form(form, supplies: SupplyEntry, participant, encounter=None, status=200, extras=None):
    """Render the encounter screen."""
    groups = active_items_by_category()
    return render_template(
        "encounters/form.html",
        form=form,
        groups=groups,
        supplies=supplies,
        participant=participant,
        encounter=encounter,
        recipe=[PARTS[key] for key in current_recipe()],
        previous=last_supplies(participant.id) if participant else {},
        sections=[] if encounter else sections(),
        extras=extras or {},
    ), status


def items_on_screen(encounter: Encounter | None = None) -> list:
    """Return the items the form offers: active ones plus any already on the encounter."""
    items = [item for _, group in active_items_by_category() for item in group]
    if encounter is not None:
        shown = {item.id for item in items}
        items += [line.item for line in encounter.supplies if line.item_id not in shown]
    return items


@blueprint.route("/new", methods=["GET", "POST"])
@permission_required(Permission.LOG_ENCOUNTERS)
def new():
    """Log an encounter: participant, when, where, supplies, collection, reversals, services."""
    participant = chosen_participant()
    form = EncounterForm()
    prepare_form(form, participant)
    if request.method == "GET":
        form.occurred_at.data = (
            utcnow().astimezone(program_zone()).replace(tzinfo=None, second=0, microsecond=0)
        )
        form.participant_id.data = str(participant.id) if participant else ""
        form.participant_mode.data = "known" if participant else "card"
        own_sites = [site for site in current_user.sites if site.active]
        form.site_id.data = own_sites[0].id if own_sites else None
        if own_sites and own_sites[0].kind in CONTACT_AT_SITE:
            form.contact_type.data = CONTACT_AT_SITE[own_sites[0].kind]
        return render_form(form, SupplyEntry({}, {}, {}), participant)
    key = form.idempotency_key.data or ""
    supplies = read_supplies(request.form, items_on_screen())
    data, pending = read_encounter(form, supplies, current_user)
    context = SectionContext(current_user, participant, form.participant_mode.data or "")
    extras = read_sections(context)
    if data is None or any(extra.errors for extra in extras.values()):
        # A resubmit can fail checks the first submit passed (its new participant's code
        # is taken now): if this key already saved an encounter, that is the answer.
        if earlier := earlier_submission(key, "encounter"):
            return already_saved(earlier)
        return render_form(form, supplies, participant, status=422, extras=extras)
    # A resubmit that passes the checks is saved again and refused by its key at the commit,
    # which rolls the copy back: one look-up fewer for every first submit.
    try:
        with pipelined():
            encounter = save_encounter(data, pending, extras)
            participant_id = encounter.participant_id
            winner = commit_once(key, "encounter", encounter.id, current_user.id)
    except (ParticipantExists, IntegrityError):
        # A copy of this form sent at the same moment registered the new participant first
        # (its key is committed with it), or, rarely, someone else registered the same code.
        db.session.rollback()
        if earlier := earlier_submission(key, "encounter"):
            return already_saved(earlier)
        if not isinstance(pending, NewParticipant):
            raise
        form.participant_mode.errors = [
            "Someone registered this code a moment ago: choose Code answers to find them."
        ]
        return render_form(form, supplies, participant, status=409, extras=extras)
    if winner:
        return already_saved(winner)
    flash("Encounter saved.", "success")
    if participant_id:
        return redirect(url_for("clients.detail", participant_id=participant_id))
    return redirect(url_for("encounters.new"))


def already_saved(encounter_id: int):
    """Answer a repeated submit with the encounter its key saved first."""
    flash("This encounter was already saved.", "info")
    return redirect(url_for("encounters.detail", encounter_id=encounter_id))


def save_encounter(
    data: services.EncounterInput, pending: NewParticipant | None, extras: dict
) -> Encounter:
    """Write a checked encounter, with its new participant and its extra sections."""
    if isinstance(pending, NewParticipant):
        data.participant = participant_create(
            code=pending.code,
            demographics=pending.demographics,
            different_person=pending.different_person,
        )
    encounter = services.encounter_create(worker=current_user, data=data)
    for section in sections():
        section.save(encounter, extras[section.key], current_user)
    return encounter


def chosen_participant() -> Participant | None:
    """Return the participant named in ?participant= (or the form), if any."""
    raw = request.values.get("participant") or request.form.get("participant_id") or ""
    if record_id(raw) is None:
        return None
    return live_participant(record_id(raw))


def encounter_or_404(encounter_id: int) -> Encounter:
    """Return an encounter the current user may see, or 404."""
    encounter = db.session.get(Encounter, encounter_id)
    if encounter is None or encounter.deleted_at is not None:
        abort(404)
    return encounter


@blueprint.route("")
@permission_required(Permission.LOG_ENCOUNTERS)
def index():
    """List recent encounters: a worker's own, or everyone's for supervisors."""
    everyone = has_permission(current_user, Permission.EDIT_ANY_ENCOUNTER)
    encounters = recent_encounters(None if everyone else current_user)
    return render_template("encounters/index.html", encounters=encounters, everyone=everyone)


@blueprint.route("/<int:encounter_id>")
@permission_required(Permission.LOG_ENCOUNTERS)
def detail(encounter_id: int):
    """Show one encounter."""
    encounter = encounter_or_404(encounter_id)
    referrals = has_permission(current_user, Permission.MAKE_REFERRALS)
    return render_template(
        "encounters/detail.html",
        encounter=encounter,
        referrals=encounter_referrals(encounter.id) if referrals else None,
        can_edit=services.may_edit(current_user, encounter),
        delete_form=DeleteForm()
        if has_permission(current_user, Permission.DELETE_ENCOUNTERS)
        else None,
    )


def form_from_encounter(encounter: Encounter) -> EncounterForm:
    """Return an edit form filled from a saved encounter."""
    form = EncounterForm()
    form.occurred_at.data = encounter.occurred_at.astimezone(program_zone()).replace(tzinfo=None)
    form.site_id.data = encounter.site_id
    form.contact_type.data = encounter.contact_type
    form.participant_mode.data = "anonymous" if encounter.is_anonymous else "known"
    form.participant_id.data = str(encounter.participant_id or "")
    form.people_count.data = encounter.people_count
    form.collection_method.data = encounter.collection_method or "counted"
    form.syringes_collected.data = encounter.syringes_collected
    form.sharps_litres.data = encounter.sharps_litres
    form.secondary_people.data = encounter.secondary_people
    form.reversals.data = encounter.reversals
    form.reversal_doses.data = encounter.reversal_doses
    form.reversal_outcome.data = encounter.reversal_outcome or ""
    ems = encounter.reversal_ems_called
    form.reversal_ems_called.data = "" if ems is None else ("yes" if ems else "no")
    form.services.data = encounter.service_codes
    form.version.data = str(encounter.version)
    return form


@blueprint.route("/<int:encounter_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.LOG_ENCOUNTERS)
def edit(encounter_id: int):
    """Edit an encounter; a stale edit shows both versions instead of overwriting."""
    encounter = encounter_or_404(encounter_id)
    if not services.may_edit(current_user, encounter):
        abort(403)
    participant = encounter.participant
    if request.method == "GET":
        form = form_from_encounter(encounter)
        prepare_form(form, participant)
        values = {line.item_id: str(line.quantity) for line in encounter.supplies}
        return render_form(form, SupplyEntry(values, {}, {}), participant, encounter)
    form = EncounterForm()
    prepare_form(form, participant)
    supplies = read_supplies(request.form, items_on_screen(encounter))
    data, pending = read_encounter(form, supplies, current_user)
    if data is None or pending is not None:
        if pending is not None:
            form.participant_mode.errors = ["Register new participants from a new encounter."]
        return render_form(form, supplies, participant, encounter, status=422)
    expected = record_id(form.version.data) or -1
    try:
        services.encounter_update(encounter=encounter, data=data, expected_version=expected)
        db.session.commit()
    except (services.StaleEdit, StaleDataError):
        db.session.rollback()
        current = encounter_or_404(encounter_id)
        if services.already_says(current, data):
            # The same edit sent again (a retry, a second tap): nothing of it is lost.
            flash("These changes were already saved.", "info")
            return redirect(url_for("encounters.detail", encounter_id=encounter_id))
        return render_template(
            "encounters/conflict.html",
            current=current,
            mine=data,
            supplies=supplies,
            items={item.id: item for item in items_on_screen(current)},
        ), 409
    flash("Encounter updated.", "success")
    return redirect(url_for("encounters.detail", encounter_id=encounter.id))


@blueprint.route("/<int:encounter_id>/delete", methods=["POST"])
@permission_required(Permission.DELETE_ENCOUNTERS)
def delete(encounter_id: int):
    """Remove an encounter from the record (soft delete with a reason)."""
    encounter = encounter_or_404(encounter_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash("Choose why the encounter is removed.", "error")
        return redirect(url_for("encounters.detail", encounter_id=encounter.id))
    services.encounter_delete(encounter=encounter, reason=form.reason.data, by=current_user)
    db.session.commit()
    flash("Encounter removed. Reports no longer count it.", "success")
    return redirect(url_for("encounters.index"))
