"""The agency directory: reads, and the administrator's changes (each audited)."""

import re
from collections.abc import Iterable

from sqlalchemy import func, select

from outreach.audit.services import record
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.names import name_taken
from outreach.referrals.models import Agency, AgencyService, Referral, ReferralType
from outreach.referrals.services import ReferralError
from outreach.textguard import check_free_text

NAME_MAX = 120
PHONE_MAX = 40
EMAIL_MAX = 120
WEBSITE_MAX = 200
ADDRESS_MAX = 200
NOTES_MAX = 1000

NAME_MISSING = "Give the agency a name."
NAME_TAKEN = "Another agency already has that name."
PHONE_SHAPE = re.compile(r"^[0-9 +().\-]+(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE)
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BARE_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/\S*)?", re.IGNORECASE)
WEBSITE_SHAPE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def all_agencies() -> list[Agency]:
    """Return every agency, active first, then by name."""
    query = select(Agency).order_by(Agency.active.desc(), func.lower(Agency.name), Agency.id)
    return list(db.session.scalars(query))


def active_agencies() -> list[Agency]:
    """Return the agencies workers can refer to, by name, with the types each takes."""
    query = select(Agency).where(Agency.active.is_(True)).order_by(func.lower(Agency.name))
    return list(db.session.scalars(query))


def agency_in_use(agency_id: int) -> bool:
    """Tell whether any referral names the agency."""
    query = select(Referral.id).where(Referral.agency_id == agency_id).limit(1)
    return db.session.scalar(query) is not None


def _text(value: str | None) -> str:
    """Return a value with runs of white space made single and the ends trimmed."""
    return " ".join((value or "").split())


def _contact_errors(values: dict) -> dict[str, str]:
    """Check the agency's own contact details (not run through the free-text guard)."""
    errors = {}
    phone, email, website = values["phone"], values["email"], values["website"]
    if phone and (len(phone) > PHONE_MAX or not PHONE_SHAPE.fullmatch(phone)):
        errors["phone"] = (
            f"Use digits, spaces and + ( ) - only (at most {PHONE_MAX}), e.g. 555-010-0199 ext 2."
        )
    if email and (len(email) > EMAIL_MAX or not EMAIL_SHAPE.fullmatch(email)):
        errors["email"] = "Enter an e-mail address such as intake@agency.org, or leave it empty."
    if website and (len(website) > WEBSITE_MAX or not WEBSITE_SHAPE.fullmatch(website)):
        errors["website"] = "Enter a web address such as https://agency.org, or leave it empty."
    if values["address"] and len(values["address"]) > ADDRESS_MAX:
        errors["address"] = f"Use at most {ADDRESS_MAX} characters."
    return errors


def checked_agency_fields(
    *,
    agency_id: int | None,
    name: str | None,
    types: Iterable[str],
    phone: str | None,
    email: str | None,
    website: str | None,
    address: str | None,
    notes: str | None,
) -> dict:
    """Return an agency's column values after every check, or raise ReferralError."""
    website = _text(website)
    if BARE_DOMAIN.fullmatch(website):
        website = f"https://{website}"
    values = {
        "name": _text(name),
        "phone": _text(phone) or None,
        "email": _text(email) or None,
        "website": website or None,
        "address": _text(address) or None,
        "notes": (notes or "").strip() or None,
    }
    errors = _contact_errors(values)
    if not values["name"]:
        errors["name"] = NAME_MISSING
    elif len(values["name"]) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters for the name."
    else:
        agencies = db.session.execute(select(Agency.name, Agency.id))
        if name_taken(values["name"], agencies, agency_id):
            errors["name"] = NAME_TAKEN
    codes = sorted(set(types or []))
    if not codes:
        errors["types"] = "Choose at least one kind of referral the agency takes."
    elif not set(codes) <= {kind.value for kind in ReferralType}:
        errors["types"] = "Choose kinds of referral from the list."
    if values["notes"] and len(values["notes"]) > NOTES_MAX:
        errors["notes"] = f"Use at most {NOTES_MAX} characters."
    elif values["notes"] and (problem := check_free_text(values["notes"])):
        errors["notes"] = f"{problem} Put the agency's own phone and address in their fields above."
    if errors:
        raise ReferralError(errors)
    values["types"] = codes
    return values


def _apply(agency: Agency, values: dict) -> None:
    """Copy checked values onto an agency, replacing the types it takes."""
    codes = values.pop("types")
    for field, value in values.items():
        setattr(agency, field, value)
    kept = [service for service in agency.services if service.referral_type in codes]
    missing = sorted(set(codes) - {service.referral_type for service in kept})
    agency.services = kept + [AgencyService(referral_type=code) for code in missing]


def agency_create(**fields) -> Agency:
    """Add an active agency to the directory."""
    values = checked_agency_fields(agency_id=None, **fields)
    agency = Agency(active=True)
    _apply(agency, values)
    db.session.add(agency)
    db.session.flush()
    record("agency.create", "agency", agency.id, data={"types": agency.type_codes})
    return agency


def agency_update(*, agency: Agency, active: bool, **fields) -> None:
    """Change an agency's details, the types it takes, or take it out of the lists."""
    values = checked_agency_fields(agency_id=agency.id, **fields)
    _apply(agency, values)
    agency.active = bool(active)
    agency.updated_at = utcnow()
    db.session.flush()
    record(
        "agency.update",
        "agency",
        agency.id,
        data={"types": agency.type_codes, "active": agency.active},
    )


def agency_delete(*, agency: Agency) -> None:
    """Remove an agency no referral names; one that is named can only be deactivated."""
    if agency_in_use(agency.id):
        raise ReferralError(
            {
                "agency": "Referrals name this agency, so it stays on record. Untick "
                "“Active” to take it out of the workers' lists instead."
            }
        )
    agency_id = agency.id
    db.session.delete(agency)
    db.session.flush()
    record("agency.delete", "agency", agency_id)
