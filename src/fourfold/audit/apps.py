from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Change history for every scorecard object, whoever or whatever made the change."""

    name = "fourfold.audit"
    label = "audit"
    verbose_name = "Audit history"

    def ready(self) -> None:
        from fourfold.audit import signals

        signals.connect()
