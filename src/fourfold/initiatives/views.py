"""The initiative page: a thin view over selectors, permission-checked on the initiative's scorecard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from fourfold.accounts.permissions import Action, require
from fourfold.initiatives.models import Initiative
from fourfold.initiatives.selectors import (
    budget_of,
    initiative_for_page,
    initiative_timeline,
    kpis_supported,
    objectives_supported,
)


@login_required
def initiative_detail(request: HttpRequest, initiative_id: int) -> HttpResponse:
    """Budget planned against spent, milestones on a timeline, progress, status, and what it supports."""
    try:
        initiative = initiative_for_page(initiative_id)
    except Initiative.DoesNotExist:
        raise Http404 from None
    require(request.user, Action.VIEW, initiative.scorecard)
    today = timezone.localdate()
    return render(
        request,
        "initiatives/initiative_detail.html",
        {
            "initiative": initiative,
            "scorecard": initiative.scorecard,
            "timeline": initiative_timeline(initiative, today=today),
            "budget": budget_of(initiative),
            "objectives": objectives_supported(initiative),
            "kpis": kpis_supported(initiative),
        },
    )
