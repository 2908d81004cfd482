"""Closed by default: the login gate, role permissions and security headers."""

import enum
import hashlib
from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, flash, g, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from outreach.auth.mfa import enrolment_due
from outreach.urls import MAX_ID
from outreach.users.models import Role


class Permission(enum.StrEnum):
    """Something a role may do."""

    LOG_ENCOUNTERS = "log_encounters"
    EDIT_ANY_ENCOUNTER = "edit_any_encounter"
    DELETE_ENCOUNTERS = "delete_encounters"
    VIEW_PARTICIPANTS = "view_participants"
    MAKE_REPORTS = "make_reports"
    MANAGE_STOCK = "manage_stock"
    MANAGE_USERS = "manage_users"
    MANAGE_SITES = "manage_sites"
    MANAGE_CATALOG = "manage_catalog"
    VIEW_AUDIT = "view_audit"
    #: Import past encounters from another system's CSV file (administrators).
    IMPORT_DATA = "import_data"
    #: Read every MI note, text included (supervisors; authors always read their own).
    READ_ALL_MI_NOTES = "read_all_mi_notes"
    #: Make referrals, follow them up and record linkage (workers and supervisors).
    MAKE_REFERRALS = "make_referrals"


#: What each role may do: the one place to read it.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.WORKER: frozenset(
        {Permission.LOG_ENCOUNTERS, Permission.VIEW_PARTICIPANTS, Permission.MAKE_REFERRALS}
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.LOG_ENCOUNTERS,
            Permission.VIEW_PARTICIPANTS,
            Permission.EDIT_ANY_ENCOUNTER,
            Permission.DELETE_ENCOUNTERS,
            Permission.MAKE_REPORTS,
            Permission.MANAGE_STOCK,
            Permission.READ_ALL_MI_NOTES,
            Permission.MAKE_REFERRALS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.MAKE_REPORTS,
            Permission.MANAGE_USERS,
            Permission.MANAGE_SITES,
            Permission.MANAGE_CATALOG,
            Permission.VIEW_AUDIT,
            Permission.IMPORT_DATA,
        }
    ),
}

#: Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.login_code", "static", "main.health"})
#: Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "auth.keepalive"})
#: Endpoints a user whose role needs two-factor login may reach before setting it up.
MFA_SETUP_ENDPOINTS = PASSWORD_CHANGE_ENDPOINTS | {
    "account.index",
    "account.mfa_start",
    "account.mfa_confirm",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:"
)


def has_permission(user, permission: Permission) -> bool:
    """Tell whether a logged-in user's role grants a permission."""
    if not user.is_authenticated:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(user.role), frozenset())


def permission_required(permission: Permission) -> Callable:
    """Refuse the view with 403 unless the user's role grants the permission."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorator


def require_login():
    """Send every non-public endpoint to the login page unless logged in."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        timed_out = 1 if g.get("session_timed_out") else None
        if request.method == "GET":
            target = request.full_path.rstrip("?")
            return redirect(url_for("auth.login", next=target, timeout=timed_out))
        return redirect(url_for("auth.login", timeout=timed_out))
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        flash("Choose a new password before you go on.", "info")
        return redirect(url_for("auth.change_password"))
    if request.endpoint not in MFA_SETUP_ENDPOINTS and enrolment_due(current_user):
        flash("Your role needs two-factor login. Set it up to go on.", "info")
        return redirect(url_for("account.index"))
    return None


def refuse_nul_bytes():
    """Refuse a path, query or form holding a NUL byte: no one types it; PostgreSQL refuses it."""
    if "\x00" in request.path:
        abort(400)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)


def set_security_headers(response):
    """Add the security headers every response carries."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


class IdConverter(IntegerConverter):
    """``<int:…>`` in URLs, bounded so a huge number is a 404, never a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, signed with HMAC-SHA-256 rather than SHA-1."""

    digest_method = staticmethod(hashlib.sha256)


#: Header of a form the page's script sends itself, to keep the form when the connection drops.
SCRIPTED_SAVE = "X-Outreach-Save"
REDIRECTS = (301, 302, 303, 307, 308)


def scripted_save() -> bool:
    """Tell whether the page's script sent this form (a refusal is then asked for again)."""
    return bool(request.headers.get(SCRIPTED_SAVE))


def redirect_for_script(response):
    """Answer a scripted save's redirect with its target as JSON: the page goes there itself
    (a redirect the script followed would show its flash message to the script, not the
    worker)."""
    if scripted_save() and response.status_code in REDIRECTS:
        answer = jsonify(location=response.location)
        for cookie in response.headers.getlist("Set-Cookie"):
            answer.headers.add("Set-Cookie", cookie)
        return answer
    return response


def init_security(app: Flask) -> None:
    """Install the login gate, the security headers, bounded URL numbers and the cookie."""
    app.url_map.converters["int"] = IdConverter
    app.session_interface = SessionCookies()
    app.before_request(refuse_nul_bytes)
    app.before_request(require_login)
    app.after_request(set_security_headers)
    # Registered last, so it runs first and the security headers go on its answer too.
    app.after_request(redirect_for_script)
