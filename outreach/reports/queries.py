"""SQL aggregates over one period: every figure is a GROUP BY, never a loop over rows."""

from datetime import datetime

from sqlalchemy import and_, case, distinct, exists, func, literal, select
from sqlalchemy.orm import aliased

from outreach.clients.models import Participant, ParticipantRace, ParticipantSubstance
from outreach.encounters.models import Encounter, EncounterService, EncounterSupply
from outreach.extensions import db
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site

#: Age bands of the report: (key, lowest age, highest age).
AGE_BANDS = (
    ("under_25", None, 24),
    ("25_34", 25, 34),
    ("35_44", 35, 44),
    ("45_54", 45, 54),
    ("55_64", 55, 64),
    ("65_plus", 65, None),
)


def in_period(start: datetime, end: datetime, site_id: int | None):
    """Return the condition for counted encounters of the period (and site)."""
    condition = and_(
        Encounter.occurred_at >= start, Encounter.occurred_at < end, Encounter.deleted_at.is_(None)
    )
    if site_id is not None:
        condition = and_(condition, Encounter.site_id == site_id)
    return condition


def encounter_totals(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count encounters, anonymous ones, unique participants and sum the per-encounter numbers."""
    row = db.session.execute(
        select(
            func.count(Encounter.id),
            func.coalesce(func.sum(case((Encounter.participant_id.is_(None), 1), else_=0)), 0),
            func.count(distinct(Encounter.participant_id)),
            func.coalesce(
                func.sum(
                    case((Encounter.participant_id.is_(None), Encounter.people_count), else_=0)
                ),
                0,
            ),
            func.coalesce(func.sum(Encounter.secondary_people), 0),
            func.coalesce(func.sum(Encounter.syringes_collected), 0),
            func.coalesce(func.sum(Encounter.reversals), 0),
        ).where(in_period(start, end, site_id))
    ).one()
    keys = (
        "encounters",
        "anonymous_encounters",
        "unique_participants",
        "anonymous_people",
        "secondary_people",
        "syringes_collected",
        "overdose_reversals_reported",
    )
    return dict(zip(keys, (int(value) for value in row), strict=True))


def new_participants(start: datetime, end: datetime, site_id: int | None) -> int:
    """Count participants of the period with no counted encounter before it (index-backed)."""
    earlier = aliased(Encounter)
    seen_before = exists().where(
        earlier.participant_id == Encounter.participant_id,
        earlier.occurred_at < start,
        earlier.deleted_at.is_(None),
    )
    query = select(func.count(distinct(Encounter.participant_id))).where(
        in_period(start, end, site_id), Encounter.participant_id.is_not(None), ~seen_before
    )
    return int(db.session.scalar(query))


def supply_totals(start: datetime, end: datetime, site_id: int | None) -> list:
    """Return per item: name, category, units (packs × units per pack) and doses (units ×
    doses per unit: a twin pack of two-dose naloxone kits is 2 kits, 4 doses)."""
    query = (
        select(
            SupplyItem.name,
            SupplyItem.category,
            func.sum(EncounterSupply.quantity * SupplyItem.units_per_pack).label("units"),
            func.sum(
                EncounterSupply.quantity * SupplyItem.units_per_pack * SupplyItem.doses_per_unit
            ).label("doses"),
        )
        .join(Encounter, Encounter.id == EncounterSupply.encounter_id)
        .join(SupplyItem, SupplyItem.id == EncounterSupply.item_id)
        .where(in_period(start, end, site_id))
        .group_by(SupplyItem.id, SupplyItem.name, SupplyItem.category)
        .order_by(SupplyItem.category, SupplyItem.name)
    )
    return db.session.execute(query).all()


def counts_by(column, start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count the period's encounters grouped by one of their columns."""
    query = select(column, func.count(Encounter.id)).where(in_period(start, end, site_id))
    return {str(key): int(total) for key, total in db.session.execute(query.group_by(column))}


def counts_by_site(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count the period's encounters per site name."""
    query = (
        select(Site.name, func.count(Encounter.id))
        .join(Site, Site.id == Encounter.site_id)
        .where(in_period(start, end, site_id))
        .group_by(Site.name)
    )
    return {name: int(total) for name, total in db.session.execute(query)}


def service_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count services given in the period, per service code."""
    query = (
        select(EncounterService.service, func.count())
        .join(Encounter, Encounter.id == EncounterService.encounter_id)
        .where(in_period(start, end, site_id))
        .group_by(EncounterService.service)
    )
    return {code: int(total) for code, total in db.session.execute(query)}


def participants_seen(start: datetime, end: datetime, site_id: int | None):
    """Return a subquery of the distinct participants seen in the period."""
    return (
        select(distinct(Encounter.participant_id).label("participant_id"))
        .where(in_period(start, end, site_id), Encounter.participant_id.is_not(None))
        .subquery()
    )


def reversal_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Sum the reported reversals by outcome and by EMS called, and the naloxone doses used."""
    outcome = func.coalesce(Encounter.reversal_outcome, literal("not_recorded"))
    ems = case(
        (Encounter.reversal_ems_called.is_(True), literal("yes")),
        (Encounter.reversal_ems_called.is_(False), literal("no")),
        else_=literal("not_recorded"),
    )
    query = (
        select(outcome, ems, func.sum(Encounter.reversals), func.sum(Encounter.reversal_doses))
        .where(in_period(start, end, site_id), Encounter.reversals > 0)
        .group_by(outcome, ems)
    )
    counts: dict[str, int] = {"reversal_doses_used": 0}
    for outcome_code, ems_code, reversals, doses in db.session.execute(query):
        for key in (f"reversal_outcome.{outcome_code}", f"reversal_ems_called.{ems_code}"):
            counts[key] = counts.get(key, 0) + int(reversals)
        counts["reversal_doses_used"] += int(doses)
    return counts


def per_participant(expression, start: datetime, end: datetime, site_id: int | None):
    """Count unique participants of the period by a value of their record."""
    seen = participants_seen(start, end, site_id)
    value = expression.label("value")
    query = (
        select(value, func.count())
        .select_from(seen)
        .join(Participant, Participant.id == seen.c.participant_id)
        .group_by(value)
    )
    return {str(code): int(total) for code, total in db.session.execute(query)}


def gender_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count unique participants of the period per gender ('unknown' when not asked)."""
    gender = func.coalesce(Participant.gender, literal("unknown"))
    return per_participant(gender, start, end, site_id)


def zip3_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count unique participants of the period per 3-digit ZIP ('unknown' when not given)."""
    return per_participant(func.coalesce(Participant.zip3, literal("unknown")), start, end, site_id)


def injects_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count unique participants of the period who inject, who do not, and not asked."""
    injects = case(
        (Participant.injects.is_(True), literal("yes")),
        (Participant.injects.is_(False), literal("no")),
        else_=literal("unknown"),
    )
    return per_participant(injects, start, end, site_id)


def age_band_expression(report_year: int):
    """Return a SQL CASE giving the report's age band of a participant."""
    age = literal(report_year) - Participant.birth_year
    whens = []
    for key, lowest, highest in AGE_BANDS:
        conditions = [Participant.birth_year.is_not(None)]
        if lowest is not None:
            conditions.append(age >= lowest)
        if highest is not None:
            conditions.append(age <= highest)
        whens.append((and_(*conditions), literal(key)))
    stated = [(Participant.age_band == key, literal(key)) for key, _, _ in AGE_BANDS]
    return case(*whens, *stated, else_=literal("unknown"))


def age_band_counts(
    start: datetime, end: datetime, site_id: int | None, report_year: int
) -> dict[str, int]:
    """Count unique participants per age band (age = report year − birth year)."""
    seen = participants_seen(start, end, site_id)
    band = age_band_expression(report_year).label("band")
    query = (
        select(band, func.count())
        .select_from(seen)
        .join(Participant, Participant.id == seen.c.participant_id)
        .group_by(band)
    )
    return {key: int(total) for key, total in db.session.execute(query)}


def several_per_participant(column, start: datetime, end: datetime, site_id: int | None):
    """Count unique participants per answer of a several-answer list (race, substances):
    one person may count in several, and in ``unknown`` when none was recorded."""
    seen = participants_seen(start, end, site_id)
    answers = column.class_
    query = (
        select(column, func.count())
        .select_from(seen)
        .join(answers, answers.participant_id == seen.c.participant_id)
        .group_by(column)
    )
    counts = {str(code): int(total) for code, total in db.session.execute(query)}
    unknown = (
        select(func.count())
        .select_from(seen)
        .where(~exists().where(answers.participant_id == seen.c.participant_id))
    )
    counts["unknown"] = int(db.session.scalar(unknown))
    return counts


def race_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count unique participants per race or ethnicity (one person may count in several)."""
    return several_per_participant(ParticipantRace.race, start, end, site_id)


def substance_counts(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Count unique participants per substance used (one person may count in several)."""
    return several_per_participant(ParticipantSubstance.substance, start, end, site_id)
