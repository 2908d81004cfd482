"""Login (with its second step), logout, password change and keep-alive."""

import time

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

from outreach.auth import mfa, services
from outreach.auth.forms import ChangePasswordForm, LoginForm, SecondFactorForm
from outreach.auth.passwords import password_problems, verify_password
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.urls import safe_next
from outreach.users.models import User

blueprint = Blueprint("auth", __name__, url_prefix="/auth")
LOGIN_FAILED = "Login failed."
CODE_FAILED = "That code did not work. Use the newest code the app shows, or a recovery code."
#: Cookie key of a login waiting for its second factor, and how long it may wait.
PENDING = "second_factor"
PENDING_SECONDS = 300


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.login_attempt(username=form.username.data, password=form.password.data)
        if user is None:
            db.session.commit()
            form.password.data = ""
            return render_template("auth/login.html", form=form, failed=LOGIN_FAILED), 401
        cookie_session.clear()
        target = safe_next(request.args.get("next"), url_for("main.home"))
        if mfa.is_enrolled(user.id):
            services.login_challenge(user=user)
            db.session.commit()
            cookie_session[PENDING] = pending_state(user, target)
            return redirect(url_for("auth.login_code"))
        services.login_complete(user=user)
        db.session.commit()
        login_user(user)
        return redirect(target)
    timed_out = request.args.get("timeout") == "1"
    return render_template("auth/login.html", form=form, timed_out=timed_out)


def pending_state(user: User, target: str) -> dict:
    """Return what the cookie holds between the password and the code: no session yet."""
    last_login = user.last_login_at.isoformat() if user.last_login_at else ""
    return {"user": user.id, "at": int(time.time()), "last_login": last_login, "next": target}


def pending_user(state) -> User | None:
    """Return the user a pending login is for, unless it is missing, old or already used."""
    if not isinstance(state, dict) or not isinstance(state.get("user"), int):
        return None
    if not 0 <= time.time() - state.get("at", 0) <= PENDING_SECONDS:
        return None
    user = db.session.get(User, state["user"])
    if user is None or not user.active:
        return None
    last_login = user.last_login_at.isoformat() if user.last_login_at else ""
    if state.get("last_login") != last_login:
        return None
    return user


@blueprint.route("/login/code", methods=["GET", "POST"])
def login_code():
    """Second step of logging in: the code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    state = cookie_session.get(PENDING)
    user = pending_user(state)
    if user is None:
        cookie_session.pop(PENDING, None)
        return render_template("auth/login_code.html", expired=True)
    form = SecondFactorForm()
    if form.validate_on_submit():
        accepted = services.second_factor_attempt(user=user, code=form.code.data)
        db.session.commit()
        if accepted:
            cookie_session.clear()
            login_user(user)
            return redirect(safe_next(state.get("next"), url_for("main.home")))
        form.code.data = ""
        if user.locked_until and user.locked_until > utcnow():
            cookie_session.pop(PENDING, None)
            return render_template("auth/login.html", form=LoginForm(), failed=LOGIN_FAILED), 401
        return render_template("auth/login_code.html", form=form, failed=CODE_FAILED), 401
    return render_template("auth/login_code.html", form=form), 422 if form.errors else 200


@blueprint.route("/logout", methods=["POST"])
def logout():
    """End the session on the server and in the browser."""
    services.logout(user=current_user, session_record=g.get("session_record"))
    db.session.commit()
    logout_user()
    cookie_session.clear()
    flash("You are logged out.", "info")
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@blueprint.route("/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password (forced after first login or a reset)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        elif form.new_password.data == form.current_password.data:
            # A forced change must replace the password an administrator has seen.
            form.new_password.errors.append("Choose a password different from the current one.")
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
