"""Initiatives: the projects an organisation runs to move its objectives and KPIs."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.audit.models import ChangeLoggedModel
from fourfold.measures.models import Kpi
from fourfold.strategy.models import Objective, Scorecard

MONEY = {"max_digits": 18, "decimal_places": 2, "validators": [MinValueValidator(0)]}


class Initiative(ChangeLoggedModel):
    """A project with an owner, dates, budget and progress, supporting objectives and KPIs of one scorecard."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        ON_HOLD = "on_hold", _("On hold")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="initiatives")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_initiatives",
    )
    objectives = models.ManyToManyField(Objective, blank=True, related_name="initiatives")
    kpis = models.ManyToManyField(Kpi, blank=True, related_name="initiatives")
    start_date = models.DateField()
    end_date = models.DateField()
    budget_planned = models.DecimalField(**MONEY, null=True, blank=True)  # type: ignore[arg-type]
    budget_spent = models.DecimalField(**MONEY, default=0)  # type: ignore[arg-type]
    currency_code = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    percent_complete = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])

    class Meta:
        ordering = ("scorecard", "start_date", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="initiative_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(percent_complete__lte=100), name="initiative_percent_at_most_100"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.scorecard.organisation_id, self.scorecard_id

    @property
    def budget_remaining(self) -> Decimal | None:
        """Planned minus spent budget, or ``None`` when no budget was planned."""
        if self.budget_planned is None:
            return None
        return self.budget_planned - self.budget_spent

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date must not be before the start date.")
        if not (len(self.currency_code) == 3 and self.currency_code.isalpha() and self.currency_code.isupper()):
            errors["currency_code"] = _("Expected a three-letter ISO 4217 code such as EUR.")
        if self.status == self.Status.COMPLETED and self.percent_complete != 100:
            errors["percent_complete"] = _("A completed initiative is 100 % complete.")
        if errors:
            raise ValidationError(errors)


class Milestone(ChangeLoggedModel):
    """A dated step of an initiative; late when its due date passes without completion."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=200)
    due_date = models.DateField()
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("initiative", "due_date", "id")

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.initiative.audit_scope()
