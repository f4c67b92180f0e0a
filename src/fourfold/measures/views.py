"""KPI page and its two forms: record a value (updaters) and set a target (editors); the data-entry grid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fourfold.accounts.models import Role
from fourfold.accounts.permissions import Action, can, require, scorecards_with_role
from fourfold.audit.selectors import history_for_object
from fourfold.engine.periods import Frequency, Period, PeriodKeyError
from fourfold.http import acting_user
from fourfold.initiatives.selectors import initiatives_supporting
from fourfold.measures.charts import chart_periods, kpi_chart_option
from fourfold.measures.forms import ActualForm, EntryGridForm, KpiCommentForm, KpiForm, TargetForm, number_example
from fourfold.measures.models import Kpi, KpiComment
from fourfold.measures.scoring import Rescored, kpi_history, kpi_rescoring
from fourfold.measures.selectors import (
    EntryGrid,
    actuals_for_kpi,
    computation_of,
    entry_grid,
    target_in_effect,
    value_history_for_kpi,
)
from fourfold.measures.services import (
    BatchError,
    actual_record,
    actuals_record_batch,
    kpi_comment_add,
    kpi_comment_delete,
    kpi_create,
    kpi_delete,
    kpi_target_prepare,
    kpi_target_set,
    kpi_update,
    kpi_updaters_set,
)
from fourfold.strategy.models import Objective
from fourfold.strategy.selectors import visible_scorecard_ids
from fourfold.ui.editing import changes_of, confirm_delete, edit_page, submit
from fourfold.ui.htmx import is_htmx, with_message


def _kpi_for(request: HttpRequest, kpi_id: int) -> Kpi:
    kpi = get_object_or_404(
        Kpi.objects.select_related("scorecard__organisation", "objective__perspective", "owner"), pk=kpi_id
    )
    require(request.user, Action.VIEW, kpi.scorecard)
    return kpi


def _value_periods(kpi: Kpi) -> list[Period]:
    """The periods the KPI has values for, oldest first."""
    calendar = kpi.scorecard.organisation.calendar
    return sorted({calendar.parse(key) for key in kpi.actuals.values_list("period_key", flat=True)})


def _last_ended(kpi: Kpi) -> Period:
    """The KPI's last period that has ended: where a KPI without values of its own is looked at."""
    calendar = kpi.scorecard.organisation.calendar
    return calendar.previous(calendar.period_containing(timezone.localdate(), Frequency(kpi.frequency)))


def _chosen_period(request: HttpRequest, kpi: Kpi, periods: list[Period]) -> tuple[Period | None, str]:
    """The period the page is about (``?period=``), and what is wrong with a typed one.

    Without one, the latest period with a value; a formula KPI, which has none stored, opens on the last
    period that has ended, like a scorecard.
    """
    calendar = kpi.scorecard.organisation.calendar
    key = request.GET.get("period", "")
    if not key:
        if periods:
            return periods[-1], ""
        if kpi.source_kind == Kpi.SourceKind.FORMULA:
            return _last_ended(kpi), ""
        return None, ""
    try:
        return calendar.parse(key, expected=Frequency(kpi.frequency)), ""
    except PeriodKeyError as error:
        return None, str(error)


def _rescoring_periods(kpi: Kpi, periods: list[Period]) -> list[Period]:
    """The past periods a threshold change is previewed on: those with values, else (a formula KPI) the
    chart's periods up to the last one that has ended."""
    return periods or chart_periods(kpi, _last_ended(kpi))


def _rescoring_context(rescored: list[Rescored] | None) -> dict[str, Any]:
    """A rescoring preview for the target form (``None``: none asked for) and how many periods change status."""
    changes = sum(row.status_changes for row in rescored) if rescored else 0
    return {"rescored": rescored, "rescored_changes": changes}


def _comments_context(
    request: HttpRequest, kpi: Kpi, periods: list[Period], form: KpiCommentForm | None = None
) -> dict[str, Any]:
    """The commentary thread, oldest first as a conversation reads, and its form."""
    return {
        "kpi": kpi,
        "comments": list(kpi.comments.select_related("author").order_by("created_at", "pk")),
        "comment_form": form or KpiCommentForm(periods=list(reversed(periods))),
        "can_moderate": can(request.user, Action.EDIT_STRUCTURE, kpi.scorecard),
    }


