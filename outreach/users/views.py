"""Administration pages: users and their sessions, and sites."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from outreach.auth import mfa
from outreach.auth.models import UserSession
from outreach.auth.sessions import live_sessions
from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.inventory.queries import site_holds_stock
from outreach.security import Permission, permission_required
from outreach.users import services
from outreach.users.forms import ConfirmForm, SiteForm, UserCreateForm, UserRoleForm
from outreach.users.models import Role, Site, SiteKind, User
from outreach.users.queries import all_sites, all_users, site_choices

blueprint = Blueprint("users", __name__, url_prefix="/admin")
STRANDED_STOCK = (
    "{site} still has stock on the ledger: a supervisor can move it to another site, "
    "count it or write it off on the Stock page."
)


@blueprint.route("/users")
@permission_required(Permission.MANAGE_USERS)
def index():
    """List users with their role, sites and last login."""
    return render_template("users/index.html", users=all_users())


@blueprint.route("/users/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def create():
    """Create a user and show their one-time password once."""
    form = UserCreateForm()
    form.sites.choices = site_choices()
    if form.validate_on_submit():
        key = form.idempotency_key.data
        if earlier := earlier_submission(key, "user"):
            return already_created(earlier)
        try:
            user, password = services.user_create(
                username=form.username.data, role=Role(form.role.data), site_ids=form.sites.data
            )
        except services.AdminError as error:
            form[error.field].errors.append(error.message)
        else:
            if winner := commit_once(key, "user", user.id, current_user.id):
                return already_created(winner)
            return render_template("users/created.html", user=user, password=password)
    return render_template("users/create.html", form=form), 422 if form.errors else 200


def already_created(user_id: int):
    """Answer a repeated create with the user the first submit made."""
    flash("This user was already created. If you missed the password, reset it.", "info")
    return redirect(url_for("users.detail", user_id=user_id))


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def detail(user_id: int):
    """Show a user; change their role and sites."""
    user = db.get_or_404(User, user_id)
    form = UserRoleForm()
    form.sites.choices = site_choices()
    if request.method == "GET":
        form.role.data = user.role
        form.sites.data = [site.id for site in user.sites]
    if form.validate_on_submit():
        try:
            services.user_update(user=user, role=Role(form.role.data), site_ids=form.sites.data)
        except services.AdminError as error:
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            flash(f"{user.username} is updated.", "success")
            return redirect(url_for("users.detail", user_id=user.id))
    return render_template(
        "users/detail.html",
        user=user,
        form=form,
        action_form=ConfirmForm(),
        sessions=live_sessions(user.id),
        two_factor=mfa.is_enrolled(user.id),
    ), 422 if form.errors else 200


def user_action(user_id: int, action, done: str):
    """Run one confirmed action on a user and go back to their page."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = action(user=user)
    except services.AdminError as error:
        flash(error.message, "error")
        return redirect(url_for("users.detail", user_id=user.id))
    db.session.commit()
    flash(done.format(username=user.username), "success")
    return result


@blueprint.route("/users/<int:user_id>/deactivate", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
def deactivate(user_id: int):
    """Deactivate a user and end their sessions."""
    user_action(user_id, services.user_deactivate, "{username} is deactivated and logged out.")
    return redirect(url_for("users.detail", user_id=user_id))


@blueprint.route("/users/<int:user_id>/reactivate", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
def reactivate(user_id: int):
    """Let a deactivated user log in again."""
    user_action(user_id, services.user_reactivate, "{username} can log in again.")
    return redirect(url_for("users.detail", user_id=user_id))


@blueprint.route("/users/<int:user_id>/reset-password", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
def reset_password(user_id: int):
    """Give a user a new one-time password and show it once."""
    result = user_action(user_id, services.user_reset_password, "{username} has a new password.")
    if not isinstance(result, str):
        return result
    user = db.session.get(User, user_id)
    return render_template("users/created.html", user=user, password=result, reset=True)


@blueprint.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
def reset_two_factor(user_id: int):
    """Remove a user's second factor (lost phone) and log them out; audited."""
    user_action(user_id, mfa.mfa_reset, "{username} has no second factor now and is logged out.")
    return redirect(url_for("users.detail", user_id=user_id))


@blueprint.route("/users/<int:user_id>/sessions/<int:session_id>/end", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
def end_session(user_id: int, session_id: int):
    """End one of a user's sessions."""
    record = db.get_or_404(UserSession, session_id)
    if record.user_id != user_id or not ConfirmForm().validate_on_submit():
        abort(404)
    if record.ended_at is None:
        services.user_session_end(session_record=record)
        db.session.commit()
    flash("That session is ended.", "success")
    return redirect(url_for("users.detail", user_id=user_id))


@blueprint.route("/sites")
@permission_required(Permission.MANAGE_SITES)
def sites():
    """List sites."""
    return render_template("users/sites.html", sites=all_sites())


@blueprint.route("/sites/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_SITES)
def site_create():
    """Add a site."""
    form = SiteForm()
    if form.validate_on_submit():
        key = form.idempotency_key.data
        if earlier_submission(key, "site"):
            return redirect(url_for("users.sites"))
        try:
            site = services.site_create(name=form.name.data, kind=SiteKind(form.kind.data))
        except services.AdminError as error:
            form[error.field].errors.append(error.message)
        else:
            commit_once(key, "site", site.id, current_user.id)
            flash(f"Site {site.name} is added.", "success")
            return redirect(url_for("users.sites"))
    return render_template("users/site_form.html", form=form), 422 if form.errors else 200


@blueprint.route("/sites/<int:site_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_SITES)
def site_edit(site_id: int):
    """Rename, change the kind of, or deactivate a site."""
    site = db.get_or_404(Site, site_id)
    was_active = site.active
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        try:
            services.site_update(
                site=site,
                name=form.name.data,
                kind=SiteKind(form.kind.data),
                active=form.active.data,
            )
        except services.AdminError as error:
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            flash(f"Site {site.name} is saved.", "success")
            if was_active and not site.active and site_holds_stock(site.id):
                flash(STRANDED_STOCK.format(site=site.name), "warning")
            return redirect(url_for("users.sites"))
    return render_template(
        "users/site_form.html", form=form, site=site
    ), 422 if form.errors else 200
