"""Error pages: a plain message, never a traceback, a value or a record."""

import logging

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from outreach.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The page could not understand that request."),
    401: ("Log in", "Log in to go on."),
    403: ("Not allowed", "Your role does not allow this page."),
    404: ("Not found", "There is no such page or record."),
    405: ("Not allowed", "That action is not possible on this page."),
    413: ("Too large", "That upload is too large."),
    429: ("Too many requests", "Wait a moment and try again."),
    500: (
        "Something went wrong",
        "The change was not saved. Try again; if it happens again, tell your administrator.",
    ),
}


#: Header of the answer to a form whose token no longer matches the session (a login since).
FORM_EXPIRED = "X-Outreach-Form-Expired"


def render_error(status: int, message: str | None = None):
    """Render the error page for a status."""
    title, default = MESSAGES.get(status, MESSAGES[500])
    return render_template(
        "errors/error.html", status=status, title=title, message=message or default
    ), status


def who() -> str:
    """Name the requesting account by id and role, for the log (never a username)."""
    if current_user and current_user.is_authenticated:
        return f"user {current_user.id} ({current_user.role})"
    return "anonymous"


def handle_http_error(error: HTTPException):
    """Show an HTTP error with the fixed message for its status; log refused access."""
    if error.code == 403:
        log.warning("Refused %s %s to %s", request.method, request.endpoint, who())
    return render_error(error.code or 500)


def handle_csrf_error(error: CSRFError):
    """Explain an expired or missing form token without losing the worker's trust."""
    db.session.rollback()
    log.warning("Form token refused on %s %s for %s", request.method, request.endpoint, who())
    page, status = render_error(
        400, "This form expired. Go back, reload the page and submit again."
    )
    # A form the page's script sends fetches a new token and tries once more (app.js).
    return page, status, {FORM_EXPIRED: "1"}


def handle_unexpected(error: Exception):
    """Roll back, log the error type and the path only, and show a generic page."""
    db.session.rollback()
    path = request.path.encode("unicode_escape").decode("ascii")
    log.error("Unhandled %s on %s %s", type(error).__name__, request.method, path)
    return render_error(500)


def register(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
    if not app.testing or app.config.get("CATCH_ERRORS"):
        app.register_error_handler(Exception, handle_unexpected)
