"""Home, scorecard, strategy map and objective pages: thin views over selectors, permission-checked."""

from __future__ import annotations

from datetime import date
from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
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
    ObjectiveForm,
    ObjectiveLinkForm,
    PeriodViewForm,
    PerspectiveForm,
    ScorecardForm,
    TreeFilterForm,
    view_kind,
)
from fourfold.strategy.models import Objective, ObjectiveLink, Organisation, Perspective, Scorecard
from fourfold.strategy.selectors import (
    difference,
    home_for_user,
    links_of_scorecard,
    objective_detail,
    organisations_administered_by,
    owners_of,
    scorecard_list_for_user,
    scorecard_page_tree,
    scorecard_rows,
    strategy_map,
    tree_of,
    visible_scorecard_ids,
)
from fourfold.strategy.services import (
    objective_create,
    objective_delete,
    objective_link_create,
    objective_link_delete,
    objective_update,
    objectives_layout_reset,
    objectives_place_on_map,
    perspective_create,
    perspective_delete,
    perspective_update,
    perspectives_reorder,
    scorecard_create,
    scorecard_delete,
    scorecard_update,
)
from fourfold.ui.editing import changes_of, confirm_delete, edit_page, submit
from fourfold.ui.htmx import is_htmx, with_message


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs the user: KPIs to update, their red KPIs, their late initiatives, changes on the scorecards
    they follow; then the scorecards they may see, by organisation. Everything shown comes from scorecards
    they may see (the selectors filter by role), so no further check is needed here.

    Each organisation says whether the user may create scorecards in it (its admins may: "New scorecard"),
    and an organisation they administer is listed even before it has a scorecard, so its first can be made.
    """
    scorecards = list(scorecard_list_for_user(request.user))
    administered = {organisation.pk: organisation for organisation in organisations_administered_by(request.user)}
    cards_of: dict[int, list[Scorecard]] = {pk: [] for pk in administered}
    listed = dict(administered)
    for organisation, cards in groupby(scorecards, key=lambda card: card.organisation):
        listed.setdefault(organisation.pk, organisation)
        cards_of.setdefault(organisation.pk, []).extend(cards)
    by_organisation = [
        (organisation, cards_of[organisation.pk], organisation.pk in administered)
        for organisation in sorted(listed.values(), key=lambda organisation: organisation.name)
    ]
    return render(
        request,
        "strategy/home.html",
        {
            "organisations": by_organisation,
            "home": home_for_user(request.user, today=timezone.localdate()),
            "my_kpis": kpis_updated_by(request.user),
        },
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
        scorecard,
        [view] if compare_view is None else [view, compare_view],
        today=today,
        cards=cards,
        visible_ids=visible_ids,
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
        "can_edit": can(request.user, Action.EDIT_STRUCTURE, scorecard),
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
            "can_manage_scorecard": can(request.user, Action.MANAGE_SCORECARD, scorecard),
        }
        response = render(request, "strategy/scorecard_detail.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _map_context(request: HttpRequest, scorecard: Scorecard) -> tuple[View, dict[str, object]]:
    """The view asked for, and the context that draws its strategy map with the period form."""
    today = timezone.localdate()
    view, chosen = _chosen_view(request, scorecard, today)
    visible_ids = visible_scorecard_ids(request.user, scorecard.organisation_id)
    evaluation = scorecard_evaluation(scorecard, view, today=today, visible_ids=visible_ids)
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
    visible_ids = visible_scorecard_ids(request.user, scorecard.organisation_id)
    evaluation = scorecard_evaluation(scorecard, view, today=today, cards=cards, visible_ids=visible_ids)
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
            "can_edit": can(request.user, Action.EDIT_STRUCTURE, scorecard),
        },
    )


# Editing: scorecards, perspectives, objectives and cause-and-effect links. Every view asks for the action
# the service will ask for, so a refusal is a 403 before any form is shown, and the service checks again.


def _id_in_address(request: HttpRequest, name: str) -> int | None:
    """An id passed in the address (``?parent=12``) to pre-fill a form; anything else is no id."""
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _objective_for(request: HttpRequest, objective_id: int) -> Objective:
    objective = get_object_or_404(
        Objective.objects.select_related("perspective__scorecard__organisation", "owner"), pk=objective_id
    )
    require(request.user, Action.EDIT_STRUCTURE, objective.perspective.scorecard)
    return objective


def _scorecard_url(scorecard: Scorecard) -> str:
    return reverse("strategy:scorecard_detail", args=[scorecard.pk])


def _saved(request: HttpRequest, message: str, url: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return HttpResponseRedirect(url)


@login_required
def scorecard_create_view(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """A new scorecard with the four classic perspectives; ``?parent=`` makes it cascade from that one."""
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    require(request.user, Action.MANAGE_ORGANISATION, organisation)
    parent = Scorecard.objects.filter(organisation=organisation, pk=_id_in_address(request, "parent") or 0).first()
    initial = {} if parent is None else {"parent": parent.pk, "org_unit": parent.org_unit_id}
    form = ScorecardForm(request.POST or None, organisation=organisation, initial=initial)
    if request.method == "POST":
        user = acting_user(request)
        created = submit(form, lambda data: scorecard_create(by=user, **data))
        if created is not None:
            return _saved(request, gettext("Scorecard created."), _scorecard_url(created))
    return edit_page(
        request,
        form=form,
        heading=gettext("New scorecard"),
        cancel_url=reverse("strategy:home") if parent is None else _scorecard_url(parent),
        context={"scorecard": parent, "submit_label": gettext("Create scorecard")},
    )


@login_required
def scorecard_edit(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """A scorecard's settings (its admins); moving it in the organisation needs an organisation admin."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.MANAGE_SCORECARD, scorecard)
    can_move = can(request.user, Action.MANAGE_ORGANISATION, scorecard.organisation)
    form = ScorecardForm(
        request.POST or None, organisation=scorecard.organisation, scorecard=scorecard, can_move=can_move
    )
    if request.method == "POST":
        user = acting_user(request)
        saved = submit(form, lambda _data: scorecard_update(by=user, scorecard=scorecard, changes=changes_of(form)))
        if saved is not None:
            return _saved(request, gettext("Scorecard saved."), _scorecard_url(scorecard))
    return edit_page(
        request,
        form=form,
        heading=gettext("Edit scorecard"),
        cancel_url=_scorecard_url(scorecard),
        context={
            "scorecard": scorecard,
            "submit_label": gettext("Save scorecard"),
            "delete_url": reverse("strategy:scorecard_delete", args=[scorecard.pk]),
            "delete_label": gettext("Delete scorecard"),
            # Creating scorecards is an organisation admin's; they start cascaded ones from here.
            "more_actions": [
                (
                    reverse("strategy:scorecard_create", args=[scorecard.organisation_id]) + f"?parent={scorecard.pk}",
                    gettext("New cascaded scorecard"),
                )
            ]
            if can_move
            else [],
        },
    )


