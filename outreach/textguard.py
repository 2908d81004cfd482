"""Free-text guard: spot contact details, names, dates of birth and ID numbers in notes."""

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

ADVICE = "Do not record contact details, names or dates of birth."

EMAIL = "This looks like an e-mail address."
LINK = "This looks like a web address or a social media handle."
DATE = "This looks like a date of birth, a birth month and year, or another full date."
PHONE = "This looks like a phone number."
ID_NUMBER = "This looks like an ID number, such as a Social Security or medical record number."
ADDRESS = "This looks like a street address."
NAME = "This looks like a name."
PARTICIPANT_CODE = "This looks like a participant code."

DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))


@dataclass(frozen=True)
class Finding:
    """A stretch of text that looks identifying, and why."""

    start: int
    end: int
    reason: str


Detector = Callable[[str], Iterator[Finding]]

MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DAY_NUMBER = r"(?:0?[1-9]|[12]\d|3[01])"
#: A day of the month written as a word: "the fourth", "twenty-first".
DAY_WORD = (
    r"(?:(?:twenty|thirty)[\s-]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth"
    r"|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth"
    r"|eighteenth|nineteenth|twentieth|thirtieth)"
)
YEAR = r"(?:'|’)?(?:(?:19|20)\d{2}|\d{2})"
#: A year an adult participant was born in: "since 03/2024" is not a birth month and year.
BIRTH_YEAR = r"(?:19[2-9]\d|200\d|201[0-5])"
#: A birth month as the code recipes write it: 07, or 7 before a separator.
BIRTH_MONTH = r"(?:0[1-9]|1[0-2])"

STREET_SUFFIX = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|place|pl"
    r"|terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|way|trail|trl|crescent"
    r"|alley|plaza|grove|mews|row|crossing|loop|pike|turnpike|expressway|freeway|esplanade"
    r"|quay|causeway|heights|hts|gardens|gdns)"
)
#: Street types written before the name (French, Spanish, Portuguese, Italian), e.g. "rue de".
STREET_PREFIX = r"(?:rue|calle|avenida|avda|rua|carrera|chemin|camino|corso|viale|strada)"
#: Street types joined to the end of the name (German, Dutch), e.g. "Hauptstraße 5".
JOINED_STREET = r"(?:straße|strasse|str\.|gasse|allee|platz|weg|laan|straat|gracht)"
NOT_A_STREET_WORD = (
    r"(?:the|a|an|to|of|at|for|with|and|or|from|by|in|on|into|her|his|their|my|your|our|its"
    r"|this|that|some|more|other|each|every|either|one|another|same|long|short|more|less"
    r"|times?|hours?|hrs?|minutes?|mins?|days?|weeks?|wks?|months?|years?|yrs?|blocks?"
    r"|miles?|mi|km|kits?|syringes?|needles?|doses?|people|persons?|visits?|packs?|boxes?"
    r"|bags?|units?|ml|cc|mg|g|rounds?|trips?|buses|stops?)"
)

NOT_NAMES = frozenset(
    word.lower()
    for words in (
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Tonight Tomorrow",
        "Yesterday Christmas Thanksgiving January February March April May June July August",
        "September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec",
        "Narcan Naloxone Kloxxado Zimhi Suboxone Sublocade Subutex Vivitrol Methadone",
        "Buprenorphine Fentanyl Xylazine Tranq Heroin Meth Medicaid Medicare",
        "Mom Mum Dad Mother Father God The This That And But Then He She They We You It",
        "His Her Their Police Security Detox Rehab Housing Intake Outreach Hospital Clinic",
        "Court Probation Parole Dr Doctor Nurse Staff Braun Terumo",
    )
    for word in words.split()
)

NAME_WORD = r"(?P<name>[A-Z][a-z'’-]+)"
RELATIONS = (
    r"boyfriend|girlfriend|partner|husband|wife|son|daughter|mother|mom|mum|father|dad"
    r"|brother|sister|friend|cousin|uncle|aunt|auntie|grandma|grandmother|grandpa|grandfather"
    r"|roommate|neighbou?r|bf|gf"
)


