"""The KPI page's chart: actuals against targets over the KPI's periods, on its status bands, as an ECharts option.

Everything is decided here, on the server, from the engine's results (:func:`~fourfold.measures.scoring.kpi_history`),
so the chart shows exactly the scores and statuses the page and its table show: charts.js only draws the option.
Texts (tooltips, legend, axis) are written in the user's language with the KPI's unit, because an option
travels as JSON and cannot carry formatting functions. The value axis's ticks are chosen by ECharts in the
browser, so the option carries the language's number format instead (``numberFormat``, see
:func:`number_format`) and charts.js writes the tick labels with it, as the tooltips write their values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.html import escape
from django.utils.translation import gettext as _

from fourfold.engine.evaluate import KpiResult
from fourfold.engine.periods import Frequency, Period
from fourfold.engine.status import StatusScheme
from fourfold.measures.models import Kpi
from fourfold.measures.scoring import StatusBand, kpi_history, status_bands
from fourfold.measures.templatetags.kpi_format import format_kpi_value

CHART_PERIODS = {Frequency.WEEKLY: 26, Frequency.MONTHLY: 24, Frequency.QUARTERLY: 12, Frequency.YEARLY: 6}
"""How many of its own periods a KPI's chart shows, ending with the period chosen on the page: two years
of months, half a year of weeks."""

STATUS_SYMBOLS = ("circle", "triangle", "diamond", "rect", "roundRect", "pin", "arrow")
"""A point's shape by its status's level (best first), so that a status is told by shape as well as colour."""

BAND_OPACITY = 0.14


def chart_periods(kpi: Kpi, end: Period) -> list[Period]:
    """The periods the chart shows: :data:`CHART_PERIODS` of the KPI's own, ending with ``end``."""
    return list(kpi.scorecard.organisation.calendar.trailing(end, CHART_PERIODS[Frequency(kpi.frequency)]))


def kpi_chart_option(kpi: Kpi, end: Period, *, today: date) -> dict[str, Any]:
    """The ECharts option of the KPI's chart for the periods up to ``end``."""
    periods = chart_periods(kpi, end)
    results = kpi_history(kpi, periods, today=today)
    ordered = [results[period.key] for period in periods]
    scheme = kpi.scorecard.organisation.status_scheme()
    low, high = value_range(ordered, periods)
    has_margins = any(result.actual.margin_of_error is not None for result in ordered)
    names = {"actual": _("Actual"), "target": _("Target"), "margin": _("Margin of error")}
    series: list[dict[str, Any]] = [
        {
            "type": "line",
            "name": names["actual"],
            "data": [
                _actual_point(kpi, scheme, period, result) for period, result in zip(periods, ordered, strict=True)
            ],
            "symbolSize": 9,
            "showAllSymbol": True,  # every point carries its status, even where the chart is narrow
            "connectNulls": False,
            "z": 3,
        },
        {
            "type": "line",
            "name": names["target"],
            "data": [_number(result.target) for result in ordered],
            "step": "middle",
            "showSymbol": False,
            "lineStyle": {"type": "dashed"},
            "silent": True,
            "z": 2,
        },
    ]
    if has_margins:
        series += _margin_series(ordered, names["margin"])
    series.append(_band_series(ordered, periods, scheme, low, high))
    unit = unit_template(kpi)
    return {
        "aria": {
            "description": _(
                "%(kpi)s: actual values against targets from %(first)s to %(last)s, drawn over the bands of "
                "values that each status covers. The table of values below gives every number."
            )
            % {"kpi": kpi.name, "first": periods[0].label, "last": periods[-1].label}
        },
        "legend": {"data": [names["actual"], names["target"], *([names["margin"]] if has_margins else [])], "top": 0},
        "tooltip": {"trigger": "item", "confine": True},
        "grid": {"top": 36},
        "xAxis": [
            {"type": "category", "data": [period.key for period in periods], "boundaryGap": True},
            # An invisible axis of period positions, on which each period's status bands span its whole width.
            {"type": "value", "min": -0.5, "max": len(periods) - 0.5, "show": False},
        ],
        "yAxis": {"type": "value", "min": low, "max": high, "axisLabel": {"formatter": unit}},
        "numberFormat": number_format(),
        "series": series,
    }


def number_format() -> dict[str, Any]:
    """How the active language writes numbers, as the tooltips' values (``floatformat`` with grouping) are
    written: decimal and thousands separators and group sizes (Django's ``NUMBER_GROUPING``, a size or a
    sequence of sizes), for charts.js to write the value axis's labels alike: German 1.234,5, English 1,234.5.
    """
    grouping = formats.get_format("NUMBER_GROUPING")
    return {
        "decimal": formats.get_format("DECIMAL_SEPARATOR"),
        "thousands": formats.get_format("THOUSAND_SEPARATOR"),
        "grouping": list(grouping) if isinstance(grouping, list | tuple) else grouping,
    }


def unit_template(kpi: Kpi) -> str:
    """An axis label template with the KPI's unit: "{value} %", "USD {value}", "{value} hours"."""
    if kpi.unit == Kpi.Unit.PERCENT:
        return "{value} %"
    if kpi.unit == Kpi.Unit.CURRENCY and kpi.currency_code:
        return f"{kpi.currency_code} {{value}}"
    if kpi.unit == Kpi.Unit.DURATION and kpi.duration_unit:
        return f"{{value}} {kpi.get_duration_unit_display()}"
    return "{value}"


