"""Geometry of the MI journey charts, drawn as inline SVG by the server (no script)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from outreach.mi.models import RULERS, STAGE_LABELS, Stage
from outreach.mi.queries import JourneyPoint
from outreach.templating import program_zone

WIDTH = 640
LEFT = 132
RIGHT = 20
TOP = 16
BOTTOM = 30
#: Stages from the top of the chart down; recurrence sits apart at the bottom.
STAGE_ROWS = [
    Stage.MAINTENANCE,
    Stage.ACTION,
    Stage.PREPARATION,
    Stage.CONTEMPLATION,
    Stage.PRECONTEMPLATION,
    Stage.RECURRENCE,
]
ROW_HEIGHT = 26
RULER_HEIGHT = 150
#: How each ruler is drawn: never by colour alone (dash pattern and marker shape differ).
RULER_STYLES = {
    "importance": {"label": "Importance", "stroke": "#0b5c52", "dash": "", "marker": "circle"},
    "confidence": {"label": "Confidence", "stroke": "#8a3b00", "dash": "7 4", "marker": "square"},
    "readiness": {"label": "Readiness", "stroke": "#3d3f9e", "dash": "2 4", "marker": "diamond"},
}


@dataclass(frozen=True)
class Mark:
    """A point drawn on a chart, with its tooltip."""

    x: float
    y: float
    tip: str


@dataclass(frozen=True)
class Series:
    """A line on a chart: unbroken runs of points, and the marks on them."""

    key: str
    label: str
    stroke: str
    dash: str
    marker: str
    runs: list[str]
    marks: list[Mark]


@dataclass(frozen=True)
class Chart:
    """An SVG chart: size, axis ticks and lines."""

    width: int
    height: int
    plot_top: float
    plot_bottom: float
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    series: list[Series]
    #: Where the plot starts and ends across.
    left: float = LEFT
    right: float = WIDTH - RIGHT


def x_positions(count: int) -> list[float]:
    """Spread conversations evenly across the plot, in order."""
    span = WIDTH - LEFT - RIGHT
    if count == 1:
        return [LEFT + span / 2]
    return [LEFT + span * index / (count - 1) for index in range(count)]


def day(point: JourneyPoint) -> str:
    """Return the conversation's local date."""
    return point.occurred_at.astimezone(program_zone()).strftime("%Y-%m-%d")


def x_ticks(points: Sequence[JourneyPoint], xs: list[float]) -> list[tuple[float, str]]:
    """Label at most six conversations with their dates, first and last always."""
    if not points:
        return []
    step = max(1, -(-len(points) // 6))
    chosen = sorted({*range(0, len(points), step), len(points) - 1})
    return [(round(xs[index], 1), day(points[index])[5:]) for index in chosen]


def series_of(
    points: Sequence[JourneyPoint], xs: list[float], y_of: Callable, key: str, style: dict, tip
) -> Series:
    """Build a line through the points that have a value, broken where one is missing."""
    runs: list[list[str]] = [[]]
    marks = []
    for point, x in zip(points, xs, strict=True):
        y = y_of(point)
        if y is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x:.1f},{y:.1f}")
        marks.append(Mark(round(x, 1), round(y, 1), tip(point)))
    return Series(
        key=key,
        label=style["label"],
        stroke=style["stroke"],
        dash=style["dash"],
        marker=style["marker"],
        runs=[" ".join(run) for run in runs if run],
        marks=marks,
    )


def stage_chart(points: Sequence[JourneyPoint]) -> Chart:
    """Chart the stage of change at each conversation."""
    rows = {
        stage.value: TOP + ROW_HEIGHT * index + ROW_HEIGHT / 2
        for index, stage in enumerate(STAGE_ROWS)
    }
    xs = x_positions(len(points))
    style = {"label": "Stage of change", "stroke": "#0b5c52", "dash": "", "marker": "circle"}
    line = series_of(
        points,
        xs,
        lambda point: rows.get(point.stage),
        "stage",
        style,
        lambda point: f"{day(point)}: {STAGE_LABELS[Stage(point.stage)]}",
    )
    bottom = TOP + ROW_HEIGHT * len(STAGE_ROWS)
    return Chart(
        width=WIDTH,
        height=int(bottom + BOTTOM),
        plot_top=TOP,
        plot_bottom=bottom,
        x_ticks=x_ticks(points, xs),
        y_ticks=[(rows[stage.value], STAGE_LABELS[stage]) for stage in STAGE_ROWS],
        series=[line],
    )


def ruler_chart(points: Sequence[JourneyPoint]) -> Chart:
    """Chart the importance, confidence and readiness rulers (0-10) at each conversation."""
    top, bottom = TOP + 22, TOP + 22 + RULER_HEIGHT
    xs = x_positions(len(points))

    def scale(value: int | None) -> float | None:
        return None if value is None else bottom - (bottom - top) * value / 10

    lines = [
        series_of(
            points,
            xs,
            lambda point, key=key: scale(getattr(point, key)),
            key,
            RULER_STYLES[key],
            lambda point, key=key: (
                f"{day(point)}: {RULER_STYLES[key]['label']} {getattr(point, key)}"
            ),
        )
        for key in RULERS
    ]
    return Chart(
        width=WIDTH,
        height=int(bottom + BOTTOM),
        plot_top=top,
        plot_bottom=bottom,
        x_ticks=x_ticks(points, xs),
        y_ticks=[(scale(value), str(value)) for value in (0, 5, 10)],
        series=lines,
    )
