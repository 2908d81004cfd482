"""Factories that build records for tests."""

import itertools

from outreach.auth.passwords import hash_password
from outreach.extensions import db
from outreach.users.models import Role, Site, SiteKind, User

TEST_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(
    role: str = Role.WORKER,
    username: str | None = None,
    password: str = TEST_PASSWORD,
    must_change_password: bool = False,
    sites: list[Site] | None = None,
    **fields,
) -> User:
    """Add a user who can log in with the test password."""
    user = User(
        username=username or f"{role}{next(_counter)}",
        role=Role(role),
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        sites=sites or [],
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_site(name: str | None = None, kind: str = SiteKind.FIXED, active: bool = True) -> Site:
    """Add a site."""
    site = Site(name=name or f"Site {next(_counter)}", kind=SiteKind(kind), active=active)
    db.session.add(site)
    db.session.flush()
    return site
