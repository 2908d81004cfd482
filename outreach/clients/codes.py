"""Anonymous participant codes: recipes, normalised answers, keyed digests and card codes."""

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class CodeError(ValueError):
    """A code answer or card code that cannot be used, with the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        """Keep the field key and the human message."""
        super().__init__(message)
        self.field = field
        self.message = message


class PartKind(StrEnum):
    """How a code part validates and normalises its answer."""

    NAME_LETTERS = "name_letters"
    CHOSEN_LETTERS = "chosen_letters"
    MONTH = "month"
    DAY = "day"
    YEAR = "year"
    GENDER = "gender"


@dataclass(frozen=True)
class CodePart:
    """One question of a code recipe and the characters it contributes to the code."""

    key: str
    label: str
    hint: str
    kind: PartKind
    length: int


PARTS: dict[str, CodePart] = {
    part.key: part
    for part in (
        CodePart(
            key="mother_first_name_2",
            label="Mother's first name",
            hint="The first two letters are used (Maria → MA); a one-letter name gets an X.",
            kind=PartKind.NAME_LETTERS,
            length=2,
        ),
        CodePart(
            key="own_first_name_2",
            label="First name",
            hint="The participant's own first name; the first two letters are used (Jo → JO).",
            kind=PartKind.NAME_LETTERS,
            length=2,
        ),
        CodePart(
            key="family_name_2",
            label="Family name",
            hint="The participant's last name; the first two letters are used (Nguyen → NG).",
            kind=PartKind.NAME_LETTERS,
            length=2,
        ),
        CodePart(
            key="birth_day",
            label="Day of birth",
            hint="A number from 1 to 31.",
            kind=PartKind.DAY,
            length=2,
        ),
        CodePart(
            key="birth_month",
            label="Birth month",
            hint="A number from 1 to 12 (July → 7).",
            kind=PartKind.MONTH,
            length=2,
        ),
        CodePart(
            key="birth_year_2",
            label="Birth year",
            hint="Four digits or the last two (1985 or 85); the last two are used.",
            kind=PartKind.YEAR,
            length=2,
        ),
        CodePart(
            key="gender_letter",
            label="Gender letter",
            hint="M, F, or X for any other answer.",
            kind=PartKind.GENDER,
            length=1,
        ),
        CodePart(
            key="chosen_letters_4",
            label="Four chosen letters",
            hint="Any four letters the participant will remember, like AKOM.",
            kind=PartKind.CHOSEN_LETTERS,
            length=4,
        ),
    )
}

RECIPES: dict[str, tuple[str, ...]] = {
    "default": ("mother_first_name_2", "birth_month", "birth_year_2"),
    "neo": ("gender_letter", "chosen_letters_4", "birth_year_2"),
    "extended": (
        "mother_first_name_2",
        "own_first_name_2",
        "birth_day",
        "birth_month",
        "birth_year_2",
    ),
}

RECIPE_LABELS: dict[str, str] = {
    "default": "Mother's first name + birth month + birth year (MA0785)",
    "neo": "Gender + four chosen letters + birth year (MAKOM93)",
    "extended": "Mother's and own first names + full birth date (MAJO120785), fewer shared codes",
}

GENDER_LETTERS = frozenset("MFX")
NAME_PADDING = "X"
LETTER_SEPARATORS = re.compile(r"[\s\-‐‑–—'’ʼ`.]+")
LETTERS_ONLY = re.compile(r"[A-Z]+")
DIGITS_ONLY = re.compile(r"[0-9]+")
CODE_SEPARATORS = re.compile(r"[\s\-‐‑–—]+")
CODE_CHARACTERS = re.compile(r"[A-Z0-9]+")
UNDECOMPOSED_LETTERS = str.maketrans(
    {"Ø": "O", "Æ": "AE", "Œ": "OE", "Ł": "L", "Đ": "D", "Þ": "TH", "ß": "SS", "Ŀ": "L"}
)
MIN_KEY_BYTES = 16

# The check character is Damm's scheme over the quasigroup x * y = a*x XOR y in GF(32), with
# a = x modulo x^5 + x^2 + 1. A whole code is valid when sum(a^(7-i) * c_i) == 0. A substitution
# at i adds a^(7-i) * e != 0; swapping i and j adds (a^(7-i) XOR a^(7-j)) * e, which is non-zero
# because a has order 31 > 8. So every single substitution and every transposition (adjacent
# or not) is caught, and the check character stays inside the 32-character alphabet.
CARD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CARD_DATA_LENGTH = 7
CARD_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
GF32_REDUCER = 0b100101
EXAMPLE_CARD_CODE = "K7QM-2XP9"
TYPO_MESSAGE = "That card code has a typo: please check it."


def recipe_parts(recipe: tuple[str, ...]) -> tuple[CodePart, ...]:
    """Return the parts of a recipe in order, refusing unknown part keys."""
    if not recipe:
        raise ValueError("A code recipe needs at least one part.")
    unknown = [key for key in recipe if key not in PARTS]
    if unknown:
        raise ValueError(f"Unknown code part(s): {', '.join(unknown)}.")
    return tuple(PARTS[key] for key in recipe)


def build_code(recipe: tuple[str, ...], answers: Mapping[str, str]) -> str:
    """Build the normalised code from the answers, raising CodeError for the first bad part."""
    return "".join(normalise_answer(part, answers.get(part.key)) for part in recipe_parts(recipe))


def validate_answers(recipe: tuple[str, ...], answers: Mapping[str, str]) -> dict[str, str]:
    """Return every problem with the answers as {part key: message}; empty means all good."""
    errors: dict[str, str] = {}
    for part in recipe_parts(recipe):
        try:
            normalise_answer(part, answers.get(part.key))
        except CodeError as error:
            errors[error.field] = error.message
    return errors


def normalise_answer(part: CodePart, answer: str | None) -> str:
    """Return the characters this part contributes to the code, or raise CodeError."""
    text = unicodedata.normalize("NFKC", answer or "").strip()
    if not text:
        raise CodeError(part.key, f"Enter {_lower_first(part.label)}.")
    return ANSWER_NORMALISERS[part.kind](part, text)


def unaccented_upper(text: str) -> str:
    """Uppercase the text with its accents taken off (É → E, Ø → O, full-width → ASCII)."""
    decomposed = unicodedata.normalize("NFKD", text)
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unaccented.upper().translate(UNDECOMPOSED_LETTERS)


def plain_letters(text: str) -> str:
    """Uppercase the text without accents, spaces, hyphens, apostrophes or full stops."""
    return LETTER_SEPARATORS.sub("", unaccented_upper(text))


def _name_letters(part: CodePart, text: str) -> str:
    """Take the first letters of a name, padding a shorter name with X."""
    letters = _letters_or_error(part, text)
    return letters[: part.length].ljust(part.length, NAME_PADDING)


def _chosen_letters(part: CodePart, text: str) -> str:
    """Accept exactly the number of letters the part asks for."""
    letters = _letters_or_error(part, text)
    if len(letters) != part.length:
        raise CodeError(
            part.key,
            f"Choose exactly {_number_word(part.length)} letters (this answer has {len(letters)}).",
        )
    return letters


def _letters_or_error(part: CodePart, text: str) -> str:
    """Return the plain letters of the answer, or raise if anything else is left."""
    letters = plain_letters(text)
    if not LETTERS_ONLY.fullmatch(letters):
        raise CodeError(part.key, f"{part.label} must be letters A to Z only.")
    return letters


def _month(part: CodePart, text: str) -> str:
    """Accept a month number such as 7 or 07."""
    return _two_digit_number(part, text, 1, 12, "Birth month must be a number from 1 to 12.")


def _day(part: CodePart, text: str) -> str:
    """Accept a day of the month such as 3 or 03."""
    return _two_digit_number(part, text, 1, 31, "Day of birth must be a number from 1 to 31.")


def _two_digit_number(part: CodePart, text: str, lowest: int, highest: int, message: str) -> str:
    """Return the number zero-padded to two digits if it is one or two digits within range."""
    if not DIGITS_ONLY.fullmatch(text) or len(text) > 2 or not lowest <= int(text) <= highest:
        raise CodeError(part.key, message)
    return f"{int(text):02d}"


def _year_last_two(part: CodePart, text: str) -> str:
    """Accept a four-digit year from 1900 to 2099 or its last two digits."""
    is_digits = DIGITS_ONLY.fullmatch(text) is not None
    if is_digits and (len(text) == 2 or (len(text) == 4 and text[:2] in {"19", "20"})):
        return text[-2:]
    raise CodeError(
        part.key, "Birth year must be four digits, like 1985, or the last two, like 85."
    )


def _gender_letter(part: CodePart, text: str) -> str:
    """Accept M, F or X in either case."""
    letter = text.upper()
    if letter not in GENDER_LETTERS:
        raise CodeError(part.key, "Gender letter must be M, F or X.")
    return letter


def _lower_first(text: str) -> str:
    """Lower-case the first character, for a label used inside a sentence."""
    return text[:1].lower() + text[1:]


def _number_word(number: int) -> str:
    """Spell small numbers for messages."""
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return words.get(number, str(number))


ANSWER_NORMALISERS: dict[PartKind, Callable[[CodePart, str], str]] = {
    PartKind.NAME_LETTERS: _name_letters,
    PartKind.CHOSEN_LETTERS: _chosen_letters,
    PartKind.MONTH: _month,
    PartKind.DAY: _day,
    PartKind.YEAR: _year_last_two,
    PartKind.GENDER: _gender_letter,
}


def normalise_code(code: str) -> str:
    """Return a typed participant code in canonical form: upper case, no spaces, hyphens or
    accents (``JÉ0785`` is ``JE0785``, as the answers "Jérôme", 7, 1985 make it)."""
    text = CODE_SEPARATORS.sub("", unaccented_upper(code))
    if not CODE_CHARACTERS.fullmatch(text):
        raise CodeError("code", "A participant code is made of letters A to Z and digits only.")
    return text


def code_digest(code: str, key: bytes, suffix: int = 0) -> str:
    """Return the hex HMAC-SHA256 of the normalised code; suffix 2 and up separates namesakes."""
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"The code key must be at least {MIN_KEY_BYTES} bytes.")
    if suffix < 0 or suffix == 1:
        raise ValueError("A code suffix is 0 (none) or a number from 2 up.")
    message = normalise_code(code) + (f"#{suffix}" if suffix else "")
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def card_code(digest_hex: str) -> str:
    """Return the printable card code (XXXX-XXXX) for a digest: 7 data characters and a check."""
    data_bits = CARD_DATA_LENGTH * 5
    hex_digits = -(-data_bits // 4)
    if len(digest_hex) < hex_digits or not re.fullmatch(r"[0-9a-fA-F]+", digest_hex):
        raise ValueError(f"A digest must be at least {hex_digits} hexadecimal characters.")
    value = int(digest_hex[:hex_digits], 16) >> (hex_digits * 4 - data_bits)
    values = [(value >> (5 * index)) & 0b11111 for index in reversed(range(CARD_DATA_LENGTH))]
    return _format_card([*values, _check_value(values)])


def normalise_card_code(text: str) -> str:
    """Return a typed card code as XXXX-XXXX, without checking its check character."""
    compact = CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    compact = compact.upper().translate(CARD_CONFUSABLES)
    if not compact:
        raise CodeError("card_code", "Enter the card code.")
    for char in compact:
        if char not in CARD_ALPHABET:
            raise CodeError("card_code", f"“{char}” is not used in card codes: please check it.")
    if len(compact) != CARD_DATA_LENGTH + 1:
        raise CodeError(
            "card_code",
            f"A card code has 8 characters, like {EXAMPLE_CARD_CODE}; this one has {len(compact)}.",
        )
    return _format_card([CARD_ALPHABET.index(char) for char in compact])


def parse_card_code(text: str) -> str:
    """Return the canonical card code, raising CodeError for a wrong shape or a typo."""
    canonical = normalise_card_code(text)
    values = [CARD_ALPHABET.index(char) for char in canonical.replace("-", "")]
    if _check_value(values) != 0:
        raise CodeError("card_code", TYPO_MESSAGE)
    return canonical


def card_code_is_valid(text: str) -> bool:
    """Say whether the text is a well-formed card code whose check character matches."""
    try:
        parse_card_code(text)
    except CodeError:
        return False
    return True


def _check_value(values: list[int]) -> int:
    """Run the GF(32) Damm-style chain: the check for data, or 0 for a whole valid code."""
    interim = 0
    for value in values:
        interim = _times_alpha(interim) ^ value
    return _times_alpha(interim)


def _times_alpha(value: int) -> int:
    """Multiply an element of GF(32) = GF(2)[x]/(x^5 + x^2 + 1) by x."""
    value <<= 1
    return value ^ GF32_REDUCER if value & 0b100000 else value


def _format_card(values: list[int]) -> str:
    """Join card values into XXXX-XXXX."""
    chars = "".join(CARD_ALPHABET[value] for value in values)
    return f"{chars[:4]}-{chars[4:]}"
