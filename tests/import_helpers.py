"""Helpers for the import tests: a small program to import into, and CSV files."""

import csv
import io

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.imports.parser import COLUMNS
from tests import factories

#: A good anonymous row; tests change what they need.
GOOD = {
    "occurred_at": "2024-03-01 14:30",
    "site": "Van 1",
    "worker": "alex",
    "contact_type": "street",
}


def program() -> dict:
    """Add the site, staff and catalog a file names."""
    made = {
        "van": factories.make_site("Van 1", kind="mobile"),
        "office": factories.make_site("Office"),
        "alex": factories.make_user("worker", username="alex"),
        "sam": factories.make_user("supervisor", username="sam"),
        "root": factories.make_user("admin", username="root"),
        "cookers": factories.make_item("Cookers", category="injection_equipment"),
        "kit": factories.make_item("Naloxone kit", category="naloxone", max_per_encounter=20),
        "box": factories.make_item("Syringes (box of 10)", units_per_pack=10),
    }
    db.session.commit()
    return made


def row(**cells) -> dict:
    """Return a good row changed by ``cells``."""
    return {**GOOD, **cells}


def csv_bytes(*rows: dict, columns=COLUMNS, bom: bool = False) -> bytes:
    """Write rows under a header of ``columns`` as UTF-8 CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for values in rows:
        writer.writerow(values)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def count(model) -> int:
    """Count the rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))
