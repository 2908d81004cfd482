"""Referral pages: follow-up queue, referral detail and status, new referral, agency directory."""

import uuid
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from outreach.clients.models import Participant
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.referrals import agencies, services
from outreach.referrals.forms import (
    TYPE_CHOICES,
    AgencyEditForm,
    AgencyForm,
    QueueFilterForm,
    ReferralForm,
    StatusForm,
)
from outreach.referrals.models import DEFAULT_FOLLOW_UP_DAYS, STATUS_LABELS, Agency, Referral
from outreach.referrals.queries import (
    QUEUE_PAGE_SIZE,
    QueueFilters,
    follow_up_queue,
    queue_sites,
    queue_workers,
    referral_with_history,
)
from outreach.security import Permission, permission_required
from outreach.templating import when
from outreach.urls import record_id
from outreach.users.forms import ConfirmForm
from outreach.users.models import Role

blueprint = Blueprint("referrals", __name__)


@blueprint.context_processor
def referral_helpers() -> dict:
    """Give this blueprint's templates fresh idempotency keys and the type names."""
    return {"new_key": lambda: str(uuid.uuid4()), "type_labels": dict(TYPE_CHOICES)}


#: Encounters a referral can be added to from the participant's page.
RECENT_ENCOUNTERS = 10


def form_errors(form, error: services.ReferralError, fallback: str) -> None:
    """Put each service message at its form field (or at the fallback field)."""
    for name, message in error.errors.items():
        target = form[name] if name in form else form[fallback]
        target.errors = [*target.errors, message]


def read_filters(form: QueueFilterForm) -> QueueFilters:
    """Turn the queue's query string into filters; workers see their own unless they choose."""
    default = "mine" if current_user.role == Role.WORKER else "all"
    worker = request.args.get("worker") or default
    type_codes = {code for code, _ in TYPE_CHOICES}
    site = request.args.get("site", "")
    form.worker.data = worker if worker in ("mine", "all") or record_id(worker) else default
    form.type.data = request.args.get("type") if request.args.get("type") in type_codes else ""
    form.site.data = site if record_id(site) else ""
    worker_id = {"mine": current_user.id, "all": None}.get(form.worker.data)
    if record_id(form.worker.data):
        worker_id = record_id(form.worker.data)
    return QueueFilters(
        worker_id=worker_id,
        referral_type=form.type.data or None,
        site_id=record_id(form.site.data),
    )


@blueprint.route("/referrals/queue")
@permission_required(Permission.MAKE_REFERRALS)
def queue():
    """Referrals whose follow-up date has come, oldest first, overdue ones marked."""
    form = QueueFilterForm(formdata=None)
    filters = read_filters(form)
    form.worker.choices = [("mine", "My referrals"), ("all", "Everyone")] + [
        (str(user.id), user.username) for user in queue_workers()
    ]
    form.type.choices = [("", "All types"), *TYPE_CHOICES]
    form.site.choices = [("", "All sites")] + [(str(s.id), s.name) for s in queue_sites()]
    page = request.args.get("page", "1")
    page = min(record_id(page) or 1, 10_000)
    today = services.local_today()
    rows, total = follow_up_queue(filters, today, page)
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    return render_template(
        "referrals/queue.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        today=today,
        filter_args={"worker": form.worker.data, "type": form.type.data, "site": form.site.data},
    )


def referral_or_404(referral_id: int) -> Referral:
    """Return a referral on record with its history, or 404."""
    referral = referral_with_history(referral_id)
    if referral is None:
        abort(404)
    return referral


def render_detail(referral: Referral, form: StatusForm | None = None, status: int = 200):
    """Render a referral with its history and, while open, the status form."""
    if form is None:
        form = StatusForm(formdata=None)
        form.expected_status.data = referral.status
        form.linked_on.data = services.local_today()
    form.limit_statuses(referral.next_statuses)
    return render_template(
        "referrals/detail.html",
        referral=referral,
        form=form if referral.can_follow_up else None,
        site=referral.encounter.site,
    ), status


@blueprint.route("/referrals/<int:referral_id>")
@permission_required(Permission.MAKE_REFERRALS)
def detail(referral_id: int):
    """Show a referral, its agency and its status history."""
    return render_detail(referral_or_404(referral_id))


