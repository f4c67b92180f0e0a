"""Home and scorecard pages: thin views over selectors, permission-checked."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fourfold.accounts.permissions import Action, can, require
from fourfold.engine.model import Span
from fourfold.initiatives.selectors import initiatives_for_scorecard
from fourfold.measures.scoring import parse_view, scorecard_evaluation
from fourfold.measures.selectors import kpis_updated_by
from fourfold.strategy.models import Scorecard
from fourfold.strategy.selectors import scorecard_list_for_user, scorecard_rows, tree_of

SPAN_LABELS = {
    Span.PERIOD: _("This period"),
    Span.YEAR_TO_DATE: _("Year to date"),
    Span.ROLLING_YEAR: _("Rolling year"),
}


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
    """Perspectives → objectives → KPIs with values, targets, scores, statuses and why, for one period."""
    scorecard = get_object_or_404(
        Scorecard.objects.select_related("organisation", "org_unit", "owner", "parent"), pk=scorecard_id
    )
    require(request.user, Action.VIEW, scorecard)
    today = timezone.localdate()
    view_error = ""
    try:
        view = parse_view(scorecard, request.GET.get("period"), request.GET.get("span"), today)
    except ValueError as error:
        view_error = str(error)
        view = parse_view(scorecard, None, None, today)
    cards = tree_of(scorecard)
    evaluation = scorecard_evaluation(scorecard, view, today=today, cards=cards)
    calendar = scorecard.organisation.calendar
    visible_ids = set(scorecard_list_for_user(request.user).values_list("pk", flat=True))
    children = [card for card in cards if card.parent_id == scorecard.pk and card.pk in visible_ids]
    return render(
        request,
        "strategy/scorecard_detail.html",
        {
            "scorecard": scorecard,
            "evaluation": evaluation.result,
            "view": view,
            "view_error": view_error,
            "spans": [(span.value, SPAN_LABELS[span]) for span in Span],
            "previous_period": calendar.previous(view.period),
            "next_period": calendar.next(view.period),
            "rows": scorecard_rows(evaluation),
            "children": children,
            "initiatives": initiatives_for_scorecard(scorecard, today=timezone.localdate()),
            "parent_visible": scorecard.parent_id in visible_ids,
            "can_manage_members": can(request.user, Action.MANAGE_MEMBERS, scorecard),
        },
    )
