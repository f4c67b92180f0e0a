from django.apps import AppConfig


class UiConfig(AppConfig):
    """The web interface's shell: navigation, icons, htmx helpers and the front-end build check."""

    name = "fourfold.ui"
    label = "ui"
    verbose_name = "Web interface"

    def ready(self) -> None:
        # Importing the module registers its checks with Django's system check framework.
        from fourfold.ui import checks  # noqa: F401
