"""Home, scorecard, strategy map and objective pages: thin views over selectors, permission-checked."""

from __future__ import annotations

from datetime import date
from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from fourfold.accounts.permissions import Action, can, require
from fourfold.engine.model import View
from fourfold.engine.periods import Frequency
from fourfold.forms import show_validation_error
from fourfold.http import acting_user
from fourfold.initiatives.selectors import initiatives_for_scorecard, initiatives_supporting
from fourfold.measures.scoring import scorecard_evaluation, scorecard_evaluations
from fourfold.measures.selectors import kpis_updated_by
from fourfold.strategy.forms import (
    COMPARISONS,
    VIEW_KINDS,
    MapLayoutForm,
    PeriodViewForm,
    TreeFilterForm,
    view_kind,
)
from fourfold.strategy.models import Objective, Scorecard
from fourfold.strategy.selectors import (
    difference,
    links_of_scorecard,
    objective_detail,
    owners_of,
    scorecard_list_for_user,
    scorecard_page_tree,
    scorecard_rows,
    strategy_map,
    tree_of,
)
from fourfold.strategy.services import objectives_layout_reset, objectives_place_on_map
from fourfold.ui.htmx import is_htmx, with_message


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


def _period_choice(
    request: HttpRequest, scorecard: Scorecard, today: date
) -> tuple[PeriodViewForm, View, dict[str, object]]:
    """The view asked for in the address (``?period=2026-Q1&span=ytd``, or ``&view=quarter``), the form it was
    read with, and what the period form (strategy/period_form.html) shows; what cannot be read falls back to
    its default, with its error next to its field."""
    form = PeriodViewForm(request.GET, scorecard=scorecard, today=today)
    form.is_valid()
    view = form.chosen_view()
    calendar = scorecard.organisation.calendar
    kinds = {key: kind for key, kind in VIEW_KINDS.items() if key != "week"}
    if Frequency.WEEKLY in {view.period.frequency, scorecard.reporting_frequency}:
        kinds = dict(VIEW_KINDS)
    previous_period, next_period = calendar.previous(view.period), calendar.next(view.period)
    return (
        form,
        view,
        {
            "period_form": form,
            "view": view,
            "view_error": " ".join(str(error) for field in ("period", "span") for error in form.errors.get(field, [])),
            "view_query": _view_query(view),
            "view_kinds": [(key, kind.label) for key, kind in kinds.items()],
            "view_kind": view_kind(view),
            "previous_period": previous_period,
            "next_period": next_period,
            "previous_url": _address(request, period=previous_period.key, span=view.span.value),
            "next_url": _address(request, period=next_period.key, span=view.span.value),
        },
    )


def _chosen_view(request: HttpRequest, scorecard: Scorecard, today: date) -> tuple[View, dict[str, object]]:
    """The view asked for in the address and what the period form shows (see :func:`_period_choice`)."""
    _form, view, chosen = _period_choice(request, scorecard, today)
    return view, chosen


def _address(request: HttpRequest, **changes: str) -> str:
    """The query string of this page with ``changes``: every other choice in the address (a comparison,
    filters) kept, the form's own inputs (``view``, ``shown``) resolved into ``period`` and ``span``."""
    query = {key: value for key, value in request.GET.items() if value and key not in {"view", "shown"}}
    query.update(changes)
    return "?" + urlencode({key: value for key, value in query.items() if value})


def _view_query(view: View) -> str:
    """The query string that keeps a view when following a link: ``period=2026-03&span=ytd``."""
    return urlencode({"period": view.period.key, "span": view.span.value})


def _scorecard_for(request: HttpRequest, scorecard_id: int) -> Scorecard:
    scorecard = get_object_or_404(
        Scorecard.objects.select_related("organisation", "org_unit", "owner", "parent"), pk=scorecard_id
    )
    require(request.user, Action.VIEW, scorecard)
    return scorecard


