"""Filters for the audit log page."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional, Regexp

IDENTIFIER = Regexp(r"^[A-Za-z0-9_.:-]*$", message="Use letters, digits, dots and dashes only.")


class AuditFilterForm(FlaskForm):
    """Filter audit events by action, actor, record and date."""

    class Meta:
        csrf = False

    action = StringField("Action starts with", validators=[Optional(), IDENTIFIER])
    actor = StringField("Username", validators=[Optional(), IDENTIFIER])
    entity_type = StringField("Record type", validators=[Optional(), IDENTIFIER])
    entity_id = StringField("Record id", validators=[Optional(), IDENTIFIER])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(1, 1_000_000)])
