"""Server-side session records and failed-login counters."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
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


class TotpFactor(db.Model):
    """A user's authenticator app: its secret (encrypted), and a replacement being set up."""

    __tablename__ = "totp_factors"
    __table_args__ = (
        CheckConstraint(
            "(secret IS NULL AND confirmed_at IS NULL) "
            "OR (secret IS NOT NULL AND confirmed_at IS NOT NULL)",
            name="confirmed",
        ),
        CheckConstraint(
            "(pending_secret IS NULL AND pending_at IS NULL) "
            "OR (pending_secret IS NOT NULL AND pending_at IS NOT NULL)",
            name="pending",
        ),
        CheckConstraint("last_step IS NULL OR last_step >= 0", name="last_step"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: The confirmed TOTP secret, Fernet-encrypted under a key derived from NOTES_KEY.
    secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The 30-second time step of the last accepted code; that code and older are refused.
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: A new secret shown as a QR code and waiting for its first code (encrypted too).
    pending_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RecoveryCode(db.Model):
    """A one-time recovery code, stored as an Argon2id hash and shown to its user only once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the code is used; a used code never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
