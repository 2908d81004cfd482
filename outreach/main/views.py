"""The home page and the health check."""

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from outreach.extensions import db

blueprint = Blueprint("main", __name__)


@blueprint.route("/")
def home():
    """Show the home page: the big buttons for what this role does most."""
    return render_template("main/home.html")


@blueprint.route("/health")
def health():
    """Report whether the app and its database answer; reveals nothing else."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
