"""The administrators' upload page of an encounter import, and its report."""

import json

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from outreach.audit.models import AuditEvent
from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.imports import services
from outreach.imports.forms import ImportForm
from outreach.imports.parser import COLUMNS, REQUIRED
from outreach.security import Permission, permission_required

blueprint = Blueprint("imports", __name__, url_prefix="/admin/import")

ENTITY = "encounter_import"
CONCURRENT = (
    "Another import wrote some of these encounters at the same time, so nothing was imported. "
    "Upload the file again: rows imported since are skipped."
)


def render_upload(form: ImportForm, report=None, status: int = 200):
    """Render the upload form, with the report of the last file checked."""
    return render_template(
        "imports/upload.html", form=form, report=report, columns=COLUMNS, required=REQUIRED
    ), status


@blueprint.route("/", methods=["GET", "POST"])
@permission_required(Permission.IMPORT_DATA)
def upload():
    """Check or import a CSV file of past encounters; all rows or none are written."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_upload(form, status=422 if form.errors else 200)
    key = form.idempotency_key.data
    if earlier := earlier_submission(key, ENTITY):
        return already_imported(earlier)
    data = form.file.data.read()
    try:
        report = services.import_file(data=data, dry_run=form.dry_run.data, actor=current_user)
        saving = report.ok and not report.dry_run
        if saving and (winner := commit_once(key, ENTITY, report.event_id, current_user.id)):
            return already_imported(winner)
    except IntegrityError:
        db.session.rollback()
        form.file.errors = [CONCURRENT]
        return render_upload(form, status=409)
    if not report.ok:
        db.session.rollback()
        return render_upload(form, report, status=422)
    if report.dry_run:
        db.session.rollback()
        # The next step is the import itself: a fresh form, "Dry run" unticked.
        return render_upload(ImportForm(formdata=None), report)
    flash(f"Imported {report.encounters_created:,} encounter(s).", "success")
    return redirect(url_for("imports.result", event_id=report.event_id))


def already_imported(event_id: int):
    """Answer a repeated submit with the first import's result."""
    flash("This file was already imported.", "info")
    return redirect(url_for("imports.result", event_id=event_id))


@blueprint.route("/<int:event_id>")
@permission_required(Permission.IMPORT_DATA)
def result(event_id: int):
    """Show the counts of a finished import, from its audit event."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.action != services.AUDIT_ACTION:
        abort(404)
    return render_template("imports/result.html", event=event, counts=json.loads(event.data))
