"""Home and scorecard pages: thin views over selectors, permission-checked."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from fourfold.accounts.permissions import Action, can, require
from fourfold.initiatives.selectors import initiatives_for_scorecard
from fourfold.measures.selectors import kpis_updated_by
from fourfold.strategy.models import Scorecard
from fourfold.strategy.selectors import scorecard_list_for_user, scorecard_overview


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The scorecards the user may see, by organisation, and the KPIs they report on."""
    scorecards = list(scorecard_list_for_user(request.user))
    by_organisation = [
        (organisation, list(cards)) for organisation, cards in groupby(scorecards, key=lambda card: card.organisation)
    ]
    return render(
        request,
        "strategy/home.html",
        {"organisations": by_organisation, "my_kpis": kpis_updated_by(request.user)},
    )


@login_required
def scorecard_detail(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Perspectives → objectives → KPIs with latest values and targets."""
    scorecard = get_object_or_404(
        Scorecard.objects.select_related("organisation", "org_unit", "owner", "parent"), pk=scorecard_id
    )
    require(request.user, Action.VIEW, scorecard)
    visible_ids = set(scorecard_list_for_user(request.user).values_list("pk", flat=True))
    children = [
        child for child in scorecard.children.select_related("org_unit").order_by("name") if child.pk in visible_ids
    ]
    return render(
        request,
        "strategy/scorecard_detail.html",
        {
            "scorecard": scorecard,
            "perspectives": scorecard_overview(scorecard, today=timezone.localdate()),
            "children": children,
            "initiatives": initiatives_for_scorecard(scorecard, today=timezone.localdate()),
            "parent_visible": scorecard.parent_id in visible_ids,
            "can_manage_members": can(request.user, Action.MANAGE_MEMBERS, scorecard),
        },
    )
