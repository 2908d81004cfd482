"""The monthly report as a PDF: a pure function of the figures, readable in black and white."""

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from outreach.reports.charts import trend_chart
from outreach.reports.model import KEY_FIGURES, TREND_KEYS, MonthlyFigures, for_sharing

STYLES = getSampleStyleSheet()
LABEL_WIDTH = 4.2 * inch
NUMBER_WIDTH = 1.6 * inch
FOOTER_FONT = ("Helvetica", 8)
TABLE_STYLE = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.Color(0.6, 0.6, 0.6)),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
    ]
)
HUMAN = {
    "fixed_site": "Fixed site",
    "virtual": "Phone or virtual",
    "hiv_test": "HIV test",
    "hcv_test": "HCV test",
    "fts_training": "Test strip training",
    "under_25": "Under 25",
    "65_plus": "65 and over",
    "american_indian_alaska_native": "American Indian or Alaska Native",
    "native_hawaiian_pacific_islander": "Native Hawaiian or Pacific Islander",
    "middle_eastern_north_african": "Middle Eastern or North African",
    "hispanic_latino": "Hispanic or Latino/a/e",
    "moud": "MOUD",
    "hiv": "HIV",
    "hcv": "HCV",
    "sti": "STI",
    "prep": "PrEP",
    "id_documents": "ID documents",
}


