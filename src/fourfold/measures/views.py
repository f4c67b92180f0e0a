"""KPI page and its two forms: record a value (updaters) and set a target (editors); the data-entry grid."""

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
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fourfold.accounts.models import Role
from fourfold.accounts.permissions import Action, can, require, scorecards_with_role
from fourfold.audit.selectors import history_for_object
from fourfold.engine.periods import Frequency, PeriodKeyError
from fourfold.forms import show_validation_error
from fourfold.http import acting_user
from fourfold.initiatives.selectors import initiatives_supporting
from fourfold.measures.forms import ActualForm, EntryGridForm, TargetForm, number_example
from fourfold.measures.models import Kpi
from fourfold.measures.scoring import kpi_history
from fourfold.measures.selectors import (
    EntryGrid,
    actuals_for_kpi,
    computation_of,
    entry_grid,
    target_in_effect,
    value_history_for_kpi,
)
from fourfold.measures.services import BatchError, actual_record, actuals_record_batch, kpi_target_set
from fourfold.ui.htmx import is_htmx, with_message


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
            "initiatives": initiatives_supporting(kpi, today=today),
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


MAX_WINDOWS_BACK = 40
"""How far the data-entry grid steps back: forty windows of six months are twenty years."""


def _entry_grid_for(request: HttpRequest) -> EntryGrid:
    """The grid for the window (``?back=`` windows earlier) and scope (``?scope=all``) in the address."""
    try:
        back = min(max(int(request.GET.get("back", "0")), 0), MAX_WINDOWS_BACK)
    except ValueError:
        back = 0
    everything = request.GET.get("scope") == "all"
    return entry_grid(request.user, today=timezone.localdate(), back=back, everything=everything)


def _render_entry(request: HttpRequest, form: EntryGridForm, *, status: int = 200, message: str = "") -> HttpResponse:
    """The grid page, or just its form for htmx (after a save), with ``message`` for the message area."""
    context = {
        "grid": form.grid,
        "form": form,
        "may_enter_everything": scorecards_with_role(request.user, Role.EDITOR).exists(),
        "max_back": MAX_WINDOWS_BACK,
        "number_example": number_example(),
    }
    level = "success" if status < 400 else "error"
    if is_htmx(request):
        response = render(request, "measures/entry_form.html", context, status=status)
        return with_message(response, message, level) if message else response
    if message:
        messages.add_message(request, messages.SUCCESS if status < 400 else messages.ERROR, message)
    return render(request, "measures/entry_grid.html", context, status=status)


@login_required
def entry_grid_view(request: HttpRequest) -> HttpResponse:
    """The data-entry grid: the KPIs the user enters values for, over their recent periods."""
    return _render_entry(request, EntryGridForm(_entry_grid_for(request)))


@login_required
@require_POST
def entry_save(request: HttpRequest) -> HttpResponse:
    """Save every changed cell of the grid at once, all or nothing; errors come back next to their cells."""
    user = acting_user(request)
    form = EntryGridForm(_entry_grid_for(request), request.POST)
    if not form.changed:
        return _render_entry(request, form, message=_("Nothing to save: no cell was changed."))
    today = timezone.localdate()
    if form.has_errors:
        form.preview(today)
        return _render_entry(
            request, form, status=400, message=_("Nothing was saved: correct the cells marked in red.")
        )
    try:
        saved = actuals_record_batch(by=user, entries=[entry for _cell, entry in form.entries])
    except BatchError as error:
        form.preview(today)
        form.show_batch_error(error)
        return _render_entry(request, form, status=400, message=error.messages[0])
    message = ngettext("Saved %(count)d value.", "Saved %(count)d values.", len(saved)) % {"count": len(saved)}
    if not is_htmx(request):
        messages.success(request, message)
        query = form.grid.query
        return HttpResponseRedirect(reverse("measures:entry_grid") + (f"?{query}" if query else ""))
    return _render_entry(request, EntryGridForm(_entry_grid_for(request)), message=message)


@login_required
@require_POST
def entry_check(request: HttpRequest) -> HttpResponse:
    """What the cells asked about (``cell``, else every changed one) would score, while values are typed.

    Answers one fragment per cell, which the grid puts under it; a cell typed back to its stored value gets
    its stored score again.
    """
    form = EntryGridForm(_entry_grid_for(request), request.POST)
    form.preview(timezone.localdate())
    cells = form.grid.cells
    asked = [cells[name] for name in request.POST.getlist("cell") if name in cells]
    return render(request, "measures/entry_check.html", {"cells": asked or form.changed})
