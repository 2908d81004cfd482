"""The supply catalog."""

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.extensions import db


class SupplyCategory(enum.StrEnum):
    """What kind of supply an item is; reports add up by category."""

    SYRINGES = "syringes"
    INJECTION_EQUIPMENT = "injection_equipment"
    SMOKING = "smoking"
    NALOXONE = "naloxone"
    TEST_STRIPS = "test_strips"
    WOUND_CARE = "wound_care"
    SAFER_SEX = "safer_sex"
    HYGIENE = "hygiene"
    OTHER = "other"


CATEGORY_LABELS = {
    SupplyCategory.SYRINGES: "Syringes",
    SupplyCategory.INJECTION_EQUIPMENT: "Injection equipment",
    SupplyCategory.SMOKING: "Smoking supplies",
    SupplyCategory.NALOXONE: "Naloxone",
    SupplyCategory.TEST_STRIPS: "Test strips",
    SupplyCategory.WOUND_CARE: "Wound care",
    SupplyCategory.SAFER_SEX: "Safer sex",
    SupplyCategory.HYGIENE: "Hygiene",
    SupplyCategory.OTHER: "Other",
}


def naloxone_by_default(context) -> bool:
    """Default for ``lot_tracked``: naloxone is tracked by lot and expiry."""
    return context.get_current_parameters().get("category") == SupplyCategory.NALOXONE


class SupplyItem(db.Model):
    """A catalog entry that workers hand out, counted in packs."""

    __tablename__ = "supply_items"
    __table_args__ = (
        CheckConstraint(enum_check("category", SupplyCategory), name="category"),
        CheckConstraint("units_per_pack >= 1", name="units_per_pack"),
        CheckConstraint("doses_per_unit >= 0", name="doses_per_unit"),
        CheckConstraint("max_per_encounter >= 1", name="max_per_encounter"),
        CheckConstraint(
            "low_stock_threshold IS NULL OR low_stock_threshold >= 0", name="low_stock_threshold"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(enum_column_type(SupplyCategory))
    #: What one is called when handed out: "box", "kit", "pack".
    unit: Mapped[str] = mapped_column(String(30), default="each")
    #: How many of the counted thing one unit holds (a box of 10 syringes is 10).
    units_per_pack: Mapped[int] = mapped_column(Integer, default=1)
    #: Naloxone doses in one unit (a nasal kit usually holds 2); 0 for other items.
    doses_per_unit: Mapped[int] = mapped_column(Integer, default=0)
    #: The most one encounter may hand out; larger numbers are refused as typos.
    max_per_encounter: Mapped[int] = mapped_column(Integer, default=200)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    display_order: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Stock is kept by lot and expiry (naloxone is by default); see ``outreach.inventory``.
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=naloxone_by_default)
    #: Warn supervisors when stock on hand falls below this; empty for no warning.
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @property
    def category_label(self) -> str:
        """Human name of the category."""
        return CATEGORY_LABELS[SupplyCategory(self.category)]
