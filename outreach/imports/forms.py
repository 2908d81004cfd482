"""The upload form of an encounter import."""

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from outreach.forms import IdempotentForm


class ImportForm(IdempotentForm):
    """A CSV file of past encounters, imported or only checked."""

    file = FileField("CSV file of encounters", validators=[FileRequired("Choose a CSV file.")])
    dry_run = BooleanField("Dry run: check the file and count, write nothing")
