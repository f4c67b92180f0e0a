"""Reads of the strategy model, shaped for pages and commands, with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from fourfold.accounts.models import User
from fourfold.accounts.permissions import scorecards_visible_to
from fourfold.engine.periods import Frequency
from fourfold.measures.models import Actual, Kpi, KpiTarget
from fourfold.measures.selectors import latest_actuals_by_kpi, target_in_effect, target_settings_by_kpi
from fourfold.strategy.models import Objective, Perspective, Scorecard


def scorecard_list_for_user(user: User | AnonymousUser) -> QuerySet[Scorecard]:
    """The scorecards a user may see, with their organisation and unit, ordered for a listing."""
    return (
        scorecards_visible_to(user)
        .select_related("organisation", "org_unit", "owner", "parent")
        .order_by("organisation__name", "parent_id", "name")
    )


@dataclass
class KpiRow:
    """One KPI on the scorecard page: its latest value and the target in force for that period."""

    kpi: Kpi
    latest: Actual | None
    target: KpiTarget | None


@dataclass
class ObjectiveRow:
    objective: Objective
    kpis: list[KpiRow] = field(default_factory=list)


@dataclass
class PerspectiveRow:
    perspective: Perspective
    objectives: list[ObjectiveRow] = field(default_factory=list)


def scorecard_overview(scorecard: Scorecard, *, today: date) -> list[PerspectiveRow]:
    """Perspectives → objectives → KPIs with latest values and targets, in five queries in all.

    The target shown is the one in force for the latest value's period, or for the current period when the
    KPI has no value yet.
    """
    calendar = scorecard.organisation.calendar
    kpis = Prefetch("kpis", queryset=Kpi.objects.select_related("owner").order_by("position", "id"))
    objectives = Prefetch(
        "objectives",
        queryset=Objective.objects.select_related("owner").prefetch_related(kpis).order_by("position", "id"),
    )
    perspectives = list(scorecard.perspectives.prefetch_related(objectives).order_by("position", "id"))
    kpi_ids = [
        kpi.pk
        for perspective in perspectives
        for objective in perspective.objectives.all()
        for kpi in objective.kpis.all()
    ]
    latest = latest_actuals_by_kpi(kpi_ids)
    settings = target_settings_by_kpi(kpi_ids)
    rows = []
    for perspective in perspectives:
        perspective_row = PerspectiveRow(perspective)
        for objective in perspective.objectives.all():
            objective_row = ObjectiveRow(objective)
            for kpi in objective.kpis.all():
                actual = latest.get(kpi.pk)
                period_start = (
                    actual.period_start if actual else calendar.period_containing(today, Frequency(kpi.frequency)).start
                )
                target = target_in_effect(settings.get(kpi.pk, []), period_start)
                objective_row.kpis.append(KpiRow(kpi, actual, target))
            perspective_row.objectives.append(objective_row)
        rows.append(perspective_row)
    return rows
