"""Reads of initiatives."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet

from fourfold.initiatives.models import Initiative
from fourfold.strategy.models import Scorecard


def initiatives_for_scorecard(scorecard: Scorecard, *, today: date) -> QuerySet[Initiative]:
    """A scorecard's initiatives with their owner and how many milestones are done and late, in one query."""
    return (
        scorecard.initiatives.select_related("owner")
        .annotate(
            milestone_count=Count("milestones"),
            milestones_done=Count("milestones", filter=Q(milestones__completed_on__isnull=False)),
            milestones_late=Count(
                "milestones", filter=Q(milestones__completed_on__isnull=True, milestones__due_date__lt=today)
            ),
        )
        .order_by("start_date", "name")
    )