def after_status(form: StatusForm, referral: Referral):
    """Go back where the change was made: the queue (with its filters) or the referral."""
    if form.back.data == "queue":
        args = {"worker": form.worker.data, "type": form.type.data, "site": form.site.data}
        return redirect(url_for("referrals.queue", **{k: v for k, v in args.items() if v}))
    return redirect(url_for("referrals.detail", referral_id=referral.id))


@blueprint.route("/referrals/<int:referral_id>/status", methods=["POST"])
@permission_required(Permission.MAKE_REFERRALS)
def status(referral_id: int):
    """Move a referral to its next status (one tap from the queue, or the detail form)."""
    referral = referral_or_404(referral_id)
    form = StatusForm()
    form.limit_statuses(referral.next_statuses)
    if not form.validate():
        return render_detail(referral, form, 422)
    key = form.idempotency_key.data
    if earlier_submission(key, "referral_status"):
        flash("This change was already saved.", "info")
        return after_status(form, referral)
    try:
        change = services.referral_status_change(
            referral=referral,
            to_status=form.status.data,
            by=current_user,
            linked_on=form.linked_on.data,
            follow_up_on=form.follow_up_on.data,
            reason_code=form.reason_code.data,
            reason_text=form.reason_text.data,
            expected_status=form.expected_status.data,
        )
    except services.ReferralError as error:
        if not referral.can_follow_up:
            flash(" ".join(error.errors.values()), "error")
        form_errors(form, error, "status")
        return render_detail(referral, form, 422)
    except StaleDataError:
        db.session.rollback()
        flash("Someone changed this referral at the same moment; check it and try again.", "error")
        return redirect(url_for("referrals.detail", referral_id=referral_id))
    if commit_once(key, "referral_status", change.id, current_user.id):
        flash("This change was already saved.", "info")
        return after_status(form, referral)
    flash(f"Referral {STATUS_LABELS[change.to_status].lower()}.", "success")
    return after_status(form, referral)


def encounter_choices(participant: Participant) -> list[tuple[int, str]]:
    """Return the participant's recent encounters (workers: within their backdating window)."""
    query = (
        select(Encounter)
        .where(Encounter.participant_id == participant.id, Encounter.deleted_at.is_(None))
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(RECENT_ENCOUNTERS)
    )
    if current_user.role == Role.WORKER:
        days = current_app.config["WORKER_BACKDATE_DAYS"]
        query = query.where(Encounter.occurred_at >= utcnow() - timedelta(days=days))
    encounters = db.session.scalars(query).unique()
    return [(item.id, f"{when(item.occurred_at)} · {item.site.name}") for item in encounters]


def create_referral(form: ReferralForm, participant: Participant):
    """Save the referral the form describes and redirect, or put messages at its fields."""
    allowed = {value for value, _ in form.encounter_id.choices}
    if form.encounter_id.data not in allowed:
        form.encounter_id.errors = ["Choose one of the participant's recent encounters."]
        return None
    agency_raw = form.agency_id.data or ""
    if agency_raw and not record_id(agency_raw):
        form.agency_id.errors = [services.AGENCY_UNKNOWN]
        return None
    key = form.idempotency_key.data
    try:
        referral = services.referral_create(
            encounter=db.session.get(Encounter, form.encounter_id.data),
            referral_type=form.referral_type.data,
            agency_id=record_id(agency_raw),
            follow_up_on=form.follow_up_on.data,
            by=current_user,
        )
    except services.ReferralError as error:
        form_errors(form, error, "referral_type")
        return None
    commit_once(key, "referral", referral.id, current_user.id)
    return redirect(url_for("clients.detail", participant_id=participant.id))


