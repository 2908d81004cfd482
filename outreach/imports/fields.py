"""Read one CSV cell of an encounter import: dates, names, codes, lists and whole numbers."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from wtforms.validators import NumberRange

from outreach.clients.codes import CodeError, normalise_code
from outreach.encounters.forms import EncounterForm
from outreach.names import Named

LOCAL_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})")
EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/#-]{0,79}")
#: Older than this is taken for a typo (syringe services began in the late 1980s).
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
#: Clock drift allowed, as on the encounter screen.
FUTURE_TOLERANCE = timedelta(minutes=5)
TIME_FORMATS = "YYYY-MM-DD HH:MM (program time) or ISO 8601 with an offset"
#: Longest cell value quoted back in a message; participant codes are never quoted.
QUOTE_MAX = 40


class CellError(ValueError):
    """A cell that cannot be imported, with the reason."""


def form_maximum(name: str) -> int:
    """Return the largest value the encounter form accepts in a whole-number field."""
    validators = getattr(EncounterForm, name).kwargs["validators"]
    return next(int(v.max) for v in validators if isinstance(v, NumberRange))


#: Whole-number columns and their largest value: the same bounds as the encounter form.
COUNT_MAXIMUMS = {
    "syringes_collected": form_maximum("syringes_collected"),
    "secondary_people": form_maximum("secondary_people"),
    "reversals": form_maximum("reversals"),
}


@dataclass(frozen=True)
class Lookups:
    """What rows are checked against, loaded once before the file is read."""

    #: Site name → site id.
    sites: Named[int]
    #: Username (lower case) → (user id, role).
    users: dict[str, tuple[int, str]]
    #: Supply item name → (item id, most per encounter).
    items: Named[tuple[int, int]]
    zone: ZoneInfo
    now: datetime
    #: Referral type and status codes.
    referral_types: frozenset[str] = field(default_factory=frozenset)
    referral_statuses: frozenset[str] = field(default_factory=frozenset)
    #: Roles whose accounts do not log encounters (administrators).
    refused_roles: frozenset[str] = field(default_factory=frozenset)


def quoted(value: str) -> str:
    """Quote a cell value in a message, shortened."""
    return f"“{value if len(value) <= QUOTE_MAX else value[: QUOTE_MAX - 1] + '…'}”"


def read_time(raw: str, lookups: Lookups) -> datetime:
    """Return the UTC time of a local ``YYYY-MM-DD HH:MM`` or an ISO 8601 time with an offset."""
    if not raw:
        raise CellError("Required: enter the date and time.")
    match = LOCAL_TIME.fullmatch(raw)
    try:
        if match:
            naive = datetime(*(int(part) for part in match.groups()))
            occurred = naive.replace(tzinfo=lookups.zone).astimezone(UTC)
            if occurred.astimezone(lookups.zone).replace(tzinfo=None) != naive:
                raise CellError(
                    "This local time does not exist (the clocks went forward); "
                    "give the time with its UTC offset."
                )
        else:
            parsed = datetime.fromisoformat(raw)
            if parsed.tzinfo is None:
                raise CellError(f"Give a time as {TIME_FORMATS}.")
            occurred = parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        if isinstance(error, CellError):
            raise
        # OverflowError: a year near 1 or 9999 whose offset carries it out of the calendar.
        raise CellError(f"Not a date and time: use {TIME_FORMATS}.") from None
    if occurred > lookups.now + FUTURE_TOLERANCE:
        raise CellError("The time is in the future.")
    if occurred < EARLIEST:
        raise CellError(f"The time is before {EARLIEST:%Y}; check the year.")
    return occurred


def read_site(raw: str, lookups: Lookups) -> int:
    """Return the id of the site with this name."""
    if not raw:
        raise CellError("Required: enter the site's name.")
    site_id = lookups.sites.get(raw)
    if site_id is None:
        raise CellError(f"No site is called {quoted(raw)}.")
    return site_id


def read_worker(raw: str, lookups: Lookups) -> int:
    """Return the id of the worker or supervisor with this username."""
    if not raw:
        raise CellError("Required: enter the worker's username.")
    found = lookups.users.get(raw.lower())
    if found is None:
        raise CellError(f"No user has the username {quoted(raw)}.")
    user_id, role = found
    if role in lookups.refused_roles:
        raise CellError(f"{quoted(raw)} is an administrator; administrators do not log encounters.")
    return user_id


def read_code(raw: str, codes: type[StrEnum], what: str) -> str:
    """Return a code of an enumeration, ignoring case."""
    code = raw.lower()
    if code not in codes._value2member_map_:
        known = ", ".join(member.value for member in codes)
        raise CellError(f"{quoted(raw)} is not a {what} code; use one of: {known}.")
    return code


def read_code_required(raw: str, codes: type[StrEnum], what: str) -> str:
    """Return a code that must be given."""
    if not raw:
        raise CellError(f"Required: enter the {what} code.")
    return read_code(raw, codes, what)


def read_codes(raw: str, codes: type[StrEnum], what: str) -> tuple[str, ...]:
    """Return the distinct codes of a ``;``-separated list."""
    found: dict[str, None] = {}
    for part in raw.split(";"):
        if part.strip():
            found[read_code(part.strip(), codes, what)] = None
    return tuple(found)


def read_client_code(raw: str) -> str | None:
    """Return the normalised participant code, or None for an anonymous contact."""
    if not raw:
        return None
    try:
        return normalise_code(raw)
    except CodeError:
        raise CellError("A participant code is letters A to Z and digits only.") from None


def read_count(raw: str, maximum: int) -> int:
    """Return a whole number from 0 to ``maximum``; empty is 0."""
    if not raw:
        return 0
    if raw.isascii() and raw.isdigit():
        # A digit run longer than the maximum's is too big; int() would refuse 4,300 digits.
        digits = raw.lstrip("0") or "0"
        if len(digits) <= len(str(maximum)) and int(digits) <= maximum:
            return int(digits)
        raise CellError(f"Enter a whole number from 0 to {maximum:,}.")
    if raw.startswith("-") and raw[1:].isascii() and raw[1:].isdigit():
        raise CellError("Cannot be negative.")
    raise CellError(f"Not a whole number: enter a whole number from 0 to {maximum:,}.")


def read_birth_year(raw: str, lookups: Lookups) -> int | None:
    """Return a four-digit birth year no later than this year."""
    if not raw:
        return None
    this_year = lookups.now.astimezone(lookups.zone).year
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and 1900 <= int(raw) <= this_year:
        return int(raw)
    raise CellError(f"Enter a four-digit birth year from 1900 to {this_year}.")


def read_supplies(raw: str, lookups: Lookups) -> dict[int, int]:
    """Return {item id: quantity} from ``Item name=quantity; Item name=quantity``."""
    quantities: dict[int, int] = {}
    for part in raw.split(";"):
        if not part.strip():
            continue
        name, equals, amount = part.rpartition("=")
        name = name.strip()
        if not equals or not name:
            raise CellError(f"Write each supply as Item name=quantity ({quoted(part.strip())}).")
        found = lookups.items.get(name)
        if found is None:
            raise CellError(f"No supply item is called {quoted(name)}.")
        item_id, most = found
        if item_id in quantities:
            raise CellError(f"{quoted(name)} is listed twice.")
        try:
            quantity = read_count(amount.strip(), most)
        except CellError as error:
            raise CellError(f"{quoted(name)}: {error}") from None
        if quantity:
            quantities[item_id] = quantity
    return quantities


def read_referrals(raw: str, lookups: Lookups) -> tuple[tuple[str, str | None], ...]:
    """Return (type, status or None) pairs from ``type`` or ``type:status`` joined by ``;``."""
    parts = [part.strip() for part in raw.split(";") if part.strip()]
    if not parts:
        return ()
    found = []
    for part in parts:
        kind, _, status = (piece.strip().lower() for piece in part.partition(":"))
        if kind not in lookups.referral_types:
            known = ", ".join(sorted(lookups.referral_types))
            raise CellError(f"{quoted(kind)} is not a referral type; use one of: {known}.")
        if status and status not in lookups.referral_statuses:
            known = ", ".join(sorted(lookups.referral_statuses))
            raise CellError(f"{quoted(status)} is not a referral status; use one of: {known}.")
        if any(kind == earlier for earlier, _ in found):
            raise CellError(f"{quoted(kind)} is listed twice.")
        found.append((kind, status or None))
    return tuple(found)


def read_external_id(raw: str) -> str | None:
    """Return the old system's identifier of the encounter, if any."""
    if not raw:
        return None
    if not EXTERNAL_ID.fullmatch(raw):
        raise CellError(
            "An external_id is 1 to 80 letters, digits and . _ - : / #, "
            "starting with a letter or digit."
        )
    return raw