@login_required
def scorecard_delete_view(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Delete a scorecard with everything on it, after asking."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.MANAGE_SCORECARD, scorecard)
    user = acting_user(request)
    return confirm_delete(
        request,
        scorecard=scorecard,
        target=scorecard,
        delete=lambda: scorecard_delete(by=user, scorecard=scorecard),
        consequences=gettext(
            "Its perspectives, objectives, KPIs with their values and targets, links and initiatives go too."
        ),
        done_url=reverse("strategy:home"),
        cancel_url=_scorecard_url(scorecard),
    )


@login_required
def perspectives_page(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """The scorecard's perspectives in order: move, rename or delete each, and add one at the bottom."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    form = PerspectiveForm(request.POST or None)
    if request.method == "POST":
        user = acting_user(request)
        created = submit(form, lambda data: perspective_create(by=user, scorecard=scorecard, **data))
        if created is not None:
            url = reverse("strategy:perspectives", args=[scorecard.pk])
            return _saved(request, gettext("Perspective “%(name)s” added.") % {"name": created.name}, url)
    return edit_page(
        request,
        form=form,
        heading=gettext("Perspectives"),
        cancel_url=_scorecard_url(scorecard),
        template="strategy/perspectives_form.html",
        context={
            "scorecard": scorecard,
            "perspectives": list(scorecard.perspectives.annotate(objective_count=Count("objectives"))),
            "submit_label": gettext("Add perspective"),
            "lead": gettext("The lenses the scorecard is read through, top to bottom on the page and the map."),
        },
    )


@login_required
@require_POST
def perspective_move(request: HttpRequest, perspective_id: int) -> HttpResponse:
    """Move a perspective one place up or down (``direction``), keeping the others in their order."""
    perspective = get_object_or_404(Perspective.objects.select_related("scorecard"), pk=perspective_id)
    scorecard = perspective.scorecard
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    order = list(scorecard.perspectives.values_list("pk", flat=True))
    index = order.index(perspective.pk)
    swap_with = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= swap_with < len(order):
        order[index], order[swap_with] = order[swap_with], order[index]
        perspectives_reorder(by=acting_user(request), scorecard=scorecard, ordered_ids=order)
    url = reverse("strategy:perspectives", args=[scorecard.pk])
    return _saved(request, gettext("Perspective “%(name)s” moved.") % {"name": perspective.name}, url)


@login_required
def perspective_edit(request: HttpRequest, perspective_id: int) -> HttpResponse:
    """Rename, re-weight or re-describe a perspective."""
    perspective = get_object_or_404(Perspective.objects.select_related("scorecard__organisation"), pk=perspective_id)
    scorecard = perspective.scorecard
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    form = PerspectiveForm.for_perspective(perspective, request.POST or None)
    back = reverse("strategy:perspectives", args=[scorecard.pk])
    if request.method == "POST":
        user = acting_user(request)
        if submit(form, lambda _data: perspective_update(by=user, perspective=perspective, changes=changes_of(form))):
            return _saved(request, gettext("Perspective saved."), back)
    return edit_page(
        request,
        form=form,
        heading=gettext("Edit perspective"),
        cancel_url=back,
        context={
            "scorecard": scorecard,
            "crumbs": [(back, gettext("Perspectives"))],
            "submit_label": gettext("Save perspective"),
            "delete_url": reverse("strategy:perspective_delete", args=[perspective.pk]),
            "delete_label": gettext("Delete perspective"),
        },
    )


@login_required
def perspective_delete_view(request: HttpRequest, perspective_id: int) -> HttpResponse:
    """Delete a perspective with its objectives and their KPIs, after asking."""
    perspective = get_object_or_404(Perspective.objects.select_related("scorecard__organisation"), pk=perspective_id)
    scorecard = perspective.scorecard
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    user = acting_user(request)
    back = reverse("strategy:perspectives", args=[scorecard.pk])
    return confirm_delete(
        request,
        scorecard=scorecard,
        target=perspective,
        delete=lambda: perspective_delete(by=user, perspective=perspective),
        consequences=gettext("Its objectives and their KPIs, with values and targets, go too."),
        done_url=back,
        cancel_url=back,
    )


@login_required
def objective_create_view(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """A new objective, in the perspective given as ``?perspective=`` (or chosen on the form)."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    form = ObjectiveForm(
        request.POST or None, scorecard=scorecard, initial={"perspective": _id_in_address(request, "perspective")}
    )
    if request.method == "POST":
        user = acting_user(request)
        created = submit(form, lambda data: objective_create(by=user, **data))
        if created is not None:
            url = reverse("strategy:objective_detail", args=[created.pk])
            return _saved(request, gettext("Objective “%(name)s” added.") % {"name": created}, url)
    return edit_page(
        request,
        form=form,
        heading=gettext("New objective"),
        cancel_url=_scorecard_url(scorecard),
        context={"scorecard": scorecard, "submit_label": gettext("Add objective")},
    )


@login_required
def objective_edit(request: HttpRequest, objective_id: int) -> HttpResponse:
    """Change an objective: name, code, owner, weight, perspective, description, alignment."""
    objective = _objective_for(request, objective_id)
    scorecard = objective.perspective.scorecard
    form = ObjectiveForm(request.POST or None, scorecard=scorecard, objective=objective)
    url = reverse("strategy:objective_detail", args=[objective.pk])
    if request.method == "POST":
        user = acting_user(request)
        if submit(form, lambda _data: objective_update(by=user, objective=objective, changes=changes_of(form))):
            return _saved(request, gettext("Objective saved."), url)
    return edit_page(
        request,
        form=form,
        heading=gettext("Edit objective"),
        cancel_url=url,
        context={
            "scorecard": scorecard,
            "crumbs": [(url, str(objective))],
            "submit_label": gettext("Save objective"),
            "delete_url": reverse("strategy:objective_delete", args=[objective.pk]),
            "delete_label": gettext("Delete objective"),
        },
    )


@login_required
def objective_delete_view(request: HttpRequest, objective_id: int) -> HttpResponse:
    """Delete an objective with its KPIs and links, after asking."""
    objective = _objective_for(request, objective_id)
    scorecard = objective.perspective.scorecard
    user = acting_user(request)
    return confirm_delete(
        request,
        scorecard=scorecard,
        target=objective,
        delete=lambda: objective_delete(by=user, objective=objective),
        consequences=gettext("Its KPIs, with their values and targets, and its cause-and-effect links go too."),
        done_url=_scorecard_url(scorecard),
        cancel_url=reverse("strategy:objective_detail", args=[objective.pk]),
    )


@login_required
def objective_link_create_view(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Draw a cause-and-effect arrow; from an objective's page (``?cause=``) it starts there and goes back."""
    scorecard = _scorecard_for(request, scorecard_id)
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    cause_id = _id_in_address(request, "cause")
    cause = (
        None if cause_id is None else Objective.objects.filter(perspective__scorecard=scorecard, pk=cause_id).first()
    )
    form = ObjectiveLinkForm(request.POST or None, scorecard=scorecard, initial={"cause": cause and cause.pk})
    back = (
        reverse("strategy:strategy_map", args=[scorecard.pk])
        if cause is None
        else reverse("strategy:objective_detail", args=[cause.pk])
    )
    if request.method == "POST":
        user = acting_user(request)
        if submit(form, lambda data: objective_link_create(by=user, **data)):
            return _saved(request, gettext("Cause-and-effect link added."), back)
    return edit_page(
        request,
        form=form,
        heading=gettext("New cause-and-effect link"),
        cancel_url=back,
        context={
            "scorecard": scorecard,
            "submit_label": gettext("Add link"),
            "lead": gettext("An arrow on the strategy map: improving the cause is believed to move the effect."),
        },
    )


@login_required
def objective_link_delete_view(request: HttpRequest, link_id: int) -> HttpResponse:
    """Remove a cause-and-effect arrow, after asking."""
    link = get_object_or_404(
        ObjectiveLink.objects.select_related("cause__perspective__scorecard__organisation", "effect"), pk=link_id
    )
    scorecard = link.cause.perspective.scorecard
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    user = acting_user(request)
    back = reverse("strategy:objective_detail", args=[link.cause_id])
    return confirm_delete(
        request,
        scorecard=scorecard,
        target=link,
        delete=lambda: objective_link_delete(by=user, link=link),
        consequences="",
        done_url=back,
        cancel_url=back,
    )
