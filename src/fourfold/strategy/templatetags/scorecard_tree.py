"""Template tags of the scorecard page: ``{% load scorecard_tree %}``.

They write markup that every row of a large scorecard repeats (a trend, a change since the period compared
with), in Python rather than in included templates, so that a page of 200 KPIs stays quick to render.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import template
from django.template.loader import get_template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from fourfold.engine.status import Status
from fourfold.measures.models import Kpi
from fourfold.measures.templatetags.kpi_format import format_kpi_value
from fourfold.strategy.selectors import Sparkline
from fourfold.ui.icons import icon

register = template.Library()

MINUS = "−"


@register.simple_tag(takes_context=True)
def status_chip(context: template.Context, status: Status, overdue: bool = False) -> str:
    """templates/status_badge.html for ``status``, rendered once per page for each status and overdue flag: a
    tree repeats a handful of statuses hundreds of times."""
    chips = cast("dict[tuple[str, str, str, bool], str]", context.render_context.setdefault("status_chips", {}))  # type: ignore[arg-type]
    key = (status.key, status.name, status.colour, overdue)
    if key not in chips:
        chips[key] = get_template("status_badge.html").render({"status": status, "overdue": overdue})
    return chips[key]


@register.simple_tag
def sparkline(line: Sparkline | None) -> SafeString:
    """A KPI's trend as an inline SVG named by its trend in words; a dash when it has no values."""
    if line is None:
        return format_html(
            '<span class="muted sparkline-none">—<span class="visually-hidden"> {}</span></span>',
            gettext("no values to draw a trend"),
        )
    last = (
        format_html('<circle class="sparkline-last" cx="{}" cy="{}" r="2.4"/>', *(f"{at:.1f}" for at in line.last))
        if line.last is not None
        else ""
    )
    target = format_html('<path class="sparkline-target" d="{}"/>', line.target_path) if line.target_path else ""
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        'aria-label="{label}"><title>{label}</title>{target}<path class="sparkline-line" d="{path}"/>{last}</svg>',
        width=line.width,
        height=line.height,
        label=line.label,
        target=target,
        path=line.path,
        last=last,
    )


@register.simple_tag
def score_change(change: float | None) -> SafeString:
    """A score's change as an arrow, a signed number and, for screen readers, the words "up by" or "down by"."""
    if change is None:
        return format_html(
            '<span class="change none">—<span class="visually-hidden"> {}</span></span>', gettext("no comparison")
        )
    rounded = round(change, 1)
    figure = number_format(abs(rounded), decimal_pos=1)
    if rounded == 0:
        return format_html(
            '<span class="change same"><span aria-hidden="true">±{}</span><span class="visually-hidden">{}</span></span>',
            number_format(0, decimal_pos=1),
            gettext("no change"),
        )
    up = rounded > 0
    return format_html(
        '<span class="change {}">{}<span aria-hidden="true">{}{}</span><span class="visually-hidden">{}</span></span>',
        "up" if up else "down",
        icon("arrow-up" if up else "arrow-down"),
        "+" if up else MINUS,
        figure,
        (gettext("up by %(change)s") if up else gettext("down by %(change)s")) % {"change": figure},
    )


@register.simple_tag
def actual_change(change: float | None, kpi: Kpi) -> SafeString:
    """An actual's change with its sign and unit: "+2.5 pp" for a percentage, "−3 hours", "+GBP 1,250"."""
    if change is None or kpi.unit == Kpi.Unit.YES_NO:
        return SafeString("")
    sign = "+" if change > 0 else MINUS if change < 0 else "±"
    magnitude = Decimal(str(abs(change)))
    if kpi.unit == Kpi.Unit.PERCENT:
        number = format_kpi_value(magnitude, kpi).removesuffix(" %")
        return format_html(
            '<span class="actual-change">{}{} <abbr title="{}">pp</abbr></span>',
            sign,
            number,
            gettext("percentage points"),
        )
    return format_html('<span class="actual-change">{}{}</span>', sign, format_kpi_value(magnitude, kpi))
