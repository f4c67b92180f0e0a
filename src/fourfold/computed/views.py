"""Pages of computed KPIs: an organisation's data sources and runs, and a run with what it wrote and why."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fourfold.accounts.permissions import Action, can, require, scorecards_visible_to
from fourfold.computed.models import ComputationRun
from fourfold.computed.selectors import (
    bindings_of_organisation,
    lineages_of_run,
    runs_of_organisation,
    sources_with_latest_runs,
)
from fourfold.computed.services import schedule_computation
from fourfold.strategy.models import Organisation


def _require_member(request: HttpRequest, organisation: Organisation) -> None:
    """Runs concern a whole organisation: anyone with a role on one of its scorecards may read them."""
    if can(request.user, Action.MANAGE_ORGANISATION, organisation):
        return
    if not scorecards_visible_to(request.user).filter(organisation=organisation).exists():
        raise PermissionDenied(
            _("You have no role on any scorecard of “%(organisation)s”.") % {"organisation": organisation}
        )


@login_required
def organisation_data(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the organisation's computed KPIs come from, which KPI is which metric, and the latest runs."""
    organisation = get_object_or_404(Organisation, slug=slug)
    _require_member(request, organisation)
    visible = set(scorecards_visible_to(request.user).filter(organisation=organisation).values_list("pk", flat=True))
    return render(
        request,
        "computed/organisation_data.html",
        {
            "organisation": organisation,
            "sources": sources_with_latest_runs(organisation_slug=organisation.slug),
            "bindings": [
                binding for binding in bindings_of_organisation(organisation) if binding.kpi.scorecard_id in visible
            ],
            "runs": runs_of_organisation(organisation.pk, limit=20),
            "can_compute": can(request.user, Action.MANAGE_ORGANISATION, organisation),
        },
    )


@login_required
@require_POST
def organisation_compute(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a computation of what changed since the last run; `fourfold worker` (or `serve --worker`) runs it."""
    organisation = get_object_or_404(Organisation, slug=slug)
    require(request.user, Action.MANAGE_ORGANISATION, organisation)
    changed_only = request.POST.get("everything") != "1"
    schedule_computation(organisation=organisation, changed_only=changed_only)
    messages.success(request, _("The computation is queued; its run appears below when the worker has done it."))
    return HttpResponseRedirect(reverse("computed:organisation_data", args=[organisation.slug]))


@login_required
def run_detail(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """One run: what it read, which definitions it used, what it wrote, which periods had no value and why."""
    run = get_object_or_404(ComputationRun.objects.select_related("organisation", "source", "requested_by"), pk=run_id)
    _require_member(request, run.organisation)
    visible = scorecards_visible_to(request.user).filter(organisation=run.organisation)
    return render(
        request,
        "computed/run_detail.html",
        {"run": run, "lineages": lineages_of_run(run, scorecards=visible)},
    )
