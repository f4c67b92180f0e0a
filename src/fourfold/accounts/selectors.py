"""Reads of membership."""

from __future__ import annotations

from django.db.models import QuerySet

from fourfold.accounts.models import ScorecardMembership, User
from fourfold.strategy.models import Organisation, Scorecard


def organisation_people(organisation: Organisation) -> QuerySet[User]:
    """Active members of the organisation: the only people who can be given roles on its scorecards."""
    return User.objects.filter(is_active=True, organisation_memberships__organisation=organisation).order_by(
        "first_name", "last_name", "username"
    )


def scorecard_members(scorecard: Scorecard) -> QuerySet[ScorecardMembership]:
    """Everyone with a role on the scorecard, people first, then groups."""
    return scorecard.memberships.select_related("user", "group").order_by("group__name", "user__username")
