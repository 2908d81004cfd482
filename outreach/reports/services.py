"""Making a report: compute, render, audit."""

from flask import current_app

from outreach.audit.services import record
from outreach.reports.csv_export import render_csv
from outreach.reports.figures import monthly_figures
from outreach.reports.pdf import render_pdf
from outreach.reports.periods import Month


def report_make(*, month: Month, site_id: int | None, output: str) -> tuple[bytes, str, str]:
    """Return (content, media type, file name) of a monthly report, and audit that it was made."""
    figures = monthly_figures(month, site_id)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    name = f"outreach-{month.key}" + (f"-site{site_id}" if site_id else "")
    record(
        "report.make",
        "report",
        month.key,
        data={"month": month.key, "site": site_id, "format": output},
    )
    if output == "csv":
        return render_csv(figures, threshold).encode(), "text/csv; charset=utf-8", f"{name}.csv"
    return render_pdf(figures, threshold), "application/pdf", f"{name}.pdf"
