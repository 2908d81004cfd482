"""Finding participants, their history page, demographics, and the code recipe setting."""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField

from outreach.clients.codes import PARTS, RECIPE_LABELS, RECIPES, CodeError
from outreach.clients.forms import (
    DEMOGRAPHIC_LABELS,
    DemographicsMixin,
    IdentifyMixin,
    add_answer_fields,
)
from outreach.clients.models import Participant
from outreach.clients.panels import loaded_panels
from outreach.clients.queries import participant_profile
from outreach.clients.services import (
    current_recipe,
    current_recipe_name,
    participant_by_card,
    participant_update,
    recipe_set,
)
from outreach.encounters.entry import participant_from_answers
from outreach.encounters.queries import last_supplies, participant_history
from outreach.extensions import db
from outreach.security import Permission, permission_required
from outreach.urls import record_url_maker

blueprint = Blueprint("clients", __name__)


@add_answer_fields
class FindForm(FlaskForm, IdentifyMixin):
    """Find a participant by card code or code answers."""


class DemographicsForm(FlaskForm, DemographicsMixin):
    """Edit a participant's demographics."""


class RecipeForm(FlaskForm):
    """Choose the participant code recipe."""

    recipe = RadioField("Code recipe", choices=list(RECIPE_LABELS.items()))


def participant_or_404(participant_id: int) -> Participant:
    """Return a participant on record, or 404."""
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.deleted_at is not None:
        abort(404)
    return participant


@blueprint.route("/participants/find", methods=["GET", "POST"])
@permission_required(Permission.VIEW_PARTICIPANTS)
def find():
    """Find a participant by card code or by re-entering the code answers."""
    form = FindForm()
    form.participant_mode.choices = [("card", "Card code"), ("answers", "Code answers")]
    if form.validate_on_submit():
        found = None
        if form.participant_mode.data == "card":
            try:
                found = participant_by_card(form.card_code.data or "")
            except CodeError as error:
                form.card_code.errors = [error.message]
        else:
            found = participant_from_answers(form)
        if found is not None:
            return redirect(url_for("clients.detail", participant_id=found.id))
    recipe = [PARTS[key] for key in current_recipe()]
    status = 422 if form.errors else 200
    return render_template("clients/find.html", form=form, recipe=recipe), status


@blueprint.route("/participants/lookup", methods=["POST"])
@permission_required(Permission.VIEW_PARTICIPANTS)
def lookup():
    """Answer the encounter screen: who has this card code, and what they had last time."""
    try:
        participant = participant_by_card(request.form.get("card_code", ""))
    except CodeError as error:
        return jsonify(found=False, message=error.message), 404
    return jsonify(
        found=True,
        participant_id=participant.id,
        card_code=participant.card_code,
        last_supplies={str(key): value for key, value in last_supplies(participant.id).items()},
    )


@blueprint.route("/participants/<int:participant_id>")
@permission_required(Permission.VIEW_PARTICIPANTS)
def detail(participant_id: int):
    """Show a participant's card code, demographics and history, newest first."""
    profile = participant_profile(participant_id)
    if profile is None:
        abort(404)
    participant = profile.participant
    return render_template(
        "clients/detail.html",
        participant=participant,
        profile=profile,
        labels=DEMOGRAPHIC_LABELS,
        history=participant_history(participant.id),
        encounter_url=record_url_maker("encounters.detail", "encounter_id"),
        panels=loaded_panels(participant, current_user),
    )


@blueprint.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.VIEW_PARTICIPANTS)
def edit(participant_id: int):
    """Change a participant's demographics."""
    participant = participant_or_404(participant_id)
    form = DemographicsForm()
    if request.method == "GET":
        form.birth_year.data = participant.birth_year
        form.age_band.data = participant.age_band or ""
        form.gender.data = participant.gender or ""
        form.races.data = participant.race_codes
        form.zip3.data = participant.zip3
        form.substances.data = participant.substance_codes
        form.injects.data = {True: "yes", False: "no"}.get(participant.injects, "")
    elif form.validate_on_submit():
        participant_update(participant=participant, demographics=form.demographics())
        db.session.commit()
        flash("Participant updated.", "success")
        return redirect(url_for("clients.detail", participant_id=participant.id))
    status = 422 if form.errors else 200
    return render_template("clients/edit.html", form=form, participant=participant), status


@blueprint.route("/admin/participant-codes", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOG)
def recipe():
    """Choose which answers make a participant's code."""
    form = RecipeForm()
    if request.method == "GET":
        form.recipe.data = current_recipe_name()
    elif form.validate_on_submit():
        recipe_set(name=form.recipe.data)
        db.session.commit()
        flash("The participant code recipe is saved.", "success")
        return redirect(url_for("clients.recipe"))
    parts = {name: [PARTS[key] for key in keys] for name, keys in RECIPES.items()}
    status = 422 if form.errors else 200
    return render_template("clients/recipe.html", form=form, parts=parts), status
