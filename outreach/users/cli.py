"""``flask users`` and ``flask sites``: scripted set-up."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from outreach.auth import mfa
from outreach.auth import services as auth_services
from outreach.extensions import db
from outreach.users import services
from outreach.users.models import Role, SiteKind, User
from outreach.users.queries import all_users, site_id_named

users_cli = AppGroup("users", help="Create and list staff accounts.")
sites_cli = AppGroup("sites", help="Add sites.")


def fail(message: str) -> None:
    """Stop the command with a clear message and exit status 1."""
    raise click.ClickException(message)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.WORKER.value)
@click.option("--site", "site_names", multiple=True, help="Site name; repeat for several.")
def create_user(username: str, role: str, site_names: tuple[str, ...]) -> None:
    """Create a user and print their one-time password."""
    site_ids = []
    for name in site_names:
        # Site names are unique whatever their case and spacing, as the admin pages check them.
        site_id = site_id_named(name)
        if site_id is None:
            fail(f"There is no site called {name!r}. Add it with: flask sites add {name!r}")
        site_ids.append(site_id)
    try:
        user, password = services.user_create(username=username, role=Role(role), site_ids=site_ids)
    except services.AdminError as error:
        fail(f"{error.field}: {error.message}")
    db.session.commit()
    click.echo(f"Created {user.role} {user.username}.")
    click.echo(f"One-time password (shown once, to be changed at first login): {password}")


@users_cli.command("ensure-admin")
@click.option("--username", default="admin", show_default=True)
def ensure_admin(username: str) -> None:
    """Create the first administrator if there is none, and print the password once."""
    if services.active_admin_count() > 0:
        click.echo("An administrator exists already; nothing to do.")
        return
    if db.session.scalar(select(User.id).where(User.username == username)):
        fail(f"{username!r} exists but is not an active administrator; choose --username.")
    user, password = services.user_create(username=username, role=Role.ADMIN)
    db.session.commit()
    click.echo("=" * 64)
    click.echo(f"First administrator: {user.username}")
    click.echo(f"One-time password:   {password}")
    click.echo("It is shown only now; you will choose your own at first login.")
    click.echo("=" * 64)


@users_cli.command("list")
def list_users() -> None:
    """List users with role, state, sites and last login."""
    for user in all_users():
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
        state = "active" if user.active else "inactive"
        sites = ", ".join(site.name for site in user.sites) or "-"
        click.echo(
            f"{user.username:<24} {user.role:<10} {state:<8} last login {last}  sites: {sites}"
        )


@users_cli.command("reset-two-factor")
@click.argument("username")
def reset_two_factor(username: str) -> None:
    """Remove a user's second factor (lost phone) and log them out; audited."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        fail(f"There is no user called {username!r}.")
    mfa.mfa_reset(user=user)
    db.session.commit()
    click.echo(f"{user.username} has no second factor now and is logged out everywhere.")


@users_cli.command("end-sessions")
@click.argument("username", required=False)
@click.option("--all", "everyone", is_flag=True, help="Log out every user, everywhere.")
def end_sessions(username: str | None, everyone: bool) -> None:
    """Log a user (or, with --all, everyone) out on every device; audited."""
    if bool(username) == everyone:
        fail("Name one user, or give --all.")
    user = None
    if username:
        user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            fail(f"There is no user called {username!r}.")
    ended = auth_services.all_sessions_end(user=user)
    db.session.commit()
    click.echo(f"Ended {ended} session(s).")


@users_cli.command("reencrypt-two-factor")
def reencrypt_two_factor() -> None:
    """Re-encrypt two-factor secrets under NOTES_KEY after a rotation (old in NOTES_KEYS_OLD)."""
    done, unreadable = mfa.reencrypt_secrets()
    db.session.commit()
    click.echo(f"Re-encrypted {done} two-factor secret(s) under the current NOTES_KEY.")
    if unreadable:
        fail(
            f"{unreadable} secret(s) fit no key in NOTES_KEY or NOTES_KEYS_OLD: add the old key "
            "and run this again, or reset those users' two-factor login."
        )


@sites_cli.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([kind.value for kind in SiteKind]), default="fixed")
def add_site(name: str, kind: str) -> None:
    """Add a site."""
    try:
        site = services.site_create(name=name, kind=SiteKind(kind))
    except services.AdminError as error:
        fail(error.message)
    db.session.commit()
    click.echo(f"Added site {site.name} ({site.kind}).")
