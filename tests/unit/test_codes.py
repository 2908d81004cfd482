"""Anonymous participant codes, their keyed digests and the printed card codes."""

import dataclasses
import hashlib
import hmac
import logging
import re

import pytest

from outreach.clients.codes import (
    CARD_ALPHABET,
    EXAMPLE_CARD_CODE,
    PARTS,
    RECIPE_LABELS,
    RECIPES,
    TYPO_MESSAGE,
    CodeError,
    build_code,
    card_code,
    card_code_is_valid,
    code_digest,
    normalise_answer,
    normalise_card_code,
    normalise_code,
    parse_card_code,
    recipe_parts,
    validate_answers,
)

SERVER_KEY = b"unit-test-server-key-32-bytes-ok"
CARD_SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
MARIA = {"mother_first_name_2": "Maria", "birth_month": "7", "birth_year_2": "1985"}


def sample_card_codes(count: int) -> list[str]:
    """Return deterministic card codes for many different digests."""
    return [card_code(hashlib.sha256(str(index).encode()).hexdigest()) for index in range(count)]


def test_every_recipe_uses_known_parts_and_has_a_label() -> None:
    """Recipes, parts and labels agree."""
    assert set(RECIPE_LABELS) == set(RECIPES)
    for recipe in RECIPES.values():
        assert all(key in PARTS for key in recipe)
    assert all(part.key == key for key, part in PARTS.items())


def test_parts_are_frozen() -> None:
    """A part cannot be changed at run time."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        PARTS["birth_month"].length = 3  # type: ignore[misc]


def test_default_recipe_builds_the_documented_example() -> None:
    """Maria, July, 1985 gives MA0785."""
    assert RECIPES["default"] == ("mother_first_name_2", "birth_month", "birth_year_2")
    assert build_code(RECIPES["default"], MARIA) == "MA0785"


def test_neo_recipe() -> None:
    """Gender, four chosen letters and a birth year."""
    answers = {"gender_letter": "f", "chosen_letters_4": "ako m", "birth_year_2": "93"}
    assert build_code(RECIPES["neo"], answers) == "FAKOM93"


def test_extended_recipe() -> None:
    """Mother's and own first names with the full birth date."""
    answers = {**MARIA, "own_first_name_2": "Jo", "birth_day": "3"}
    assert build_code(RECIPES["extended"], answers) == "MAJO030785"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Maria", "MA"),
        ("maría", "MA"),
        ("  Ma ria ", "MA"),
        ("Ángela", "AN"),
        ("Zoë", "ZO"),
        ("O'Neil", "ON"),
        ("D’Arcy", "DA"),
        ("-Anne-Marie", "AN"),
        ("St. Clair", "ST"),
        ("Ñusta", "NU"),
        ("Ødegaard", "OD"),
        ("Łucja", "LU"),
        ("J", "JX"),
        ("ＭＡＲＹ", "MA"),
    ],
)
def test_name_letters_are_plain_upper_case_and_padded(answer: str, expected: str) -> None:
    """Accents, case, separators and short names are normalised."""
    assert normalise_answer(PARTS["mother_first_name_2"], answer) == expected


@pytest.mark.parametrize("answer", ["Мария", "M4ria", "Ma_ria", "?!", "李"])
def test_name_letters_refuse_anything_but_a_to_z(answer: str) -> None:
    """Digits, symbols and non-Latin scripts are refused with a clear message."""
    with pytest.raises(CodeError) as caught:
        normalise_answer(PARTS["mother_first_name_2"], answer)
    assert caught.value.field == "mother_first_name_2"
    assert str(caught.value) == "Mother's first name must be letters A to Z only."


@pytest.mark.parametrize(
    ("answer", "expected"), [("7", "07"), ("07", "07"), (" 12 ", "12"), ("０７", "07")]
)
def test_birth_month_accepts_one_or_two_digits(answer: str, expected: str) -> None:
    """Months are zero-padded."""
    assert normalise_answer(PARTS["birth_month"], answer) == expected


@pytest.mark.parametrize("answer", ["0", "13", "007", "July", "7.5", "-7"])
def test_birth_month_out_of_range_is_refused(answer: str) -> None:
    """The message gives the range."""
    with pytest.raises(CodeError, match=r"^Birth month must be a number from 1 to 12\.$"):
        normalise_answer(PARTS["birth_month"], answer)


@pytest.mark.parametrize(("answer", "expected"), [("1", "01"), ("09", "09"), ("31", "31")])
def test_birth_day_accepts_1_to_31(answer: str, expected: str) -> None:
    """Days are zero-padded."""
    assert normalise_answer(PARTS["birth_day"], answer) == expected


@pytest.mark.parametrize("answer", ["0", "32", "1st"])
def test_birth_day_out_of_range_is_refused(answer: str) -> None:
    """The message gives the range."""
    with pytest.raises(CodeError, match="from 1 to 31"):
        normalise_answer(PARTS["birth_day"], answer)


@pytest.mark.parametrize(
    ("answer", "expected"), [("1985", "85"), ("85", "85"), ("2003", "03"), ("03", "03")]
)
def test_birth_year_keeps_the_last_two_digits(answer: str, expected: str) -> None:
    """Four-digit and two-digit years both work."""
    assert normalise_answer(PARTS["birth_year_2"], answer) == expected


