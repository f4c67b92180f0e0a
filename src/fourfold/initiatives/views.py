"""The initiative page, and the pages that create and edit initiatives and their milestones: thin views over
selectors and services, permission-checked on the initiative's scorecard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fourfold.accounts.permissions import Action, can, require
from fourfold.http import acting_user
from fourfold.initiatives.forms import InitiativeForm, MilestoneForm
from fourfold.initiatives.models import Initiative, Milestone
from fourfold.initiatives.selectors import (
    budget_of,
    initiative_for_page,
    initiative_timeline,
    kpis_supported,
    objectives_supported,
)
from fourfold.initiatives.services import (
    initiative_create,
    initiative_delete,
    initiative_update,
    milestone_complete,
    milestone_create,
)
from fourfold.strategy.models import Scorecard
from fourfold.ui.editing import changes_of, confirm_delete, edit_page, submit


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
            "can_edit": can(request.user, Action.EDIT_STRUCTURE, initiative.scorecard),
            # Owners report progress without editing the plan: they mark milestones done from here.
            "can_report_progress": can(request.user, Action.UPDATE_INITIATIVE_PROGRESS, initiative),
        },
    )


def _initiative_to_edit(request: HttpRequest, initiative_id: int) -> Initiative:
    initiative = get_object_or_404(
        Initiative.objects.select_related("scorecard__organisation", "owner"), pk=initiative_id
    )
    require(request.user, Action.EDIT_STRUCTURE, initiative.scorecard)
    return initiative


def _initiative_url(initiative: Initiative) -> str:
    return reverse("initiatives:initiative_detail", args=[initiative.pk])


@login_required
def initiative_create_view(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Start tracking an initiative on a scorecard: its plan, budget and what it supports."""
    scorecard = get_object_or_404(Scorecard.objects.select_related("organisation"), pk=scorecard_id)
    require(request.user, Action.EDIT_STRUCTURE, scorecard)
    form = InitiativeForm(request.POST or None, scorecard=scorecard)
    if request.method == "POST":
        user = acting_user(request)
        created = submit(
            form,
            lambda data: initiative_create(
                by=user, scorecard=scorecard, objectives=data["objectives"], kpis=data["kpis"], **form.plan()
            ),
        )
        if created is not None:
            messages.success(request, _("Initiative “%(name)s” added; add its milestones below.") % {"name": created})
            return HttpResponseRedirect(reverse("initiatives:initiative_edit", args=[created.pk]))
    return edit_page(
        request,
        form=form,
        heading=_("New initiative"),
        cancel_url=reverse("strategy:scorecard_detail", args=[scorecard.pk]),
        context={"scorecard": scorecard, "submit_label": _("Add initiative")},
    )


def _render_initiative_form(
    request: HttpRequest, initiative: Initiative, form: InitiativeForm, milestone_form: MilestoneForm
) -> HttpResponse:
    response = edit_page(
        request,
        form=form,
        heading=_("Edit initiative"),
        cancel_url=_initiative_url(initiative),
        template="initiatives/initiative_form.html",
        context={
            "scorecard": initiative.scorecard,
            "initiative": initiative,
            "crumbs": [(_initiative_url(initiative), initiative.name)],
            "milestones": list(initiative.milestones.all()),
            "milestone_form": milestone_form,
            "today": timezone.localdate(),
            "submit_label": _("Save initiative"),
            "delete_url": reverse("initiatives:initiative_delete", args=[initiative.pk]),
            "delete_label": _("Delete initiative"),
        },
    )
    if milestone_form.errors:
        response.status_code = 400
    return response


@login_required
def initiative_edit(request: HttpRequest, initiative_id: int) -> HttpResponse:
    """Change an initiative's plan and what it supports; its milestones are listed and added below."""
    initiative = _initiative_to_edit(request, initiative_id)
    form = InitiativeForm(request.POST or None, scorecard=initiative.scorecard, initiative=initiative)
    if request.method == "POST":
        user = acting_user(request)

        def save(data: dict[str, Any]) -> Initiative:
            supported = {"objectives", "kpis"} & set(form.changed_data)
            return initiative_update(
                by=user,
                initiative=initiative,
                changes=changes_of(form, leave_out={"objectives", "kpis"}),
                objectives=data["objectives"] if supported else None,
                kpis=data["kpis"] if supported else None,
            )

        if submit(form, save) is not None:
            messages.success(request, _("Initiative saved."))
            return HttpResponseRedirect(_initiative_url(initiative))
    return _render_initiative_form(request, initiative, form, MilestoneForm())


@login_required
def initiative_delete_view(request: HttpRequest, initiative_id: int) -> HttpResponse:
    """Delete an initiative and its milestones, after asking."""
    initiative = _initiative_to_edit(request, initiative_id)
    user = acting_user(request)
    return confirm_delete(
        request,
        scorecard=initiative.scorecard,
        target=initiative,
        delete=lambda: initiative_delete(by=user, initiative=initiative),
        consequences=_("Its milestones go too; the objectives and KPIs it supports stay."),
        done_url=reverse("strategy:scorecard_detail", args=[initiative.scorecard_id]),
        cancel_url=_initiative_url(initiative),
    )


@login_required
@require_POST
def milestone_add(request: HttpRequest, initiative_id: int) -> HttpResponse:
    """Add a dated step; a refused one comes back on the edit page with what was typed."""
    initiative = _initiative_to_edit(request, initiative_id)
    milestone_form = MilestoneForm(request.POST)
    user = acting_user(request)
    created = submit(milestone_form, lambda data: milestone_create(by=user, initiative=initiative, **data))
    if created is not None:
        messages.success(request, _("Milestone “%(name)s” added.") % {"name": created})
        return HttpResponseRedirect(reverse("initiatives:initiative_edit", args=[initiative.pk]))
    form = InitiativeForm(scorecard=initiative.scorecard, initiative=initiative)
    return _render_initiative_form(request, initiative, form, milestone_form)


@login_required
@require_POST
def milestone_complete_view(request: HttpRequest, milestone_id: int) -> HttpResponse:
    """Mark a milestone done today, or open it again (``reopen``); owners of the initiative may too.

    Back to the page the button was on: the initiative page says so (``from=page``); from the edit page,
    or for those who may not edit, as before (editors to the edit page, owners to the initiative page).
    """
    milestone = get_object_or_404(
        Milestone.objects.select_related("initiative__scorecard__organisation"), pk=milestone_id
    )
    initiative = milestone.initiative
    require(request.user, Action.UPDATE_INITIATIVE_PROGRESS, initiative)
    reopen = request.POST.get("reopen") == "1"
    milestone_complete(
        by=acting_user(request), milestone=milestone, completed_on=None if reopen else timezone.localdate()
    )
    message = _("Milestone “%(name)s” reopened.") if reopen else _("Milestone “%(name)s” done.")
    messages.success(request, message % {"name": milestone})
    if request.POST.get("from") != "page" and can(request.user, Action.EDIT_STRUCTURE, initiative.scorecard):
        return HttpResponseRedirect(reverse("initiatives:initiative_edit", args=[initiative.pk]))
    return HttpResponseRedirect(_initiative_url(initiative) + "#milestones")
