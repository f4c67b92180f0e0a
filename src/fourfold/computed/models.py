"""KPIs computed from raw data: where the data is, which KPI is which library metric, and every run.

A :class:`DataSource` says where an organisation's raw tables come from (a folder of canonical files, or a
source mapping) and may add the organisation's own KPI definitions to the library. A :class:`ComputedKpi`
makes a scorecard KPI the computed value of one metric, optionally of one segment. A
:class:`ComputationRun` records each run, and :class:`ValueLineage` ties every value it wrote to that run,
the definition's fingerprint and the rows behind the number, so anyone can trace a number to its data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fourfold.audit.models import ChangeLoggedModel
from fourfold.measures.models import Actual, Kpi
from fourfold.strategy.models import Organisation


class Backend(models.TextChoices):
    """The engine a source's KPIs are computed on: the same definitions give the same numbers on each."""

    DUCKDB = "duckdb", _("DuckDB (embedded)")
    POSTGRES = "postgres", _("PostgreSQL")
    SPARK = "spark", _("Spark")


class DataSource(ChangeLoggedModel):
    """Where an organisation's raw tables are read from, and the KPI definitions it adds to the library.

    ``kind`` is either a folder whose files already carry the canonical names (``orders.parquet``…) or a
    source mapping in YAML (``docs/metrics-data.md``) whose relative paths start from ``location``.
    Credentials never live here: a database URL in a mapping names an environment variable.
    """

    class Kind(models.TextChoices):
        FOLDER = "folder", _("Folder of canonical files")
        MAPPING = "mapping", _("Source mapping")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="data_sources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FOLDER)
    location = models.CharField(
        max_length=500,
        help_text=_("The folder of the files (for a mapping: the folder its relative paths start from)."),
    )
    mapping = models.TextField(blank=True, help_text=_("For a source mapping: the YAML that says where each table is."))
    definitions = models.TextField(
        blank=True, help_text=_("Optional KPI definitions (YAML) of this organisation, added to the standard library.")
    )
    backend = models.CharField(max_length=10, choices=Backend.choices, default=Backend.DUCKDB)
    skip_invalid_rows = models.BooleanField(
        default=False, help_text=_("Leave out invalid rows (and report them) instead of stopping the run.")
    )

    class Meta:
        ordering = ("organisation", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                name="data_source_unique_name",
                violation_error_message=_("This organisation already has a data source of that name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.organisation_id, None


class ComputedKpi(ChangeLoggedModel):
    """A KPI whose values are computed: one metric of its organisation's definitions, from one source.

    With ``segment_by`` and ``segment`` the KPI is that metric for one segment only (NPS of Enterprise
    customers); metrics always split by a dimension of their own (CAC by channel) need a segment of it.
    The period grain is the KPI's frequency, and quarters and years are the organisation's fiscal ones.
    """

    kpi = models.OneToOneField(Kpi, on_delete=models.CASCADE, related_name="computation")
    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="computed_kpis")
    metric = models.CharField(max_length=60, help_text=_("The key of the definition, e.g. nps or cac_by_channel."))
    segment_by = models.CharField(
        max_length=60, blank=True, help_text=_("A dimension to take one segment of, e.g. segment or channel.")
    )
    segment = models.CharField(max_length=200, blank=True, help_text=_("The segment, e.g. Enterprise."))

    class Meta:
        ordering = ("kpi",)
        verbose_name = "computed KPI"

    def __str__(self) -> str:
        part = f" ({self.segment_by} = {self.segment})" if self.segment_by else ""
        return f"{self.kpi} = {self.metric}{part}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.kpi.audit_scope()


class ComputationRun(models.Model):
    """One run of computations for an organisation: what was read, what was written, and how it ended.

    Recorded in a transaction of its own before any value is written, so that a run that crashes is still
    there (as failed) while its values were rolled back. ``input_digests`` holds a digest of each table's
    rows per month, which a later run compares to compute only the periods whose inputs changed.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        CLI = "cli", _("Command line")
        TASK = "task", _("Background task")
        WEB = "web", _("Web")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="computation_runs")
    source = models.ForeignKey(DataSource, null=True, on_delete=models.SET_NULL, related_name="runs")
    source_name = models.CharField(max_length=120, help_text=_("Kept when the source is deleted."))
    backend = models.CharField(max_length=10, choices=Backend.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    period_from = models.CharField(max_length=10, blank=True)
    period_to = models.CharField(max_length=10, blank=True)
    changed_only = models.BooleanField(default=False)
    kpis = models.PositiveIntegerField(default=0)
    values_created = models.PositiveIntegerField(default=0)
    values_changed = models.PositiveIntegerField(default=0)
    values_unchanged = models.PositiveIntegerField(default=0)
    values_withdrawn = models.PositiveIntegerField(default=0)
    rows_read = models.JSONField(default=dict, help_text=_("Rows read per table."))
    rows_skipped = models.JSONField(default=dict, help_text=_("Invalid rows left out per table."))
    definitions = models.JSONField(default=dict, help_text=_("The fingerprint of each metric's definition."))
    input_digests = models.JSONField(default=dict)
    notes = models.JSONField(default=list, help_text=_("Periods without a value, and why."))
    message = models.TextField(blank=True, help_text=_("What went wrong, or what was done."))

    class Meta:
        ordering = ("-started_at",)
        indexes = [models.Index(fields=["organisation", "source", "status", "started_at"], name="run_latest_idx")]

    def __str__(self) -> str:
        return f"{self.source_name} {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def seconds(self) -> float | None:
        """How long the run took, when it has ended."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ValueLineage(ChangeLoggedModel):
    """Where a computed value comes from: the run, the definition and its fingerprint, and the rows.

    One per computed value, replaced with the value; the audit trail keeps the lineage of replaced ones.
    """

    actual = models.OneToOneField(Actual, on_delete=models.CASCADE, related_name="lineage")
    run = models.ForeignKey(ComputationRun, on_delete=models.PROTECT, related_name="lineages")
    metric = models.CharField(max_length=60)
    definition_fingerprint = models.CharField(max_length=16)
    segment_by = models.CharField(max_length=60, blank=True)
    segment = models.CharField(max_length=200, blank=True)
    rows = models.PositiveBigIntegerField(help_text=_("The rows behind the value (the answers of a survey)."))

    class Meta:
        ordering = ("actual",)
        verbose_name_plural = "value lineages"

    def __str__(self) -> str:
        return f"{self.actual} from {self.metric} ({self.run_id})"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.actual.audit_scope()
