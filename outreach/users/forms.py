"""Administration forms for users and sites."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from outreach.forms import IdempotentForm
from outreach.users.models import Role, SiteKind

ROLE_CHOICES = [
    (Role.WORKER.value, "Field worker"),
    (Role.SUPERVISOR.value, "Supervisor"),
    (Role.ADMIN.value, "Administrator"),
]
SITE_KIND_CHOICES = [
    (SiteKind.FIXED.value, "Fixed site"),
    (SiteKind.MOBILE.value, "Mobile (van)"),
    (SiteKind.STREET.value, "Street"),
    (SiteKind.OTHER.value, "Other"),
]


class CheckboxesField(SelectMultipleField):
    """Several choices shown as large checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserRoleForm(FlaskForm):
    """Role and sites of a user."""

    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired()])
    sites = CheckboxesField("Sites", coerce=int, validate_choice=True)


class UserCreateForm(UserRoleForm, IdempotentForm):
    """New user: username, role, sites."""

    username = StringField(
        "Username", validators=[InputRequired("Enter a username."), Length(max=40)]
    )


class SiteForm(IdempotentForm):
    """A site's name, kind and active flag."""

    name = StringField("Name", validators=[InputRequired("Give the site a name."), Length(max=80)])
    kind = SelectField("Kind", choices=SITE_KIND_CHOICES, validators=[InputRequired()])
    active = BooleanField("Active", default=True)


class ConfirmForm(FlaskForm):
    """An empty form that carries only the CSRF token, for action buttons."""
