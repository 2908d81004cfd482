"""Server-side session records: start, load with timeouts, end."""

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app, g, has_request_context, request
from sqlalchemy import Select, bindparam, select, update

from outreach.auth.models import UserSession
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.users.models import User

#: last_seen_at is written at most this often, to spare the database.
TOUCH_EVERY = timedelta(seconds=20)


def token_digest(token: str) -> str:
    """Hash a session token; the database never holds the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_start(user: User) -> str:
    """Open a new server-side session for a user and return its cookie token."""
    token = secrets.token_urlsafe(32)
    user_agent = request.user_agent.string[:120] if has_request_context() else None
    address = request.remote_addr if has_request_context() else None
    db.session.add(
        UserSession(
            token_hash=token_digest(token),
            user_id=user.id,
            client_address=address,
            user_agent=user_agent,
        )
    )
    user.session_token = token
    return token


def idle_limit() -> timedelta:
    """Return how long a session may stay idle."""
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def lifetime_limit() -> timedelta:
    """Return the absolute lifetime of a session."""
    return timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])


def expiry_reason(record: UserSession, now: datetime) -> str | None:
    """Return why a session has run out, or None while it is alive."""
    if now - record.created_at > lifetime_limit():
        return "expired"
    if now - record.last_seen_at > idle_limit():
        return "idle"
    return None


@cache
def live_session_statement() -> Select:
    """Build (once) the lookup of a live session by its ``token_hash``, with its user."""
    return select(UserSession).where(
        UserSession.token_hash == bindparam("token_hash"), UserSession.ended_at.is_(None)
    )


def load_session_user(token: str) -> User | None:
    """Return the user of a live session, ending it here if it has run out."""
    record = db.session.scalar(live_session_statement(), {"token_hash": token_digest(token)})
    if record is None:
        return None
    now = utcnow()
    reason = expiry_reason(record, now)
    if reason or not record.user.active:
        session_end(record, reason or "deactivated")
        g.session_timed_out = reason == "idle"
        db.session.commit()
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    user = record.user
    user.session_token = token
    g.session_record = record
    return user


def session_end(record: UserSession, reason: str) -> None:
    """End one server-side session."""
    record.ended_at = utcnow()
    record.end_reason = reason


def sessions_end_for_user(user_id: int, reason: str, keep_token: str | None = None) -> int:
    """End every live session of a user (but one, if given) and return how many ended."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep_token:
        query = query.where(UserSession.token_hash != token_digest(keep_token))
    result = db.session.execute(query.values(ended_at=utcnow(), end_reason=reason))
    return result.rowcount


def live_sessions(user_id: int) -> list[UserSession]:
    """Return a user's sessions that have not ended, newest first."""
    now = utcnow()
    query = (
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    )
    return [record for record in db.session.scalars(query) if not expiry_reason(record, now)]
