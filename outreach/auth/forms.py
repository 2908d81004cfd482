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