def _render_kpi(
    request: HttpRequest,
    kpi: Kpi,
    *,
    bound_form: forms.Form | None = None,
    rescored: list[Rescored] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The KPI page; ``bound_form`` is a submitted form shown again with its errors, ``rescored`` the
    preview of a target change."""
    settings = list(kpi.targets.order_by("period_start"))
    actuals = list(actuals_for_kpi(kpi))
    calendar = kpi.scorecard.organisation.calendar
    periods = sorted({calendar.parse(actual.period_key) for actual in actuals})
    today = timezone.localdate()
    selected, period_error = _chosen_period(request, kpi, periods)
    scored = sorted({*periods, selected}) if selected is not None else periods
    results = kpi_history(
        kpi, scored, today=today, visible_ids=visible_scorecard_ids(request.user, kpi.scorecard.organisation_id)
    )
    rows = [
        (actual, target_in_effect(settings, actual.period_start), results.get(actual.period_key)) for actual in actuals
    ]
    comment_form = bound_form if isinstance(bound_form, KpiCommentForm) else None
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
            "previous_period": None if selected is None else calendar.previous(selected),
            "next_period": None if selected is None else calendar.next(selected),
            "chart_url": None
            if selected is None
            else f"{reverse('measures:kpi_chart', args=[kpi.pk])}?period={selected.key}",
            "statuses": kpi.scorecard.organisation.status_scheme().levels,
            "period_error": period_error,
            "rows": rows,
            "target_settings": list(reversed(settings)),
            "revisions": value_history_for_kpi(kpi),
            "history": history_for_object(kpi)[:50],
            "can_record": can(request.user, Action.RECORD_VALUE, kpi),
            "can_set_targets": can(request.user, Action.SET_TARGETS, kpi),
            "can_edit_kpi": can(request.user, Action.EDIT_STRUCTURE, kpi.scorecard),
            "actual_form": bound_form if isinstance(bound_form, ActualForm) else ActualForm(),
            "target_form": bound_form if isinstance(bound_form, TargetForm) else TargetForm(),
            **_rescoring_context(rescored),
            **_comments_context(request, kpi, periods, comment_form),
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
    if submit(form, save) is not None:
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


@login_required
def kpi_chart(request: HttpRequest, kpi_id: int) -> JsonResponse:
    """The chart's ECharts option, fetched by charts.js when the chart comes into view: the periods up to
    ``?period=`` (default: as the page chooses), with each period's status bands."""
    kpi = _kpi_for(request, kpi_id)
    end, error = _chosen_period(request, kpi, _value_periods(kpi))
    if error:
        return JsonResponse({"error": error}, status=400)
    return JsonResponse(kpi_chart_option(kpi, end or _last_ended(kpi), today=timezone.localdate()))


@login_required
@require_POST
def kpi_target_preview(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """How the target form's setting would rescore the KPI's past periods, before it is saved.

    The setting is checked by the service as a save would check it, then scored by the engine beside the
    stored settings; nothing is written. htmx gets the form with the preview under it; without JavaScript
    the whole page comes back with both.
    """
    kpi = _kpi_for(request, kpi_id)
    require(request.user, Action.SET_TARGETS, kpi)
    form = TargetForm(request.POST)
    rescored = None
    proposed = submit(form, lambda data: kpi_target_prepare(kpi=kpi, **data))
    if proposed is not None:
        rescored = kpi_rescoring(
            kpi, proposed, _rescoring_periods(kpi, _value_periods(kpi)), today=timezone.localdate()
        )
    status = 400 if form.errors else 200
    if not is_htmx(request):
        return _render_kpi(request, kpi, bound_form=form, rescored=rescored, status=status)
    context = {"kpi": kpi, "target_form": form, **_rescoring_context(rescored)}
    return render(request, "measures/kpi_target_form.html", context, status=status)


def _comments_answer(request: HttpRequest, kpi: Kpi, message: str, form: KpiCommentForm | None = None) -> HttpResponse:
    """The thread again: its fragment for htmx (with ``message``), else back to the page's thread."""
    if is_htmx(request):
        context = _comments_context(request, kpi, _value_periods(kpi), form)
        response = render(request, "measures/kpi_comments.html", context, status=400 if form else 200)
        return with_message(response, message, "error" if form else "success")
    if form is not None:
        return _render_kpi(request, kpi, bound_form=form, status=400)
    messages.success(request, message)
    return HttpResponseRedirect(reverse("measures:kpi_detail", args=[kpi.pk]) + "#comments")


@login_required
@require_POST
def kpi_comment_add_view(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """Add to the KPI's commentary: anyone who may see the KPI may, viewers included.

    In a scorecard review the people who can say why a number moved (a team lead, a programme manager) are
    often not those who enter it, and the thread is where that explanation should stay, next to the number;
    so commenting needs only the view permission, as the service decides (:func:`kpi_comment_add`).
    """
    kpi = _kpi_for(request, kpi_id)
    user = acting_user(request)
    form = KpiCommentForm(request.POST, periods=_value_periods(kpi))
    if submit(form, lambda data: kpi_comment_add(by=user, kpi=kpi, **data)) is not None:
        return _comments_answer(request, kpi, _("Comment added."))
    return _comments_answer(request, kpi, _("The comment was not added: see the form."), form)


@login_required
@require_POST
def kpi_comment_delete_view(request: HttpRequest, kpi_id: int, comment_id: int) -> HttpResponse:
    """Remove a comment: its author, or an editor of the scorecard (the service refuses anyone else)."""
    kpi = _kpi_for(request, kpi_id)
    comment = get_object_or_404(KpiComment, pk=comment_id, kpi=kpi)
    kpi_comment_delete(by=acting_user(request), comment=comment)
    return _comments_answer(request, kpi, _("Comment removed."))


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


# Editing KPIs: editors define them; a new KPI gets its first target in the same save, so it is scored.


@login_required
def kpi_create_view(request: HttpRequest, objective_id: int) -> HttpResponse:
    """A new KPI for an objective (another of the scorecard's may be chosen), with its first target."""
    objective = get_object_or_404(
        Objective.objects.select_related("perspective__scorecard__organisation"), pk=objective_id
    )
    scorecard = objective.perspective.scorecard
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    require(request.user, Action.SET_TARGETS, scorecard)
    form = KpiForm(
        request.POST or None, scorecard=scorecard, initial={"objective": objective.pk}, today=timezone.localdate()
    )
    if request.method == "POST":
        user = acting_user(request)

        def save(_data: object) -> Kpi:
            # One unit of work: a refused target leaves no KPI behind, and the form keeps what was typed.
            with transaction.atomic():
                kpi = kpi_create(by=user, **form.definition())
                kpi_updaters_set(by=user, kpi=kpi, users=form.cleaned_data["updaters"])
                kpi_target_set(by=user, kpi=kpi, **form.initial_target())
            return kpi

        created = submit(form, save)
        if created is not None:
            messages.success(request, _("KPI “%(name)s” added, with its first target.") % {"name": created.name})
            return HttpResponseRedirect(reverse("measures:kpi_detail", args=[created.pk]))
    return edit_page(
        request,
        form=form,
        heading=_("New KPI"),
        cancel_url=reverse("strategy:objective_detail", args=[objective.pk]),
        context={
            "scorecard": scorecard,
            "crumbs": [(reverse("strategy:objective_detail", args=[objective.pk]), str(objective))],
            "submit_label": _("Add KPI"),
        },
    )


def _kpi_to_edit(request: HttpRequest, kpi_id: int) -> Kpi:
    kpi = get_object_or_404(Kpi.objects.select_related("scorecard__organisation", "objective"), pk=kpi_id)
    require(request.user, Action.EDIT_STRUCTURE, kpi.scorecard)
    return kpi


@login_required
def kpi_edit(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """Change a KPI's definition and who reports it; its targets are set on its own page."""
    kpi = _kpi_to_edit(request, kpi_id)
    form = KpiForm(request.POST or None, scorecard=kpi.scorecard, kpi=kpi)
    url = reverse("measures:kpi_detail", args=[kpi.pk])
    if request.method == "POST":
        user = acting_user(request)

        def save(data: dict[str, Any]) -> Kpi:
            with transaction.atomic():
                kpi_update(by=user, kpi=kpi, changes=changes_of(form, leave_out={"updaters"}))
                if "updaters" in form.changed_data:
                    kpi_updaters_set(by=user, kpi=kpi, users=data["updaters"], groups=list(kpi.updater_groups.all()))
            return kpi

        if submit(form, save) is not None:
            messages.success(request, _("KPI saved."))
            return HttpResponseRedirect(url)
    return edit_page(
        request,
        form=form,
        heading=_("Edit KPI"),
        cancel_url=url,
        context={
            "scorecard": kpi.scorecard,
            "crumbs": [(url, kpi.name)],
            "submit_label": _("Save KPI"),
            "delete_url": reverse("measures:kpi_delete", args=[kpi.pk]),
            "delete_label": _("Delete KPI"),
        },
    )


@login_required
def kpi_delete_view(request: HttpRequest, kpi_id: int) -> HttpResponse:
    """Delete a KPI with its targets and values, after asking; refused while a formula uses it."""
    kpi = _kpi_to_edit(request, kpi_id)
    user = acting_user(request)
    return confirm_delete(
        request,
        scorecard=kpi.scorecard,
        target=kpi,
        delete=lambda: kpi_delete(by=user, kpi=kpi),
        consequences=_("Its values, their history and its targets go too."),
        done_url=reverse("strategy:objective_detail", args=[kpi.objective_id]),
        cancel_url=reverse("measures:kpi_detail", args=[kpi.pk]),
    )
