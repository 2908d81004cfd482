"""The free-text guard flags identifying details and leaves ordinary outreach notes alone."""

import time

import pytest

from outreach.textguard import (
    ADDRESS,
    ADVICE,
    DATE,
    EMAIL,
    ID_NUMBER,
    LINK,
    NAME,
    PARTICIPANT_CODE,
    PHONE,
    check_free_text,
    find_identifiers,
)

IDENTIFYING = [
    ("email is jdoe@example.com", EMAIL),
    ("JDOE@EXAMPLE.ORG", EMAIL),
    ("reach her at jane.doe+sms@mail.co.uk later", EMAIL),
    ("jdoe at gmail dot com", EMAIL),
    ("jdoe (at) yahoo (dot) com", EMAIL),
    ("reach her at joe at proton dot me", EMAIL),
    ("jo_b at web dot de", EMAIL),
    ("write to her at gmail", EMAIL),
    ("(555) 123-4567", PHONE),
    ("call 555-123-4567 after 5", PHONE),
    ("555.123.4567", PHONE),
    ("text him on 555/123/4567 after 6", PHONE),
    ("555_123_4567", PHONE),
    ("call 123/4567", PHONE),
    ("+1 555 123 4567", PHONE),
    ("+1 (555) 123-4567", PHONE),
    ("1-555-123-4567", PHONE),
    ("+44 20 7946 0958", PHONE),
    ("+33 1 23 45 67 89", PHONE),
    ("cell 5551234567", PHONE),
    ("15551234567", PHONE),
    ("text him at 555 123 4567", PHONE),
    ("new number 123-4567", PHONE),
    ("５５５-１２３-４５６７", PHONE),
    ("555–123–4567", PHONE),
    ("(020) 7946 0958", PHONE),
    ("07700 900123", PHONE),
    ("+49 (0)30 12345678", PHONE),
    ("+353 87 123 4567", PHONE),
    ("+52 55 1234 5678", PHONE),
    ("(+44) 7700 900123", PHONE),
    ("+44 (0) 7700 900123", PHONE),
    ("+1.555.123.4567", PHONE),
    ("555 123 4567 ext 22", PHONE),
    ("call him at five five five one two three four", PHONE),
    ("Five-five-five, one-two-three-four", PHONE),
    ("eight six seven five three oh nine", PHONE),
    ("number is 555 one two three four five six seven", PHONE),
    ("1985-07-12", DATE),
    ("Maria 07 1985", DATE),
    ("answers: Maria, 07 1985", DATE),
    ("7/1985", DATE),
    ("born 07-1992", DATE),
    ("MA 07 85", PARTICIPANT_CODE),
    ("code MA-07-85", PARTICIPANT_CODE),
    ("07/12/1985", DATE),
    ("12.7.85", DATE),
    ("7/12/85", DATE),
    ("7-12-1985", DATE),
    ("July 12 1985", DATE),
    ("July 12th, 1985", DATE),
    ("jul. 12, '85", DATE),
    ("12 Jul 1985", DATE),
    ("12th of July 1985", DATE),
    ("12-Jul-1985", DATE),
    ("DOB 7/12", DATE),
    ("d.o.b. given", DATE),
    ("asked for her date of birth", DATE),
    ("birthdate on file", DATE),
    ("his birthday is next week", DATE),
    ("born on the 12th", DATE),
    ("born July 85", DATE),
    ("SSN 123-45-6789", ID_NUMBER),
    ("123-45-6789", ID_NUMBER),
    ("MRN 00123456", ID_NUMBER),
    ("record 4455667", ID_NUMBER),
    ("1234567", ID_NUMBER),
    ("id # 8812", ID_NUMBER),
    ("Medicaid ID 4521", ID_NUMBER),
    ("gave the last 4 of her ssn", ID_NUMBER),
    ("MRN12345678", ID_NUMBER),
    ("123 Main St", ADDRESS),
    ("45 Elm Avenue", ADDRESS),
    ("lives at 1600 Pennsylvania Ave NW", ADDRESS),
    ("100 N. Broad Street", ADDRESS),
    ("staying at 22 w 5th st for now", ADDRESS),
    ("PO Box 12", ADDRESS),
    ("P.O. Box 77", ADDRESS),
    ("apt 4B", ADDRESS),
    ("Unit 12", ADDRESS),
    ("room 214 at the motel", ADDRESS),
    ("zip code 90210", ADDRESS),
    ("14 Elm Grove", ADDRESS),
    ("3 Kings Row", ADDRESS),
    ("16 Orchard Mews", ADDRESS),
    ("7 Pine Crossing", ADDRESS),
    ("401 Rte 9", ADDRESS),
    ("staying at 2300 Highway 61 for now", ADDRESS),
    ("12 rue de Rivoli", ADDRESS),
    ("lives at 12, rue Oberkampf", ADDRESS),
    ("calle Mayor 5", ADDRESS),
    ("Avenida Juárez 123", ADDRESS),
    ("rua da Prata 45", ADDRESS),
    ("Hauptstraße 5", ADDRESS),
    ("Schillerstr. 12", ADDRESS),
    ("Keizersgracht 123", ADDRESS),
    ("SW1A 1AA", ADDRESS),
    ("EC1A 1BB", ADDRESS),
    ("postcode m1 1ae", ADDRESS),
    ("K1A 0B1", ADDRESS),
    ("postal code k1a0b1", ADDRESS),
    ("https://example.com/profile", LINK),
    ("www.facebook.com/jdoe", LINK),
    ("facebook.com/jdoe", LINK),
    ("follow @jdoe_99", LINK),
    ("IG: jdoe", LINK),
    ("snapchat username is jdoe", LINK),
    ("pay him on cashapp $jdoe", LINK),
    ("code MA0785", PARTICIPANT_CODE),
    ("MAKO1993 came by", PARTICIPANT_CODE),
    ("her name is Sam", NAME),
    ("name is unknown to me", NAME),
    ("my name is", NAME),
    ("name: Jo", NAME),
    ("his nickname's Red", NAME),
    ("called Mike about the appointment", NAME),
    ("goes by 'smokey'", NAME),
    ("known as Red", NAME),
    ("aka Tiny", NAME),
    ("came with Mr. Jones", NAME),
    ("her boyfriend Carlos came too", NAME),
    ("picking up for her friend Dee", NAME),
    ("J. Smith came by", NAME),
    ("Maria is her mom", NAME),
    ("born in 1985 on the fourth of march", DATE),
    ("born 1990, on March twenty-first", DATE),
    ("lives at 12 Elm", ADDRESS),
]

