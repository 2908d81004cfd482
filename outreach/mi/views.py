"""MI note pages: read a note, edit your own, add one to an encounter with a participant."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.mi import access, services
from outreach.mi.crypto import NotesKeyError
from outreach.mi.forms import (
    CHOICES,
    NoteEditForm,
    NoteForm,
    read_note,
    values_of,
)
from outreach.mi.hooks import continuity_of
from outreach.mi.models import MINote
from outreach.mi.queries import note_for_encounter, previous_note
from outreach.mi.reading import read_as
from outreach.security import Permission, has_permission, permission_required, scripted_save
from outreach.urls import record_id

blueprint = Blueprint("mi", __name__, url_prefix="/mi")

UNREADABLE = (
    "The text of this note cannot be decrypted with the configured notes keys. "
    "Ask your administrator to check NOTES_KEY and NOTES_KEYS_OLD."
)


@blueprint.app_context_processor
def mi_choices() -> dict:
    """Give templates the MI labels and choices."""
    return {"mi_choices": CHOICES}


def note_or_404(note_id: int) -> MINote:
    """Return a note whose encounter is on record, or 404."""
    note = db.session.get(MINote, note_id)
    if note is None or not access.is_live(note):
        abort(404)
    return note


def encounter_or_404(encounter_id: int) -> Encounter:
    """Return an encounter on record, or 404."""
    encounter = db.session.get(Encounter, encounter_id)
    if encounter is None or encounter.deleted_at is not None:
        abort(404)
    return encounter


@blueprint.route("/notes/<int:note_id>")
def view(note_id: int):
    """Show a note: all of it to its author and supervisors; the newest one's fields to workers."""
    if not has_permission(current_user, Permission.LOG_ENCOUNTERS) and not has_permission(
        current_user, Permission.READ_ALL_MI_NOTES
    ):
        abort(403)
    note = note_or_404(note_id)
    sight = read_as(current_user, note)
    if not sight.fields:
        abort(403)
    db.session.commit()
    return render_template(
        "mi/note.html",
        note=note,
        text=sight.text,
        unreadable=sight.locked,
        can_edit=access.may_edit(current_user, note),
    )


@blueprint.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.LOG_ENCOUNTERS)
def edit(note_id: int):
    """Let the author change their note."""
    note = note_or_404(note_id)
    if not access.may_edit(current_user, note):
        abort(403)
    form = NoteEditForm()
    if request.method == "GET":
        try:
            text = services.mi_note_read(note=note)
        except NotesKeyError:
            flash(UNREADABLE, "error")
            return redirect(url_for("mi.view", note_id=note.id))
        form.version.data = str(note.version)
        db.session.commit()
        return render_form(form, note.encounter, values_of(note, text), {}, note=note)
    entry = read_note(request.form, required=True)
    if not form.validate() or entry.errors:
        return render_form(form, note.encounter, entry.values, entry.errors, note=note, status=422)
    try:
        services.mi_note_update(
            note=note, data=entry.payload, expected_version=record_id(form.version.data) or 0
        )
    except services.StaleNote:
        return stale_edit(form, note, entry)
    db.session.commit()
    flash("MI note updated.", "success")
    return redirect(url_for("mi.view", note_id=note.id))


def stale_edit(form: NoteEditForm, note: MINote, entry):
    """Refuse an edit made from a page opened before the note was saved again: show the
    note as saved now above the form, which keeps what was typed and may save it over.
    The same edit sent twice (a retry, a second tap) is simply already saved."""
    db.session.rollback()
    note = note_or_404(note.id)
    try:
        # Compared, not shown to anyone: a read is audited only when the page shows it.
        same = services.note_says(note, services.open_text(note), entry.payload)
    except NotesKeyError:
        same = False
    if same:
        flash("These changes were already saved.", "info")
        return redirect(url_for("mi.view", note_id=note.id))
    if scripted_save():
        return "", 409  # the script sends the form again to show this page
    saved = read_as(current_user, note).text
    typed = entry.values
    form.version.data = str(note.version)
    db.session.commit()
    return render_form(
        form, note.encounter, typed, {}, note=note, status=409, stale=True, saved=saved
    )


@blueprint.route("/encounters/<int:encounter_id>/note", methods=["GET", "POST"])
@permission_required(Permission.LOG_ENCOUNTERS)
def add(encounter_id: int):
    """Add the MI note of a conversation to an encounter with a participant."""
    encounter = encounter_or_404(encounter_id)
    if encounter.participant_id is None:
        flash("MI notes are kept only for encounters with a participant.", "info")
        return redirect(url_for("encounters.detail", encounter_id=encounter.id))
    if not access.may_add(current_user, encounter):
        abort(403)
    form = NoteForm()
    key = form.idempotency_key.data or ""
    if request.method == "POST" and (earlier := earlier_submission(key, "mi_note")):
        return already_saved(encounter, earlier)
    existing = note_for_encounter(encounter.id)
    if existing is not None and request.method == "GET":
        return already_saved(encounter, existing.id)
    if request.method == "GET":
        return render_form(form, encounter, {}, {})
    entry = read_note(request.form, required=True)
    if existing is not None:
        return note_taken(form, encounter, existing, entry.values)
    if not form.validate() or entry.errors:
        return render_form(form, encounter, entry.values, entry.errors, status=422)
    note = services.mi_note_create(encounter=encounter, author=current_user, data=entry.payload)
    try:
        winner = commit_once(key, "mi_note", note.id, current_user.id)
    except IntegrityError:
        # A copy of this form, or someone else's note for the encounter, came first.
        db.session.rollback()
        if earlier := earlier_submission(key, "mi_note"):
            return already_saved(encounter, earlier)
        existing = note_for_encounter(encounter.id)
        if existing is None:
            raise
        return note_taken(form, encounter, existing, entry.values)
    if winner:
        return already_saved(encounter, winner)
    flash("MI note saved.", "success")
    return redirect(url_for("clients.detail", participant_id=encounter.participant_id))


def already_saved(encounter: Encounter, note_id: int):
    """Answer a repeated add, or the add page of an encounter with a note, with that note."""
    flash("This encounter already has an MI note.", "info")
    return redirect(url_for("mi.view", note_id=note_id))


def note_taken(form: NoteForm, encounter: Encounter, existing: MINote, typed: dict):
    """Refuse a note for an encounter someone else gave one while this was typed: show that
    note (to those who read its text) above the form, which keeps everything typed."""
    if scripted_save():
        return "", 409  # the script sends the form again to show this page
    sight = read_as(current_user, existing)
    db.session.commit()
    return render_form(
        form,
        encounter,
        typed,
        {},
        status=409,
        taken=existing,
        saved=sight.text,
        shown=existing if sight.fields else None,
    )


def render_form(
    form,
    encounter,
    values,
    errors,
    note=None,
    status=200,
    stale=False,
    saved=None,
    taken=None,
    shown=None,
):
    """Render the add or edit page, with the previous note for continuity; a ``stale`` edit
    also shows the note as ``saved`` now (its text, when it could be read), and a refused add
    the note someone else has ``taken`` the encounter with (``shown`` when this user may see
    its fields)."""
    previous = continuity_of(
        previous_note(encounter.participant_id, before=encounter), current_user
    )
    return render_template(
        "mi/form.html",
        form=form,
        encounter=encounter,
        note=note,
        values=values,
        errors={**errors, **{f: " ".join(m) for f, m in form.errors.items()}},
        previous=previous,
        stale=stale,
        saved=saved,
        taken=taken,
        shown=shown,
    ), status
