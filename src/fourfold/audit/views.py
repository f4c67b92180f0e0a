"""History pages: who changed what on a scorecard, including deleted objects."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from fourfold.accounts.permissions import Action, require
from fourfold.audit.selectors import history_for_scorecard
from fourfold.strategy.models import Scorecard


@login_required
def scorecard_history(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """The scorecard's change history, 50 entries a page, for anyone who may view the scorecard."""
    scorecard = get_object_or_404(Scorecard.objects.select_related("organisation"), pk=scorecard_id)
    require(request.user, Action.VIEW, scorecard)
    page = Paginator(history_for_scorecard(scorecard.pk), 50).get_page(request.GET.get("page"))
    return render(request, "audit/scorecard_history.html", {"scorecard": scorecard, "page": page})
