"""The audit event table."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from outreach.dbtypes import UTCDateTime, utcnow
from outreach.extensions import db


class AuditEvent(db.Model):
    """Who did what to which record, when and from where; hash-chained to the previous event."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Staff member who acted; empty for the command line and failed logins.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    #: Dotted verb such as ``user.create`` or ``auth.login_failed``.
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    entity_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: Staff device address (``cli`` for the command line).
    client_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    #: Canonical JSON of identifiers and numbers only, never free text or codes.
    data: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
