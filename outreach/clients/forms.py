"""Participant identification and demographics fields, shared by several forms."""

from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from outreach.clients.codes import PARTS, PartKind
from outreach.clients.models import AgeBand, Gender, Race, Substance
from outreach.clients.services import Demographics
from outreach.users.forms import CheckboxesField

GENDER_CHOICES = [
    ("", "Not asked"),
    (Gender.WOMAN, "Woman"),
    (Gender.MAN, "Man"),
    (Gender.TRANS_WOMAN, "Trans woman"),
    (Gender.TRANS_MAN, "Trans man"),
    (Gender.NONBINARY, "Non-binary"),
    (Gender.OTHER, "Other"),
    (Gender.DECLINED, "Declined to say"),
]
RACE_CHOICES = [
    (Race.AMERICAN_INDIAN_ALASKA_NATIVE, "American Indian or Alaska Native"),
    (Race.ASIAN, "Asian"),
    (Race.BLACK, "Black or African American"),
    (Race.HISPANIC_LATINO, "Hispanic or Latino/a/e"),
    (Race.MIDDLE_EASTERN_NORTH_AFRICAN, "Middle Eastern or North African"),
    (Race.NATIVE_HAWAIIAN_PACIFIC_ISLANDER, "Native Hawaiian or Pacific Islander"),
    (Race.WHITE, "White"),
    (Race.DECLINED, "Declined to say"),
]
SUBSTANCE_CHOICES = [(code.value, code.value.replace("_", " ").capitalize()) for code in Substance]
AGE_BAND_CHOICES = [
    ("", "Not asked"),
    (AgeBand.UNDER_25, "Under 25"),
    (AgeBand.AGE_25_34, "25–34"),
    (AgeBand.AGE_35_44, "35–44"),
    (AgeBand.AGE_45_54, "45–54"),
    (AgeBand.AGE_55_64, "55–64"),
    (AgeBand.AGE_65_PLUS, "65 or older"),
    (AgeBand.DECLINED, "Declined to say"),
]
YES_NO_CHOICES = [("", "Not asked"), ("yes", "Yes"), ("no", "No")]
#: The labels a participant's demographics are shown with, by field and code.
DEMOGRAPHIC_LABELS = {
    "gender": dict(GENDER_CHOICES),
    "race": dict(RACE_CHOICES),
    "substance": dict(SUBSTANCE_CHOICES),
    "age_band": dict(AGE_BAND_CHOICES),
}
PARTICIPANT_MODES = [
    ("card", "Card code"),
    ("answers", "Code answers"),
    ("new", "New participant"),
    ("anonymous", "Anonymous"),
]


def yes_no(value: str | None) -> bool | None:
    """Turn a yes/no/blank choice into True/False/None."""
    return {"yes": True, "no": False}.get(value or "")


#: Code parts answered with a number, and the most digits each takes (a year: 1985 or 85).
NUMBER_ANSWER_DIGITS = {PartKind.DAY: 2, PartKind.MONTH: 2, PartKind.YEAR: 4}


def answer_field(key: str) -> StringField:
    """Return the text field for one code recipe part (never stored)."""
    part = PARTS[key]
    render_kw = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
    if part.kind in NUMBER_ANSWER_DIGITS:
        # A tablet shows its number keyboard; the codes module still checks the answer.
        render_kw = {
            "autocomplete": "off",
            "spellcheck": "false",
            "inputmode": "numeric",
            "pattern": "[0-9]*",
            "maxlength": NUMBER_ANSWER_DIGITS[part.kind],
        }
    return StringField(
        part.label,
        validators=[Optional(), Length(max=40)],
        description=part.hint,
        render_kw=render_kw,
    )


class DemographicsMixin:
    """Coarse demographics, each optional."""

    birth_year = IntegerField(
        "Birth year for reports (4 digits)",
        validators=[Optional(), NumberRange(1900, 2100, "Enter a four-digit birth year.")],
        render_kw={"inputmode": "numeric"},
    )
    age_band = SelectField("Age band (if no birth year)", choices=AGE_BAND_CHOICES, default="")
    gender = SelectField("Gender", choices=GENDER_CHOICES, default="")
    races = CheckboxesField("Race and ethnicity", choices=RACE_CHOICES)
    zip3 = StringField(
        "First 3 digits of ZIP code",
        validators=[Optional(), Regexp(r"^\d{3}$", message="Enter exactly three digits.")],
        render_kw={"inputmode": "numeric", "maxlength": 3, "autocomplete": "off"},
    )
    substances = CheckboxesField("Substances used", choices=SUBSTANCE_CHOICES)
    injects = SelectField("Injects", choices=YES_NO_CHOICES, default="")

    def demographics(self) -> Demographics:
        """Return the entered demographics."""
        return Demographics(
            birth_year=self.birth_year.data,
            age_band=self.age_band.data or None,
            gender=self.gender.data or None,
            race_codes=list(self.races.data or []),
            zip3=self.zip3.data or None,
            substance_codes=list(self.substances.data or []),
            injects=yes_no(self.injects.data),
        )


class IdentifyMixin:
    """How the participant is identified: card code, code answers, new, or anonymous."""

    participant_mode = RadioField("Participant", choices=PARTICIPANT_MODES, default="card")
    card_code = StringField(
        "Card code",
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
        description="8 characters, like K7QM-2XP9.",
    )
    different_person = BooleanField("This is a different person who has the same code")
    people_count = IntegerField(
        "People in the group",
        default=1,
        validators=[Optional(), NumberRange(1, 500, "Enter a head count from 1 to 500.")],
        render_kw={"inputmode": "numeric"},
    )


def add_answer_fields(form_class: type) -> type:
    """Give a form class one field per code part, named ``answer_<part>``."""
    for key in PARTS:
        setattr(form_class, f"answer_{key}", answer_field(key))
    return form_class
