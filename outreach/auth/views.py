"""Login, logout, password change and keep-alive."""

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_login import current_user, login_user, logout_user

from outreach.auth import services
from outreach.auth.forms import ChangePasswordForm, LoginForm
from outreach.auth.passwords import password_problems, verify_password
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.urls import safe_next

blueprint = Blueprint("auth", __name__, url_prefix="/auth")
LOGIN_FAILED = "Login failed."


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.login_attempt(username=form.username.data, password=form.password.data)
        db.session.commit()
        if user is None:
            form.password.data = ""
            return render_template("auth/login.html", form=form, failed=LOGIN_FAILED), 401
        cookie_session.clear()
        login_user(user)
        return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    timed_out = request.args.get("timeout") == "1"
    return render_template("auth/login.html", form=form, timed_out=timed_out)


@blueprint.route("/logout", methods=["POST"])
def logout():
    """End the session on the server and in the browser."""
    services.logout(user=current_user, session_record=g.get("session_record"))
    db.session.commit()
    logout_user()
    cookie_session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password (forced after first login or a reset)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            problems = password_problems(form.new_password.data, current_user.username)
            form.new_password.errors.extend(problems)
        if not form.errors:
            services.password_change(
                user=current_user,
                new_password=form.new_password.data,
                end_other_sessions=form.end_other_sessions.data,
            )
            db.session.commit()
            flash("Your password is changed.", "success")
            return redirect(url_for("main.home"))
    status = 422 if form.errors else 200
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    return render_template("auth/change_password.html", form=form, minimum=minimum), status


@blueprint.route("/keepalive", methods=["POST"])
def keepalive():
    """Keep a session alive while the worker is typing; report seconds left."""
    record = g.get("session_record")
    if record is not None:
        record.last_seen_at = utcnow()
        db.session.commit()
    return jsonify(idle_seconds=current_app.config["SESSION_IDLE_MINUTES"] * 60)
