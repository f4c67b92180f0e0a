from django.apps import AppConfig


class StrategyConfig(AppConfig):
    """Organisations, org units, scorecards, perspectives, objectives and their cause-and-effect links."""

    name = "fourfold.strategy"
    label = "strategy"
    verbose_name = "Strategy"
