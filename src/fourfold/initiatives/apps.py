from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    """Projects that move objectives: budget, progress and milestones."""

    name = "fourfold.initiatives"
    label = "initiatives"
    verbose_name = "Initiatives"
