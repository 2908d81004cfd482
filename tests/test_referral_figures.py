"""Referral figures for the monthly report, on a small month of referrals written by hand."""

from datetime import UTC, date, datetime

import pytest

from outreach.extensions import db
from outreach.referrals.models import ReferralStatusChange
from outreach.referrals.queries import median_of_histogram, referral_figures
from outreach.users.models import User
from tests import factories

START = datetime(2025, 11, 1, tzinfo=UTC)
END = datetime(2025, 12, 1, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    """Return noon UTC on a day of late 2025."""
    return datetime(2025, month, day, 12, tzinfo=UTC)


def step(referral, to_status: str, when: datetime, follow_up_on=None, linked_on=None) -> None:
    """Move a referral to a status at a given moment, keeping the history step."""
    db.session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=referral.status,
            to_status=to_status,
            follow_up_on=follow_up_on,
            changed_by_id=referral.created_by_id,
            changed_at=when,
        )
    )
    referral.status = to_status
    referral.linked_on = linked_on
    if follow_up_on:
        referral.follow_up_on = follow_up_on
    db.session.flush()


@pytest.fixture
def november(app):
    """Two sites; referrals made in and around November 2025 with their histories."""
    van, office = factories.make_site("Van"), factories.make_site("Office")
    worker: User = factories.make_user("worker")
    p1, p2, p3 = (factories.make_participant() for _ in range(3))
    e1 = factories.make_encounter(worker, van, p1, occurred_at=at(11, 3))
    e2 = factories.make_encounter(worker, van, p2, occurred_at=at(11, 10))
    e3 = factories.make_encounter(worker, office, None, occurred_at=at(11, 20))
    october = factories.make_encounter(worker, van, p1, occurred_at=at(10, 28))
    removed = factories.make_encounter(
        worker, van, p3, occurred_at=at(11, 15), deleted_at=at(11, 16)
    )
    make = factories.make_referral
    # Linked after 2 days.
    r1 = make(e1, "moud", follow_up_on=date(2025, 11, 6))
    step(r1, "linked", at(11, 5), linked_on=date(2025, 11, 5))
    # Scheduled, next follow-up 25 November: open and overdue at the month's end.
    r2 = make(e1, "housing", follow_up_on=date(2025, 11, 17))
    step(r2, "scheduled", at(11, 10), follow_up_on=date(2025, 11, 25))
    # Linked after 10 days.
    r3 = make(e2, "moud", follow_up_on=date(2025, 11, 13))
    step(r3, "linked", at(11, 20), linked_on=date(2025, 11, 20))
    # Declined: closed.
    r4 = make(e2, "hiv", follow_up_on=date(2025, 11, 17))
    step(r4, "declined", at(11, 12))
    # Open, follow-up in December: open, not overdue.
    make(e2, "hcv", follow_up_on=date(2025, 12, 5))
    # Linked on 3 December (23 days): linked so far, but open and overdue on 1 December.
    r9 = make(e2, "mental_health", follow_up_on=date(2025, 11, 17))
    step(r9, "linked", at(12, 3), linked_on=date(2025, 12, 3))
    # Anonymous: counted, never open.
    make(e3, "food")
    # Made in October, still open and overdue: in the open counts, not in November's made.
    make(october, "treatment", follow_up_on=date(2025, 11, 1))
    # At a removed encounter: nowhere.
    make(removed, "moud", follow_up_on=date(2025, 11, 20))
    db.session.commit()
    return {"van": van, "office": office}


def test_figures_of_the_month(november):
    figures = referral_figures(START, END)
    assert {code: n for code, n in figures.made_by_type.items() if n} == {
        "moud": 2,
        "housing": 1,
        "hiv": 1,
        "hcv": 1,
        "mental_health": 1,
        "food": 1,
    }
    assert {code: n for code, n in figures.linked_by_type.items() if n} == {
        "moud": 2,
        "mental_health": 1,
    }
    assert len(figures.made_by_type) == 16 and figures.made_by_type["legal"] == 0
    assert (figures.made, figures.anonymous, figures.linked) == (7, 1, 3)
    assert figures.linkage_rate == pytest.approx(0.5)
    assert figures.median_days_to_link == 10
    assert (figures.open, figures.overdue) == (4, 3)
    assert figures.as_of == END
    values = figures.as_report_values()
    assert (values["referrals_made"], values["referrals_linked"]) == (7, 3)
    assert values["referrals_made.moud"] == 2 and values["referrals_linked.legal"] == 0


def test_figures_for_one_site(november):
    van = referral_figures(START, END, site_id=november["van"].id)
    assert (van.made, van.anonymous, van.linked, van.open, van.overdue) == (6, 0, 3, 4, 3)
    office = referral_figures(START, END, site_id=november["office"].id)
    assert (office.made, office.anonymous, office.linked) == (1, 1, 0)
    assert office.linkage_rate is None and office.median_days_to_link is None
    assert (office.open, office.overdue) == (0, 0)


def test_a_linked_anonymous_referral_counts_as_linked_but_not_in_the_rate(november):
    # Imported from an older system, or its encounter was made anonymous later.
    office = november["office"]
    worker = db.session.scalar(db.select(User))
    anonymous = factories.make_encounter(worker, office, None, occurred_at=at(11, 21))
    step(
        factories.make_referral(anonymous, "legal"),
        "linked",
        at(11, 22),
        linked_on=date(2025, 11, 22),
    )
    db.session.commit()
    figures = referral_figures(START, END)
    assert (figures.made, figures.anonymous, figures.linked) == (8, 2, 4)
    assert figures.linkage_rate == pytest.approx(0.5), "3 of the 6 identified referrals"
    only_anonymous = referral_figures(START, END, site_id=office.id)
    assert (only_anonymous.linked, only_anonymous.linkage_rate) == (1, None)


def test_an_even_number_of_linkages_takes_the_middle_two(november):
    figures = referral_figures(START, datetime(2025, 11, 8, tzinfo=UTC))
    assert figures.linked == 1 and figures.median_days_to_link == 2
    e4 = factories.make_encounter(
        factories.make_user("worker"),
        november["van"],
        factories.make_participant(),
        occurred_at=at(11, 4),
    )
    r = factories.make_referral(e4, "sti", follow_up_on=date(2025, 11, 10))
    step(r, "linked", at(11, 9), linked_on=date(2025, 11, 9))
    db.session.commit()
    figures = referral_figures(START, datetime(2025, 11, 8, tzinfo=UTC))
    assert figures.linked == 2 and figures.median_days_to_link == 3.5


def test_an_empty_month_has_no_rate(app):
    figures = referral_figures(START, END)
    assert (figures.made, figures.linked, figures.open, figures.overdue) == (0, 0, 0, 0)
    assert figures.linkage_rate is None and figures.median_days_to_link is None


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ([], None),
        ([(4, 1)], 4),
        ([(1, 1), (9, 1)], 5),
        ([(0, 2), (3, 1), (30, 1)], 1.5),
        ([(2, 5), (7, 1), (40, 1)], 2),
    ],
)
def test_median_of_a_histogram(histogram, median):
    assert median_of_histogram(histogram) == median
