"""Read an encounter CSV: decode it, check the header and every row, and collect every problem."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from outreach.clients.models import Gender, Race
from outreach.encounters.models import ContactType, Service
from outreach.imports import fields
from outreach.imports.fields import CellError, Lookups

#: Every column the file may have, in the order the documentation lists them.
COLUMNS = (
    "occurred_at",
    "site",
    "worker",
    "contact_type",
    "client_code",
    "birth_year",
    "gender",
    "race_ethnicity",
    "supplies",
    "syringes_collected",
    "reversals",
    "referrals",
    "services",
    "secondary_people",
    "external_id",
)
REQUIRED = ("occurred_at", "site", "worker", "contact_type")
DEMOGRAPHICS = ("birth_year", "gender", "race_ethnicity")
#: Line 0 is the file as a whole (encoding, unreadable quoting at no particular row).
WHOLE_FILE = 0


@dataclass(frozen=True, order=True)
class RowError:
    """One problem: the line it starts on (1 is the header), the column, and why."""

    line: int
    column: str
    reason: str


@dataclass(slots=True)
class ImportRow:
    """One checked encounter row, ready to write."""

    line: int
    occurred_at: datetime
    site_id: int
    worker_id: int
    contact_type: str
    #: The normalised participant code; None for an anonymous contact. Never shown or logged.
    client_code: str | None
    birth_year: int | None
    gender: str | None
    races: tuple[str, ...]
    supplies: dict[int, int]
    syringes_collected: int
    reversals: int
    secondary_people: int
    referrals: tuple[tuple[str, str | None], ...]
    services: tuple[str, ...]
    external_id: str | None


@dataclass
class ParsedFile:
    """The checked rows of a file and every problem found; rows are only usable without errors."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: The line the next record starts on, while reading.
    next_line: int = 0
    rows_read: int = 0


