"""Reads of referrals: the follow-up queue, a participant's referrals, and the report figures."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Integer, Select, bindparam, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.expression import FunctionElement

from outreach.dbtypes import utcnow
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.referrals.models import (
    OPEN_STATUSES,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ReferralType,
)
from outreach.referrals.services import local_date
from outreach.users.models import Role, Site, User

QUEUE_PAGE_SIZE = 50
PANEL_LIMIT = 50


class days_between(FunctionElement):
    """Whole days from the first date to the second, in SQL on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw) -> str:
    """Subtract dates the standard way (PostgreSQL: date - date is a whole number of days)."""
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({end} - {start})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw) -> str:
    """Subtract SQLite's ISO date strings through julianday."""
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@dataclass(frozen=True)
class QueueFilters:
    """What the follow-up queue is narrowed to; None means all."""

    worker_id: int | None = None
    referral_type: str | None = None
    site_id: int | None = None


@dataclass(frozen=True)
class QueueRow:
    """A referral due for follow-up, with the site of its encounter."""

    referral: Referral
    site_name: str
    overdue: bool


def live_referrals() -> Select:
    """Referrals not removed, at encounters not removed, joined to their encounter."""
    return (
        select(Referral)
        .join(Encounter, Encounter.id == Referral.encounter_id)
        .where(Referral.deleted_at.is_(None), Encounter.deleted_at.is_(None))
    )


def due_referrals(filters: QueueFilters, today: date) -> Select:
    """Open, identified referrals whose follow-up date has come, narrowed by the filters."""
    query = live_referrals().where(
        Referral.participant_id.is_not(None),
        Referral.status.in_(OPEN_STATUSES),
        Referral.follow_up_on <= today,
    )
    if filters.worker_id is not None:
        query = query.where(Referral.created_by_id == filters.worker_id)
    if filters.referral_type is not None:
        query = query.where(Referral.referral_type == filters.referral_type)
    if filters.site_id is not None:
        query = query.where(Encounter.site_id == filters.site_id)
    return query


def follow_up_queue(
    filters: QueueFilters, today: date, page: int = 1, page_size: int = QUEUE_PAGE_SIZE
) -> tuple[list[QueueRow], int]:
    """Return one page of the queue, oldest follow-up date first, and how many are due."""
    base = due_referrals(filters, today)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    query = (
        base.add_columns(Site.name)
        .join(Site, Site.id == Encounter.site_id)
        .options(
            joinedload(Referral.participant),
            joinedload(Referral.agency),
            joinedload(Referral.created_by),
        )
        .order_by(Referral.follow_up_on, Referral.referred_on, Referral.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    rows = [
        QueueRow(referral, site_name, referral.follow_up_on < today)
        for referral, site_name in db.session.execute(query).unique()
    ]
    return rows, total


def queue_workers() -> list[User]:
    """Return the staff who make referrals, for the worker filter."""
    query = (
        select(User)
        .where(User.role.in_([Role.WORKER, Role.SUPERVISOR]), User.active.is_(True))
        .order_by(func.lower(User.username))
    )
    return list(db.session.scalars(query).unique())


def queue_sites() -> list[Site]:
    """Return the active sites, for the site filter."""
    return list(db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)))


def referral_with_history(referral_id: int) -> Referral | None:
    """Return a referral (not removed) with its encounter, agency and status history."""
    query = (
        live_referrals()
        .where(Referral.id == referral_id)
        .options(
            joinedload(Referral.participant),
            joinedload(Referral.agency),
            joinedload(Referral.created_by),
            joinedload(Referral.encounter),
            selectinload(Referral.changes),
        )
    )
    return db.session.scalars(query).unique().first()


def participant_referrals(participant_id: int, limit: int = PANEL_LIMIT) -> list[Referral]:
    """Return a participant's referrals: open ones first by follow-up date, then the newest."""
    parameters = {"participant_id": participant_id, "limit": limit}
    return list(db.session.scalars(participant_referrals_statement(), parameters))


def encounter_referrals(encounter_id: int) -> list[Referral]:
    """Return the referrals made at an encounter, in the order they were made."""
    query = (
        live_referrals()
        .where(Referral.encounter_id == encounter_id)
        .options(joinedload(Referral.agency))
        .order_by(Referral.id)
    )
    return list(db.session.scalars(query).unique())


@cache
def participant_referrals_statement() -> Select:
    """Build (once) the participant panel's query (``participant_id`` and ``limit``).

    Agencies come by ``selectinload``: no second statement when there are no referrals, the
    common case, and no joined-row set-up on every page view.
    """
    still_open = case((Referral.status.in_(OPEN_STATUSES), 0), else_=1)
    return (
        live_referrals()
        .where(Referral.participant_id == bindparam("participant_id"))
        .options(selectinload(Referral.agency))
        .order_by(
            still_open, Referral.follow_up_on, Referral.referred_on.desc(), Referral.id.desc()
        )
        .limit(bindparam("limit", type_=Integer))
    )