def _pattern_detector(reason: str, *patterns: str, flags: int = re.IGNORECASE) -> Detector:
    """Build a detector that reports every match of any of the patterns."""
    compiled = [re.compile(pattern, flags) for pattern in patterns]

    def detect(text: str) -> Iterator[Finding]:
        """Yield a finding for each match."""
        for pattern in compiled:
            for match in pattern.finditer(text):
                yield Finding(match.start(), match.end(), reason)

    return detect


def _name_detector(*patterns: str) -> Detector:
    """Build a detector for name cues whose captured word is not a common capitalised word."""
    compiled = [re.compile(pattern) for pattern in patterns]

    def detect(text: str) -> Iterator[Finding]:
        """Yield a finding for each cue followed by a plausible name."""
        for pattern in compiled:
            for match in pattern.finditer(text):
                name = match.groupdict().get("name")
                if name is None or name.lower() not in NOT_NAMES:
                    yield Finding(match.start(), match.end(), NAME)

    return detect


#: Digits with the separators people put in phone and ID numbers ("555/123/4567" too).
NUMBER_CANDIDATE = re.compile(r"\+?\(?\d(?:(?:\)\s?|\s?\(|[ ./_\-])?\d)*")
SSN_SHAPE = re.compile(r"\d{3}[- ]\d{2}[- ]\d{4}")
NORTH_AMERICAN_PHONE = re.compile(
    r"(?:\+?1[ ./_-]?)?(?:\(\d{3}\)\s?|\d{3}[ ./_-]?)\d{3}[ ./_-]?\d{4}"
)
LOCAL_PHONE = re.compile(r"\d{3}[ ./_-]\d{4}")


def _classify_number(candidate: str) -> str | None:
    """Say whether a run of digits and separators is a phone number, an ID number or neither."""
    digit_count = sum(char.isdigit() for char in candidate)
    if SSN_SHAPE.fullmatch(candidate):
        return ID_NUMBER
    if candidate.startswith("+") and 8 <= digit_count <= 15:
        return PHONE
    if NORTH_AMERICAN_PHONE.fullmatch(candidate) or LOCAL_PHONE.fullmatch(candidate):
        return PHONE
    if 10 <= digit_count <= 11:
        return PHONE
    if digit_count >= 7:
        return ID_NUMBER
    return None


DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
SPELLED_RUN = re.compile(
    rf"(?:\b{DIGIT_WORD}\b|\d+)(?:[\s,.-]+(?:\b{DIGIT_WORD}\b|\d+))+", re.IGNORECASE
)


def _detect_spelled_numbers(text: str) -> Iterator[Finding]:
    """Yield phone numbers written out in words, whole or in part ("five five five, one two…")."""
    for match in SPELLED_RUN.finditer(text):
        tokens = re.findall(r"[a-z]+|\d+", match.group().lower())
        words = sum(not token.isdigit() for token in tokens)
        digits = words + sum(len(token) for token in tokens if token.isdigit())
        if words >= 2 and 7 <= digits <= 15:
            yield Finding(match.start(), match.end(), PHONE)


def _detect_numbers(text: str) -> Iterator[Finding]:
    """Yield phone numbers and long ID-like numbers."""
    for match in NUMBER_CANDIDATE.finditer(text):
        reason = _classify_number(match.group())
        if reason:
            yield Finding(match.start(), match.end(), reason)


