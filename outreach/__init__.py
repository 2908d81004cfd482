"""Outreach: case management for harm reduction outreach programs."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE_DIR, config_for, finish_settings
from outreach.setup import (
    register_blueprints,
    register_commands,
    register_errorhandlers,
    register_extensions,
)


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the Flask application: configuration, extensions, blueprints, handlers."""
    app = Flask(__name__, template_folder="../templates", instance_path=str(INSTANCE_DIR))
    app.config.from_object(config_for(config_name))
    app.config.update(overrides)
    finish_settings(app.config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    trust_proxies(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Believe the proxies' X-Forwarded-For and -Proto when the operator says how many there
    are: behind a proxy every request otherwise comes from the proxy's own address."""
    count = app.config["TRUSTED_PROXIES"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