@pytest.mark.parametrize("answer", ["5", "185", "1885", "19850", "eighty", "85a"])
def test_birth_year_of_another_shape_is_refused(answer: str) -> None:
    """The message shows both accepted shapes."""
    with pytest.raises(CodeError, match="like 1985, or the last two, like 85"):
        normalise_answer(PARTS["birth_year_2"], answer)


@pytest.mark.parametrize(("answer", "expected"), [("m", "M"), ("F", "F"), (" x ", "X")])
def test_gender_letter(answer: str, expected: str) -> None:
    """M, F and X in either case."""
    assert normalise_answer(PARTS["gender_letter"], answer) == expected


@pytest.mark.parametrize("answer", ["Q", "male", "MF"])
def test_other_gender_answers_are_refused(answer: str) -> None:
    """Only the three letters are codes."""
    with pytest.raises(CodeError, match=r"^Gender letter must be M, F or X\.$"):
        normalise_answer(PARTS["gender_letter"], answer)


@pytest.mark.parametrize("answer", ["abc", "abcde", "ab-c"])
def test_chosen_letters_must_be_exactly_four(answer: str) -> None:
    """Chosen letters are not padded or cut."""
    with pytest.raises(CodeError, match="exactly four letters"):
        normalise_answer(PARTS["chosen_letters_4"], answer)


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_missing_answer_asks_for_it(blank: str | None) -> None:
    """The message names the question."""
    with pytest.raises(CodeError) as caught:
        normalise_answer(PARTS["mother_first_name_2"], blank)
    assert caught.value.field == "mother_first_name_2"
    assert caught.value.message == "Enter mother's first name."


def test_build_code_raises_for_the_first_bad_part_in_recipe_order() -> None:
    """The earliest problem is reported."""
    answers = {"mother_first_name_2": "Maria", "birth_month": "13", "birth_year_2": "x"}
    with pytest.raises(CodeError) as caught:
        build_code(RECIPES["default"], answers)
    assert caught.value.field == "birth_month"


def test_validate_answers_reports_every_bad_field() -> None:
    """Forms can show a message next to each bad field."""
    errors = validate_answers(RECIPES["default"], {"birth_month": "13", "birth_year_2": "x"})
    assert set(errors) == {"mother_first_name_2", "birth_month", "birth_year_2"}
    assert errors["birth_month"] == "Birth month must be a number from 1 to 12."


def test_validate_answers_is_empty_for_good_answers() -> None:
    """No news is good news."""
    assert validate_answers(RECIPES["default"], MARIA) == {}


def test_code_error_is_a_value_error() -> None:
    """Callers can catch it as ValueError."""
    assert issubclass(CodeError, ValueError)


@pytest.mark.parametrize("recipe", [(), ("birth_month", "shoe_size")])
def test_unknown_or_empty_recipes_are_programming_errors(recipe: tuple[str, ...]) -> None:
    """A bad recipe is not a participant's mistake."""
    with pytest.raises(ValueError) as caught:
        recipe_parts(recipe)
    assert not isinstance(caught.value, CodeError)


def test_digest_is_the_hmac_of_the_normalised_code() -> None:
    """HMAC-SHA256 keyed with the server secret."""
    expected = hmac.new(SERVER_KEY, b"MA0785", hashlib.sha256).hexdigest()
    assert code_digest("MA0785", SERVER_KEY) == expected
    assert code_digest(" ma 07-85 ", SERVER_KEY) == expected


def test_suffix_separates_people_with_the_same_code_unambiguously() -> None:
    """Suffix 2 is hashed as CODE#2, never confused with a longer code."""
    with_suffix = code_digest("MA0785", SERVER_KEY, suffix=2)
    assert with_suffix == hmac.new(SERVER_KEY, b"MA0785#2", hashlib.sha256).hexdigest()
    assert with_suffix != code_digest("MA0785", SERVER_KEY)
    assert with_suffix != code_digest("MA07852", SERVER_KEY)
    assert with_suffix != code_digest("MA0785", SERVER_KEY, suffix=3)


@pytest.mark.parametrize("suffix", [-1, 1])
def test_suffix_is_zero_or_from_two(suffix: int) -> None:
    """Suffix 1 would be a second name for 'no suffix'."""
    with pytest.raises(ValueError, match="suffix"):
        code_digest("MA0785", SERVER_KEY, suffix=suffix)


@pytest.mark.parametrize("key", [b"", b"short", "a text key of enough length"])
def test_digest_needs_a_real_key(key: bytes) -> None:
    """A short or text key is refused."""
    with pytest.raises(ValueError, match="key"):
        code_digest("MA0785", key)


def test_digest_depends_on_the_key() -> None:
    """Another program's key gives another digest."""
    assert code_digest("MA0785", SERVER_KEY) != code_digest("MA0785", SERVER_KEY[::-1])


