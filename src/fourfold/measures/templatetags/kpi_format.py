"""Show KPI numbers with their unit and the KPI's decimals, so a value never appears without meaning."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from fourfold.measures.models import Kpi

register = template.Library()


def format_kpi_value(value: Decimal | None, kpi: Kpi) -> str:
    """Format ``value`` for ``kpi``: "42.5 %", "USD 1,250", "3.5 hours", "Yes"; an em dash for no value."""
    if value is None:
        return "—"
    if kpi.unit == Kpi.Unit.YES_NO:
        return _("Yes") if value == 1 else _("No")
    decimals = 0 if kpi.unit == Kpi.Unit.COUNT else kpi.decimals
    number = floatformat(value, f"{decimals}g")
    if kpi.unit == Kpi.Unit.PERCENT:
        return f"{number} %"
    if kpi.unit == Kpi.Unit.CURRENCY:
        return f"{kpi.currency_code} {number}"
    if kpi.unit == Kpi.Unit.DURATION:
        return f"{number} {kpi.get_duration_unit_display()}"
    return str(number)


@register.filter
def kpi_value(value: Decimal | None, kpi: Kpi) -> str:
    """Template filter: ``{{ actual.value|kpi_value:kpi }}``."""
    return format_kpi_value(value, kpi)
