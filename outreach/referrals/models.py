"""Agencies, referrals to them, and each referral's status history."""

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.clients.models import Participant
from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.users.models import User


class ReferralType(enum.StrEnum):
    """The need a referral is for; also the services an agency offers."""

    MOUD = "moud"
    TREATMENT = "treatment"
    WITHDRAWAL = "withdrawal"
    MENTAL_HEALTH = "mental_health"
    HIV = "hiv"
    HCV = "hcv"
    STI = "sti"
    PREP = "prep"
    PRIMARY_CARE = "primary_care"
    WOUND_CARE = "wound_care"
    HOUSING = "housing"
    FOOD = "food"
    LEGAL = "legal"
    ID_DOCUMENTS = "id_documents"
    BENEFITS = "benefits"
    OTHER = "other"


TYPE_LABELS: dict[ReferralType, str] = {
    ReferralType.MOUD: "MOUD (buprenorphine, methadone)",
    ReferralType.TREATMENT: "Drug treatment",
    ReferralType.WITHDRAWAL: "Withdrawal management",
    ReferralType.MENTAL_HEALTH: "Mental health",
    ReferralType.HIV: "HIV testing or care",
    ReferralType.HCV: "Hepatitis C testing or care",
    ReferralType.STI: "STI testing or care",
    ReferralType.PREP: "PrEP",
    ReferralType.PRIMARY_CARE: "Primary care",
    ReferralType.WOUND_CARE: "Wound care",
    ReferralType.HOUSING: "Housing",
    ReferralType.FOOD: "Food",
    ReferralType.LEGAL: "Legal help",
    ReferralType.ID_DOCUMENTS: "ID documents",
    ReferralType.BENEFITS: "Benefits",
    ReferralType.OTHER: "Other",
}

#: Days from the referral to its first follow-up, per type, when the worker leaves the date
#: empty. Urgent, time-limited needs (MOUD, withdrawal, wounds, food) are checked within days;
#: appointments with long waits (housing, legal, documents, benefits) after two weeks.
DEFAULT_FOLLOW_UP_DAYS: dict[ReferralType, int] = {
    ReferralType.MOUD: 3,
    ReferralType.TREATMENT: 7,
    ReferralType.WITHDRAWAL: 2,
    ReferralType.MENTAL_HEALTH: 7,
    ReferralType.HIV: 7,
    ReferralType.HCV: 14,
    ReferralType.STI: 7,
    ReferralType.PREP: 7,
    ReferralType.PRIMARY_CARE: 14,
    ReferralType.WOUND_CARE: 3,
    ReferralType.HOUSING: 14,
    ReferralType.FOOD: 3,
    ReferralType.LEGAL: 14,
    ReferralType.ID_DOCUMENTS: 14,
    ReferralType.BENEFITS: 14,
    ReferralType.OTHER: 7,
}


class ReferralStatus(enum.StrEnum):
    """Where a referral stands; ``linked`` means the participant reached the service."""

    REFERRED = "referred"
    SCHEDULED = "scheduled"
    LINKED = "linked"
    NOT_LINKED = "not_linked"
    DECLINED = "declined"


STATUS_LABELS: dict[ReferralStatus, str] = {
    ReferralStatus.REFERRED: "Referred",
    ReferralStatus.SCHEDULED: "Scheduled",
    ReferralStatus.LINKED: "Linked",
    ReferralStatus.NOT_LINKED: "Not linked",
    ReferralStatus.DECLINED: "Declined",
}

#: Statuses that still need follow-up.
OPEN_STATUSES = (ReferralStatus.REFERRED, ReferralStatus.SCHEDULED)
#: Where each status may go next; closed statuses go nowhere.
ALLOWED_TRANSITIONS: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    ReferralStatus.REFERRED: (
        ReferralStatus.SCHEDULED,
        ReferralStatus.LINKED,
        ReferralStatus.NOT_LINKED,
        ReferralStatus.DECLINED,
    ),
    ReferralStatus.SCHEDULED: (
        ReferralStatus.LINKED,
        ReferralStatus.NOT_LINKED,
        ReferralStatus.DECLINED,
    ),
    ReferralStatus.LINKED: (),
    ReferralStatus.NOT_LINKED: (),
    ReferralStatus.DECLINED: (),
}


class StatusReason(enum.StrEnum):
    """Why a status changed (a code; an optional short text may add to it)."""

    APPOINTMENT_MADE = "appointment_made"
    WAITLIST = "waitlist"
    COULD_NOT_REACH = "could_not_reach"
    MISSED_APPOINTMENT = "missed_appointment"
    NOT_ELIGIBLE = "not_eligible"
    NO_CAPACITY = "no_capacity"
    TRANSPORT = "transport"
    DOCUMENTS = "documents"
    COST = "cost"
    CHANGED_MIND = "changed_mind"
    OTHER_SERVICE = "other_service"
    OTHER = "other"


REASON_LABELS: dict[StatusReason, str] = {
    StatusReason.APPOINTMENT_MADE: "Appointment made",
    StatusReason.WAITLIST: "On a waiting list",
    StatusReason.COULD_NOT_REACH: "Could not reach the participant",
    StatusReason.MISSED_APPOINTMENT: "Missed the appointment",
    StatusReason.NOT_ELIGIBLE: "Not eligible",
    StatusReason.NO_CAPACITY: "Service full",
    StatusReason.TRANSPORT: "No transport",
    StatusReason.DOCUMENTS: "Missing documents",
    StatusReason.COST: "Cost",
    StatusReason.CHANGED_MIND: "Changed their mind",
    StatusReason.OTHER_SERVICE: "Went to another service",
    StatusReason.OTHER: "Other",
}


