"""Idempotency keys: a double tap or a retried submit never makes a second record."""

from datetime import datetime
from functools import cache

from flask import abort
from sqlalchemy import ForeignKey, Select, String, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from outreach import sql
from outreach.dbtypes import UTCDateTime, utcnow
from outreach.extensions import db


class IdempotencyKey(db.Model):
    """A form submission already carried out, and the record it made."""

    __tablename__ = "idempotency_keys"

    #: The UUID the form carried.
    key: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@cache
def earlier_statement() -> Select:
    """Build (once) the lookup of a submission's ``key``."""
    return select(IdempotencyKey.entity_type, IdempotencyKey.entity_id).where(
        IdempotencyKey.key == bindparam("key")
    )


def earlier_submission(key: str, entity_type: str) -> int | None:
    """Return the id of what an earlier submit with this key made (400 if another form used it)."""
    earlier = sql.execute(earlier_statement(), {"key": key}).first()
    if earlier is None:
        return None
    if earlier.entity_type != entity_type:
        abort(400)
    return earlier.entity_id


def commit_once(key: str, entity_type: str, entity_id: int, user_id: int | None) -> int | None:
    """Record that this key made this record and commit both; if a concurrent submit with the
    same key won, roll back and return the winner's record.

    The key's INSERT and the commit share one ``try``: the conflict shows at the INSERT, or at
    the commit when the INSERT went out in a pipeline (``outreach.pipeline``).
    """
    values = {"key": key, "entity_type": entity_type, "entity_id": entity_id, "user_id": user_id}
    try:
        sql.send(sql.insert_into(IdempotencyKey.__table__), {**values, "created_at": utcnow()})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        winner = earlier_submission(key, entity_type)
        if winner is None:
            raise
        return winner
    return None
