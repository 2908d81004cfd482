"""Finding and registering participants by their anonymous code."""

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from outreach.audit.services import record
from outreach.clients.codes import (
    RECIPES,
    CodeError,
    build_code,
    card_code,
    code_digest,
    parse_card_code,
)
from outreach.clients.models import (
    Participant,
    ParticipantRace,
    ParticipantSubstance,
    ProgramSetting,
)
from outreach.extensions import db

RECIPE_SETTING = "code_recipe"
#: Suffixes that tell apart different people with the same code (0 = the first person).
SUFFIXES = (0, *range(2, 10))


@dataclass
class Demographics:
    """Coarse, optional facts about a participant."""

    birth_year: int | None = None
    age_band: str | None = None
    gender: str | None = None
    race_codes: list[str] = field(default_factory=list)
    zip3: str | None = None
    substance_codes: list[str] = field(default_factory=list)
    injects: bool | None = None


class ParticipantExists(ValueError):
    """A new participant's code is already in use by someone."""

    def __init__(self, existing: list[Participant]):
        super().__init__("A participant with this code exists.")
        self.existing = existing


def current_recipe_name() -> str:
    """Return the name of the code recipe the program uses."""
    name = db.session.scalar(
        select(ProgramSetting.value).where(ProgramSetting.key == RECIPE_SETTING)
    )
    return name if name in RECIPES else "default"


def current_recipe() -> tuple[str, ...]:
    """Return the parts of the code recipe the program uses."""
    return RECIPES[current_recipe_name()]


def recipe_set(*, name: str) -> None:
    """Choose the program's code recipe."""
    if name not in RECIPES:
        raise CodeError("recipe", "Choose one of the listed recipes.")
    setting = db.session.get(ProgramSetting, RECIPE_SETTING)
    previous = setting.value if setting else "default"
    if setting is None:
        setting = ProgramSetting(key=RECIPE_SETTING, value=name)
        db.session.add(setting)
    setting.value = name
    record("settings.code_recipe", "setting", RECIPE_SETTING, data={"from": previous, "to": name})


def code_key() -> bytes:
    """Return the secret key for participant code digests."""
    return current_app.config["CLIENT_CODE_KEY"].encode()


def code_from_answers(answers: dict[str, str]) -> str:
    """Build the normalised code from the recipe answers (raises CodeError)."""
    return build_code(current_recipe(), answers)


def participants_with_code(code: str) -> list[Participant]:
    """Return the participants (any suffix) whose code this is, first-registered first."""
    digests = [code_digest(code, code_key(), suffix) for suffix in SUFFIXES]
    query = (
        select(Participant)
        .where(Participant.code_hash.in_(digests), Participant.deleted_at.is_(None))
        .order_by(Participant.suffix)
    )
    return list(db.session.scalars(query))


def participant_by_card(text: str) -> Participant:
    """Return the participant with a card code, or raise CodeError for the card field."""
    card = parse_card_code(text)
    participant = db.session.scalar(
        select(Participant).where(Participant.card_code == card, Participant.deleted_at.is_(None))
    )
    if participant is None:
        raise CodeError(
            "card_code", "No participant has this card code. Check it, or find by code answers."
        )
    return participant


def free_suffix(existing: list[Participant]) -> int:
    """Return the first suffix not used by the participants sharing a code."""
    used = {participant.suffix for participant in existing}
    for suffix in SUFFIXES:
        if suffix not in used:
            return suffix
    raise CodeError(
        "different_person", "Too many people share this code; use another recipe answer."
    )


def participant_create(
    *, code: str, demographics: Demographics, different_person: bool = False
) -> Participant:
    """Register a participant by code; a second person with the same code gets a suffix."""
    existing = participants_with_code(code)
    if existing and not different_person:
        raise ParticipantExists(existing)
    suffix = free_suffix(existing)
    digest = code_digest(code, code_key(), suffix)
    participant = Participant(code_hash=digest, suffix=suffix, card_code=card_code(digest))
    apply_demographics(participant, demographics)
    db.session.add(participant)
    db.session.flush()
    record("participant.create", "participant", participant.id, data={"suffix": suffix})
    return participant


def apply_demographics(participant: Participant, demographics: Demographics) -> None:
    """Copy demographics onto a participant."""
    participant.birth_year = demographics.birth_year
    participant.age_band = demographics.age_band
    participant.gender = demographics.gender
    participant.zip3 = demographics.zip3
    participant.injects = demographics.injects
    participant.races = [
        ParticipantRace(race=code) for code in sorted(set(demographics.race_codes))
    ]
    participant.substances = [
        ParticipantSubstance(substance=code) for code in sorted(set(demographics.substance_codes))
    ]


def participant_update(*, participant: Participant, demographics: Demographics) -> None:
    """Change a participant's demographics."""
    apply_demographics(participant, demographics)
    record("participant.update", "participant", participant.id)
