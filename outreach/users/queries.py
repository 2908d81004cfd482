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


def folded_site_name(name: str) -> str:
    """Return a site name as sites are told apart: any case, accents kept, spaces squeezed."""
    return " ".join(name.split()).casefold()


def site_ids_by_folded_name() -> dict[str, int]:
    """Return every site's id by its folded name (few sites: folded here, where SQLite's
    lower() would fold only A to Z)."""
    rows = db.session.execute(select(Site.id, Site.name)).all()
    return {folded_site_name(name): site_id for site_id, name in rows}


def site_id_named(name: str) -> int | None:
    """Return the id of the site with this name in any case and spacing, if there is one."""
    return site_ids_by_folded_name().get(folded_site_name(name))
