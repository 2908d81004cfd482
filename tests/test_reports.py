"""Monthly figures on a small hand-written data set, and the PDF, CSV, dashboard and CLI."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.clients.models import Participant, ParticipantRace, ParticipantSubstance
from outreach.encounters.models import Encounter
from outreach.extensions import db
from outreach.reports.charts import trend_svg
from outreach.reports.figures import monthly_figures
from outreach.reports.model import KEY_FIGURES, SUPPRESSED, for_sharing
from outreach.reports.periods import Month
from tests import factories

OCTOBER = Month(2026, 10)


def at(text: str) -> datetime:
    """Return a UTC moment from ``YYYY-MM-DD HH:MM`` written in UTC."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.fixture
def month_data(app):
    """October 2026 in Chicago (UTC−5 in October), written by hand.

    - Ana: first seen in September; twice in October (one at 23:30 local on Oct 31, which is
      Nov 1 04:30 UTC and still October), woman born 1990 (age 36), Hispanic and white.
    - Ben: new in October, man born 2003 (age 23), race not asked.
    - Cy: new in October, but his only October encounter is deleted: not counted at all.
    - An anonymous group encounter, and one just after the month (Nov 1 00:10 local).
    """
    app.config["OUTREACH_TIMEZONE"] = "America/Chicago"
    van = factories.make_site("Van", kind="mobile")
    office = factories.make_site("Office")
    worker = factories.make_user("worker")
    box = factories.make_item("Syringe box of 10", units_per_pack=10)
    kit = factories.make_item("Nasal naloxone", category="naloxone", doses_per_unit=2)
    strips = factories.make_item("Fentanyl strips", category="test_strips", units_per_pack=5)
    cookers = factories.make_item("Cookers", category="injection_equipment")
    ana = factories.make_participant("AN0190", gender="woman", birth_year=1990)
    ana.races = [ParticipantRace(race="hispanic_latino"), ParticipantRace(race="white")]
    ben = factories.make_participant("BE0203", gender="man", birth_year=2003)
    cy = factories.make_participant("CY0101")
    make = factories.make_encounter
    make(worker, van, ana, at("2026-09-15 18:00"), {box: 1})
    october_visit = make(
        worker,
        van,
        ana,
        at("2026-10-03 17:00"),
        {box: 2, kit: 1},
        syringes_collected=30,
        secondary_people=2,
        reversals=1,
        reversal_doses=2,
    )
    make(
        worker, office, ana, at("2026-11-01 04:30"), {kit: 2, strips: 3}, contact_type="fixed_site"
    )
    bens_visit = make(worker, van, ben, at("2026-10-20 15:00"), {cookers: 4}, syringes_collected=5)
    factories.make_referral(october_visit, "moud", status="linked", linked_on=date(2026, 10, 10))
    factories.make_referral(bens_visit, "housing")
    make(worker, van, None, at("2026-10-05 02:00"), {box: 1}, people_count=4, secondary_people=1)
    deleted = make(worker, van, cy, at("2026-10-10 16:00"), {box: 9}, syringes_collected=99)
    deleted.deleted_at = at("2026-10-11 00:00")
    make(worker, van, None, at("2026-11-01 05:10"), {box: 5})
    db.session.commit()
    return {"van": van, "office": office}


def test_every_key_figure_on_fixed_data(month_data):
    values = monthly_figures(OCTOBER).values
    assert {key: values[key] for key in KEY_FIGURES} == {
        "encounters": 4,
        "anonymous_encounters": 1,
        "anonymous_people": 4,
        "unique_participants": 2,
        "new_participants": 1,
        "secondary_people": 3,
        "syringes_distributed": 30,
        "syringes_collected": 35,
        "naloxone_kits_distributed": 3,
        "naloxone_doses_distributed": 6,
        "test_strips_distributed": 15,
        "overdose_reversals_reported": 1,
        "referrals_made": 2,
        "referrals_linked": 1,
    }


def test_naloxone_in_packs_counts_every_kit_and_dose(month_data):
    before = monthly_figures(OCTOBER).values
    twin = factories.make_item(
        "Naloxone twin pack", category="naloxone", units_per_pack=2, doses_per_unit=2
    )
    worker = factories.make_user("worker", username="twin-worker")
    factories.make_encounter(worker, month_data["van"], None, at("2026-10-20 15:00"), {twin: 3})
    values = monthly_figures(OCTOBER).values
    assert values["supply.Naloxone twin pack"] == 6
    assert values["naloxone_kits_distributed"] - before["naloxone_kits_distributed"] == 6
    assert values["naloxone_doses_distributed"] - before["naloxone_doses_distributed"] == 12