class Agency(db.Model):
    """An organisation workers refer to; its contact details are the agency's own."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: The agency's phone (never a participant's).
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: The agency's e-mail (never a participant's).
    email: Mapped[str | None] = mapped_column(String(120), nullable=True)
    website: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The agency's street address (never a participant's).
    address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: For workers: hours, walk-in, what to bring. Checked by the free-text guard.
    notes: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    services: Mapped[list["AgencyService"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgencyService.referral_type"
    )

    @property
    def type_codes(self) -> list[str]:
        """Codes of the referral types the agency takes, in the types' order."""
        offered = {service.referral_type for service in self.services}
        return [kind.value for kind in ReferralType if kind.value in offered]


class AgencyService(db.Model):
    """A referral type an agency takes."""

    __tablename__ = "agency_services"
    __table_args__ = (
        CheckConstraint(enum_check("referral_type", ReferralType), name="referral_type"),
    )

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    referral_type: Mapped[str] = mapped_column(
        enum_column_type(ReferralType), primary_key=True, index=True
    )


class Referral(db.Model):
    """A referral made at an encounter, with its current status; history is kept alongside."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(enum_check("referral_type", ReferralType), name="referral_type"),
        CheckConstraint(enum_check("status", ReferralStatus), name="status"),
        CheckConstraint(
            "(status = 'linked' AND linked_on IS NOT NULL) "
            "OR (status <> 'linked' AND linked_on IS NULL)",
            name="linked_on_when_linked",
        ),
        CheckConstraint("linked_on IS NULL OR linked_on >= referred_on", name="linked_after"),
        Index("ix_referrals_status_follow_up", "status", "follow_up_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id", ondelete="CASCADE"), index=True
    )
    #: Empty for an anonymous contact: counted, but it cannot be followed up.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id"), nullable=True, index=True
    )
    referral_type: Mapped[str] = mapped_column(enum_column_type(ReferralType))
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id"), nullable=True, index=True
    )
    #: The program-local date of the encounter the referral was made at.
    referred_on: Mapped[date] = mapped_column(Date)
    #: When to check whether the participant got there; empty for anonymous referrals.
    follow_up_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(
        enum_column_type(ReferralStatus), default=ReferralStatus.REFERRED
    )
    #: The date the participant reached the service (status ``linked`` only).
    linked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Optimistic lock: two workers closing the same referral at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    encounter: Mapped[Encounter] = relationship(lazy="raise")
    participant: Mapped[Participant | None] = relationship(lazy="raise")
    agency: Mapped[Agency | None] = relationship(lazy="raise")
    created_by: Mapped[User] = relationship(lazy="raise")
    changes: Mapped[list["ReferralStatusChange"]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReferralStatusChange.id",
    )

    @property
    def is_open(self) -> bool:
        """Tell whether the referral still needs follow-up."""
        return self.status in OPEN_STATUSES

    @property
    def can_follow_up(self) -> bool:
        """Tell whether anyone can follow it up: open, and with an identified participant."""
        return self.is_open and self.participant_id is not None

    @property
    def type_label(self) -> str:
        """Human name of the referral type."""
        return TYPE_LABELS[ReferralType(self.referral_type)]

    @property
    def status_label(self) -> str:
        """Human name of the status."""
        return STATUS_LABELS[ReferralStatus(self.status)]

    @property
    def next_statuses(self) -> tuple[ReferralStatus, ...]:
        """Statuses this referral may move to."""
        return ALLOWED_TRANSITIONS[ReferralStatus(self.status)]


class ReferralStatusChange(db.Model):
    """One step of a referral's status history: who, when, from what to what, and why."""

    __tablename__ = "referral_status_changes"
    __table_args__ = (
        CheckConstraint(
            f"from_status IS NULL OR {enum_check('from_status', ReferralStatus)}",
            name="from_status",
        ),
        CheckConstraint(enum_check("to_status", ReferralStatus), name="to_status"),
        CheckConstraint(
            f"reason_code IS NULL OR {enum_check('reason_code', StatusReason)}",
            name="reason_code",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    #: Empty for the first step, when the referral was made.
    from_status: Mapped[str | None] = mapped_column(enum_column_type(ReferralStatus), nullable=True)
    to_status: Mapped[str] = mapped_column(enum_column_type(ReferralStatus))
    #: The follow-up date as this change left it (so past reports can say what was overdue).
    follow_up_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason_code: Mapped[str | None] = mapped_column(enum_column_type(StatusReason), nullable=True)
    #: A few words more; checked by the free-text guard.
    reason_text: Mapped[str | None] = mapped_column(String(200), nullable=True)

    changed_by: Mapped[User] = relationship(lazy="joined")

    @property
    def from_label(self) -> str:
        """Human name of the status before the change."""
        return STATUS_LABELS[ReferralStatus(self.from_status)] if self.from_status else "—"

    @property
    def to_label(self) -> str:
        """Human name of the status after the change."""
        return STATUS_LABELS[ReferralStatus(self.to_status)]

    @property
    def reason_label(self) -> str:
        """Human name of the reason code, or empty."""
        return REASON_LABELS[StatusReason(self.reason_code)] if self.reason_code else ""
