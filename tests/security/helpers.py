"""Shared helpers of the security tests: enrolment, codes, counts."""

import re

import pyotp
from sqlalchemy import func, select

from outreach.auth import mfa
from outreach.auth.models import TotpFactor
from outreach.dbtypes import utcnow
from outreach.extensions import db
from tests.factories import TEST_PASSWORD

#: Tables whose rows change with logging in, failing to, or submitting: left out of counts.
BOOKKEEPING = {"audit_events", "login_failures", "user_sessions", "idempotency_keys"}


def enrol(user, secret: str | None = None, last_step: int | None = None) -> str:
    """Give a user a confirmed authenticator secret directly; return the secret."""
    secret = secret or pyotp.random_base32(length=32)
    db.session.add(
        TotpFactor(
            user_id=user.id,
            secret=mfa.encrypt_secret(secret, user.id),
            confirmed_at=utcnow(),
            last_step=last_step,
        )
    )
    db.session.commit()
    return secret


def code(secret: str, steps_from_now: int = 0) -> str:
    """Return the code an authenticator app shows now (or some steps away)."""
    return pyotp.TOTP(secret).generate_otp(mfa.current_step() + steps_from_now)


def log_in(browser, username: str, password: str = TEST_PASSWORD, **query):
    """Send the login form and return the response."""
    return browser.post(
        "/auth/login", data={"username": username, "password": password}, query_string=query
    )


def row_counts() -> dict[str, int]:
    """Count the rows of every table but the bookkeeping ones."""
    db.session.commit()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in BOOKKEEPING
    }


def page_text(response) -> str:
    """Return a response's body as text."""
    return response.get_data(as_text=True)


def csrf_token(browser, path: str) -> str:
    """Read the CSRF token a page gives its forms."""
    page = browser.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