@dataclass(frozen=True)
class ReferralFigures:
    """Referral figures for a period (and site): what the monthly report shows."""

    #: Referrals made at encounters in the period, by type code (every type, 0 if none).
    made_by_type: dict[str, int]
    #: Of those, how many are linked so far, by type code.
    linked_by_type: dict[str, int]
    made: int
    #: Made for anonymous contacts: counted, never followed up, left out of the rate.
    anonymous: int
    linked: int
    #: linked / (made - anonymous); None when no identified referral was made.
    linkage_rate: float | None
    #: Median whole days from referral to linkage of those linked; None when none.
    median_days_to_link: float | None
    #: Identified referrals still open at the end of the period (or now, if sooner).
    open: int
    #: Of those, how many were past their follow-up date then.
    overdue: int
    as_of: datetime

    def as_report_values(self) -> dict[str, int | float | None]:
        """Return the figures under the monthly report's keys (see docs/reports.md)."""
        return {
            "referrals_made": self.made,
            "referrals_linked": self.linked,
            "referrals_anonymous": self.anonymous,
            "referral_linkage_rate": self.linkage_rate,
            "referral_median_days_to_link": self.median_days_to_link,
            "referrals_open": self.open,
            "referrals_overdue": self.overdue,
            **{f"referrals_made.{code}": n for code, n in self.made_by_type.items()},
            **{f"referrals_linked.{code}": n for code, n in self.linked_by_type.items()},
        }


def median_days_to_link(period: Select) -> float | None:
    """Median days from referral to linkage: SQL percentile on PostgreSQL, else a histogram."""
    days = days_between(Referral.referred_on, Referral.linked_on)
    linked = period.where(Referral.status == ReferralStatus.LINKED)
    if db.session.get_bind().dialect.name == "postgresql":
        value = db.session.scalar(
            linked.with_only_columns(func.percentile_cont(0.5).within_group(days))
        )
        return None if value is None else float(value)
    # SQLite has no percentile function: GROUP BY gives (days, count) pairs (a few hundred at
    # most, whatever the number of referrals) and the median is read off their running total.
    label = days.label("days")
    histogram = db.session.execute(
        linked.with_only_columns(label, func.count()).group_by(label).order_by(label)
    ).all()
    return median_of_histogram([(int(value), count) for value, count in histogram])


def median_of_histogram(histogram: list[tuple[int, int]]) -> float | None:
    """Return the median of values given as sorted (value, count) pairs."""
    total = sum(count for _, count in histogram)
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value, count in histogram:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return (found[0] + found[1]) / 2


def open_and_overdue(as_of: datetime, site_id: int | None) -> tuple[int, int]:
    """Count identified referrals open at a moment, and those then past follow-up, from history."""
    change = ReferralStatusChange
    latest = (
        select(func.max(change.id))
        .where(change.referral_id == Referral.id, change.changed_at < as_of)
        .correlate(Referral)
        .scalar_subquery()
    )
    query = (
        live_referrals()
        .join(change, change.id == latest)
        .where(Referral.participant_id.is_not(None), change.to_status.in_(OPEN_STATUSES))
        .with_only_columns(
            func.count(),
            func.coalesce(func.sum(case((change.follow_up_on < local_date(as_of), 1), else_=0)), 0),
        )
    )
    if site_id is not None:
        query = query.where(Encounter.site_id == site_id)
    still_open, overdue = db.session.execute(query).one()
    return int(still_open), int(overdue)


def referral_figures(
    start_utc: datetime, end_utc: datetime, site_id: int | None = None
) -> ReferralFigures:
    """Compute the period's referral figures in SQL (the monthly report calls this)."""
    period = live_referrals().where(
        Encounter.occurred_at >= start_utc, Encounter.occurred_at < end_utc
    )
    if site_id is not None:
        period = period.where(Encounter.site_id == site_id)
    linked_status = Referral.status == ReferralStatus.LINKED
    is_linked = case((linked_status, 1), else_=0)
    is_anonymous = case((Referral.participant_id.is_(None), 1), else_=0)
    # An anonymous referral can be linked (an imported one, or an encounter made anonymous
    # later): it counts as linked but not in the rate, whose base is identified referrals.
    is_identified_link = case((linked_status & Referral.participant_id.is_not(None), 1), else_=0)
    rows = db.session.execute(
        period.with_only_columns(
            Referral.referral_type,
            func.count(),
            func.sum(is_linked),
            func.sum(is_anonymous),
            func.sum(is_identified_link),
        ).group_by(Referral.referral_type)
    ).all()
    made_by_type = {kind.value: 0 for kind in ReferralType}
    linked_by_type = dict(made_by_type)
    anonymous = identified_links = 0
    for code, made, linked, anonymous_here, identified_links_here in rows:
        made_by_type[code] = int(made)
        linked_by_type[code] = int(linked or 0)
        anonymous += int(anonymous_here or 0)
        identified_links += int(identified_links_here or 0)
    made, linked = sum(made_by_type.values()), sum(linked_by_type.values())
    identified = made - anonymous
    as_of = min(end_utc, utcnow())
    still_open, overdue = open_and_overdue(as_of, site_id)
    return ReferralFigures(
        made_by_type=made_by_type,
        linked_by_type=linked_by_type,
        made=made,
        anonymous=anonymous,
        linked=linked,
        linkage_rate=identified_links / identified if identified else None,
        median_days_to_link=median_days_to_link(period),
        open=still_open,
        overdue=overdue,
        as_of=as_of,
    )
