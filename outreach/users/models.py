"""User accounts, roles and sites."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.extensions import db


class Role(enum.StrEnum):
    """What a user is for; permissions per role live in ``outreach.security``."""

    WORKER = "worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class SiteKind(enum.StrEnum):
    """Kind of place where outreach happens."""

    FIXED = "fixed"
    MOBILE = "mobile"
    STREET = "street"
    OTHER = "other"


user_sites = Table(
    "user_sites",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class Site(db.Model):
    """A place or vehicle the program works from."""

    __tablename__ = "sites"
    __table_args__ = (CheckConstraint(enum_check("kind", SiteKind), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Unique display name, e.g. "Downtown van".
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(enum_column_type(SiteKind), default=SiteKind.FIXED)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.name!r}>"


class User(UserMixin, db.Model):
    """A staff account: field worker, supervisor or administrator."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(enum_check("role", Role), name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Login name; staff only, never a participant.
    username: Mapped[str] = mapped_column(String(40), unique=True)
    #: Argon2id hash of the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(enum_column_type(Role), default=Role.WORKER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set at creation and after an administrator's reset.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: Loaded when used (the encounter form, admin pages), not on every request.
    sites: Mapped[list[Site]] = relationship(
        secondary=user_sites, lazy="select", order_by=Site.name
    )

    #: Token of the server-side session this object was loaded for (not a column).
    session_token = None

    @property
    def is_active(self) -> bool:
        """Deactivated accounts cannot log in."""
        return self.active

    def get_id(self) -> str | None:
        """Flask-Login stores the server-side session token, not the user id."""
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r} {self.role}>"
