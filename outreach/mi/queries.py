"""Reads of MI notes: the previous note, a participant's journey, and the monthly figures."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select

from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.mi.models import STAGE_RANK, MINote, Stage
from outreach.users.models import Role, User

#: The most conversations a journey shows (the newest ones).
JOURNEY_LENGTH = 20


def live_notes():
    """Return the conditions every read applies: neither the note nor its encounter removed."""
    return (MINote.deleted_at.is_(None), Encounter.deleted_at.is_(None))


def previous_note(participant_id: int, before: Encounter | None = None) -> MINote | None:
    """Return the participant's newest note, or the newest one before an encounter."""
    query = (
        select(MINote)
        .join(Encounter, Encounter.id == MINote.encounter_id)
        .where(MINote.participant_id == participant_id, *live_notes())
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(1)
    )
    if before is not None:
        query = query.where(
            or_(
                Encounter.occurred_at < before.occurred_at,
                and_(Encounter.occurred_at == before.occurred_at, Encounter.id < before.id),
            )
        )
    return db.session.scalar(query)


def newest_note_id(participant_id: int) -> int | None:
    """Return the id of the participant's newest note (the one shown for continuity)."""
    return db.session.scalar(
        select(MINote.id)
        .join(Encounter, Encounter.id == MINote.encounter_id)
        .where(MINote.participant_id == participant_id, *live_notes())
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(1)
    )


def note_for_encounter(encounter_id: int) -> MINote | None:
    """Return the note of an encounter, removed or not."""
    return db.session.scalar(select(MINote).where(MINote.encounter_id == encounter_id))


@dataclass(frozen=True)
class JourneyPoint:
    """One conversation on a participant's journey: when, focus, stage and rulers."""

    note_id: int
    occurred_at: datetime
    author_id: int
    focus: str
    stage: str
    importance: int | None
    confidence: int | None
    readiness: int | None


def journey(participant_id: int, author_id: int | None = None) -> list[JourneyPoint]:
    """Return the participant's newest conversations, oldest first (only an author's, if given)."""
    query = (
        select(
            MINote.id,
            Encounter.occurred_at,
            MINote.author_id,
            MINote.focus,
            MINote.stage,
            MINote.importance,
            MINote.confidence,
            MINote.readiness,
        )
        .join(Encounter, Encounter.id == MINote.encounter_id)
        .where(MINote.participant_id == participant_id, *live_notes())
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(JOURNEY_LENGTH)
    )
    if author_id is not None:
        query = query.where(MINote.author_id == author_id)
    return [JourneyPoint(*row) for row in reversed(db.session.execute(query).all())]


@dataclass(frozen=True)
class AwaitingNote:
    """An encounter with the participant that has no MI note yet."""

    encounter_id: int
    occurred_at: datetime


def awaiting_note(participant_id: int, user: User, limit: int = 3) -> list[AwaitingNote]:
    """Return the participant's newest encounters without a note that this user may add to."""
    query = (
        select(Encounter.id, Encounter.occurred_at)
        .where(
            Encounter.participant_id == participant_id,
            Encounter.deleted_at.is_(None),
            ~exists().where(MINote.encounter_id == Encounter.id),
        )
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(limit)
    )
    if user.role != Role.SUPERVISOR:
        window = timedelta(hours=current_app.config["WORKER_EDIT_HOURS"])
        backdated = timedelta(days=current_app.config["WORKER_BACKDATE_DAYS"])
        since = utcnow() - window
        query = query.where(
            Encounter.worker_id == user.id,
            Encounter.created_at >= since,
            # Bounds the participant's index range, whatever the length of their history.
            Encounter.occurred_at >= since - backdated,
        )
    return [AwaitingNote(*row) for row in db.session.execute(query).all()]


@dataclass(frozen=True)
class MIFigures:
    """MI figures for a period (and site): see docs/mi-notes.md for the exact definitions."""

    #: Conversations (notes) held in the period.
    conversations: int
    #: Participants with at least one note in the period.
    participants: int
    #: Conversations at each stage, every stage listed in order.
    stages: dict[str, int]
    #: Participants with a note in the period who also have an earlier note to compare with.
    compared: int
    #: Of those, participants whose newest note in the period is at a later stage than the
    #: note just before it (recurrence, on either side, is never forward).
    moved_forward: int


def stage_rank():
    """Return the SQL rank of a note's stage: 1 (precontemplation) to 5; NULL for recurrence."""
    return case({stage.value: rank for stage, rank in STAGE_RANK.items()}, value=MINote.stage)


def mi_figures(start_utc: datetime, end_utc: datetime, site_id: int | None = None) -> MIFigures:
    """Compute the MI figures of conversations held from ``start_utc`` up to ``end_utc``."""
    order = (Encounter.occurred_at, Encounter.id)
    ordered = (
        select(
            MINote.participant_id,
            MINote.stage,
            Encounter.occurred_at,
            Encounter.id.label("encounter_id"),
            Encounter.site_id,
            stage_rank().label("stage_rank"),
            func.lag(stage_rank())
            .over(partition_by=MINote.participant_id, order_by=order)
            .label("previous_rank"),
            func.lag(MINote.id)
            .over(partition_by=MINote.participant_id, order_by=order)
            .label("previous_id"),
        )
        .join(Encounter, Encounter.id == MINote.encounter_id)
        .where(*live_notes(), Encounter.occurred_at < end_utc)
        .cte("ordered")
    )
    in_period = select(
        ordered,
        func.row_number()
        .over(
            partition_by=ordered.c.participant_id,
            order_by=(ordered.c.occurred_at.desc(), ordered.c.encounter_id.desc()),
        )
        .label("newest"),
    ).where(ordered.c.occurred_at >= start_utc)
    if site_id is not None:
        in_period = in_period.where(ordered.c.site_id == site_id)
    period = in_period.cte("period")
    newest = period.c.newest == 1
    totals = db.session.execute(
        select(
            func.count(),
            func.count(period.c.participant_id.distinct()),
            func.coalesce(
                func.sum(case((and_(newest, period.c.previous_id.is_not(None)), 1), else_=0)), 0
            ),
            func.coalesce(
                func.sum(
                    case((and_(newest, period.c.stage_rank > period.c.previous_rank), 1), else_=0)
                ),
                0,
            ),
        ).select_from(period)
    ).one()
    by_stage = dict(
        db.session.execute(select(period.c.stage, func.count()).group_by(period.c.stage)).all()
    )
    return MIFigures(
        conversations=totals[0],
        participants=totals[1],
        stages={stage.value: by_stage.get(stage.value, 0) for stage in Stage},
        compared=int(totals[2]),
        moved_forward=int(totals[3]),
    )


def mi_report_figures(start_utc: datetime, end_utc: datetime, site_id: int | None = None) -> dict:
    """Return the MI figures as the monthly report's ``mi.`` keys."""
    figures = mi_figures(start_utc, end_utc, site_id)
    return {
        "mi.conversations": figures.conversations,
        "mi.participants_with_a_note": figures.participants,
        **{f"mi.at_{stage}": count for stage, count in figures.stages.items()},
        "mi.participants_with_an_earlier_note": figures.compared,
        "mi.participants_moved_forward": figures.moved_forward,
    }
