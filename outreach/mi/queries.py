"""Reads of MI notes: the previous note, a participant's journey, and the monthly figures."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import contains_eager, lazyload

from outreach import sql
from outreach.dbtypes import UTCDateTime, utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.mi.models import STAGE_RANK, MINote, Stage
from outreach.users.models import Role, User

#: The most conversations a journey shows (the newest ones).
JOURNEY_LENGTH = 20


def live_notes():
    """Return the conditions every read applies: neither the note nor its encounter removed."""
    return (MINote.deleted_at.is_(None), Encounter.deleted_at.is_(None))


def newest_first(participant_id, *columns) -> Select:
    """Select columns of a participant's live notes, newest conversation first.

    The id may be a value or a bound parameter.
    """
    return (
        select(*columns)
        .join(Encounter, Encounter.id == MINote.encounter_id)
        .where(MINote.participant_id == participant_id, *live_notes())
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
    )


def with_encounter_only():
    """Load a note with its encounter from the query's own join, and nothing else eagerly.

    The models' joined relationships would otherwise join the encounter a second time with
    its site, worker and participant, and the author: a seven-table plan for one row.
    """
    return (contains_eager(MINote.encounter).lazyload("*"), lazyload(MINote.author))


def previous_note(participant_id: int, before: Encounter | None = None) -> MINote | None:
    """Return the participant's newest note, or the newest one before an encounter."""
    query = newest_first(participant_id, MINote).options(*with_encounter_only()).limit(1)
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
    return db.session.scalar(newest_first(participant_id, MINote.id).limit(1))


def note_by_id(note_id: int) -> MINote | None:
    """Return a note with its encounter (and nothing else loaded eagerly)."""
    query = (
        select(MINote)
        .join(Encounter, Encounter.id == MINote.encounter_id)
        .options(*with_encounter_only())
        .where(MINote.id == note_id)
    )
    return db.session.scalar(query)


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


def journey_query(participant_id, author_id=None) -> Select:
    """Select the participant's newest conversations, newest first (only an author's, if given).

    The ids may be values or bound parameters.
    """
    query = newest_first(
        participant_id,
        MINote.id,
        Encounter.occurred_at,
        MINote.author_id,
        MINote.focus,
        MINote.stage,
        MINote.importance,
        MINote.confidence,
        MINote.readiness,
    )
    if author_id is not None:
        query = query.where(MINote.author_id == author_id)
    return query


@dataclass(frozen=True)
class AwaitingNote:
    """An encounter with the participant that has no MI note yet."""

    encounter_id: int
    occurred_at: datetime


#: How many encounters awaiting a note the panel offers.
AWAITING_LIMIT = 3


def awaiting_query(own_only: bool) -> Select:
    """Select the participant's newest encounters without a note (parameters: ``participant_id``;
    for a worker's own ones also ``user_id``, ``since`` and ``occurred_since``)."""
    query = (
        select(Encounter.id, Encounter.occurred_at)
        .where(
            Encounter.participant_id == bindparam("participant_id"),
            Encounter.deleted_at.is_(None),
            ~exists().where(MINote.encounter_id == Encounter.id),
        )
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(AWAITING_LIMIT)
    )
    if own_only:
        query = query.where(
            Encounter.worker_id == bindparam("user_id"),
            Encounter.created_at >= bindparam("since", type_=UTCDateTime),
            # Bounds the participant's index range, whatever the length of their history.
            Encounter.occurred_at >= bindparam("occurred_since", type_=UTCDateTime),
        )
    return query


def awaiting_parameters(user: User) -> dict:
    """Return the bounds of the encounters a worker may still add a note to."""
    window = timedelta(hours=current_app.config["WORKER_EDIT_HOURS"])
    backdated = timedelta(days=current_app.config["WORKER_BACKDATE_DAYS"])
    since = utcnow() - window
    return {"user_id": user.id, "since": since, "occurred_since": since - backdated}


@dataclass(frozen=True)
class PanelRows:
    """What the MI journey panel reads: its points, the encounters awaiting a note, and the
    id of the participant's newest note by anyone (when asked for)."""

    points: list[JourneyPoint]
    awaiting: list[AwaitingNote]
    newest_note_id: int | None


#: Which part of the panel query a row belongs to.
POINT, NEWEST, AWAITING = 0, 1, 2


@cache
def panel_statement(whole: bool, supervisor: bool) -> Select:
    """Build (once) the panel's UNION ALL: journey points, newest note unless ``whole``, and
    the encounters awaiting a note (a worker's own ones unless ``supervisor``)."""
    participant = bindparam("participant_id")
    author = None if whole else bindparam("user_id")
    parts = [part_of(POINT, journey_query(participant, author).limit(JOURNEY_LENGTH))]
    if not whole:
        parts.append(part_of(NEWEST, journey_query(participant).limit(1)))
    awaiting = awaiting_query(own_only=not supervisor).subquery()
    parts.append(select(literal(AWAITING), awaiting.c.id, awaiting.c.occurred_at, *[null()] * 6))
    return union_all(*parts)


def panel_rows(participant_id: int, user: User, whole: bool) -> PanelRows:
    """Read the MI panel in one statement: the journey (everyone's when ``whole``, else the
    user's own), the newest note by anyone (unless ``whole``) and the encounters awaiting one."""
    supervisor = user.role == Role.SUPERVISOR
    parameters = {"participant_id": participant_id, "user_id": user.id}
    if not supervisor:
        parameters.update(awaiting_parameters(user))
    rows = PanelRows([], [], None)
    for part, *values in sql.execute(panel_statement(whole, supervisor), parameters):
        if part == POINT:
            rows.points.append(JourneyPoint(*values))
        elif part == NEWEST:
            rows = PanelRows(rows.points, rows.awaiting, values[0])
        else:
            rows.awaiting.append(AwaitingNote(*values[:2]))
    rows.points.reverse()
    return rows


def part_of(part: int, query: Select) -> Select:
    """Return a limited, ordered query as one part of a UNION ALL, tagged with its part."""
    inner = query.subquery()
    return select(literal(part), *inner.c)


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
