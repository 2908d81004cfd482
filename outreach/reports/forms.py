"""The monthly report form."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Regexp


class ReportForm(FlaskForm):
    """Which month, which sites, which format."""

    month = StringField(
        "Month",
        validators=[
            InputRequired("Choose a month."),
            Regexp(r"^\d{4}-\d{2}$", message="Give the month as YYYY-MM, e.g. 2026-10."),
        ],
        render_kw={"type": "month"},
    )
    site_id = SelectField("Sites", coerce=int)
    output = RadioField(
        "Format", choices=[("pdf", "PDF report"), ("csv", "CSV figures")], default="pdf"
    )
