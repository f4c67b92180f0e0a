from django.apps import AppConfig


class ComputedConfig(AppConfig):
    """KPIs computed from raw business data: data sources, which KPI is which metric, runs and lineage."""

    name = "fourfold.computed"
    label = "computed"
    verbose_name = "Computed KPIs"
