"""Form pieces shared by every feature: idempotency keys and free-text checks."""

import uuid

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError


class IdempotentForm(FlaskForm):
    """A form whose submission carries a key so a double submit makes one record."""

    idempotency_key = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = str(uuid.uuid4())

    def validate_idempotency_key(self, field) -> None:
        """Accept only a well-formed UUID."""
        try:
            uuid.UUID(field.data or "")
        except ValueError as error:
            raise ValidationError("This form is out of date; reload the page.") from error


def field_attrs(field, hint: str | None = None) -> dict:
    """Return the accessibility attributes that tie a field to its hint and errors."""
    described = []
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
    attrs = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs
