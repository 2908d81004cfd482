"""The monthly figures: one object computed from SQL aggregates, drawn on by every output."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from outreach.clients.models import Gender, Race, Substance
from outreach.dbtypes import utcnow
from outreach.encounters.models import ContactType, Encounter, ReversalOutcome, Service
from outreach.extensions import db
from outreach.inventory.queries import month_stock_figures
from outreach.mi.queries import mi_report_figures
from outreach.referrals.queries import referral_figures
from outreach.reports import queries
from outreach.reports.model import KEY_FIGURES, TREND_KEYS, MonthlyFigures
from outreach.reports.periods import Month
from outreach.supplies.models import SupplyCategory, SupplyItem
from outreach.users.models import Site

AGE_BAND_KEYS = [key for key, _, _ in queries.AGE_BANDS] + ["unknown"]
YES_NO_UNKNOWN = ("yes", "no", "unknown")


def category_totals(rows) -> dict[str, int]:
    """Turn per-item supply rows into the key figures that come from supplies."""
    totals = {
        "syringes_distributed": 0,
        "naloxone_kits_distributed": 0,
        "naloxone_doses_distributed": 0,
        "test_strips_distributed": 0,
    }
    for row in rows:
        if row.category == SupplyCategory.SYRINGES:
            totals["syringes_distributed"] += int(row.units)
        elif row.category == SupplyCategory.NALOXONE:
            totals["naloxone_kits_distributed"] += int(row.units)
            totals["naloxone_doses_distributed"] += int(row.doses)
        elif row.category == SupplyCategory.TEST_STRIPS:
            totals["test_strips_distributed"] += int(row.units)
    return totals


def zero_filled(prefix: str, codes, counts: dict[str, int]) -> dict[str, int]:
    """Return ``prefix.code → count`` for every code, zero where none were counted."""
    return {f"{prefix}.{code}": int(counts.get(code, 0)) for code in codes}


def period_key_figures(
    start: datetime, end: datetime, site_id: int | None, supply_rows=None
) -> dict[str, int]:
    """Return the key figures of any period (the month, and each trend month)."""
    totals = queries.encounter_totals(start, end, site_id)
    if supply_rows is None:
        supply_rows = queries.supply_totals(start, end, site_id)
    return {**totals, **category_totals(supply_rows)}


def item_names() -> list[str]:
    """Return the names of active catalog items, in catalog order."""
    query = select(SupplyItem.name).where(SupplyItem.active.is_(True))
    return list(db.session.scalars(query.order_by(SupplyItem.category, SupplyItem.name)))


def site_names(site_id: int | None) -> list[str]:
    """Return the names of the sites the report covers."""
    query = select(Site.name).where(Site.active.is_(True))
    if site_id is not None:
        query = select(Site.name).where(Site.id == site_id)
    return list(db.session.scalars(query.order_by(Site.name)))


def breakdowns(
    start: datetime, end: datetime, site_id: int | None, month: Month, supply_rows
) -> dict:
    """Return every breakdown key of the month (supply rows are the month's, read once)."""
    distributed = {row.name: int(row.units) for row in supply_rows}
    supplies = {f"supply.{name}": distributed.pop(name, 0) for name in item_names()}
    supplies.update({f"supply.{name}": units for name, units in distributed.items()})
    sites = queries.counts_by_site(start, end, site_id)
    site_values = {f"site.{name}": sites.pop(name, 0) for name in site_names(site_id)}
    site_values.update({f"site.{name}": total for name, total in sites.items()})
    contact = queries.counts_by(Encounter.contact_type, start, end, site_id)
    return {
        **supplies,
        **zero_filled("contact_type", list(ContactType), contact),
        **site_values,
        **zero_filled("service", list(Service), queries.service_counts(start, end, site_id)),
        **zero_filled("gender", [*Gender, "unknown"], queries.gender_counts(start, end, site_id)),
        **zero_filled(
            "age_band",
            AGE_BAND_KEYS,
            queries.age_band_counts(start, end, site_id, month.year),
        ),
        **zero_filled("race", [*Race, "unknown"], queries.race_counts(start, end, site_id)),
        **reversal_values(queries.reversal_counts(start, end, site_id)),
        **zip3_values(queries.zip3_counts(start, end, site_id)),
        **zero_filled(
            "substance", [*Substance, "unknown"], queries.substance_counts(start, end, site_id)
        ),
        **zero_filled("injects", YES_NO_UNKNOWN, queries.injects_counts(start, end, site_id)),
    }


def reversal_values(counts: dict[str, int]) -> dict[str, int]:
    """Return the reversal breakdowns with every outcome and EMS answer, zero where none."""
    outcomes = [*ReversalOutcome, "not_recorded"]
    return {
        "reversal_doses_used": counts["reversal_doses_used"],
        **{
            f"reversal_outcome.{code}": counts.get(f"reversal_outcome.{code}", 0)
            for code in outcomes
        },
        **{
            f"reversal_ems_called.{code}": counts.get(f"reversal_ems_called.{code}", 0)
            for code in ("yes", "no", "not_recorded")
        },
    }


def zip3_values(counts: dict[str, int]) -> dict[str, int]:
    """Return participants per 3-digit ZIP in ZIP order, those with none given last."""
    unknown = counts.pop("unknown", 0)
    return {**{f"zip3.{code}": counts[code] for code in sorted(counts)}, "zip3.unknown": unknown}


def stock_values(start: datetime, end: datetime, site_id: int | None) -> dict[str, int]:
    """Return month-end stock, received and distributed per item as ``stock.`` keys."""
    values = {}
    for row in month_stock_figures(start, end, site_id):
        values[f"stock.{row.name}.received"] = int(row.received)
        values[f"stock.{row.name}.distributed"] = int(row.distributed)
        values[f"stock.{row.name}.month_end"] = int(row.closing)
    return values


def feature_figures(start: datetime, end: datetime, site_id: int | None) -> dict:
    """Return the referral, stock and MI figures of the period from their features."""
    return {
        **referral_figures(start, end, site_id).as_report_values(),
        **stock_values(start, end, site_id),
        **mi_report_figures(start, end, site_id),
    }


def monthly_figures(month: Month, site_id: int | None = None) -> MonthlyFigures:
    """Compute the figures of a month in the program's time zone, optionally for one site."""
    config = current_app.config
    zone = ZoneInfo(config["OUTREACH_TIMEZONE"])
    start, end = month.bounds(zone)
    site_name = db.session.get(Site, site_id).name if site_id is not None else None
    supply_rows = queries.supply_totals(start, end, site_id)
    key_figures = period_key_figures(start, end, site_id, supply_rows)
    key_figures["new_participants"] = queries.new_participants(start, end, site_id)
    extra = feature_figures(start, end, site_id)
    values = {key: key_figures.get(key, extra.get(key)) for key in KEY_FIGURES}
    values.update(breakdowns(start, end, site_id, month, supply_rows))
    values.update({key: value for key, value in extra.items() if key not in KEY_FIGURES})
    trend = []
    for back in range(11, -1, -1):
        earlier = month.shifted(-back)
        if back == 0:
            trend.append((earlier, {key: values[key] for key in TREND_KEYS}))
            continue
        period = period_key_figures(*earlier.bounds(zone), site_id)
        trend.append((earlier, {key: period[key] for key in TREND_KEYS}))
    return MonthlyFigures(
        month=month,
        site_name=site_name,
        program_name=config["PROGRAM_NAME"],
        timezone=config["OUTREACH_TIMEZONE"],
        generated_at=utcnow(),
        values=values,
        trend=trend,
    )