@login_required
def scorecard_detail(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Perspectives → objectives → KPIs with values, targets, scores, statuses, trends and why, for one view,
    compared with another if asked, filtered by status, owner and perspective.

    An htmx request (a filter changed) gets the tree alone, with the links that carry the filters.
    """
    page = scorecard_page_tree(scorecard_id, request.user)
    if page is None:
        raise Http404
    scorecard, cards, visible_ids = page.scorecard, page.cards, page.visible_ids
    require(request.user, Action.VIEW, scorecard)
    today = timezone.localdate()
    period_form, view, chosen = _period_choice(request, scorecard, today)
    compare_view = period_form.compared_view(view)
    evaluation, *compared = scorecard_evaluations(
        scorecard, [view] if compare_view is None else [view, compare_view], today=today, cards=cards
    )
    comparison = compared[0] if compared else None
    filter_form = TreeFilterForm(
        request.GET,
        statuses=evaluation.statuses,
        owners=owners_of(evaluation),
        perspectives=evaluation.result.perspectives,
    )
    filter_form.is_valid()
    filters = filter_form.filters()
    rows = scorecard_rows(evaluation, compare=comparison, filters=filters, cards=cards, visible_ids=visible_ids)
    kpis = list(evaluation.result.iter_kpis())
    context = {
        **chosen,
        "scorecard": scorecard,
        "evaluation": evaluation.result,
        "comparison": None if comparison is None else comparison.result,
        "compare_view": compare_view,
        "comparisons": COMPARISONS,
        "overall_change": difference(evaluation.result.score, comparison.result.score if comparison else None),
        "rows": rows,
        "filter_form": filter_form,
        "filters": filters,
        "kpi_count": len(kpis),
        "kpis_shown": sum(len(objective.kpis) for row in rows if row.shown for objective in row.objectives),
        "any_shown": any(row.shown for row in rows),
        "columns": 9 if compare_view else 8,
        "compare": period_form.cleaned_data.get("compare", ""),
        "no_values": bool(kpis) and all(kpi.actual.value is None for kpi in kpis),
        "clear_filters_url": _address(
            request, period=view.period.key, span=view.span.value, status="", owner="", perspective=""
        ),
        "tree_url": reverse("strategy:scorecard_detail", args=[scorecard.pk]),
    }
    status = 400 if period_form.errors or filter_form.errors else 200
    if is_htmx(request):
        response = render(request, "strategy/scorecard_tree.html", {**context, "oob": True}, status=status)
    else:
        children = [card for card in cards if card.parent_id == scorecard.pk and card.pk in visible_ids]
        context |= {
            "children": children,
            "initiatives": initiatives_for_scorecard(scorecard, today=today),
            "parent_visible": scorecard.parent_id in visible_ids,
            "can_manage_members": can(request.user, Action.MANAGE_MEMBERS, scorecard),
        }
        response = render(request, "strategy/scorecard_detail.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _map_context(request: HttpRequest, scorecard: Scorecard) -> tuple[View, dict[str, object]]:
    """The view asked for, and the context that draws its strategy map with the period form."""
    today = timezone.localdate()
    view, chosen = _chosen_view(request, scorecard, today)
    evaluation = scorecard_evaluation(scorecard, view, today=today)
    return view, {
        **chosen,
        "scorecard": scorecard,
        "evaluation": evaluation.result,
        "map": strategy_map(evaluation, links_of_scorecard(scorecard)),
    }


def _render_map(
    request: HttpRequest, scorecard: Scorecard, *, layout_form: MapLayoutForm | None = None, status: int = 200
) -> HttpResponse:
    _, context = _map_context(request, scorecard)
    can_edit = can(request.user, Action.EDIT_STRUCTURE, scorecard)
    return render(
        request,
        "strategy/strategy_map.html",
        {**context, "can_edit": can_edit, "layout_form": layout_form or MapLayoutForm()},
        status=status,
    )


@login_required
def strategy_map_page(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """The objectives in their perspectives' bands, coloured by status, with cause-and-effect arrows."""
    return _render_map(request, _scorecard_for(request, scorecard_id))


@login_required
def strategy_map_svg(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """The map as an SVG file that stands alone: its own styles, a title, and links back to the objectives."""
    scorecard = _scorecard_for(request, scorecard_id)
    view, context = _map_context(request, scorecard)
    response = render(
        request,
        "strategy/strategy_map.svg",
        {**context, "standalone": True, "link_base": request.build_absolute_uri("/").rstrip("/")},
        content_type="image/svg+xml; charset=utf-8",
    )
    filename = f"{slugify(scorecard.name) or 'scorecard'}-strategy-map-{view.period.key}.svg"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _back_to_map(request: HttpRequest, scorecard: Scorecard) -> HttpResponseRedirect:
    """To the map again, on the period and span the form was sent from."""
    query = urlencode({key: request.GET[key] for key in ("period", "span") if request.GET.get(key)})
    url = reverse("strategy:strategy_map", args=[scorecard.pk])
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


@login_required
@require_POST
def strategy_map_layout(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Save where an editor dragged objectives: one request with every moved objective's place."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    form = MapLayoutForm(request.POST)
    if form.is_valid():
        positions = form.cleaned_data["positions"]
        try:
            objectives_place_on_map(by=acting_user(request), scorecard=scorecard, positions=positions)
        except ValidationError as error:
            show_validation_error(form, error)
        else:
            message = ngettext(
                "Layout saved: %(count)d objective placed.",
                "Layout saved: %(count)d objectives placed.",
                len(positions),
            ) % {"count": len(positions)}
            if is_htmx(request):
                return with_message(
                    render(request, "strategy/map_layout_status.html", {"layout_form": MapLayoutForm()}), message
                )
            messages.success(request, message)
            return _back_to_map(request, scorecard)
    if is_htmx(request):
        return render(request, "strategy/map_layout_status.html", {"layout_form": form}, status=400)
    return _render_map(request, scorecard, layout_form=form, status=400)


@login_required
@require_POST
def strategy_map_reset(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Forget the dragged places: every objective is laid out automatically again."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    objectives_layout_reset(by=acting_user(request), scorecard=scorecard)
    messages.success(request, gettext("Layout reset: the objectives are placed automatically again."))
    return _back_to_map(request, scorecard)


@login_required
def objective_page(request: HttpRequest, objective_id: int) -> HttpResponse:
    """One objective for a period: score, status and why, its KPIs, initiatives, links and alignment."""
    objective = get_object_or_404(
        Objective.objects.select_related(
            "perspective__scorecard__organisation",
            "perspective__scorecard__org_unit",
            "owner",
            "parent__perspective__scorecard",
        ),
        pk=objective_id,
    )
    scorecard = objective.perspective.scorecard
    require(request.user, Action.VIEW, scorecard)
    today = timezone.localdate()
    view, chosen = _chosen_view(request, scorecard, today)
    cards = tree_of(scorecard)
    evaluation = scorecard_evaluation(scorecard, view, today=today, cards=cards)
    visible_ids = set(scorecard_list_for_user(request.user).values_list("pk", flat=True))
    parent = objective.parent
    return render(
        request,
        "strategy/objective_detail.html",
        {
            **chosen,
            "scorecard": scorecard,
            "objective": objective,
            "detail": objective_detail(objective, evaluation, cards, visible_ids),
            "initiatives": initiatives_supporting(objective, today=today),
            "parent_visible": parent is not None and parent.perspective.scorecard_id in visible_ids,
        },
    )