def test_breakdowns_on_fixed_data(month_data):
    figures = monthly_figures(OCTOBER)
    assert figures.section("supply.") == {
        "Syringe box of 10": 30,
        "Nasal naloxone": 3,
        "Fentanyl strips": 15,
        "Cookers": 4,
    }
    contact = figures.section("contact_type.")
    assert contact["street"] == 3 and contact["fixed_site"] == 1 and contact["mobile"] == 0
    assert figures.section("site.") == {"Office": 1, "Van": 3}
    assert figures.section("gender.")["woman"] == 1 and figures.section("gender.")["man"] == 1
    bands = figures.section("age_band.")
    assert bands["under_25"] == 1 and bands["35_44"] == 1 and sum(bands.values()) == 2
    assert figures.section("referrals_made.")["moud"] == 1
    assert figures.section("referrals_made.")["housing"] == 1
    assert figures.section("referrals_linked.")["moud"] == 1
    assert figures.values["referral_median_days_to_link"] == 7
    races = figures.section("race.")
    assert races["hispanic_latino"] == 1 and races["white"] == 1 and races["unknown"] == 1


def test_reversals_zip_substances_and_injecting_on_fixed_data(month_data):
    ana = db.session.scalar(select(Participant).where(Participant.birth_year == 1990))
    ana.zip3, ana.injects = "606", True
    ana.substances = [ParticipantSubstance(substance="fentanyl")]
    visit = db.session.scalar(select(Encounter).where(Encounter.reversals == 1))
    visit.reversal_outcome, visit.reversal_ems_called = "survived", True
    worker = factories.make_user("worker", username="reversal-worker")
    factories.make_encounter(
        worker, month_data["van"], None, at("2026-10-21 15:00"), reversals=2, reversal_doses=3
    )
    db.session.commit()
    figures = monthly_figures(OCTOBER)
    assert figures.values["overdose_reversals_reported"] == 3
    assert figures.values["reversal_doses_used"] == 5
    assert figures.section("reversal_outcome.") == {
        "survived": 1,
        "died": 0,
        "unknown": 0,
        "not_recorded": 2,
    }
    assert figures.section("reversal_ems_called.") == {"yes": 1, "no": 0, "not_recorded": 2}
    assert figures.section("zip3.") == {"606": 1, "unknown": 1}
    substances = figures.section("substance.")
    assert substances["fentanyl"] == 1 and substances["unknown"] == 1
    assert sum(substances.values()) == 2
    assert figures.section("injects.") == {"yes": 1, "no": 0, "unknown": 1}
    shared = for_sharing(figures, 11)
    assert shared.section("zip3.") == {"606": SUPPRESSED, "unknown": SUPPRESSED}
    assert shared.values["reversal_doses_used"] == 5, "events, not people: never suppressed"


def test_site_filter(month_data):
    values = monthly_figures(OCTOBER, month_data["office"].id).values
    assert values["encounters"] == 1 and values["new_participants"] == 0
    assert values["naloxone_kits_distributed"] == 2


def test_twelve_month_trend_ends_with_the_month(month_data):
    trend = monthly_figures(OCTOBER).trend
    assert trend[0][0].key == "2025-11"
    assert trend[-1][0] == OCTOBER and trend[-1][1]["encounters"] == 4
    assert trend[-2][1]["encounters"] == 1, "September: Ana's first encounter"


def report(client, **fields):
    """Post the monthly report form."""
    form = {"month": "2026-10", "site_id": "0", "output": "pdf", **fields}
    return client.post("/reports/monthly", data=form)


def test_pdf_key_figures_match_the_figures(app, client, login_as, month_data):
    login_as("supervisor")
    response = report(client)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Monthly report — October 2026" in text
    values = monthly_figures(OCTOBER).values
    for key, label in KEY_FIGURES.items():
        assert re.search(rf"^{label}\s+{values[key]:,}$", text, re.MULTILINE), label
    assert "Twelve-month trends" in text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.make"))
    assert '"month":"2026-10"' in event.data


def test_pdf_prints_names_with_markup_characters_as_typed(app, client, login_as, month_data):
    factories.make_site("Van <b> 3")
    factories.make_site("Shelter <north> & co")
    factories.make_item("Kit <i>big</i>", category="wound_care")
    login_as("supervisor")
    response = report(client)
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for name in ("Van <b> 3", "Shelter <north> & co", "Kit <i>big</i>"):
        assert name in text


