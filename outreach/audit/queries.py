"""Reads of the audit log."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.extensions import db
from outreach.users.models import User


@dataclass(frozen=True)
class AuditFilters:
    """What to show of the audit log."""

    action: str = ""
    actor: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def filtered(filters: AuditFilters):
    """Return the select statement of the events matching the filters."""
    query = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        query = query.where(User.username == filters.actor.lower())
    if filters.entity_type:
        query = query.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        query = query.where(AuditEvent.entity_id == filters.entity_id)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        query = query.where(AuditEvent.occurred_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to, time.max, tzinfo=UTC)
        query = query.where(AuditEvent.occurred_at <= end)
    return query


def audit_page(filters: AuditFilters, page: int, per_page: int) -> tuple[list, int]:
    """Return one page of matching events (newest first) and the total count."""
    query = filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(AuditEvent.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return rows, total
