"""Making referrals and changing their status; each change is audited and kept in history."""

from datetime import date, timedelta

from sqlalchemy import select

from outreach.audit.services import acting_user_id, record
from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.referrals.models import (
    ALLOWED_TRANSITIONS,
    DEFAULT_FOLLOW_UP_DAYS,
    OPEN_STATUSES,
    STATUS_LABELS,
    TYPE_LABELS,
    Agency,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ReferralType,
    StatusReason,
)
from outreach.templating import local_date, local_today
from outreach.textguard import check_free_text
from outreach.users.models import User

#: The furthest ahead a follow-up may be set.
FOLLOW_UP_MAX_DAYS = 366
REASON_TEXT_MAX = 200

TYPE_UNKNOWN = "Choose a referral type from the list."
AGENCY_UNKNOWN = "Choose an agency from the list."
FOLLOW_UP_PAST = "The follow-up date cannot be in the past."
FOLLOW_UP_FAR = f"Choose a follow-up date within {FOLLOW_UP_MAX_DAYS} days."
ANONYMOUS = "This referral was for an anonymous contact: it is counted but cannot be followed up."


class ReferralError(ValueError):
    """Input that cannot be saved, with a message for each field that is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def default_follow_up(referral_type: str, today: date | None = None) -> date:
    """Return the usual follow-up date for a type: today plus the type's days."""
    days = DEFAULT_FOLLOW_UP_DAYS[ReferralType(referral_type)]
    return (today or local_today()) + timedelta(days=days)


def checked_type(code: str | None) -> ReferralType | None:
    """Return a known referral type, or None."""
    try:
        return ReferralType(code or "")
    except ValueError:
        return None


def agency_problem(agency: Agency | None, kind: ReferralType | None) -> str | None:
    """Say why an agency cannot take a referral of this type, or None if it can."""
    if agency is None:
        return AGENCY_UNKNOWN
    if not agency.active:
        return f"{agency.name} is no longer in the directory; choose another agency."
    if kind is not None and kind.value not in agency.type_codes:
        return (
            f"{agency.name} does not take {TYPE_LABELS[kind]} referrals; "
            "choose another agency, or none."
        )
    return None


def follow_up_problem(follow_up_on: date, today: date) -> str | None:
    """Say why a new follow-up date is refused, or None."""
    if follow_up_on < today:
        return FOLLOW_UP_PAST
    if follow_up_on > today + timedelta(days=FOLLOW_UP_MAX_DAYS):
        return FOLLOW_UP_FAR
    return None


def reason_text_problem(text: str | None) -> str | None:
    """Say why a short reason is refused (too long, or identifying), or None."""
    if not text:
        return None
    if len(text) > REASON_TEXT_MAX:
        return f"Use at most {REASON_TEXT_MAX} characters."
    return check_free_text(text)


def referral_create(
    *,
    encounter: Encounter,
    referral_type: str,
    agency_id: int | None,
    follow_up_on: date | None,
    by: User,
) -> Referral:
    """Record a referral made at an encounter; anonymous ones get no follow-up date."""
    errors: dict[str, str] = {}
    kind = checked_type(referral_type)
    if kind is None:
        errors["referral_type"] = TYPE_UNKNOWN
    agency = db.session.get(Agency, agency_id) if agency_id is not None else None
    if agency_id is not None and (problem := agency_problem(agency, kind)):
        errors["agency_id"] = problem
    follow_up = None
    if encounter.participant_id is not None and kind is not None:
        today = local_today()
        follow_up = follow_up_on or default_follow_up(kind, today)
        if problem := follow_up_problem(follow_up, today):
            errors["follow_up_on"] = problem
    if errors:
        raise ReferralError(errors)
    referral = Referral(
        encounter_id=encounter.id,
        participant_id=encounter.participant_id,
        referral_type=kind,
        agency_id=agency.id if agency else None,
        referred_on=local_date(encounter.occurred_at),
        follow_up_on=follow_up,
        status=ReferralStatus.REFERRED,
        created_by_id=by.id,
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=None,
            to_status=ReferralStatus.REFERRED,
            follow_up_on=follow_up,
            changed_by_id=by.id,
        )
    )
    db.session.flush()
    record(
        "referral.create",
        "referral",
        referral.id,
        data={
            "encounter": encounter.id,
            "participant": referral.participant_id,
            "type": referral.referral_type,
            "agency": referral.agency_id,
            "follow_up_on": follow_up.isoformat() if follow_up else None,
        },
    )
    return referral


def transition_problem(current: ReferralStatus, target: ReferralStatus) -> str | None:
    """Say why a referral cannot go from one status to another, or None if it can."""
    allowed = ALLOWED_TRANSITIONS[current]
    if target in allowed:
        return None
    if not allowed:
        return (
            f"This referral is closed as {STATUS_LABELS[current]}; a closed referral "
            "does not change. Make a new referral if the participant wants another try."
        )
    names = ", ".join(STATUS_LABELS[status] for status in allowed)
    return (
        f"A referral that is {STATUS_LABELS[current]} cannot become "
        f"{STATUS_LABELS[target]}; it can become {names}."
    )


