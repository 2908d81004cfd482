"""Trend charts as ReportLab drawings: placed in the PDF, or rendered to SVG for the page."""

import math
import re
from html import escape

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from outreach.reports.model import KEY_FIGURES, MonthlyFigures

TREND_LABELS = {
    **KEY_FIGURES,
    "overdose_reversals_reported": "Overdose reversals reported",
}
CHART_WIDTH = 250
CHART_HEIGHT = 150


def trend_chart(figures: MonthlyFigures, key: str) -> Drawing:
    """Draw 12 months of one key figure as grey bars, the report month in black."""
    drawing = Drawing(CHART_WIDTH, CHART_HEIGHT)
    values = [int(point[key] or 0) for _, point in figures.trend]
    chart = VerticalBarChart()
    chart.x, chart.y = 36, 28
    chart.width, chart.height = CHART_WIDTH - 46, CHART_HEIGHT - 52
    chart.data = [values]
    chart.categoryAxis.categoryNames = [month.short_label[:3] for month, _ in figures.trend]
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 0
    top = max(max(values), 1)
    step = whole_step(top)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * (top // step + 1)
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.labelTextFormat = lambda value: f"{value:,.0f}"
    chart.bars.strokeColor = colors.black
    chart.bars.strokeWidth = 0.4
    chart.bars[0].fillColor = colors.Color(0.75, 0.75, 0.75)
    chart.bars[(0, len(values) - 1)].fillColor = colors.black
    drawing.add(chart)
    drawing.add(
        String(4, CHART_HEIGHT - 12, TREND_LABELS[key], fontSize=8, fontName="Helvetica-Bold")
    )
    return drawing


def whole_step(top: int) -> int:
    """Return a round whole-number step (1, 2, 5, 10, 20…) giving about four ticks to ``top``."""
    rough = max(top / 4, 1)
    magnitude = 10 ** math.floor(math.log10(rough))
    return next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude >= rough)


STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
CLIP_ID = re.compile(r'id="clip"|url\(#clip\)')
TITLE = re.compile(r"<title>.*?</title>\s*<desc>.*?</desc>", re.DOTALL)


def trend_svg(figures: MonthlyFigures, key: str) -> str:
    """Return a trend chart as SVG markup for the dashboard, with a text alternative.

    ReportLab styles the SVG inline, which the page's Content-Security-Policy refuses: its
    styles become presentation attributes. Its ids are made unique among the six charts.
    """
    svg = renderSVG.drawToString(trend_chart(figures, key))
    svg = svg[svg.index("<svg") :]
    svg = STYLE_ATTRIBUTE.sub(presentation_attributes, svg)
    svg = CLIP_ID.sub(lambda found: found.group(0).replace("clip", f"clip-{key}"), svg)
    svg = svg.replace('id="group"', "")
    label = escape(trend_text(figures, key))
    svg = TITLE.sub(f"<title>{label}</title>", svg, count=1)
    return svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def presentation_attributes(style: re.Match) -> str:
    """Turn ``style="fill: red; font-size: 6px"`` into ``fill="red" font-size="6px"``."""
    pairs = (part.split(":", 1) for part in style.group(1).split(";") if ":" in part)
    return "".join(f' {name.strip()}="{escape(css_value(name, value))}"' for name, value in pairs)


def css_value(name: str, value: str) -> str:
    """Return a style value, with a sans-serif fallback where ReportLab names Helvetica."""
    value = value.strip()
    return f"{value}, Arial, sans-serif" if name.strip() == "font-family" else value


def trend_text(figures: MonthlyFigures, key: str) -> str:
    """Say what a trend chart shows, month by month, for those who cannot see it."""
    months = ", ".join(f"{month.label} {int(point[key] or 0):,}" for month, point in figures.trend)
    return f"{TREND_LABELS[key]}, last 12 months: {months}"
