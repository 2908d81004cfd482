"""Encounters and what happened at them."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.clients.models import Participant
from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.extensions import db
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site, User


class ContactType(enum.StrEnum):
    """How the contact happened."""

    STREET = "street"
    MOBILE = "mobile"
    FIXED_SITE = "fixed_site"
    DELIVERY = "delivery"
    VIRTUAL = "virtual"
    EVENT = "event"


class Service(enum.StrEnum):
    """A service given at an encounter."""

    HIV_TEST = "hiv_test"
    HCV_TEST = "hcv_test"
    WOUND_CARE = "wound_care"
    NALOXONE_TRAINING = "naloxone_training"
    FTS_TRAINING = "fts_training"
    EDUCATION = "education"
    VACCINATION = "vaccination"
    OTHER = "other"


class CollectionMethod(enum.StrEnum):
    """How returned syringes were counted."""

    COUNTED = "counted"
    ESTIMATED = "estimated"


class ReversalOutcome(enum.StrEnum):
    """What the participant says happened to the person after the overdose."""

    SURVIVED = "survived"
    DIED = "died"
    UNKNOWN = "unknown"


class DeleteReason(enum.StrEnum):
    """Why a supervisor removed an encounter (a code, never free text)."""

    DUPLICATE = "duplicate"
    ENTERED_IN_ERROR = "entered_in_error"
    WRONG_PARTICIPANT = "wrong_participant"
    TEST_RECORD = "test_record"


class Encounter(db.Model):
    """One contact at a time and site, by one worker, with a participant or anonymous people."""

    __tablename__ = "encounters"
    __table_args__ = (
        CheckConstraint(enum_check("contact_type", ContactType), name="contact_type"),
        CheckConstraint("people_count >= 1 AND people_count <= 500", name="people_count"),
        CheckConstraint("participant_id IS NULL OR people_count = 1", name="one_participant"),
        CheckConstraint("syringes_collected >= 0", name="syringes_collected"),
        CheckConstraint("sharps_litres IS NULL OR sharps_litres >= 0", name="sharps_litres"),
        CheckConstraint("secondary_people >= 0", name="secondary_people"),
        CheckConstraint("reversals >= 0", name="reversals"),
        CheckConstraint("reversal_doses >= 0", name="reversal_doses"),
        CheckConstraint(
            f"collection_method IS NULL OR {enum_check('collection_method', CollectionMethod)}",
            name="collection_method",
        ),
        CheckConstraint(
            f"reversal_outcome IS NULL OR {enum_check('reversal_outcome', ReversalOutcome)}",
            name="reversal_outcome",
        ),
        CheckConstraint(
            f"delete_reason IS NULL OR {enum_check('delete_reason', DeleteReason)}",
            name="delete_reason",
        ),
        Index("ix_encounters_participant_occurred", "participant_id", "occurred_at"),
        Index("ix_encounters_site_occurred", "site_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: When it happened (UTC); shown in the program's time zone.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    contact_type: Mapped[str] = mapped_column(enum_column_type(ContactType))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Empty for an anonymous contact.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True)
    #: People met: 1 for a participant; the head count of an anonymous group.
    people_count: Mapped[int] = mapped_column(Integer, default=1)
    syringes_collected: Mapped[int] = mapped_column(Integer, default=0)
    collection_method: Mapped[str | None] = mapped_column(
        enum_column_type(CollectionMethod), nullable=True
    )
    #: Volume of the sharps container returned, when syringes were estimated from it.
    sharps_litres: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    #: Other people the supplies are also for (secondary distribution).
    secondary_people: Mapped[int] = mapped_column(Integer, default=0)
    #: Overdose reversals the participant reports.
    reversals: Mapped[int] = mapped_column(Integer, default=0)
    #: Naloxone doses used in those reversals.
    reversal_doses: Mapped[int] = mapped_column(Integer, default=0)
    reversal_outcome: Mapped[str | None] = mapped_column(
        enum_column_type(ReversalOutcome), nullable=True
    )
    reversal_ems_called: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: Optimistic lock: every save increments it; a stale edit is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    delete_reason: Mapped[str | None] = mapped_column(enum_column_type(DeleteReason), nullable=True)
    #: The old system's id of an imported encounter; a re-run import skips rows it has seen.
    external_id: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)

    __mapper_args__ = {"version_id_col": version}

    site: Mapped[Site] = relationship(lazy="joined")
    worker: Mapped[User] = relationship(foreign_keys=[worker_id], lazy="joined")
    participant: Mapped[Participant | None] = relationship(lazy="joined")
    supplies: Mapped[list["EncounterSupply"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="EncounterSupply.item_id"
    )
    services: Mapped[list["EncounterService"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_anonymous(self) -> bool:
        """Tell whether no participant was identified."""
        return self.participant_id is None

    @property
    def service_codes(self) -> list[str]:
        """Codes of the services given."""
        return sorted(service.service for service in self.services)


class EncounterSupply(db.Model):
    """Packs of one supply item handed out at an encounter."""

    __tablename__ = "encounter_supplies"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity"),)

    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("supply_items.id"), primary_key=True, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)

    item: Mapped[SupplyItem] = relationship(lazy="joined")


class EncounterService(db.Model):
    """A service given at an encounter."""

    __tablename__ = "encounter_services"
    __table_args__ = (CheckConstraint(enum_check("service", Service), name="service"),)

    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(enum_column_type(Service), primary_key=True)