def status_errors(
    referral: Referral,
    target: ReferralStatus | None,
    linked_on: date | None,
    follow_up_on: date | None,
    expected_status: str | None,
) -> dict[str, str]:
    """Check a status change against the referral's state and dates."""
    current = ReferralStatus(referral.status)
    if referral.deleted_at is not None or referral.participant_id is None:
        return {"status": ANONYMOUS if referral.deleted_at is None else "This referral is removed."}
    if expected_status and expected_status != current:
        return {
            "status": f"Someone changed this referral since you opened it: it is now "
            f"{STATUS_LABELS[current]}. Check it, then choose again."
        }
    if target is None:
        return {"status": "Choose a status from the list."}
    if problem := transition_problem(current, target):
        return {"status": problem}
    today = local_today()
    errors = {}
    if target == ReferralStatus.LINKED:
        if linked_on is None:
            errors["linked_on"] = "Enter the date the participant reached the service."
        elif linked_on < referral.referred_on:
            errors["linked_on"] = (
                "The participant cannot have reached the service before the referral "
                f"was made on {referral.referred_on.isoformat()}."
            )
        elif linked_on > today:
            errors["linked_on"] = (
                "The date the participant reached the service cannot be in the future."
            )
    scheduled = target == ReferralStatus.SCHEDULED and follow_up_on is not None
    if scheduled and (problem := follow_up_problem(follow_up_on, today)):
        errors["follow_up_on"] = problem
    return errors


def referral_status_change(
    *,
    referral: Referral,
    to_status: str,
    by: User,
    linked_on: date | None = None,
    follow_up_on: date | None = None,
    reason_code: str | None = None,
    reason_text: str | None = None,
    expected_status: str | None = None,
) -> ReferralStatusChange:
    """Move a referral to its next status and keep the step in its history."""
    try:
        target = ReferralStatus(to_status or "")
    except ValueError:
        target = None
    errors = status_errors(referral, target, linked_on, follow_up_on, expected_status)
    reason_text = " ".join((reason_text or "").split()) or None
    if reason_code:
        try:
            reason_code = StatusReason(reason_code)
        except ValueError:
            errors["reason_code"] = "Choose a reason from the list, or none."
    if problem := reason_text_problem(reason_text):
        errors["reason_text"] = problem
    if errors:
        raise ReferralError(errors)
    previous = referral.status
    referral.status = target
    referral.linked_on = linked_on if target == ReferralStatus.LINKED else None
    if target == ReferralStatus.SCHEDULED:
        referral.follow_up_on = follow_up_on or default_follow_up(referral.referral_type)
    referral.updated_at = utcnow()
    change = ReferralStatusChange(
        referral_id=referral.id,
        from_status=previous,
        to_status=target,
        follow_up_on=referral.follow_up_on if target in OPEN_STATUSES else None,
        changed_by_id=by.id,
        reason_code=reason_code or None,
        reason_text=reason_text,
    )
    db.session.add(change)
    db.session.flush()
    record(
        "referral.status",
        "referral",
        referral.id,
        data={"from": previous, "to": target, "reason": change.reason_code},
    )
    return change


def referrals_follow_encounter(encounter: Encounter, change: str) -> None:
    """Keep an encounter's referrals in step with it: removed with it, same participant."""
    if change not in ("update", "delete"):
        return
    referrals = db.session.scalars(
        select(Referral).where(Referral.encounter_id == encounter.id, Referral.deleted_at.is_(None))
    ).all()
    for referral in referrals:
        if change == "delete":
            referral.deleted_at = utcnow()
            record("referral.delete", "referral", referral.id, data={"encounter": encounter.id})
            continue
        referral.participant_id = encounter.participant_id
        made_on = local_date(encounter.occurred_at)
        referral.referred_on = min(made_on, referral.linked_on) if referral.linked_on else made_on
        follow_up_before = referral.follow_up_on
        if referral.participant_id is None:
            referral.follow_up_on = None
        elif referral.follow_up_on is None and referral.is_open:
            referral.follow_up_on = default_follow_up(referral.referral_type)
        if referral.is_open and referral.follow_up_on != follow_up_before:
            # Past reports read follow-up dates from the history, as the queue reads the row.
            db.session.add(
                ReferralStatusChange(
                    referral_id=referral.id,
                    from_status=referral.status,
                    to_status=referral.status,
                    follow_up_on=referral.follow_up_on,
                    # The editor; the encounter's worker when no one is logged in (a CLI).
                    changed_by_id=acting_user_id() or encounter.worker_id,
                )
            )
    db.session.flush()