DETECTORS: tuple[Detector, ...] = (
    _pattern_detector(
        EMAIL,
        r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}",
        r"(?<![\w.+-])[\w.+-]+\s*[(\[]?\s*\bat\b\s*[)\]]?\s*[\w-]+\s*[(\[]?\s*\bdot\b\s*[)\]]?\s*"
        r"[a-z]{2,12}\b",
        r"\b(?:at|@)\s*(?:gmail|yahoo|hotmail|outlook|icloud|aol|protonmail|proton\.me)\b",
    ),
    _pattern_detector(
        LINK,
        r"\b(?:https?://|www\.)\S+",
        r"(?<![\w.-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*"
        r"\.(?:com|org|net|edu|gov|io|co|me|info|ly|app|us|ca|uk|tv|gg|link|bio)\b(?:/\S*)?",
    ),
    _pattern_detector(
        DATE,
        rf"(?<!\d)(?:19|20)\d{{2}}([./-])(?:0?[1-9]|1[0-2])\1{DAY_NUMBER}(?!\d)",
        rf"(?<!\d){DAY_NUMBER}([./-]){DAY_NUMBER}\1(?:(?:19|20)\d{{2}}|\d{{2}})(?!\d)",
        rf"\b{MONTH}\.?(?:\s+|[./-]){DAY_NUMBER}(?:st|nd|rd|th)?,?(?:\s+|[./-]){YEAR}\b",
        rf"\b{DAY_NUMBER}(?:st|nd|rd|th)?(?:\s+of\s+|\s+|[./-]){MONTH}\.?,?(?:\s+|[./-]){YEAR}\b",
        r"\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s?(?:date|day)s?\b|\bb-?days?\b",
        rf"\bborn\s+(?:on\b|in\s+{MONTH}\b|{MONTH}\b|\d)",
        # "born in 1985 on the fourth of march": a birth year alone is a demographic, not this.
        rf"\bborn\b.{{0,30}}?\b(?:the\s+)?(?:{DAY_NUMBER}(?:st|nd|rd|th)?|{DAY_WORD})"
        rf"\s+(?:of\s+)?{MONTH}\b",
        rf"\bborn\b.{{0,30}}?\b{MONTH}\s+(?:the\s+)?(?:{DAY_NUMBER}(?:st|nd|rd|th)?|{DAY_WORD})\b",
        # Code answers written out: "Maria 07 1985", "7/1985".
        rf"(?<![\w./-]){BIRTH_MONTH}\s+{BIRTH_YEAR}(?![\w./-])",
        rf"(?<![\w./-])(?:0?[1-9]|1[0-2])([./-]){BIRTH_YEAR}(?![\w./-])",
    ),
    _detect_numbers,
    _detect_spelled_numbers,
    _pattern_detector(
        PARTICIPANT_CODE,
        r"\b[A-Z]{2,6}\d{4,8}\b",
        # The default recipe's answers with spaces or dashes: "MA 07 85", "MA-07-85".
        rf"\b[A-Z]{{2}}[ ./-]?{BIRTH_MONTH}[ ./-]\d{{2}}(?![\d./-])",
        flags=0,
    ),
    _pattern_detector(
        ID_NUMBER,
        r"\b(?:ssn|social\s+security|mrn|medical\s+record|medicaid|medicare|insurance|member"
        r"|patient|case|license|licence|passport|id)\s*(?:number|no\.?|num|#|id)?\s*"
        r"(?:is|:|=|#)?\s*[a-z]{0,3}\d{3,}",
        r"\blast\s+(?:4|four)(?:\s+digits)?\s+(?:of\s+)?(?:(?:his|her|their|the)\s+)?"
        r"(?:ssn|social|phone|cell|number|id)\b",
    ),
    _pattern_detector(
        ADDRESS,
        rf"(?<![\w.,/])\d{{1,6}}[a-z]?\s+(?:(?!{NOT_A_STREET_WORD}\b)[a-z0-9][\w'’-]*\.?\s+){{1,3}}"
        rf"{STREET_SUFFIX}\b",
        r"\bp\.?\s?o\.?\s*box\b|\bpost\s+office\s+box\b",
        r"\b(?:apt|apartment|unit|suite|ste|room|rm|flat)\.?\s*(?:#|no\.?|number)?\s*\d+[a-z]?\b",
        r"\b(?:zip|postal)(?:\s*code)?\s*(?:is|:)?\s*\d{5}\b",
        r"\bpost(?:al)?\s*code\s*(?:is|:)?\s*[a-z]{1,2}\d[a-z\d]?\s?\d[a-z]{2}\b",
        r"\bpostal\s*code\s*(?:is|:)?\s*[a-z]\d[a-z]\s?\d[a-z]\d\b",
        rf"\b{STREET_PREFIX}\.?\s+(?:(?:de|del|de\s+la|des|du|da|do|dos)\s+)?"
        r"[a-zà-ÿ][\w'’-]+(?:\s+[a-zà-ÿ][\w'’-]+)?\s*,?\s*(?:#|n[°º.]?\s*)?\d{1,5}\b",
        rf"(?<![\w.,/])\d{{1,5}}\s*,?\s+{STREET_PREFIX}\s+[a-zà-ÿ]",
        rf"\b[a-zà-ÿ]{{3,}}{JOINED_STREET}\s*\d{{1,4}}[a-z]?\b",
        r"(?<![\w.,/])\d{1,6}\s+(?:route|rte|highway|hwy|state\s+road|county\s+road)\s*\d{1,4}\b",
        r"\b(?:lives?|living|stays?|staying|sleeps?|sleeping)\s+(?:at|on)\s+\d{1,6}[a-z]?\s+[a-z]",
    ),
    _pattern_detector(
        ADDRESS,
        r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[ABD-HJLNP-UW-Z]{2}\b",
        r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d\b",
        flags=0,
    ),
    _pattern_detector(
        LINK,
        r"(?<![\w@.])@(?!(?:the|a|an|home|park|van|site|office|clinic|shelter|library|station"
        r"|church|camp|work|school|store|night|noon)\b)[a-z_][a-z0-9_.]{1,29}",
        r"(?<![\w$])\$[a-z][a-z0-9_-]{2,19}\b",
        r"\b(?:facebook|fb|instagram|insta|ig|snapchat|snap|tiktok|twitter|whatsapp|telegram"
        r"|venmo|cash\s?app|kik|discord)(?:\s*(?:handle|name|username|user|id|account)\s*"
        r"(?:is|:|=)?|\s*[:=@])\s*@?[\w.]{2,}",
    ),
    _pattern_detector(
        NAME,
        r"\bmy\s+name\b",
        r"\b(?:nick|user|sur)?name\s*(?:(?:is|was|'s|’s)(?!\w)|[:=])",
    ),
    _name_detector(
        r"(?i:\b(?:called|calls\s+(?:him|her|them)sel(?:f|ves)|goes\s+by|known\s+as"
        r"|a\.?k\.?a\.?|nicknamed?|named))\s+(?:[\"“‘']\s*[A-Za-z]|" + NAME_WORD + ")",
        r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+" + NAME_WORD,
        r"(?i:\b(?:" + RELATIONS + r"))\s+" + NAME_WORD + r"\b",
        # "J. Smith"; "Maria is her mom".
        r"\b[A-Z]\.\s?" + NAME_WORD.replace("+", "{2,}") + r"\b",
        NAME_WORD + r"\s+(?i:is|was)\s+(?i:his|her|their|my)\s+(?i:" + RELATIONS + r")\b",
    ),
)


def find_identifiers(text: str) -> list[str]:
    """Return the reasons the text looks identifying, most specific first; empty means fine."""
    normalised = unicodedata.normalize("NFKC", text or "").translate(DASHES)
    return _distinct_reasons(_unclaimed_findings(normalised, DETECTORS))


def check_free_text(text: str) -> str | None:
    """Return one message for a form field if the text looks identifying, else None."""
    reasons = find_identifiers(text)
    if not reasons:
        return None
    return " ".join([*reasons, ADVICE])


def _unclaimed_findings(text: str, detectors: Iterable[Detector]) -> Iterator[Finding]:
    """Yield findings in detector order, skipping any that overlap an earlier finding."""
    claimed: list[Finding] = []
    for detect in detectors:
        for finding in detect(text):
            if not any(_overlaps(finding, earlier) for earlier in claimed):
                claimed.append(finding)
                yield finding


def _overlaps(first: Finding, second: Finding) -> bool:
    """Say whether two findings share any character."""
    return first.start < second.end and second.start < first.end


def _distinct_reasons(findings: Iterable[Finding]) -> list[str]:
    """Return each reason once, in the order first seen."""
    return list(dict.fromkeys(finding.reason for finding in findings))