ORDINARY_NOTES = [
    "gave 10 syringes and 2 naloxone kits",
    "wants to cut down to 2 times a day",
    "3/10 importance",
    "importance 8/10, confidence 5/10, readiness 6/10",
    "follow up next week",
    "meet at the park at 3pm",
    "1 mL syringes",
    "28G",
    "0.5 cc",
    "4 times",
    "in 2 weeks",
    "since 2019",
    "ruler 7/10",
    "MOUD",
    "HIV test negative",
    "returned about 200 syringes in a 1.4 L sharps container",
    "secondary distribution for 3 other people",
    "reported 2 overdose reversals this month",
    "used naloxone twice last weekend",
    "referred to MOUD clinic, appointment on Tuesday at 10:30",
    "interested in PrEP, HCV test next visit",
    "uses fentanyl 3-4 times per day",
    "wound on left forearm, cleaned and dressed",
    "stage: contemplation, change talk: desire and reasons",
    "called EMS after a friend overdosed",
    "called 911 and gave 2 doses",
    "gave her boyfriend Narcan training",
    "staying at the shelter on weekends",
    "gave 100 cookers, 100 cottons, 50 tourniquets",
    "fentanyl test strips x10",
    "doing better since starting methadone 80 mg",
    "smoking 1/2 gram a day, wants pipes",
    "goal: fewer than 3 uses per day by March",
    "drove 2 hours to the dr and back",
    "10 syringes either way",
    "walked 3 blocks to the van",
    "$20 for food, asked about benefits",
    "next visit on 3/14",
    "age 34, injects daily",
    "needs help getting ID documents",
    "lost 2 kits to police, wants a refill",
    "talked about 5 days without using @ the park",
    "Asked for 2 boxes of 1cc 27G 1/2 inch syringes",
    "sleeping 4-5 hours a night",
    "wore an N95, got a B12 shot",
    "COVID test negative, HIV1/2 antibody screen done",
    "ordered 3000 syringes for the van",
    "gave 2 doses, five kits",
    "one or two hits, maybe three",
    "from five to seven times a week",
    "one, two, three, four, five six",
    "gave 10, 20, 30 and then 5 more",
    "3 days in a row",
    "2 or 3 in a row",
    "during 2 weeks",
    "sent via text 2 times",
    "went on the highway 5 times",
    "the 5 oclock bus on route 9",
    "at the corner of 5th and main",
    "walked down the road to the van",
    "1 2ml syringe and a B12 shot",
    "N95 masks, 2 boxes",
    "born in 1985, injects daily",
    "B. Braun syringes are back in stock",
    "living on the street since March",
    "using fentanyl since 03/2024",
    "referral 10 2025 follow-up",
    "gave 12 1000-count boxes",
    "HIV 1/2 test at 10 20",
    "MA 2 kits",
    "10 1990s songs on the radio",
    "sober since 06/2024",
]


@pytest.mark.parametrize(("text", "reason"), IDENTIFYING)
def test_identifying_text_is_flagged_with_its_reason(text: str, reason: str) -> None:
    """Each identifying shape is caught and named."""
    assert reason in find_identifiers(text)


@pytest.mark.parametrize("note", ORDINARY_NOTES)
def test_ordinary_outreach_notes_pass(note: str) -> None:
    """Everyday notes raise no alarm."""
    assert find_identifiers(note) == []
    assert check_free_text(note) is None


def test_message_names_the_problem_and_gives_the_rule() -> None:
    """The form message says what was found and what not to record."""
    assert check_free_text("call 555-123-4567") == f"{PHONE} {ADVICE}"


def test_each_reason_is_given_once_most_specific_first() -> None:
    """A number reported as a phone is not reported again as an ID number."""
    reasons = find_identifiers("call 555-123-4567 or 555-987-6543, e-mail a@b.org")
    assert reasons == [EMAIL, PHONE]


def test_a_date_is_not_also_reported_as_a_number() -> None:
    """The digits of a date belong to the date."""
    assert find_identifiers("07.12.1985") == [DATE]


def test_several_problems_are_all_listed() -> None:
    """A note with a name and an address reports both."""
    message = check_free_text("her name is Sam, lives at 12 Oak Road")
    assert message is not None
    assert ADDRESS in message
    assert NAME in message
    assert message.endswith(ADVICE)


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_text_is_fine(blank: str) -> None:
    """Empty notes have nothing to flag."""
    assert check_free_text(blank) is None


def test_a_long_note_is_checked_quickly() -> None:
    note = " ".join(ORDINARY_NOTES) * 10 + " 1 2 3 " * 500 + "x" * 5000
    started = time.perf_counter()
    find_identifiers(note)
    assert time.perf_counter() - started < 1.0
