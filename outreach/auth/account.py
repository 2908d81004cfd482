"""One's own account: two-factor login settings and one's sessions (seen and ended)."""

import time

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask import session as cookie_session
from flask_login import current_user

from outreach.auth import mfa, services
from outreach.auth.forms import PasswordConfirmForm, SetupCodeForm
from outreach.auth.models import UserSession
from outreach.auth.sessions import live_sessions
from outreach.extensions import db
from outreach.users.forms import ConfirmForm

blueprint = Blueprint("account", __name__, url_prefix="/auth")
blueprint.record_once(
    lambda state: mfa.parse_required_roles(state.app.config["MFA_REQUIRED_ROLES"])
)
#: The three password forms on the account page, each with its own field names.
PASSWORD_FORMS = ("setup", "codes", "off")
#: Cookie key noting that the password was typed again, and for how long that counts.
CONFIRMED = "password_confirmed"
CONFIRMED_SECONDS = 300


def password_forms() -> dict[str, PasswordConfirmForm]:
    """Return the account page's password forms, keyed by prefix."""
    return {prefix: PasswordConfirmForm(prefix=prefix) for prefix in PASSWORD_FORMS}


def render_account(forms: dict | None = None, status: int = 200):
    """Render the account page."""
    return render_template(
        "auth/account.html",
        forms=forms or password_forms(),
        enrolled=mfa.is_enrolled(current_user.id),
        required=mfa.is_required(current_user),
        codes_left=mfa.recovery_codes_left(current_user.id),
        other_sessions=len(live_sessions(current_user.id)) - 1,
    ), status


def confirmed_password(prefix: str):
    """Return the account page's forms, and whether the form ``prefix`` holds the password."""
    forms = password_forms()
    form = forms[prefix]
    if form.validate_on_submit():
        if services.reauthenticate(user=current_user, password=form.password.data):
            mark_confirmed()
            return forms, True
        db.session.commit()
        form.password.errors.append("That is not your password.")
    return forms, False


def render_codes(codes: list[str], new_app: bool):
    """Show new recovery codes once, and offer to log out the other devices."""
    return render_template(
        "auth/recovery_codes.html",
        codes=codes,
        new_app=new_app,
        other_sessions=len(live_sessions(current_user.id)) - 1,
        action_form=ConfirmForm(),
    )


@blueprint.route("/account")
def index():
    """Show one's password, two-factor and session settings."""
    return render_account()


@blueprint.route("/two-factor/setup", methods=["POST"])
def mfa_start():
    """After the password again, make a new secret and go on to scan it."""
    forms, confirmed = confirmed_password("setup")
    if not confirmed:
        return render_account(forms, 422)
    mfa.mfa_setup_start(user=current_user)
    db.session.commit()
    return redirect(url_for("account.mfa_confirm"))


@blueprint.route("/two-factor/confirm", methods=["GET", "POST"])
def mfa_confirm():
    """Show the QR code of the new secret and turn it on with its first code."""
    secret = mfa.pending_secret(current_user)
    if secret is None:
        flash("Start two-factor set-up here.", "info")
        return redirect(url_for("account.index"))
    form = SetupCodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa.mfa_setup_confirm(user=current_user, code=form.code.data)
        except mfa.MfaError as error:
            form.code.errors.append(str(error))
        else:
            db.session.commit()
            return render_codes(codes, new_app=True)
    uri = mfa.provisioning_uri(secret, current_user.username)
    return render_template(
        "auth/mfa_confirm.html", form=form, qr=mfa.qr_data_uri(uri), key=mfa.grouped(secret)
    ), 422 if form.errors else 200


@blueprint.route("/two-factor/recovery-codes", methods=["POST"])
def mfa_recovery_codes():
    """After the password again, replace one's recovery codes and show the new ones once."""
    forms, confirmed = confirmed_password("codes")
    if not confirmed:
        return render_account(forms, 422)
    try:
        codes = mfa.mfa_recovery_codes_renew(user=current_user)
    except mfa.MfaError as error:
        forms["codes"].password.errors.append(str(error))
        return render_account(forms, 422)
    db.session.commit()
    return render_codes(codes, new_app=False)


@blueprint.route("/two-factor/disable", methods=["POST"])
def mfa_disable():
    """After the password again, turn two-factor login off (unless the role requires it)."""
    forms, confirmed = confirmed_password("off")
    if not confirmed:
        return render_account(forms, 422)
    try:
        mfa.mfa_disable(user=current_user)
    except mfa.MfaError as error:
        forms["off"].password.errors.append(str(error))
        return render_account(forms, 422)
    db.session.commit()
    flash("Two-factor login is off. You can log out your other devices here.", "success")
    return redirect(url_for("account.sessions"))


def current_session_id() -> int | None:
    """Return the id of this browser's server-side session."""
    current = g.get("session_record")
    return current.id if current else None


def mark_confirmed() -> None:
    """Note in this session that the password was just typed again."""
    cookie_session[CONFIRMED] = {"session": current_session_id(), "at": int(time.time())}


def recently_confirmed() -> bool:
    """Tell whether the password was typed again in this session within the last minutes."""
    mark = cookie_session.get(CONFIRMED)
    if not isinstance(mark, dict) or mark.get("session") != current_session_id():
        return False
    return 0 <= time.time() - mark.get("at", 0) <= CONFIRMED_SECONDS


def render_sessions(form: PasswordConfirmForm | None = None, status: int = 200):
    """Render the list of one's sessions."""
    return render_template(
        "auth/sessions.html",
        sessions=live_sessions(current_user.id),
        current_id=current_session_id(),
        action_form=ConfirmForm(),
        confirm_form=form or PasswordConfirmForm(),
        confirmed=recently_confirmed(),
    ), status


@blueprint.route("/sessions")
def sessions():
    """List one's live sessions, this one marked."""
    return render_sessions()


@blueprint.route("/sessions/confirm", methods=["POST"])
def sessions_confirm():
    """Take the password again before sessions may be ended from this one (for 5 minutes)."""
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if services.reauthenticate(user=current_user, password=form.password.data):
            mark_confirmed()
            return redirect(url_for("account.sessions"))
        db.session.commit()
        form.password.errors.append("That is not your password.")
    return render_sessions(form, 422)


def needs_confirmation():
    """Send the user back to type the password again, unless they just did."""
    if recently_confirmed():
        return None
    flash("Type your password again before ending sessions.", "info")
    return redirect(url_for("account.sessions"))


@blueprint.route("/sessions/<int:session_id>/end", methods=["POST"])
def session_end(session_id: int):
    """End one of one's other sessions on the server."""
    record = db.session.get(UserSession, session_id)
    mine = record is not None and record.user_id == current_user.id
    if not mine or not ConfirmForm().validate_on_submit():
        abort(404)
    if refused := needs_confirmation():
        return refused
    if record.id == current_session_id():
        flash("To end this session, log out.", "info")
    elif record.ended_at is None:
        services.own_session_end(user=current_user, session_record=record)
        db.session.commit()
        flash("That session is ended.", "success")
    return redirect(url_for("account.sessions"))


@blueprint.route("/sessions/end-others", methods=["POST"])
def sessions_end_others():
    """End every session of one's own but this one."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if refused := needs_confirmation():
        return refused
    ended = services.own_sessions_end_others(user=current_user)
    db.session.commit()
    flash(f"{ended} other session(s) ended." if ended else "No other sessions.", "success")
    return redirect(url_for("account.sessions"))
