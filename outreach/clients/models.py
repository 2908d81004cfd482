"""Participants, known only by a keyed hash of their code, with coarse demographics."""

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.extensions import db


class Gender(enum.StrEnum):
    """Gender as the participant describes it."""

    WOMAN = "woman"
    MAN = "man"
    TRANS_WOMAN = "trans_woman"
    TRANS_MAN = "trans_man"
    NONBINARY = "nonbinary"
    OTHER = "other"
    DECLINED = "declined"


class Race(enum.StrEnum):
    """Race and ethnicity; several may apply."""

    AMERICAN_INDIAN_ALASKA_NATIVE = "american_indian_alaska_native"
    ASIAN = "asian"
    BLACK = "black"
    HISPANIC_LATINO = "hispanic_latino"
    MIDDLE_EASTERN_NORTH_AFRICAN = "middle_eastern_north_african"
    NATIVE_HAWAIIAN_PACIFIC_ISLANDER = "native_hawaiian_pacific_islander"
    WHITE = "white"
    DECLINED = "declined"


class Substance(enum.StrEnum):
    """Substances the participant uses; several may apply."""

    OPIOIDS = "opioids"
    FENTANYL = "fentanyl"
    HEROIN = "heroin"
    STIMULANTS = "stimulants"
    METHAMPHETAMINE = "methamphetamine"
    COCAINE = "cocaine"
    BENZODIAZEPINES = "benzodiazepines"
    ALCOHOL = "alcohol"
    XYLAZINE = "xylazine"
    OTHER = "other"
    DECLINED = "declined"


class AgeBand(enum.StrEnum):
    """Age band, for participants who give no birth year."""

    UNDER_25 = "under_25"
    AGE_25_34 = "25_34"
    AGE_35_44 = "35_44"
    AGE_45_54 = "45_54"
    AGE_55_64 = "55_64"
    AGE_65_PLUS = "65_plus"
    DECLINED = "declined"


class Participant(db.Model):
    """A person served, identified by the keyed hash of an anonymous code."""

    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint("suffix >= 0 AND suffix <= 9", name="suffix"),
        CheckConstraint(
            "birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)", name="birth_year"
        ),
        CheckConstraint(f"gender IS NULL OR {enum_check('gender', Gender)}", name="gender"),
        CheckConstraint(f"age_band IS NULL OR {enum_check('age_band', AgeBand)}", name="age_band"),
        CheckConstraint("zip3 IS NULL OR length(zip3) = 3", name="zip3"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: HMAC-SHA256 of the normalised code (and suffix) under CLIENT_CODE_KEY; never the code.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: 0 for the first person with a code; 2, 3… for others who produce the same code.
    suffix: Mapped[int] = mapped_column(Integer, default=0)
    #: Short printable code derived from code_hash, with a check character.
    card_code: Mapped[str] = mapped_column(String(9), unique=True)
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    age_band: Mapped[str | None] = mapped_column(enum_column_type(AgeBand), nullable=True)
    gender: Mapped[str | None] = mapped_column(enum_column_type(Gender), nullable=True)
    #: First three digits of the ZIP code only.
    zip3: Mapped[str | None] = mapped_column(String(3), nullable=True)
    injects: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    #: Loaded when shown (the participant page), not with every encounter.
    races: Mapped[list["ParticipantRace"]] = relationship(
        cascade="all, delete-orphan", lazy="select"
    )
    substances: Mapped[list["ParticipantSubstance"]] = relationship(
        cascade="all, delete-orphan", lazy="select"
    )

    @property
    def race_codes(self) -> list[str]:
        """Race and ethnicity codes."""
        return sorted(race.race for race in self.races)

    @property
    def substance_codes(self) -> list[str]:
        """Substance codes."""
        return sorted(item.substance for item in self.substances)


class ParticipantRace(db.Model):
    """One race or ethnicity a participant identifies with."""

    __tablename__ = "participant_races"
    __table_args__ = (CheckConstraint(enum_check("race", Race), name="race"),)

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    race: Mapped[str] = mapped_column(enum_column_type(Race), primary_key=True)


class ParticipantSubstance(db.Model):
    """One substance a participant uses."""

    __tablename__ = "participant_substances"
    __table_args__ = (CheckConstraint(enum_check("substance", Substance), name="substance"),)

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    substance: Mapped[str] = mapped_column(enum_column_type(Substance), primary_key=True)


class ProgramSetting(db.Model):
    """A program-wide choice made by an administrator, such as the code recipe."""

    __tablename__ = "program_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
