"""Reads for the administration pages."""

from sqlalchemy import select

from outreach.extensions import db
from outreach.users.models import Site, User


def all_users() -> list[User]:
    """Return every user, active first, then by username."""
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.username)))


def all_sites() -> list[Site]:
    """Return every site, active first, then by name."""
    return list(db.session.scalars(select(Site).order_by(Site.active.desc(), Site.name)))


def active_sites() -> list[Site]:
    """Return the sites in use, by name."""
    return list(db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)))


def site_choices() -> list[tuple[int, str]]:
    """Return (id, name) pairs of the sites, for checkbox lists."""
    return [(site.id, site.name + ("" if site.active else " (inactive)")) for site in all_sites()]
