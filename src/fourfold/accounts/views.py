"""Membership pages and the refusal page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fourfold.accounts.forms import MemberForm
from fourfold.accounts.models import Role, ScorecardMembership
from fourfold.accounts.permissions import Action, can, require
from fourfold.accounts.selectors import scorecard_members as members_of
from fourfold.accounts.services import scorecard_member_remove, scorecard_member_set
from fourfold.forms import show_validation_error
from fourfold.http import acting_user
from fourfold.strategy.models import Scorecard


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """HTTP 403 that says why: which role was needed and which the user has."""
    message = str(exception) if exception and str(exception) else _("You do not have permission to do this.")
    return render(request, "403.html", {"message": message}, status=403)


@login_required
def scorecard_members(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """List a scorecard's members; admins add people or groups and change roles."""
    scorecard = get_object_or_404(Scorecard.objects.select_related("organisation"), pk=scorecard_id)
    require(request.user, Action.VIEW, scorecard)
    form = MemberForm(request.POST or None, organisation=scorecard.organisation)
    if request.method == "POST":
        require(request.user, Action.MANAGE_MEMBERS, scorecard)
        if form.is_valid():
            try:
                scorecard_member_set(
                    by=acting_user(request),
                    scorecard=scorecard,
                    role=Role(form.cleaned_data["role"]),
                    user=form.cleaned_data["user"],
                    group=form.cleaned_data["group"],
                )
            except ValidationError as error:
                show_validation_error(form, error)
            else:
                messages.success(request, _("Role saved."))
                return HttpResponseRedirect(reverse("accounts:scorecard_members", args=[scorecard.pk]))
    return render(
        request,
        "accounts/scorecard_members.html",
        {
            "scorecard": scorecard,
            "members": members_of(scorecard),
            "form": form,
            "can_manage": can(request.user, Action.MANAGE_MEMBERS, scorecard),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def scorecard_member_remove_view(request: HttpRequest, scorecard_id: int, membership_id: int) -> HttpResponse:
    """Take a role away (admins only)."""
    membership = get_object_or_404(
        ScorecardMembership.objects.select_related("scorecard"), pk=membership_id, scorecard_id=scorecard_id
    )
    try:
        scorecard_member_remove(by=acting_user(request), membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Role removed."))
    return HttpResponseRedirect(reverse("accounts:scorecard_members", args=[scorecard_id]))
