"""The pieces ``create_app`` assembles: extensions, blueprints, error handlers, commands."""

import logging
from pathlib import Path

from flask import Flask
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from outreach.extensions import csrf, db, login_manager, migrate
from outreach.forms import field_attrs
from outreach.liveness import watch_pool_connections
from outreach.navigation import current_nav_endpoint, home_tiles, nav_items
from outreach.private_files import keep_private, sqlite_path
from outreach.security import Permission, has_permission, init_security
from outreach.templating import register_filters
from outreach.transactions import init_transactions


def register_extensions(app: Flask) -> None:
    """Bind the extensions to the app and install the security gate."""
    import_models()
    if database_file := sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"]):
        # Flask-SQLAlchemy opens a relative SQLite path under the instance folder.
        if not database_file.is_absolute():
            Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
        keep_private(Path(app.instance_path) / database_file)
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None
    init_security(app)
    init_transactions(app)
    watch_pool_connections()
    register_filters(app)
    app.add_template_global(field_attrs)
    configure_logging(app)

    from outreach.auth.sessions import load_session_user

    login_manager.user_loader(load_session_user)

    @app.context_processor
    def template_helpers() -> dict:
        """Give templates the permission check and session timing."""
        return {
            "can": lambda permission: has_permission(current_user, Permission(permission)),
            "idle_seconds": app.config["SESSION_IDLE_MINUTES"] * 60,
            "warning_seconds": app.config["SESSION_WARNING_SECONDS"],
            "program_name": app.config["PROGRAM_NAME"],
            "nav_items": nav_items,
            "current_nav_endpoint": current_nav_endpoint,
            "home_tiles": home_tiles,
        }


@event.listens_for(Engine, "connect")
def sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Use WAL, enforce foreign keys and wait for locks on SQLite."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def configure_logging(app: Flask) -> None:
    """Log to standard error; request bodies and form values are never logged."""
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def register_blueprints(app: Flask) -> None:
    """Register every feature's blueprint."""
    from outreach.audit.views import blueprint as audit
    from outreach.auth.views import blueprint as auth
    from outreach.clients.views import blueprint as clients
    from outreach.encounters.views import blueprint as encounters
    from outreach.imports.views import blueprint as imports
    from outreach.main.views import blueprint as main
    from outreach.mi.views import blueprint as mi
    from outreach.referrals.views import blueprint as referrals
    from outreach.reports.views import blueprint as reports
    from outreach.supplies.views import blueprint as supplies
    from outreach.users.views import blueprint as users

    for blueprint in (main, auth, users, audit, clients, encounters, supplies, reports):
        app.register_blueprint(blueprint)
    app.register_blueprint(imports)
    app.register_blueprint(referrals)
    app.register_blueprint(mi)
    from outreach.inventory.views import blueprint as inventory

    app.register_blueprint(inventory)
    from outreach.auth.account import blueprint as account

    app.register_blueprint(account)
    register_feature_hooks()


def register_feature_hooks() -> None:
    """Let features add encounter form sections, encounter listeners and participant panels."""
    from outreach.referrals.hooks import register as register_referrals

    register_referrals()
    from outreach.mi.hooks import register as register_mi

    register_mi()
    from outreach.inventory.hooks import register as register_inventory

    register_inventory()


def register_errorhandlers(app: Flask) -> None:
    """Render error pages that leak nothing."""
    from outreach.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """Add the ``flask`` command groups."""
    from outreach.audit.cli import audit_cli
    from outreach.imports.cli import import_cli
    from outreach.reports.cli import report_cli
    from outreach.supplies.cli import supplies_cli
    from outreach.users.cli import sites_cli, users_cli

    for group in (users_cli, sites_cli, audit_cli, supplies_cli, report_cli):
        app.cli.add_command(group)
    app.cli.add_command(import_cli)
    from outreach.mi.cli import mi_cli

    app.cli.add_command(mi_cli)
    from outreach.backup.cli import backup_cli
    from outreach.retention.cli import retention_cli

    app.cli.add_command(backup_cli)
    app.cli.add_command(retention_cli)
    from outreach.inventory.cli import stock_cli

    app.cli.add_command(stock_cli)


def import_models() -> None:
    """Import every model module so the metadata is complete."""
    import outreach.audit.models
    import outreach.auth.models
    import outreach.clients.models
    import outreach.encounters.models
    import outreach.idempotency
    import outreach.inventory.models
    import outreach.mi.models
    import outreach.referrals.models
    import outreach.supplies.models
    import outreach.users.models  # noqa: F401