def test_csv_has_exactly_the_keys_and_suppresses_people(app, client, login_as, month_data):
    login_as("admin")
    response = report(client, output="csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["key", "value"]
    table = dict(rows[1:])
    assert list(table)[: len(KEY_FIGURES)] == list(KEY_FIGURES)
    assert table["encounters"] == "4" and table["supply.Syringe box of 10"] == "30"
    assert table["gender.woman"] == "suppressed" and table["gender.man"] == "suppressed"
    # Two people in all: no set of gender counts adds up to 11, so every one is hidden.
    assert table["gender.trans_man"] == "suppressed"
    assert table["unique_participants"] == "2", "totals are never suppressed"
    app.config["SUPPRESSION_THRESHOLD"] = 0
    table = dict(
        list(csv.reader(io.StringIO(report(client, output="csv").get_data(as_text=True))))[1:]
    )
    assert table["gender.woman"] == "1"


def test_no_suppressed_count_is_the_total_minus_the_counts_shown(app, client, login_as):
    van, worker = factories.make_site("Van"), factories.make_user("worker")
    people = [("woman", 1990)] * 14 + [("man", 2000)] * 3
    for index, (gender, born) in enumerate(people):
        participant = factories.make_participant(f"PA{index:04d}", gender=gender, birth_year=born)
        factories.make_encounter(worker, van, participant, at("2026-10-15 18:00"))
    db.session.commit()
    login_as("supervisor")
    table = dict(
        list(csv.reader(io.StringIO(report(client, output="csv").get_data(as_text=True))))[1:]
    )
    assert table["unique_participants"] == "17"
    for prefix in ("gender.", "age_band."):
        cells = {key: value for key, value in table.items() if key.startswith(prefix)}
        assert list(cells.values()).count("suppressed") == 2, cells
        assert sum(int(value) for value in cells.values() if value != "suppressed") < 17
    pdf = report(client)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert re.search(r"^Woman\s+suppressed$", text, re.MULTILINE)
    assert re.search(r"^Man\s+suppressed$", text, re.MULTILINE)


def test_a_long_program_name_is_shortened_to_fit_the_footer(app):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from outreach.reports.pdf import FOOTER_FONT, footer_text

    figures = monthly_figures(OCTOBER)
    rest = " monthly report 2026-10 · page 12"
    figures.program_name = "Harm Reduction Program"
    assert footer_text(figures, rest) == "Harm Reduction Program" + rest
    figures.program_name = "County of San Bernardino Department of Public Health " * 3
    footer = footer_text(figures, rest)
    assert footer.startswith("County of San Bernardino") and footer.endswith("…" + rest)
    assert stringWidth(footer, *FOOTER_FONT) <= 8.5 * 72 - 1.6 * 72


def test_large_numbers_have_thousands_separators(app):
    from outreach.reports.pdf import number

    assert number(1234567) == "1,234,567" and number("suppressed") == "suppressed"


def test_bad_month_is_refused_at_the_field(client, login_as, month_data):
    login_as("supervisor")
    for bad in ("2026-13", "October", "", "1999-01"):
        response = report(client, month=bad)
        assert response.status_code == 422, bad
        assert "YYYY-MM" in response.get_data(as_text=True) or "between 2000" in response.get_data(
            as_text=True
        )


def test_workers_cannot_make_reports(client, login_as, month_data):
    login_as("worker")
    assert report(client).status_code == 403
    assert client.get("/reports").status_code == 403


def test_trend_charts_mark_whole_numbers_only(app, month_data):
    empty = monthly_figures(Month(2025, 3))
    labels = re.findall(r">([^<>]+)</text>", trend_svg(empty, "overdose_reversals_reported"))
    assert labels[12:15] == ["0", "1", "2"], "no 0, 0, 0, 1, 1, 1 on an empty month"
    busy = monthly_figures(OCTOBER)
    labels = re.findall(r">([^<>]+)</text>", trend_svg(busy, "syringes_distributed"))
    ticks = [int(label.replace(",", "")) for label in labels[12:-1]]
    assert ticks == sorted(set(ticks)) and ticks[0] == 0 and ticks[-1] >= 31, ticks


def test_dashboard_shows_figures_and_charts(client, login_as, month_data):
    login_as("supervisor")
    page = client.get("/reports").get_data(as_text=True)
    assert "Naloxone doses distributed" in page and "<svg" in page


def test_cli_writes_pdf_and_csv(app, month_data, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "october.csv"
    result = runner.invoke(
        args=["report", "monthly", "--month", "2026-10", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "encounters,4" in out.read_text()
    pdf = tmp_path / "office.pdf"
    result = runner.invoke(
        args=["report", "monthly", "--month", "2026-10", "--site", "office", "--out", str(pdf)]
    )
    assert result.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")
    factories.make_site("Café Élan")
    db.session.commit()
    accented = runner.invoke(
        args=["report", "monthly", "--month", "2026-10", "--site", "CAFÉ  élan", "--out", str(pdf)]
    )
    assert accented.exit_code == 0, accented.output
    bad = runner.invoke(args=["report", "monthly", "--month", "10/2026", "--out", str(pdf)])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    unknown = runner.invoke(
        args=["report", "monthly", "--month", "2026-10", "--site", "Moon", "--out", str(pdf)]
    )
    assert unknown.exit_code == 2 and "no site called" in unknown.output
    by_name = tmp_path / "october-again.CSV"
    named = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--out", str(by_name)])
    assert named.exit_code == 0 and "Wrote CSV report" in named.output
    assert by_name.read_text().startswith("key,value")


def test_dashboard_warns_of_low_stock(client, login_as, month_data):
    login_as("supervisor")
    item = factories.make_item("Naloxone for the van", category="naloxone", doses_per_unit=2)
    item.low_stock_threshold = 10
    db.session.commit()
    page = client.get("/reports").get_data(as_text=True)
    assert "Stock needs attention" in page and "Naloxone for the van" in page
