from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    """KPIs, their targets and thresholds per period, and the values reported for them."""

    name = "fourfold.measures"
    label = "measures"
    verbose_name = "Measures"