def value_range(results: Sequence[KpiResult], periods: Sequence[Period]) -> tuple[float, float]:
    """The value axis: every actual (with its margin), target and threshold in view, with room around them,
    widened to round numbers; from zero up when nothing is negative, since most KPIs cannot be."""
    numbers: list[float] = []
    for period, result in zip(periods, results, strict=True):
        value, margin = result.actual.value, result.actual.margin_of_error or 0.0
        if value is not None:
            numbers += [value - margin, value + margin]
        setting = result.kpi.setting_at(period.start)
        thresholds = [result.target, result.red_flag]
        if setting is not None:
            thresholds += [setting.range_low, setting.range_high]
        numbers += [number for number in thresholds if number is not None]
    if not numbers:
        return 0.0, 1.0
    lowest, highest = min(numbers), max(numbers)
    span = highest - lowest or max(abs(highest) * 0.2, 1.0)
    low, high = lowest - span / 4, highest + span / 4
    if lowest >= 0:
        low = max(low, 0.0)
    magnitude = 10 ** math.floor(math.log10(high - low))
    return math.floor(low / magnitude) * magnitude, math.ceil(high / magnitude) * magnitude


def _number(value: float | None) -> float | str:
    """A value for the option; ECharts leaves a gap for "-"."""
    return "-" if value is None else round(value, 6)


def _shown(kpi: Kpi, value: float | None) -> str:
    return format_kpi_value(None if value is None else Decimal(str(value)), kpi)


def _actual_point(kpi: Kpi, scheme: StatusScheme, period: Period, result: KpiResult) -> dict[str, Any] | str:
    """A value's point: coloured and shaped by its status, with a tooltip saying it all in words."""
    value = result.actual.value
    if value is None:
        return "-"
    status = result.status
    levels = [level.key for level in scheme.levels]
    symbol = STATUS_SYMBOLS[levels.index(status.key) % len(STATUS_SYMBOLS)] if status.key in levels else "emptyCircle"
    actual = _shown(kpi, value)
    if result.actual.margin_of_error is not None:
        actual += f" ± {_shown(kpi, result.actual.margin_of_error)}"
    score = "—" if result.score is None else formats.number_format(result.score, 1)
    lines = [
        f"<strong>{escape(period.label)}</strong>",
        escape(_("Actual: %(value)s") % {"value": actual}),
        escape(_("Target: %(value)s") % {"value": _shown(kpi, result.target)}),
        escape(_("Score: %(score)s/10, %(status)s") % {"score": score, "status": status.name}),
    ]
    return {
        "value": round(value, 6),
        "symbol": symbol,
        "itemStyle": {"color": status.colour},
        "tooltip": {"formatter": "<br>".join(lines)},
    }


def _margin_series(results: Sequence[KpiResult], name: str) -> list[dict[str, Any]]:
    """The margin of error as a shaded band around the actuals: an invisible lower edge and, stacked on it,
    the band's width (computed values from surveys have one; others leave gaps)."""
    lower: list[float | str] = []
    width: list[float | str] = []
    for result in results:
        value, margin = result.actual.value, result.actual.margin_of_error
        if value is None or margin is None:
            lower.append("-")
            width.append("-")
        else:
            lower.append(round(value - margin, 6))
            width.append(round(2 * margin, 6))
    common = {"type": "line", "stack": "margin", "showSymbol": False, "silent": True, "lineStyle": {"opacity": 0}}
    return [
        {**common, "name": f"{name} (low)", "data": lower},
        {**common, "name": name, "data": width, "areaStyle": {"opacity": 0.2}, "z": 1},
    ]


def _band_series(
    results: Sequence[KpiResult], periods: Sequence[Period], scheme: StatusScheme, low: float, high: float
) -> dict[str, Any]:
    """A series with no points of its own whose mark areas are each period's status bands, behind the lines."""
    areas = []
    # Periods under the same setting have the same bands: each setting's are worked out once.
    known: dict[object, tuple[StatusBand, ...]] = {}
    for index, result in enumerate(results):
        setting = (result.method, result.target, result.red_flag)
        try:
            bands = known[setting]
        except KeyError:
            bands = known[setting] = status_bands(result, scheme, low, high)
        except TypeError:  # a method with unhashable parameters: worked out for each period
            bands = status_bands(result, scheme, low, high)
        for band in bands:
            start: dict[str, Any] = {"xAxis": index - 0.5, "itemStyle": {"color": band.status.colour}}
            end: dict[str, Any] = {"xAxis": index + 0.5}
            if band.low is not None:
                start["yAxis"] = band.low
            if band.high is not None:
                end["yAxis"] = band.high
            areas.append([start, end])
    return {
        "type": "line",
        "name": _("Status bands"),
        "xAxisIndex": 1,
        "data": [],
        "silent": True,
        "z": 0,
        "markArea": {"silent": True, "itemStyle": {"opacity": BAND_OPACITY}, "data": areas},
    }