class FileProblem(ValueError):
    """The file cannot be read at all from this line on."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def decode(data: bytes) -> str:
    """Return the text of a UTF-8 file (a byte order mark is allowed)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(WHOLE_FILE, "The file is UTF-16; save it as “CSV UTF-8” and try again.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileProblem(
            line, "This line is not UTF-8 text; save the file as “CSV UTF-8” and try again."
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileProblem(line, "This line holds a NUL character; the file is not plain text.")
    return text


def check_header(names: list[str]) -> list[RowError]:
    """Refuse unknown, unnamed, repeated and missing columns."""
    errors = []
    seen: set[str] = set()
    for position, name in enumerate(names, 1):
        if not name:
            errors.append(RowError(1, f"column {position}", "This column has no name."))
        elif name not in COLUMNS:
            known = ", ".join(COLUMNS)
            errors.append(RowError(1, name, f"Unknown column; the columns are: {known}."))
        elif name in seen:
            errors.append(RowError(1, name, "This column appears twice."))
        seen.add(name)
    errors += [
        RowError(1, name, "This required column is missing.")
        for name in REQUIRED
        if name not in seen
    ]
    return errors


class RowReader:
    """Check rows one at a time, keeping the problems and what is needed across rows."""

    def __init__(self, lookups: Lookups, present: set[str], errors: list[RowError]):
        #: Where problems go (the file's list, so none is lost if reading stops early).
        self.errors = errors
        #: external_id → the line it was first seen on.
        self.external_ids: dict[str, int] = {}
        counts = fields.COUNT_MAXIMUMS
        self.readers: dict[str, Callable[[str], object]] = {
            "occurred_at": lambda raw: fields.read_time(raw, lookups),
            "site": lambda raw: fields.read_site(raw, lookups),
            "worker": lambda raw: fields.read_worker(raw, lookups),
            "contact_type": lambda raw: fields.read_code_required(raw, ContactType, "contact type"),
            "client_code": fields.read_client_code,
            "birth_year": lambda raw: fields.read_birth_year(raw, lookups),
            "gender": lambda raw: fields.read_code(raw, Gender, "gender") if raw else None,
            "race_ethnicity": lambda raw: fields.read_codes(raw, Race, "race or ethnicity"),
            "supplies": lambda raw: fields.read_supplies(raw, lookups),
            "syringes_collected": lambda raw: fields.read_count(raw, counts["syringes_collected"]),
            "reversals": lambda raw: fields.read_count(raw, counts["reversals"]),
            "referrals": lambda raw: fields.read_referrals(raw, lookups),
            "services": lambda raw: fields.read_codes(raw, Service, "service"),
            "secondary_people": lambda raw: fields.read_count(raw, counts["secondary_people"]),
            "external_id": fields.read_external_id,
        }
        #: Required columns missing from the header: reported once, at the header.
        self.missing = [name for name in REQUIRED if name not in present]
        for name in self.missing:
            del self.readers[name]

    def read(self, line: int, cells: dict[str, str]) -> ImportRow | None:
        """Return the checked row, or None after noting every problem in it."""
        values: dict[str, object] = {}
        bad = False
        for column, reader in self.readers.items():
            try:
                values[column] = reader(cells.get(column, ""))
            except CellError as error:
                self.errors.append(RowError(line, column, str(error)))
                bad = True
        if values.get("client_code", False) is None:
            for column in DEMOGRAPHICS:
                if cells.get(column):
                    self.errors.append(
                        RowError(
                            line,
                            column,
                            "Demographics describe a participant: leave this empty when "
                            "client_code is empty (anonymous contact).",
                        )
                    )
                    bad = True
        external_id = values.get("external_id")
        if external_id:
            first = self.external_ids.setdefault(external_id, line)
            if first != line:
                self.errors.append(
                    RowError(line, "external_id", f"The same external_id is on line {first}.")
                )
                bad = True
        if bad or self.missing:
            return None
        return ImportRow(
            line=line,
            races=values["race_ethnicity"],
            **{column: values[column] for column in SAME_NAME},
            site_id=values["site"],
            worker_id=values["worker"],
        )


#: Columns whose checked value goes to the row field of the same name.
SAME_NAME = tuple(name for name in COLUMNS if name not in {"site", "worker", "race_ethnicity"})


def parse_file(data: bytes, lookups: Lookups) -> ParsedFile:
    """Check a whole file; every problem is collected, and the rows are kept when there is none."""
    parsed = ParsedFile()
    try:
        text = decode(data)
    except FileProblem as problem:
        parsed.errors.append(RowError(problem.line, "", problem.reason))
        return parsed
    # csv.reader rather than DictReader: DictReader skips blank lines out of sight, and the
    # line each row starts on must be exact for the report; the cells are named in read_rows.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            parsed.errors.append(RowError(WHOLE_FILE, "", "The file is empty."))
            return parsed
        names = [name.strip().lower() for name in header]
        parsed.errors += check_header(names)
        rows = RowReader(lookups, set(names), parsed.errors)
        read_rows(reader, names, rows, parsed)
    except csv.Error as error:
        parsed.errors.append(RowError(reader.line_num, "", unreadable(error)))
    parsed.errors.sort(key=lambda error: error.line)
    if parsed.errors:
        parsed.rows = []
    return parsed


def unreadable(error: csv.Error) -> str:
    """Say why the file cannot be read on from a line: a value too long, or a stray quote."""
    if "field limit" in str(error):
        return (
            f"The file cannot be read from this line on: a value is longer than "
            f"{csv.field_size_limit():,} characters."
        )
    return "The file cannot be read from this line on: check its quotation marks."


def read_rows(reader, names: list[str], rows: RowReader, parsed: ParsedFile) -> None:
    """Check each data row in turn, skipping blank lines."""
    parsed.next_line = reader.line_num + 1
    try:
        check_records(reader, names, rows, parsed)
    except csv.Error as error:
        # The record that cannot be read starts after the last one read, not where reading
        # stopped (an unclosed quote runs on to the end of the file).
        parsed.errors.append(RowError(parsed.next_line, "", unreadable(error)))


def check_records(reader, names: list[str], rows: RowReader, parsed: ParsedFile) -> None:
    """Check the records one by one, noting where the next one starts."""
    width = len(names)
    for record in reader:
        line, parsed.next_line = parsed.next_line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        parsed.rows_read += 1
        if len(record) > width:
            parsed.errors.append(
                RowError(
                    line,
                    "",
                    f"This row has {len(record)} values but the header has {width} columns.",
                )
            )
        else:
            cells = {name: cell.strip() for name, cell in zip(names, record, strict=False)}
            row = rows.read(line, cells)
            if row is not None and not parsed.errors:
                parsed.rows.append(row)