@pytest.mark.parametrize("code", ["", "MA#0785", "MA/07/85"])
def test_digest_refuses_codes_with_other_characters(code: str) -> None:
    """Codes are letters and digits."""
    with pytest.raises(CodeError) as caught:
        code_digest(code, SERVER_KEY)
    assert caught.value.field == "code"


def test_normalise_code() -> None:
    """Typed codes lose case and separators."""
    assert normalise_code("fakom-93") == "FAKOM93"
    assert normalise_code("JÉ 0785") == normalise_code("je0785") == "JE0785"
    assert normalise_code("ＭＡ０７８５") == "MA0785"


def test_card_codes_have_the_printed_shape_and_are_valid() -> None:
    """Four characters, a hyphen, four characters, from the Crockford alphabet."""
    for code in sample_card_codes(500):
        assert CARD_SHAPE.fullmatch(code)
        assert card_code_is_valid(code)
        assert parse_card_code(code) == code


def test_card_code_comes_from_the_start_of_the_digest() -> None:
    """The same digest always gives the same card; the first 35 bits are the data."""
    digest = code_digest("MA0785", SERVER_KEY)
    assert card_code(digest) == card_code(digest.upper()) == card_code(digest[:9])
    data_value = int(digest[:9], 16) >> 1
    data = "".join(CARD_ALPHABET[(data_value >> shift) & 31] for shift in range(30, -1, -5))
    assert card_code(digest).replace("-", "")[:7] == data


def test_card_codes_rarely_repeat() -> None:
    """35 data bits keep a few thousand cards distinct."""
    codes = sample_card_codes(3000)
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("digest", ["", "abc", "xyz123456789", "12345678"])
def test_card_code_needs_a_hex_digest(digest: str) -> None:
    """Nonsense in, clear error out."""
    with pytest.raises(ValueError, match="hexadecimal"):
        card_code(digest)


def test_check_character_catches_every_single_substitution() -> None:
    """Each of the 31 wrong characters at each of the 8 places is caught, for 2000 codes."""
    for code in sample_card_codes(2000):
        compact = code.replace("-", "")
        for position, original in enumerate(compact):
            for replacement in CARD_ALPHABET:
                if replacement != original:
                    typo = compact[:position] + replacement + compact[position + 1 :]
                    assert not card_code_is_valid(typo), (code, typo)


def test_check_character_catches_every_transposition() -> None:
    """Swapping any two different characters, adjacent or not, is caught, for 3000 codes."""
    for code in sample_card_codes(3000):
        compact = code.replace("-", "")
        for first in range(8):
            for second in range(first + 1, 8):
                if compact[first] != compact[second]:
                    swapped = list(compact)
                    swapped[first], swapped[second] = swapped[second], swapped[first]
                    assert not card_code_is_valid("".join(swapped)), (code, first, second)


def test_example_card_code_is_valid() -> None:
    """The example shown in messages is a real card code."""
    assert card_code_is_valid(EXAMPLE_CARD_CODE)


@pytest.mark.parametrize(
    "typed",
    ["K7QM-2XP9", "k7qm-2xp9", "k7qm 2xp9", "K7QM2XP9", " k7 qm–2x p9 ", "ｋ７ｑｍ２ｘｐ９"],
)
def test_card_code_input_is_forgiving(typed: str) -> None:
    """Case, spaces, dashes and a missing hyphen do not matter."""
    assert normalise_card_code(typed) == "K7QM-2XP9"
    assert parse_card_code(typed) == "K7QM-2XP9"


def test_crockford_confusables_are_read_as_digits() -> None:
    """O reads as 0; I and L read as 1."""
    code = next(c for c in sample_card_codes(500) if "0" in c and "1" in c)
    assert parse_card_code(code.replace("0", "o").replace("1", "I")) == code
    assert parse_card_code(code.replace("0", "O").replace("1", "l")) == code


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the card code."),
        ("  -  ", "Enter the card code."),
        ("K7QM-2XP", "A card code has 8 characters, like K7QM-2XP9; this one has 7."),
        ("K7QM-2XP99", "A card code has 8 characters, like K7QM-2XP9; this one has 9."),
        ("K7QM-2XPU", "“U” is not used in card codes: please check it."),
        ("K7QM/2XP9", "“/” is not used in card codes: please check it."),
        ("K7QM-2XP8", TYPO_MESSAGE),
        ("K7MQ-2XP9", TYPO_MESSAGE),
    ],
)
def test_bad_card_codes_get_a_clear_message(typed: str, message: str) -> None:
    """Each kind of mistake has its own message on the card_code field."""
    with pytest.raises(CodeError) as caught:
        parse_card_code(typed)
    assert caught.value.field == "card_code"
    assert caught.value.message == message
    assert not card_code_is_valid(typed)


def test_normalise_card_code_does_not_judge_the_check_character() -> None:
    """Shape only: the typo check is parse_card_code's job."""
    assert normalise_card_code("k7qm2xp8") == "K7QM-2XP8"


def test_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Answers and codes never reach the logs."""
    with caplog.at_level(logging.DEBUG):
        digest = code_digest(build_code(RECIPES["default"], MARIA), SERVER_KEY)
        parse_card_code(card_code(digest))
        validate_answers(RECIPES["default"], {})
    assert caplog.records == []
