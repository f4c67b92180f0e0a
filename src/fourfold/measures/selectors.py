"""Reads of KPI data, each in a fixed number of queries whatever the number of KPIs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from fourfold.accounts.models import User
from fourfold.measures.models import Actual, ActualRevision, Kpi, KpiTarget

if TYPE_CHECKING:
    from fourfold.computed.models import ComputedKpi


def target_in_effect(settings_oldest_first: Sequence[KpiTarget], period_start: date) -> KpiTarget | None:
    """The setting that holds for a period: the latest one that starts on or before it.

    >>> from datetime import date
    >>> first, later = KpiTarget(period_start=date(2026, 1, 1)), KpiTarget(period_start=date(2026, 7, 1))
    >>> target_in_effect([first, later], date(2026, 3, 1)) is first
    True
    >>> target_in_effect([first, later], date(2025, 12, 1)) is None
    True
    """
    in_effect = None
    for setting in settings_oldest_first:
        if setting.period_start > period_start:
            break
        in_effect = setting
    return in_effect


def target_settings_by_kpi(kpi_ids: Iterable[int]) -> dict[int, list[KpiTarget]]:
    """All target settings of the given KPIs, oldest first, in one query."""
    grouped: dict[int, list[KpiTarget]] = defaultdict(list)
    for setting in KpiTarget.objects.filter(kpi_id__in=list(kpi_ids)).order_by("kpi_id", "period_start"):
        grouped[setting.kpi_id].append(setting)
    return grouped


def latest_actuals_by_kpi(kpi_ids: Iterable[int]) -> dict[int, Actual]:
    """Each KPI's most recent value, in one query (a correlated subquery picks the latest period)."""
    latest = Actual.objects.filter(kpi_id=OuterRef("kpi_id")).order_by("-period_start").values("pk")[:1]
    rows = Actual.objects.filter(kpi_id__in=list(kpi_ids), pk=Subquery(latest)).select_related("entered_by")
    return {actual.kpi_id: actual for actual in rows}


def actuals_for_kpi(kpi: Kpi) -> QuerySet[Actual]:
    """A KPI's values, newest period first, with who entered them and, for computed ones, their lineage."""
    return kpi.actuals.select_related("entered_by", "lineage__run").order_by("-period_start")


def value_history_for_kpi(kpi: Kpi) -> QuerySet[ActualRevision]:
    """Values that were replaced or withdrawn, newest change first."""
    return kpi.actual_revisions.select_related("entered_by", "replaced_by").order_by("-replaced_at")


def kpis_updated_by(user: User | AnonymousUser) -> QuerySet[Kpi]:
    """KPIs the user reports on (as owner, named updater or through a group), on scorecards they can see."""
    if not user.is_authenticated:
        return Kpi.objects.none()
    from fourfold.accounts.permissions import scorecards_visible_to

    assigned = Q(owner=user) | Q(updaters=user) | Q(updater_groups__user=user)
    return (
        Kpi.objects.filter(assigned, scorecard__in=scorecards_visible_to(user))
        .select_related("scorecard")
        .distinct()
        .order_by("scorecard__name", "name")
    )


def computation_of(kpi: Kpi) -> ComputedKpi | None:
    """How a computed KPI is computed (metric, segment, source), or ``None`` for a KPI entered otherwise."""
    from fourfold.computed.models import ComputedKpi

    return ComputedKpi.objects.select_related("source").filter(kpi=kpi).first()
