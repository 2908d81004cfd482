"""Outreach: case management for harm reduction outreach programs."""

from flask import Flask

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
    return app
