"""Membership pages, following a scorecard, and the refusal page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fourfold.accounts.forms import MemberForm
from fourfold.accounts.models import Role, ScorecardMembership
from fourfold.accounts.permissions import Action, can, require
from fourfold.accounts.selectors import scorecard_members as members_of
from fourfold.accounts.services import (
    scorecard_follow,
    scorecard_member_remove,
    scorecard_member_set,
    scorecard_unfollow,
)
from fourfold.forms import show_validation_error
from fourfold.http import acting_user
from fourfold.strategy.models import Scorecard
from fourfold.ui.htmx import is_htmx, with_message


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


def _follow_answer(request: HttpRequest, scorecard: Scorecard, *, followed: bool, message: str) -> HttpResponse:
    """The follow button again (htmx), or back to the page the person was on, with the message."""
    if is_htmx(request):
        button = render(request, "accounts/follow_button.html", {"scorecard": scorecard, "followed": followed})
        return with_message(button, message)
    messages.success(request, message)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("strategy:scorecard_detail", args=[scorecard.pk])
    return HttpResponseRedirect(back)


@login_required
@require_POST
def scorecard_follow_view(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Follow a scorecard one may see."""
    scorecard = get_object_or_404(Scorecard.objects.select_related("organisation"), pk=scorecard_id)
    scorecard_follow(by=acting_user(request), scorecard=scorecard)
    return _follow_answer(request, scorecard, followed=True, message=_("You follow this scorecard now."))


@login_required
@require_POST
def scorecard_unfollow_view(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Stop following a scorecard; only someone who may see it gets an answer about it."""
    scorecard = get_object_or_404(Scorecard.objects.select_related("organisation"), pk=scorecard_id)
    require(request.user, Action.VIEW, scorecard)
    scorecard_unfollow(by=acting_user(request), scorecard=scorecard)
    return _follow_answer(request, scorecard, followed=False, message=_("You no longer follow this scorecard."))
