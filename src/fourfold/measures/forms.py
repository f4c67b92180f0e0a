from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.measures.models import VALUE_DIGITS


def value_input(label: StrOrPromise, *, required: bool = False, help_text: StrOrPromise = "") -> forms.DecimalField:
    """A number input sized like the KPI value columns."""
    return forms.DecimalField(label=label, required=required, help_text=help_text, **VALUE_DIGITS)  # type: ignore[arg-type]


class ActualForm(forms.Form):
    """Enter or correct one period's value; numerator and denominator for ratio KPIs."""

    period_key = forms.CharField(label=_("Period"), max_length=10, help_text=_("e.g. 2026-03, 2026-Q1, 2026, 2026-W07"))
    value = value_input(_("Value"), help_text=_("Leave empty when you give numerator and denominator."))
    numerator = value_input(_("Numerator"))
    denominator = value_input(_("Denominator"))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TargetForm(forms.Form):
    """Set the target and thresholds from a period on."""

    period_key = forms.CharField(label=_("From period"), max_length=10)
    target = value_input(_("Target"))
    red_flag = value_input(_("Red flag"), help_text=_("Where the KPI turns off target."))
    reach_by = forms.CharField(
        label=_("Reached by"),
        max_length=10,
        required=False,
        help_text=_("For a target reached over a span, e.g. 12 000 by 2026-12."),
    )
    range_low = value_input(_("Range low"))
    range_high = value_input(_("Range high"))
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The KPI page shows this form beside the value form, which has fields of the same names: its own
        # ids keep every label pointing at its own input.
        kwargs.setdefault("auto_id", "target_%s")
        super().__init__(*args, **kwargs)
