"""KPI page and its two forms: record a value (updaters) and set a target (editors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fourfold.accounts.permissions import Action, can, require
from fourfold.audit.selectors import history_for_object
from fourfold.engine.periods import Frequency, PeriodKeyError
from fourfold.forms import show_validation_error
from fourfold.http import acting_user
from fourfold.measures.forms import ActualForm, TargetForm
from fourfold.measures.models import Kpi
from fourfold.measures.scoring import kpi_history
from fourfold.measures.selectors import actuals_for_kpi, computation_of, target_in_effect, value_history_for_kpi
from fourfold.measures.services import actual_record, kpi_target_set


def _kpi_for(request: HttpRequest, kpi_id: int) -> Kpi:
    kpi = get_object_or_404(
        Kpi.objects.select_related("scorecard__organisation", "objective__perspective", "owner"), pk=kpi_id
    )
    require(request.user, Action.VIEW, kpi.scorecard)
    return kpi


def _render_kpi(
    request: HttpRequest, kpi: Kpi, *, bound_form: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    """The KPI page; ``bound_form`` is a submitted form shown again with its errors."""
    settings = list(kpi.targets.order_by("period_start"))
    actuals = list(actuals_for_kpi(kpi))
    calendar = kpi.scorecard.organisation.calendar
    periods = sorted({calendar.parse(actual.period_key) for actual in actuals})
    today = timezone.localdate()
    selected_key = request.GET.get("period") or (periods[-1].key if periods else "")
    period_error = ""
    try:
        selected = calendar.parse(selected_key, expected=Frequency(kpi.frequency)) if selected_key else None
    except PeriodKeyError as error:
        period_error, selected = str(error), None
    if selected is not None and selected not in periods:
        periods = sorted([*periods, selected])
    results = kpi_history(kpi, periods, today=today)
    rows = [
        (actual, target_in_effect(settings, actual.period_start), results.get(actual.period_key)) for actual in actuals
    ]
    return render(
        request,
        "measures/kpi_detail.html",
        {
            "kpi": kpi,
            "computation": computation_of(kpi),
            "scorecard": kpi.scorecard,
            "selected": None if selected is None else results[selected.key],
            "selected_period": selected,
            "period_error": period_error,
            "rows": rows,
            "target_settings": list(reversed(settings)),
            "revisions": value_history_for_kpi(kpi),
            "history": history_for_object(kpi)[:50],
            "can_record": can(request.user, Action.RECORD_VALUE, kpi),
            "can_set_targets": can(request.user, Action.SET_TARGETS, kpi),
            "actual_form": bound_form if isinstance(bound_form, ActualForm) else ActualForm(),
            "target_form": bound_form if isinstance(bound_form, TargetForm) else TargetForm(),
        },
        status=status,
    )


@login_required
def kpi_detail(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """Definition, values with notes and authors, targets over time, and the change history."""
    return _render_kpi(request, _kpi_for(request, kpi_id))


def _submit(
    request: HttpRequest,
    kpi: Kpi,
    form: forms.Form,
    save: Callable[[dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    """Validate, call the service, and show its errors next to the fields (status 400) or redirect."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            show_validation_error(form, error)
        else:
            messages.success(request, success)
            return HttpResponseRedirect(reverse("measures:kpi_detail", args=[kpi.pk]))
    return _render_kpi(request, kpi, bound_form=form, status=400)


@login_required
@require_POST
def actual_record_view(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """Record or replace one period's value."""
    kpi = _kpi_for(request, kpi_id)
    require(request.user, Action.RECORD_VALUE, kpi)
    user = acting_user(request)
    return _submit(
        request,
        kpi,
        ActualForm(request.POST),
        lambda data: actual_record(by=user, kpi=kpi, **data),
        _("Value saved."),
    )


@login_required
@require_POST
def kpi_target_set_view(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """Set the target and thresholds from a period on."""
    kpi = _kpi_for(request, kpi_id)
    require(request.user, Action.SET_TARGETS, kpi)
    user = acting_user(request)
    return _submit(
        request,
        kpi,
        TargetForm(request.POST),
        lambda data: kpi_target_set(by=user, kpi=kpi, **data),
        _("Target saved."),
    )
