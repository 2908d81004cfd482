"""Server-side session records and failed-login counters."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.dbtypes import UTCDateTime, utcnow
from outreach.extensions import db
from outreach.users.models import User


class UserSession(db.Model):
    """One login: ended on the server by logout, deactivation or password reset."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the random token held in the signed cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Why it ended: logout, idle, expired, deactivated, password_reset, ended_by_admin.
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: Staff device address and browser family, to recognise one's own sessions.
    client_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(120), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(db.Model):
    """A failed login from a client address, for per-address throttling."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_address_at", "client_address", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_address: Mapped[str] = mapped_column(String(45))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
