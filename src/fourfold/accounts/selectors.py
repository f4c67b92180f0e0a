"""Reads of membership."""

from __future__ import annotations

from django.db.models import QuerySet

from fourfold.accounts.models import ScorecardMembership
from fourfold.strategy.models import Scorecard


def scorecard_members(scorecard: Scorecard) -> QuerySet[ScorecardMembership]:
    """Everyone with a role on the scorecard, people first, then groups."""
    return scorecard.memberships.select_related("user", "group").order_by("group__name", "user__username")
