"""The stock ledger: lots, append-only stock movements and their running balances."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from outreach.dbtypes import UTCDateTime, enum_check, enum_column_type, utcnow
from outreach.extensions import db


class MovementKind(enum.StrEnum):
    """Why stock moved."""

    RECEIVED = "received"
    DISTRIBUTED = "distributed"
    TRANSFERRED = "transferred"
    ADJUSTED = "adjusted"
    EXPIRED = "expired"
    DISPOSED = "disposed"


KIND_LABELS = {
    MovementKind.RECEIVED: "Received",
    MovementKind.DISTRIBUTED: "Distributed",
    MovementKind.TRANSFERRED: "Transferred",
    MovementKind.ADJUSTED: "Count adjustment",
    MovementKind.EXPIRED: "Expired",
    MovementKind.DISPOSED: "Disposed",
}


class MovementReason(enum.StrEnum):
    """Why a count was corrected or stock was disposed of (a code, never free text)."""

    COUNT = "count"
    ENTRY_ERROR = "entry_error"
    FOUND = "found"
    LOST = "lost"
    DAMAGED = "damaged"
    RECALLED = "recalled"
    OTHER = "other"


REASON_LABELS = {
    MovementReason.COUNT: "Routine count",
    MovementReason.ENTRY_ERROR: "Earlier entry was wrong",
    MovementReason.FOUND: "Found stock",
    MovementReason.LOST: "Lost or stolen",
    MovementReason.DAMAGED: "Damaged or contaminated",
    MovementReason.RECALLED: "Recalled by the maker",
    MovementReason.OTHER: "Other",
}

#: Which reasons fit which kind of movement.
ADJUST_REASONS = (
    MovementReason.COUNT,
    MovementReason.ENTRY_ERROR,
    MovementReason.FOUND,
    MovementReason.LOST,
    MovementReason.DAMAGED,
    MovementReason.OTHER,
)
DISPOSE_REASONS = (MovementReason.DAMAGED, MovementReason.RECALLED, MovementReason.OTHER)

#: The sign each kind of movement must have ("reversal" rows undo an encounter's distribution).
SIGN_RULE = (
    "(kind = 'received' AND quantity > 0)"
    " OR (kind IN ('expired', 'disposed') AND quantity < 0)"
    " OR (kind = 'distributed' AND reverses_id IS NULL AND quantity < 0)"
    " OR (kind = 'distributed' AND reverses_id IS NOT NULL AND quantity > 0)"
    " OR (kind IN ('transferred', 'adjusted') AND quantity <> 0)"
)


class StockLot(db.Model):
    """A manufacturer's lot of one item, with its expiry date."""

    __tablename__ = "stock_lots"
    __table_args__ = (UniqueConstraint("item_id", "lot_number", name="uq_stock_lots_item_lot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), index=True)
    #: The lot (batch) code printed on the box, upper case, e.g. "TA0B67".
    lot_number: Mapped[str] = mapped_column(String(30))
    #: Last day the lot may be used.
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockMovement(db.Model):
    """One append-only line of the ledger: stock on hand is the sum of these, never stored."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(enum_check("kind", MovementKind), name="kind"),
        CheckConstraint(f"reason IS NULL OR {enum_check('reason', MovementReason)}", name="reason"),
        CheckConstraint("quantity <> 0", name="quantity"),
        CheckConstraint(SIGN_RULE, name="sign"),
        CheckConstraint(
            "reason IS NOT NULL OR kind NOT IN ('adjusted', 'disposed')", name="reason_given"
        ),
        #: Covers stock-on-hand sums: PostgreSQL answers them from the index alone.
        Index("ix_stock_movements_bucket", "site_id", "item_id", "lot_id", "quantity"),
        Index("ix_stock_movements_item_occurred", "item_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(enum_column_type(MovementKind))
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"))
    #: The stock location: the office, a van.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    #: Empty for items not tracked by lot (and for stock whose lot is unknown).
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_lots.id"), nullable=True)
    #: Signed, in the item's unit as handed out: positive in, negative out.
    quantity: Mapped[int] = mapped_column(Integer)
    #: When the stock moved (an encounter's time for distributions); reports read this.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: When the line was written.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(enum_column_type(MovementReason), nullable=True)
    #: The encounter that handed this out; kept when a retention purge removes the encounter.
    encounter_id: Mapped[int | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="SET NULL"), nullable=True, index=True
    )
    #: The movement this line undoes exactly (an edited or removed encounter); at most once.
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_movements.id"), nullable=True, unique=True
    )
    #: The other half of a transfer (set on the incoming line).
    counterpart_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_movements.id"), nullable=True
    )
    #: This line took its site, item and lot below zero when it was written.
    overdrawn: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def kind_label(self) -> str:
        """Human name of the kind."""
        return KIND_LABELS[MovementKind(self.kind)]

    @property
    def reason_label(self) -> str:
        """Human name of the reason, or an empty string."""
        return REASON_LABELS[MovementReason(self.reason)] if self.reason else ""


class StockBalance(db.Model):
    """What is on hand of one item and lot at one site: the ledger's sum, kept with each line.

    The ledger stays the record; this is its running total, kept by a database trigger on
    every ledger line inserted (so no writer can forget it, and it costs no round trip), so the
    encounter screen reads a few rows instead of summing a ledger that grows for years.
    ``flask stock check-balances`` compares the two. The ledger is append-only: nothing
    updates or deletes its lines.
    """

    __tablename__ = "stock_balances"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), primary_key=True)
    #: The lot's id, or 0 for stock without a lot (a key column cannot be empty).
    lot_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("stock_lots.id"), nullable=True)
    on_hand: Mapped[int] = mapped_column(Integer)


#: Adds each new ledger line to its balance (PostgreSQL: a function and a trigger).
BALANCE_TRIGGER_POSTGRESQL = (
    """
    CREATE OR REPLACE FUNCTION stock_balance_add() RETURNS trigger AS $$
    BEGIN
        INSERT INTO stock_balances (site_id, item_id, lot_key, lot_id, on_hand)
        VALUES (NEW.site_id, NEW.item_id, COALESCE(NEW.lot_id, 0), NEW.lot_id, NEW.quantity)
        ON CONFLICT (site_id, item_id, lot_key)
        DO UPDATE SET on_hand = stock_balances.on_hand + EXCLUDED.on_hand;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER stock_movements_balance AFTER INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_balance_add()
    """,
)
#: The same for SQLite.
BALANCE_TRIGGER_SQLITE = (
    """
    CREATE TRIGGER stock_movements_balance AFTER INSERT ON stock_movements
    BEGIN
        INSERT INTO stock_balances (site_id, item_id, lot_key, lot_id, on_hand)
        VALUES (NEW.site_id, NEW.item_id, COALESCE(NEW.lot_id, 0), NEW.lot_id, NEW.quantity)
        ON CONFLICT (site_id, item_id, lot_key)
        DO UPDATE SET on_hand = on_hand + excluded.on_hand;
    END
    """,
)


def balance_trigger(dialect: str) -> tuple[str, ...]:
    """Return the statements that create the balance trigger on a database."""
    return BALANCE_TRIGGER_POSTGRESQL if dialect == "postgresql" else BALANCE_TRIGGER_SQLITE


@event.listens_for(db.metadata, "after_create")
def create_balance_trigger(metadata, connection, tables=(), **kw) -> None:
    """Create the trigger once both its tables exist (``create_all``; migrations do their own)."""
    made = {table.name for table in tables}
    if {"stock_balances", "stock_movements"} <= made:
        for statement in balance_trigger(connection.dialect.name):
            connection.exec_driver_sql(statement)
