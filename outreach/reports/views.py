"""Reports: the supervisors' dashboard and the monthly PDF and CSV."""

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select

from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.reports.charts import trend_svg
from outreach.reports.figures import monthly_figures
from outreach.reports.forms import ReportForm
from outreach.reports.model import KEY_FIGURES, TREND_KEYS
from outreach.reports.periods import Month
from outreach.reports.services import report_make
from outreach.security import Permission, permission_required
from outreach.templating import program_zone
from outreach.users.models import Site

blueprint = Blueprint("reports", __name__, url_prefix="/reports")


def site_options() -> list[tuple[int, str]]:
    """Return the site filter choices: 0 means all sites."""
    sites = db.session.scalars(select(Site).order_by(Site.active.desc(), Site.name))
    return [(0, "All sites"), *((site.id, site.name) for site in sites)]


@blueprint.route("")
@permission_required(Permission.MAKE_REPORTS)
def dashboard():
    """Show this month so far and last month, with the 12-month trends."""
    this_month = Month.containing(utcnow(), program_zone())
    current = monthly_figures(this_month)
    previous = monthly_figures(this_month.shifted(-1))
    charts = [trend_svg(current, key) for key in TREND_KEYS]
    return render_template(
        "reports/dashboard.html",
        current=current,
        previous=previous,
        labels=KEY_FIGURES,
        charts=charts,
        threshold=current_app.config["SUPPRESSION_THRESHOLD"],
    )


@blueprint.route("/monthly", methods=["GET", "POST"])
@permission_required(Permission.MAKE_REPORTS)
def monthly():
    """Make the monthly PDF or CSV for a month and site filter."""
    form = ReportForm()
    form.site_id.choices = site_options()
    if not form.is_submitted():
        form.month.data = Month.containing(utcnow(), program_zone()).shifted(-1).key
    elif form.validate():
        try:
            month = Month.parse(form.month.data)
        except ValueError as error:
            form.month.errors = [str(error)]
        else:
            content, media_type, filename = report_make(
                month=month, site_id=form.site_id.data or None, output=form.output.data
            )
            db.session.commit()
            return Response(
                content,
                mimetype=media_type,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
    status = 422 if form.errors else 200
    return render_template("reports/monthly.html", form=form), status
