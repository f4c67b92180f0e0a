"""Reads of the strategy model, shaped for pages and commands, with a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from fourfold.accounts.models import User
from fourfold.accounts.permissions import scorecards_visible_to
from fourfold.audit.models import AuditEntry
from fourfold.engine.evaluate import KpiResult, ObjectiveResult, PerspectiveResult
from fourfold.measures.models import Actual, Kpi
from fourfold.strategy.models import Objective, Organisation, Scorecard

if TYPE_CHECKING:
    from fourfold.measures.scoring import ScorecardEvaluation


def scorecard_list_for_user(user: User | AnonymousUser) -> QuerySet[Scorecard]:
    """The scorecards a user may see, with their organisation and unit, ordered for a listing."""
    return (
        scorecards_visible_to(user)
        .select_related("organisation", "org_unit", "owner", "parent")
        .order_by("organisation__name", "parent_id", "name")
    )


@dataclass(frozen=True)
class KpiRow:
    """One KPI on the scorecard page: its evaluation, its definition (for units) and when it was last updated."""

    result: KpiResult
    kpi: Kpi
    last_update: Actual | None


@dataclass(frozen=True)
class ObjectiveRow:
    result: ObjectiveResult
    objective: Objective
    kpis: list[KpiRow]


@dataclass(frozen=True)
class PerspectiveRow:
    result: PerspectiveResult
    objectives: list[ObjectiveRow]


def scorecard_rows(evaluation: ScorecardEvaluation) -> list[PerspectiveRow]:
    """The evaluated tree shaped for the scorecard page, with each KPI's and objective's stored row."""
    return [
        PerspectiveRow(
            perspective,
            [
                ObjectiveRow(
                    objective,
                    evaluation.objectives[objective.id],
                    [
                        KpiRow(result, evaluation.kpis[result.kpi.id], evaluation.last_updates.get(result.kpi.id))
                        for result in objective.kpis
                    ],
                )
                for objective in perspective.objectives
            ],
        )
        for perspective in evaluation.result.perspectives
    ]


def descendants(root: Scorecard, all_cards: list[Scorecard]) -> list[Scorecard]:
    """``root`` and every scorecard cascading from it, parents first."""
    children: dict[int | None, list[Scorecard]] = defaultdict(list)
    for card in all_cards:
        children[card.parent_id].append(card)
    # The root as read with the others (it carries their annotations), unless it was not among them.
    ordered, queue = [], [next((card for card in all_cards if card.pk == root.pk), root)]
    while queue:
        card = queue.pop(0)
        ordered.append(card)
        queue.extend(children[card.pk])
    return ordered


def tree_of(root: Scorecard) -> list[Scorecard]:
    """``root`` and its descendants, read in one query, each with its newest change.

    Every scorecard comes annotated with the id and time of the newest audit entry on it
    (``newest_change_id``, ``newest_change_at``) and on its organisation's own settings
    (``organisation_change_id``, ``organisation_change_at``), so that cached scores can be checked for
    staleness without another query.
    """
    newest = AuditEntry.objects.filter(scorecard_id=OuterRef("pk")).order_by("-id")
    organisation_newest = AuditEntry.objects.filter(
        organisation_id=OuterRef("organisation_id"), scorecard_id__isnull=True
    ).order_by("-id")
    cards = (
        Scorecard.objects.filter(organisation_id=root.organisation_id)
        .select_related("org_unit")
        .annotate(
            newest_change_id=Subquery(newest.values("id")[:1]),
            newest_change_at=Subquery(newest.values("timestamp")[:1]),
            organisation_change_id=Subquery(organisation_newest.values("id")[:1]),
            organisation_change_at=Subquery(organisation_newest.values("timestamp")[:1]),
        )
        .order_by("name")
    )
    return descendants(root, list(cards))


def organisations_for_user(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The organisations whose pages a user may open: those with a scorecard they see, and those they
    administer (an organisation admin may have no scorecard yet), in one query."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.order_by("name")
    return (
        Organisation.objects.filter(
            Q(scorecards__in=scorecards_visible_to(user)) | Q(memberships__user=user, memberships__is_admin=True)
        )
        .distinct()
        .order_by("name")
    )
