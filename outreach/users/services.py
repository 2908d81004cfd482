"""Administration of users and sites; each function audits its change."""

import re

from sqlalchemy import select

from outreach.audit.services import record
from outreach.auth.models import UserSession
from outreach.auth.passwords import hash_password, temporary_password
from outreach.auth.sessions import session_end, sessions_end_for_user
from outreach.extensions import db
from outreach.users.models import Role, Site, SiteKind, User
from outreach.users.queries import site_name_taken

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class AdminError(ValueError):
    """An administration request that cannot be carried out, with a message for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_username(username: str) -> str:
    """Return a username in its stored form, or raise AdminError."""
    username = (username or "").strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AdminError(
            "username",
            "Use 2 to 40 lower-case letters, digits, dots, dashes or underscores.",
        )
    return username


def sites_by_ids(site_ids: list[int]) -> list[Site]:
    """Return the sites with these ids, refusing unknown ones."""
    if not site_ids:
        return []
    sites = list(db.session.scalars(select(Site).where(Site.id.in_(site_ids))))
    if len(sites) != len(set(site_ids)):
        raise AdminError("sites", "One of the chosen sites does not exist.")
    return sites


def user_create(
    *, username: str, role: Role, site_ids: list[int] | None = None
) -> tuple[User, str]:
    """Create a user with a one-time temporary password; return both."""
    username = normalise_username(username)
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AdminError("username", "That username is taken.")
    password = temporary_password()
    user = User(
        username=username,
        role=Role(role),
        password_hash=hash_password(password),
        must_change_password=True,
        sites=sites_by_ids(site_ids or []),
    )
    db.session.add(user)
    db.session.flush()
    record("user.create", "user", user.id, data={"role": user.role, "sites": site_ids or []})
    return user, password


def active_admin_count() -> int:
    """Count active administrators, locking their rows until commit on PostgreSQL.

    Two administrators demoting each other at once would otherwise both see the other one
    left and leave none; with the lock the second waits, then counts again.
    """
    query = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
    return len(db.session.scalars(query.with_for_update()).all())


def is_last_active_admin(user: User) -> bool:
    """Tell whether a user is the only active administrator left."""
    return user.role == Role.ADMIN and user.active and active_admin_count() <= 1


def user_update(*, user: User, role: Role, site_ids: list[int]) -> None:
    """Change a user's role and sites."""
    if role != Role.ADMIN and is_last_active_admin(user):
        raise AdminError("role", "This is the last active administrator; make another first.")
    data = {
        "role_before": user.role,
        "sites_before": sorted(site.id for site in user.sites),
        "role": Role(role),
        "sites": sorted(site_ids),
    }
    sites = sites_by_ids(site_ids)
    user.role = Role(role)
    user.sites = sites
    record("user.update", "user", user.id, data=data)


def user_deactivate(*, user: User) -> None:
    """Deactivate a user and end their sessions."""
    if is_last_active_admin(user):
        raise AdminError("active", "This is the last active administrator; make another first.")
    user.active = False
    ended = sessions_end_for_user(user.id, "deactivated")
    record("user.deactivate", "user", user.id, data={"sessions_ended": ended})


def user_reactivate(*, user: User) -> None:
    """Let a deactivated user log in again."""
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    record("user.reactivate", "user", user.id)


def user_reset_password(*, user: User) -> str:
    """Give a user a new temporary password, end their sessions, and return it."""
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    ended = sessions_end_for_user(user.id, "password_reset")
    record("user.reset_password", "user", user.id, data={"sessions_ended": ended})
    return password


def user_session_end(*, session_record: UserSession) -> None:
    """End one of a user's sessions on their behalf."""
    session_end(session_record, "ended_by_admin")
    record("session.end", "user", session_record.user_id, data={"session": session_record.id})


def site_name_checked(name: str, site_id: int | None = None) -> str:
    """Return a trimmed, unused site name, or raise AdminError."""
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 80:
        raise AdminError("name", "Give the site a name of 2 to 80 characters.")
    if site_name_taken(name, site_id):
        raise AdminError("name", "Another site already has that name.")
    return name


def site_create(*, name: str, kind: SiteKind = SiteKind.FIXED) -> Site:
    """Add a site."""
    site = Site(name=site_name_checked(name), kind=SiteKind(kind), active=True)
    db.session.add(site)
    db.session.flush()
    record("site.create", "site", site.id, data={"kind": site.kind})
    return site


def site_update(*, site: Site, name: str, kind: SiteKind, active: bool) -> None:
    """Rename a site, change its kind or (de)activate it."""
    site.name = site_name_checked(name, site.id)
    site.kind = SiteKind(kind)
    site.active = active
    record("site.update", "site", site.id, data={"kind": site.kind, "active": active})