def number(value) -> str:
    """Write a figure with thousands separators; text (a suppressed cell) as it is."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def human(code: str) -> str:
    """Turn a code such as ``trans_woman`` or ``25_34`` into a label."""
    if code in HUMAN:
        return HUMAN[code]
    if code[:2].isdigit() and "_" in code:
        return code.replace("_", "–")
    return code.replace("_", " ").capitalize()


def paragraph(text: str, style: str) -> Paragraph:
    """Return a paragraph showing the text as it is: ReportLab reads ``<`` and ``&`` as markup,
    and site, item and program names are typed by people."""
    return Paragraph(escape(text), STYLES[style])


def figure_table(title: str, rows: list[tuple[str, object]], header: str = "Number") -> list:
    """Return a heading and a two-column table of figures, kept together on a page."""
    data = [[title, header]] + [
        [paragraph(label, "BodyText"), number(value)] for label, value in rows
    ]
    if not rows:
        data.append(["None this month", ""])
    table = Table(data, colWidths=[LABEL_WIDTH, NUMBER_WIDTH], repeatRows=1, hAlign="LEFT")
    table.setStyle(TABLE_STYLE)
    return [KeepTogether([table, Spacer(1, 14)])]


def cover(figures: MonthlyFigures) -> list:
    """Return the cover: program, month, site filter and generation time."""
    generated = figures.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    site = figures.site_name or "All sites"
    return [
        Spacer(1, 1.5 * inch),
        paragraph(figures.program_name, "Title"),
        paragraph(f"Monthly report — {figures.month.label}", "Heading1"),
        paragraph(f"Sites: {site}", "Heading2"),
        paragraph(f"Months run midnight to midnight in {figures.timezone}.", "BodyText"),
        paragraph(f"Generated {generated}.", "BodyText"),
        Spacer(1, 0.3 * inch),
    ]


def section_rows(figures: MonthlyFigures, prefix: str) -> list:
    """Return (label, value) rows of one breakdown."""
    rows = []
    for code, value in figures.section(prefix).items():
        label = code if prefix in ("supply.", "site.") else human(code)
        rows.append((label, value))
    return rows


def linkage_rows(figures: MonthlyFigures) -> list[tuple[str, object]]:
    """Return the linkage rate, median days to linkage, and open and overdue referrals."""
    values = figures.values
    rate = values.get("referral_linkage_rate")
    return [
        (
            "Linkage rate (linked ÷ made, identified participants)",
            "—" if rate is None else f"{rate:.0%}",
        ),
        ("Median days from referral to linkage", values.get("referral_median_days_to_link")),
        (
            "Referrals for anonymous contacts (cannot be followed up)",
            values.get("referrals_anonymous"),
        ),
        ("Open referrals", values.get("referrals_open")),
        ("Overdue referrals", values.get("referrals_overdue")),
    ]


def reversal_rows(figures: MonthlyFigures) -> list[tuple[str, object]]:
    """Return the reversals by outcome and by EMS called, and the naloxone doses used."""
    values = figures.values
    rows = [("Reversals reported", values.get("overdose_reversals_reported"))]
    rows += [
        (f"Outcome: {label.lower()}", value)
        for label, value in section_rows(figures, "reversal_outcome.")
    ]
    rows += [
        (f"EMS called: {label.lower()}", value)
        for label, value in section_rows(figures, "reversal_ems_called.")
    ]
    rows.append(("Naloxone doses used", values.get("reversal_doses_used")))
    return rows


def stock_rows(figures: MonthlyFigures) -> list[tuple[str, object]]:
    """Return received, distributed and month-end stock per item."""
    rows = []
    for key, value in figures.section("stock.").items():
        item, _, measure = key.rpartition(".")
        rows.append((f"{item}: {measure.replace('_', '-')}", value))
    return rows


def body(figures: MonthlyFigures, threshold: int) -> list:
    """Return every section after the cover."""
    story = figure_table(
        "Key figures", [(label, figures.values.get(key)) for key, label in KEY_FIGURES.items()]
    )
    story += figure_table("Supplies distributed (units)", section_rows(figures, "supply."))
    story += figure_table("Encounters by contact type", section_rows(figures, "contact_type."))
    story += figure_table("Encounters by site", section_rows(figures, "site."))
    story += figure_table("Referrals made by type", section_rows(figures, "referrals_made."))
    story += figure_table("Referrals linked by type", section_rows(figures, "referrals_linked."))
    story += figure_table("Linkage to care", linkage_rows(figures))
    story += figure_table("Services given", section_rows(figures, "service."))
    story += figure_table("Overdose reversals reported", reversal_rows(figures))
    note = (
        f"To protect privacy, counts from 1 to {threshold - 1} read “suppressed”, and so do"
        f" other counts with them until the hidden counts add up to at least {threshold}."
        if threshold
        else ""
    )
    for prefix, title in (
        ("gender.", "by gender"),
        ("age_band.", "by age band"),
        ("race.", "by race and ethnicity"),
        ("zip3.", "by ZIP code (first 3 digits)"),
        ("substance.", "by substance used"),
        ("injects.", "who inject drugs"),
    ):
        story += figure_table(
            f"Unique participants {title}", section_rows(figures, prefix), "People"
        )
    if note:
        story.append(paragraph(note, "Italic"))
    story += figure_table("Inventory (units as counted in stock)", stock_rows(figures))
    story += figure_table("Motivational interviewing", section_rows(figures, "mi."))
    story.append(PageBreak())
    story.append(paragraph("Twelve-month trends", "Heading2"))
    charts = [trend_chart(figures, key) for key in TREND_KEYS]
    grid = Table(
        [charts[index : index + 2] for index in range(0, len(charts), 2)],
        colWidths=[3.5 * inch] * 2,
    )
    story.append(grid)
    return story


def footer_text(figures: MonthlyFigures, rest: str) -> str:
    """Return the page footer, a long program name shortened to fit between the margins."""
    room = LETTER[0] - 1.6 * inch - stringWidth(rest, *FOOTER_FONT)
    name = figures.program_name
    if stringWidth(name, *FOOTER_FONT) <= room:
        return name + rest
    while name and stringWidth(name + "…", *FOOTER_FONT) > room:
        name = name[:-1]
    return name.rstrip() + "…" + rest


def render_pdf(figures: MonthlyFigures, threshold: int) -> bytes:
    """Return the monthly report PDF for the figures."""
    buffer = io.BytesIO()
    title = f"{figures.program_name} monthly report {figures.month.key}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=title,
        author=figures.program_name,
        leftMargin=0.8 * inch,
        rightMargin=0.8 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
    )

    def on_page(canvas, doc) -> None:
        canvas.setFont(*FOOTER_FONT)
        footer = footer_text(figures, f" monthly report {figures.month.key} · page {doc.page}")
        canvas.drawRightString(LETTER[0] - 0.8 * inch, 0.5 * inch, footer)

    shared = for_sharing(figures, threshold)
    document.build(
        cover(shared) + body(shared, threshold), onFirstPage=on_page, onLaterPages=on_page
    )
    return buffer.getvalue()
