"""MI notes and the change talk heard in them; the free text is held only as ciphertext."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.users.models import User


class Focus(enum.StrEnum):
    """The behaviour the participant chose to talk about."""

    SAFER_USE = "safer_use"
    REDUCING_USE = "reducing_use"
    TREATMENT = "treatment"
    TESTING = "testing"
    HOUSING = "housing"
    OTHER = "other"


class Stage(enum.StrEnum):
    """Stage of change (transtheoretical model)."""

    PRECONTEMPLATION = "precontemplation"
    CONTEMPLATION = "contemplation"
    PREPARATION = "preparation"
    ACTION = "action"
    MAINTENANCE = "maintenance"
    RECURRENCE = "recurrence"


#: The forward order of stages; recurrence has no place in it (it is never "forward").
STAGE_RANK: dict[Stage, int] = {
    Stage.PRECONTEMPLATION: 1,
    Stage.CONTEMPLATION: 2,
    Stage.PREPARATION: 3,
    Stage.ACTION: 4,
    Stage.MAINTENANCE: 5,
}


class ChangeTalk(enum.StrEnum):
    """Change talk heard, DARN-CAT: preparatory (DARN) then mobilising (CAT)."""

    DESIRE = "desire"
    ABILITY = "ability"
    REASONS = "reasons"
    NEED = "need"
    COMMITMENT = "commitment"
    ACTIVATION = "activation"
    TAKING_STEPS = "taking_steps"


class SustainTalk(enum.StrEnum):
    """How much talk in favour of the status quo was heard."""

    NONE = "none"
    SOME = "some"
    STRONG = "strong"


#: The three rulers, each 0-10 and optional.
RULERS = ("importance", "confidence", "readiness")
#: The encrypted free-text fields.
TEXT_FIELDS = ("goal", "next_steps", "summary")


def ruler_check(column: str) -> CheckConstraint:
    """Return the constraint that keeps a ruler empty or within 0-10."""
    return CheckConstraint(f"{column} IS NULL OR ({column} >= 0 AND {column} <= 10)", name=column)


class MINote(db.Model):
    """A structured record of one MI conversation, at an encounter with a participant."""

    __tablename__ = "mi_notes"
    __table_args__ = (
        CheckConstraint(enum_check("focus", Focus), name="focus"),
        CheckConstraint(enum_check("stage", Stage), name="stage"),
        CheckConstraint(
            f"sustain_talk IS NULL OR {enum_check('sustain_talk', SustainTalk)}",
            name="sustain_talk",
        ),
        *(ruler_check(column) for column in RULERS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The encounter the conversation happened at (one note per encounter).
    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id", ondelete="CASCADE"), unique=True
    )
    #: The participant (copied from the encounter so journeys and figures need no join).
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    #: Who wrote the note; with supervisors, the only one who reads its text.
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    focus: Mapped[str] = mapped_column(enum_column_type(Focus))
    stage: Mapped[str] = mapped_column(enum_column_type(Stage))
    #: Rulers 0-10, each empty when not asked.
    importance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confidence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    readiness: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Empty when not noted.
    sustain_talk: Mapped[str | None] = mapped_column(enum_column_type(SustainTalk), nullable=True)
    #: The participant's own goal, in their words: AES-GCM ciphertext, empty when not given.
    goal_ciphertext: Mapped[bytes | None] = mapped_column("goal", LargeBinary, nullable=True)
    #: Agreed next steps: ciphertext.
    next_steps_ciphertext: Mapped[bytes | None] = mapped_column(
        "next_steps", LargeBinary, nullable=True
    )
    #: A short summary: ciphertext.
    summary_ciphertext: Mapped[bytes | None] = mapped_column("summary", LargeBinary, nullable=True)
    #: Which notes key encrypted the text: the key's fingerprint (see ``outreach.mi.crypto``).
    key_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the encounter is removed or made anonymous; every read skips such notes.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Raised by each edit: an edit from a page opened before another edit is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    encounter: Mapped[Encounter] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    change_talk: Mapped[list["MIChangeTalk"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MIChangeTalk.code"
    )

    @property
    def change_talk_codes(self) -> list[str]:
        """The change talk heard, in DARN-CAT order."""
        heard = {line.code for line in self.change_talk}
        return [code.value for code in ChangeTalk if code.value in heard]


class MIChangeTalk(db.Model):
    """One kind of change talk heard in a conversation."""

    __tablename__ = "mi_change_talk"
    __table_args__ = (CheckConstraint(enum_check("code", ChangeTalk), name="code"),)

    note_id: Mapped[int] = mapped_column(
        ForeignKey("mi_notes.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(enum_column_type(ChangeTalk), primary_key=True)


FOCUS_LABELS = {
    Focus.SAFER_USE: "Safer use",
    Focus.REDUCING_USE: "Reducing use",
    Focus.TREATMENT: "Treatment",
    Focus.TESTING: "Testing",
    Focus.HOUSING: "Housing",
    Focus.OTHER: "Other",
}
STAGE_LABELS = {
    Stage.PRECONTEMPLATION: "Precontemplation",
    Stage.CONTEMPLATION: "Contemplation",
    Stage.PREPARATION: "Preparation",
    Stage.ACTION: "Action",
    Stage.MAINTENANCE: "Maintenance",
    Stage.RECURRENCE: "Recurrence",
}
CHANGE_TALK_LABELS = {
    ChangeTalk.DESIRE: "Desire",
    ChangeTalk.ABILITY: "Ability",
    ChangeTalk.REASONS: "Reasons",
    ChangeTalk.NEED: "Need",
    ChangeTalk.COMMITMENT: "Commitment",
    ChangeTalk.ACTIVATION: "Activation",
    ChangeTalk.TAKING_STEPS: "Taking steps",
}
SUSTAIN_LABELS = {
    SustainTalk.NONE: "None",
    SustainTalk.SOME: "Some",
    SustainTalk.STRONG: "Strong",
}
