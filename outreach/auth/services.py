"""Authentication operations: log in with throttling, log out, change a password."""

import logging
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import func, select, update

from outreach.audit.services import record
from outreach.auth import mfa
from outreach.auth.models import LoginFailure, UserSession
from outreach.auth.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from outreach.auth.sessions import session_end, session_start, sessions_end_for_user
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.users.models import User

log = logging.getLogger(__name__)
#: Failures that count towards locking the account: a wrong password (also when re-entered) or code.
COUNTED_FAILURES = ("bad_password", "bad_code", "bad_reauth")
#: The longest an account can be locked after repeated failures.
MAX_LOCKOUT = timedelta(hours=24)


def address_is_throttled(address: str) -> bool:
    """Tell whether a client address has failed too often recently."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_IP_WINDOW_MINUTES"])
    failures = db.session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.client_address == address, LoginFailure.occurred_at >= since
        )
    )
    return failures >= config["LOGIN_IP_MAX_FAILURES"]


def lockout_after(failures: int) -> timedelta | None:
    """Return how long to lock an account after this many failures (growing), or None."""
    config = current_app.config
    over = failures - config["LOGIN_MAX_FAILURES"]
    if over < 0:
        return None
    return min(timedelta(seconds=config["LOGIN_LOCKOUT_SECONDS"] * 2**over), MAX_LOCKOUT)


def login_attempt(*, username: str, password: str) -> User | None:
    """Check credentials with throttling; return the user whose password is right, or None.

    No session starts here: ``login_complete`` starts it, at once or after the second factor.
    """
    address = request.remote_addr or "unknown"
    if address_is_throttled(address):
        burn_verification_time(password)
        log.warning("Login refused: too many failures from one address.")
        record("auth.login_throttled", data={"scope": "address"})
        return None
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        burn_verification_time(password)
        return login_failed(address, user=None, reason="unknown_user")
    if user.locked_until and user.locked_until > utcnow():
        burn_verification_time(password)
        return login_failed(address, user=user, reason="locked")
    if not verify_password(user.password_hash, password):
        return login_failed(address, user=user, reason="bad_password")
    if not user.active:
        return login_failed(address, user=user, reason="inactive")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def login_failed(address: str, *, user: User | None, reason: str) -> None:
    """Count a failure for the address and account, locking the account when it is due."""
    db.session.add(LoginFailure(client_address=address))
    if user is None:
        record("auth.login_failed", data={"reason": reason})
        return None
    if reason in COUNTED_FAILURES:
        user.failed_logins += 1
        lockout = lockout_after(user.failed_logins)
        if lockout:
            user.locked_until = utcnow() + lockout
            log.warning("Account %s locked for %s after failed logins.", user.id, lockout)
            record(
                "auth.lockout",
                "user",
                user.id,
                data={"seconds": int(lockout.total_seconds()), "failures": user.failed_logins},
                actor_id=None,
            )
    record("auth.login_failed", "user", user.id, data={"reason": reason})
    return None


def login_challenge(*, user: User) -> None:
    """Note that the password was right and the second factor is now asked for."""
    record("auth.second_factor_asked", "user", user.id, actor_id=user.id)


def second_factor_attempt(*, user: User, code: str) -> bool:
    """Check the second factor with the same throttling as passwords; log in when it is right."""
    address = request.remote_addr or "unknown"
    if address_is_throttled(address) or (user.locked_until and user.locked_until > utcnow()):
        login_failed(address, user=user, reason="locked")
        return False
    factor = mfa.second_factor_check(user=user, code=code)
    if factor is None:
        login_failed(address, user=user, reason="bad_code")
        return False
    login_complete(user=user, factor=factor)
    return True


def login_complete(*, user: User, factor: str | None = None) -> User:
    """Reset failure counters and open the server-side session."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    session_start(user)
    db.session.flush()
    data = {"factor": factor} if factor else None
    record("auth.login", "user", user.id, data=data, actor_id=user.id)
    return user


def logout(*, user: User, session_record: UserSession | None) -> None:
    """End the current server-side session."""
    if session_record is not None:
        session_end(session_record, "logout")
    record("auth.logout", "user", user.id)


def password_change(*, user: User, new_password: str, end_other_sessions: bool) -> int:
    """Set a user's own new password; optionally end their other sessions."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    ended = 0
    if end_other_sessions:
        ended = sessions_end_for_user(user.id, "password_change", keep_token=user.session_token)
    record("auth.password_change", "user", user.id, data={"other_sessions_ended": ended})
    return ended


def reauthenticate(*, user: User, password: str) -> bool:
    """Check a logged-in user's password again; a wrong one counts towards the lockout."""
    if user.locked_until and user.locked_until > utcnow():
        burn_verification_time(password)
        return False
    if verify_password(user.password_hash, password):
        return True
    login_failed(request.remote_addr or "unknown", user=user, reason="bad_reauth")
    return False


def own_session_end(*, user: User, session_record: UserSession) -> None:
    """End one of one's own other sessions."""
    session_end(session_record, "ended_by_user")
    record("session.end", "user", user.id, data={"session": session_record.id, "by": "self"})


def own_sessions_end_others(*, user: User) -> int:
    """End all of one's own sessions but the current one; return how many ended."""
    ended = sessions_end_for_user(user.id, "ended_by_user", keep_token=user.session_token)
    record("session.end_others", "user", user.id, data={"sessions_ended": ended})
    return ended


def all_sessions_end(*, user: User | None = None) -> int:
    """End every live session of one user, or of everyone; return how many ended."""
    query = update(UserSession).where(UserSession.ended_at.is_(None))
    if user is not None:
        query = query.where(UserSession.user_id == user.id)
    ended = db.session.execute(query.values(ended_at=utcnow(), end_reason="ended_by_admin"))
    record(
        "session.end_all",
        "user" if user else None,
        user.id if user else None,
        data={"sessions_ended": ended.rowcount},
    )
    return ended.rowcount
