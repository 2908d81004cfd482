"""Reads for the administration pages."""

from sqlalchemy import select

from outreach.extensions import db
from outreach.names import Named, name_taken
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


def site_names() -> list[tuple[str, int]]:
    """Return every site's name and id (few sites: compared in Python, where SQLite's lower()
    would fold only A to Z)."""
    return [(name, site_id) for site_id, name in db.session.execute(select(Site.id, Site.name))]


def site_id_named(name: str) -> int | None:
    """Return the id of the site with this name (spaces squeezed, as names are stored), else
    of the one site whose name differs from it only in case."""
    return Named.of(site_names()).get(" ".join(name.split()))


def site_name_taken(name: str, site_id: int | None = None) -> bool:
    """Tell whether a site other than ``site_id`` has this name in any case and spacing."""
    return name_taken(" ".join(name.split()), site_names(), site_id)
