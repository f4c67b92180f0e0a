"""Reads of data sources, runs and lineage, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery

from fourfold.computed.models import ComputationRun, ComputedKpi, DataSource, ValueLineage
from fourfold.measures.models import Actual
from fourfold.strategy.models import Organisation, Scorecard


@dataclass(frozen=True)
class SourceSummary:
    """A data source as lists show it: how many KPIs are computed from it, and its newest run."""

    source: DataSource
    kpis: int
    latest: ComputationRun | None


def sources_with_latest_runs(*, organisation_slug: str | None = None) -> list[SourceSummary]:
    """Every data source (of one organisation) with its number of computed KPIs and its newest run."""
    sources = DataSource.objects.select_related("organisation").annotate(
        kpi_count=Count("computed_kpis"),
        latest_run=Subquery(
            ComputationRun.objects.filter(source=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
        ),
    )
    if organisation_slug is not None:
        sources = sources.filter(organisation__slug=organisation_slug)
    rows = list(sources.order_by("organisation__name", "name").values_list("pk", "kpi_count", "latest_run"))
    by_id = DataSource.objects.select_related("organisation").in_bulk([pk for pk, _, _ in rows])
    runs = ComputationRun.objects.in_bulk([run for _, _, run in rows if run is not None])
    return [SourceSummary(by_id[pk], count, runs.get(run)) for pk, count, run in rows]


def lineage_of(actual: Actual) -> ValueLineage | None:
    """Where a computed value comes from, with its run and source, or ``None`` for a value entered otherwise."""
    return ValueLineage.objects.select_related("run__source").filter(actual=actual).first()


def runs_of_organisation(organisation_id: int, *, limit: int = 50) -> QuerySet[ComputationRun]:
    """The newest runs of an organisation, newest first."""
    return ComputationRun.objects.filter(organisation_id=organisation_id).order_by("-started_at")[:limit]


def bindings_of_organisation(organisation: Organisation) -> QuerySet[ComputedKpi]:
    """Every computed KPI of the organisation with its scorecard and source."""
    return (
        ComputedKpi.objects.filter(kpi__scorecard__organisation=organisation)
        .select_related("kpi__scorecard", "source")
        .order_by("kpi__scorecard__name", "kpi__name")
    )


def lineages_of_run(run: ComputationRun, *, scorecards: QuerySet[Scorecard]) -> QuerySet[ValueLineage]:
    """The values a run wrote that are still its own, on the given scorecards, by KPI and period."""
    return (
        ValueLineage.objects.filter(run=run, actual__kpi__scorecard__in=scorecards)
        .select_related("actual__kpi__scorecard")
        .order_by("actual__kpi__scorecard__name", "actual__kpi__name", "actual__period_start")
    )
