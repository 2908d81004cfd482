"""Login and password forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from outreach.auth.passwords import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(
        "Username", validators=[InputRequired("Enter your username."), Length(max=40)]
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)],
    )


class ChangePasswordForm(FlaskForm):
    """Change one's own password; the current one is required."""

    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired("Enter a new password.")]
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            InputRequired("Type the new password again."),
            EqualTo("new_password", "The two new passwords are not the same."),
        ],
    )
    end_other_sessions = BooleanField("Log out my other devices", default=True)


class SecondFactorForm(FlaskForm):
    """The code from the authenticator app, or a recovery code."""

    code = StringField(
        "Code",
        validators=[InputRequired("Type the code from your app."), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none"},
    )


class PasswordConfirmForm(FlaskForm):
    """The user's password again, before a change to how they log in."""

    password = PasswordField(
        "Your password",
        validators=[
            InputRequired("Type your password to confirm it is you."),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class SetupCodeForm(FlaskForm):
    """The first code from a newly added authenticator app."""

    code = StringField(
        "Code from the app",
        validators=[InputRequired("Type the 6 digits the app shows."), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
