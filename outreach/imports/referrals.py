"""Referrals in an import: the codes the referrals feature knows, and writing its rows.

An imported referral is made by the row's worker on the encounter's local date, with no agency.
Its status history is one step, at the encounter's time, straight to the status the file gives
(``referred`` when none). The file does not say when a linked referral was linked, so
``linked_on`` is the referral date. Open referrals of identified participants get the usual
follow-up date counted from the referral date (so old open ones show as overdue); anonymous
ones get none, as on the encounter screen.
"""

from datetime import datetime, timedelta

from outreach.imports import bulk
from outreach.imports.parser import ImportRow
from outreach.referrals.models import (
    DEFAULT_FOLLOW_UP_DAYS,
    OPEN_STATUSES,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ReferralType,
)
from outreach.templating import program_zone

#: Tables the import of referrals writes to.
TABLES = (Referral.__table__, ReferralStatusChange.__table__)


def codes() -> tuple[frozenset[str], frozenset[str]]:
    """Return (referral types, referral statuses)."""
    return (
        frozenset(kind.value for kind in ReferralType),
        frozenset(status.value for status in ReferralStatus),
    )


def write(
    rows: list[ImportRow],
    encounter_ids: list[int],
    participant_ids: list[int | None],
    now: datetime,
) -> int:
    """Write the referrals of imported encounters and their first status step; return how many."""
    zone = program_zone()
    referrals, steps = [], []
    for row, encounter_id, participant_id in zip(rows, encounter_ids, participant_ids, strict=True):
        referred_on = row.occurred_at.astimezone(zone).date()
        for kind, given_status in row.referrals:
            status = ReferralStatus(given_status or ReferralStatus.REFERRED)
            follow_up = None
            if participant_id is not None and status in OPEN_STATUSES:
                follow_up = referred_on + timedelta(days=DEFAULT_FOLLOW_UP_DAYS[ReferralType(kind)])
            referrals.append(
                {
                    "encounter_id": encounter_id,
                    "participant_id": participant_id,
                    "referral_type": kind,
                    "agency_id": None,
                    "referred_on": referred_on,
                    "follow_up_on": follow_up,
                    "status": status.value,
                    "linked_on": referred_on if status == ReferralStatus.LINKED else None,
                    "created_by_id": row.worker_id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            steps.append(
                {
                    "from_status": None,
                    "to_status": status.value,
                    "follow_up_on": follow_up,
                    "changed_by_id": row.worker_id,
                    "changed_at": row.occurred_at,
                    "reason_code": None,
                    "reason_text": None,
                }
            )
    if not referrals:
        return 0
    key = ("encounter_id", "referral_type")
    ids = bulk.insert_with_ids(Referral.__table__, referrals, key=key)
    for step, referral_id in zip(steps, ids, strict=True):
        step["referral_id"] = referral_id
    bulk.insert_rows(ReferralStatusChange.__table__, steps)
    return len(referrals)