@blueprint.route("/participants/<int:participant_id>/referrals/new", methods=["GET", "POST"])
@permission_required(Permission.MAKE_REFERRALS)
def new(participant_id: int):
    """Add a referral for a participant, made at one of their recent encounters."""
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.deleted_at is not None:
        abort(404)
    form = ReferralForm()
    form.encounter_id.choices = encounter_choices(participant)
    options = agencies.active_agencies()
    form.referral_type.choices = [("", "Choose…"), *TYPE_CHOICES]
    form.agency_id.choices = [("", "No agency, or not listed")] + [
        (str(agency.id), agency.name) for agency in options
    ]
    if request.method == "POST" and form.validate():
        key = form.idempotency_key.data
        if earlier := earlier_submission(key, "referral"):
            flash("This referral was already saved.", "info")
            return redirect(url_for("referrals.detail", referral_id=earlier))
        if saved := create_referral(form, participant):
            flash("Referral saved.", "success")
            return saved
    status = 422 if form.errors else 200
    return render_template(
        "referrals/new.html",
        form=form,
        participant=participant,
        agencies=options,
        default_days={kind.value: days for kind, days in DEFAULT_FOLLOW_UP_DAYS.items()},
        today=services.local_today(),
    ), status


@blueprint.route("/referrals/agencies")
@permission_required(Permission.MAKE_REFERRALS)
def directory():
    """The agency directory for workers: what each takes, contact details, notes."""
    chosen = request.args.get("type", "")
    listed = agencies.active_agencies()
    if chosen in {code for code, _ in TYPE_CHOICES}:
        listed = [agency for agency in listed if chosen in agency.type_codes]
    else:
        chosen = ""
    return render_template(
        "referrals/directory.html", agencies=listed, chosen=chosen, types=TYPE_CHOICES
    )


@blueprint.route("/admin/agencies")
@permission_required(Permission.MANAGE_CATALOG)
def agencies_index():
    """The agency directory, for administrators."""
    return render_template("referrals/agencies.html", agencies=agencies.all_agencies())


@blueprint.route("/admin/agencies/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOG)
def agency_create():
    """Add an agency; a double submit ends on the first one's agency."""
    form = AgencyForm()
    if form.validate_on_submit():
        key = form.idempotency_key.data
        if earlier_submission(key, "agency"):
            flash("This agency was already added.", "info")
            return redirect(url_for("referrals.agencies_index"))
        try:
            agency = agencies.agency_create(**form.agency_fields())
        except services.ReferralError as error:
            form_errors(form, error, "name")
        else:
            commit_once(key, "agency", agency.id, current_user.id)
            flash(f"{agency.name} is added to the directory.", "success")
            return redirect(url_for("referrals.agencies_index"))
    return render_template("referrals/agency_form.html", form=form), 422 if form.errors else 200


@blueprint.route("/admin/agencies/<int:agency_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOG)
def agency_edit(agency_id: int):
    """Change an agency, take it out of the lists, or remove it if no referral names it."""
    agency = db.get_or_404(Agency, agency_id)
    form = AgencyEditForm(obj=agency)
    if request.method == "GET":
        form.types.data = agency.type_codes
    elif form.validate_on_submit():
        try:
            agencies.agency_update(agency=agency, active=form.active.data, **form.agency_fields())
        except services.ReferralError as error:
            db.session.rollback()
            form_errors(form, error, "name")
        else:
            db.session.commit()
            flash(f"{agency.name} is saved.", "success")
            return redirect(url_for("referrals.agencies_index"))
    return render_template(
        "referrals/agency_form.html",
        form=form,
        agency=agency,
        in_use=agencies.agency_in_use(agency.id),
    ), 422 if form.errors else 200


@blueprint.route("/admin/agencies/<int:agency_id>/delete", methods=["POST"])
@permission_required(Permission.MANAGE_CATALOG)
def agency_delete(agency_id: int):
    """Remove an agency that no referral names."""
    agency = db.get_or_404(Agency, agency_id)
    confirmed = request.form.get("confirm") == str(agency.id)
    if not (ConfirmForm().validate_on_submit() and confirmed):
        flash("The agency was not removed: the form is out of date; try again.", "error")
        return redirect(url_for("referrals.agency_edit", agency_id=agency.id))
    name = agency.name
    try:
        agencies.agency_delete(agency=agency)
    except services.ReferralError as error:
        flash(error.errors["agency"], "error")
        return redirect(url_for("referrals.agency_edit", agency_id=agency.id))
    db.session.commit()
    flash(f"{name} is removed from the directory.", "success")
    return redirect(url_for("referrals.agencies_index"))
