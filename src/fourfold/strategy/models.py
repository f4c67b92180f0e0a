"""The strategy model: who we are (organisation, units), what we aim for (scorecards, perspectives,
objectives) and how we believe the aims connect (cause-and-effect links)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import Combinable
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.audit.models import ChangeLoggedModel
from fourfold.engine.periods import FiscalCalendar, FiscalYearNaming, Frequency
from fourfold.engine.rollup import RollupMethod
from fourfold.engine.status import DEFAULT_LEVELS, NO_DATA, Status, StatusScheme

if TYPE_CHECKING:
    from collections.abc import Callable


def non_negative_weight() -> models.DecimalField[Decimal | float | str | Combinable, Decimal]:
    """A weight field: roll-ups multiply by it, so it must never be negative."""
    return models.DecimalField(
        max_digits=9,
        decimal_places=4,
        default=1,
        validators=[MinValueValidator(0)],
        help_text=_("0 or more."),
    )


NodeT = TypeVar("NodeT", bound=models.Model)


ROLLUP_CHOICES = [(method.value, method.value.replace("_", " ").capitalize()) for method in RollupMethod]


def rollup_method_field() -> models.CharField:  # type: ignore[type-arg]
    """How a node's children combine into its score; the weighted average is what most tools do."""
    return models.CharField(max_length=16, choices=ROLLUP_CHOICES, default=RollupMethod.WEIGHTED_AVERAGE)


def reject_cycle(
    start: NodeT | None, parent_of: Callable[[NodeT], NodeT | None], node: NodeT, message: StrOrPromise
) -> None:
    """Walk up from ``start`` through ``parent_of``; if ``node`` is met, the new parent would close a loop."""
    seen: set[object] = set()
    current = start
    while current is not None:
        if node.pk is not None and current.pk == node.pk:
            raise ValidationError({"parent": message})
        if current.pk in seen:  # an existing loop in stored data: stop rather than spin
            break
        seen.add(current.pk)
        current = parent_of(current)


class Organisation(ChangeLoggedModel):
    """A tenant: a company, school or nonprofit with its own calendar, units, scorecards and people."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Month in which the fiscal year starts (1 = January, 9 = September for a school year)."),
    )
    fiscal_year_naming = models.CharField(
        max_length=5,
        choices=[
            (FiscalYearNaming.START, _("by the year it starts in")),
            (FiscalYearNaming.END, _("by the year it ends in")),
        ],
        default=FiscalYearNaming.START,
    )
    default_currency = models.CharField(max_length=3, default="USD", help_text=_("ISO 4217 code, e.g. EUR."))
    note_required_off_target = models.BooleanField(
        default=False,
        help_text=_("Ask for a note with every value that puts its KPI off target (red), when it is entered."),
    )

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def calendar(self) -> FiscalCalendar:
        """The organisation's fiscal calendar, which gives quarter and year keys their dates."""
        return FiscalCalendar(self.fiscal_year_start_month, FiscalYearNaming(self.fiscal_year_naming))

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.pk, None

    def status_scheme(self, levels: list[StatusLevel] | None = None) -> StatusScheme:
        """The organisation's status scheme, or the default one (on target, watch, off target, no data).

        ``levels`` may be passed when already fetched, to spare the query.
        """
        rows = list(self.status_levels.all()) if levels is None else levels
        if not rows:
            return StatusScheme()
        statuses = [
            Status(row.key, row.name, row.colour, None if row.min_score is None else float(row.min_score))
            for row in rows
        ]
        ranked = [status for status, row in zip(statuses, rows, strict=True) if not row.is_no_data]
        no_data = next((status for status, row in zip(statuses, rows, strict=True) if row.is_no_data), NO_DATA)
        return StatusScheme(tuple(ranked) or DEFAULT_LEVELS, no_data)

    def clean(self) -> None:
        if self.default_currency and not (
            len(self.default_currency) == 3 and self.default_currency.isalpha() and self.default_currency.isupper()
        ):
            raise ValidationError({"default_currency": _("Expected a three-letter ISO 4217 code such as EUR.")})


class StatusLevel(ChangeLoggedModel):
    """One status of an organisation's scheme (up to seven, plus "no data"), with its name, colour and floor.

    Kept per organisation because what "watch" means, and whether a school wants five colours, is theirs to
    decide; the whole scheme is validated by the engine before it is saved.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="status_levels")
    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=30)
    name = models.CharField(max_length=60)
    colour = models.CharField(max_length=7, help_text=_("#RRGGBB"))
    min_score = models.DecimalField(
        max_digits=5, decimal_places=3, null=True, blank=True, help_text=_("Lowest score (0–10) that earns it.")
    )
    is_no_data = models.BooleanField(default=False, help_text=_("Shown when there is no value to score."))

    class Meta:
        ordering = ("organisation", "position")
        constraints = [models.UniqueConstraint(fields=["organisation", "key"], name="status_unique_key")]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.organisation_id, None


class OrgUnit(ChangeLoggedModel):
    """A node of the organisation tree (company → division → department → team) that owns scorecards."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        DIVISION = "division", _("Division")
        DEPARTMENT = "department", _("Department")
        TEAM = "team", _("Team")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DEPARTMENT)

    class Meta:
        ordering = ("organisation", "name")
        verbose_name = "organisation unit"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "parent", "name"],
                name="orgunit_unique_name_per_parent",
                violation_error_message=_("This unit already has a sub-unit with that name."),
            ),
            # NULL parents never compare equal, so top-level units need a rule of their own.
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=Q(parent__isnull=True),
                name="orgunit_unique_top_level_name",
                violation_error_message=_("The organisation already has a top-level unit with that name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.organisation_id, None

    def clean(self) -> None:
        if self.parent is not None and self.parent.organisation_id != self.organisation_id:
            raise ValidationError({"parent": _("The parent unit belongs to another organisation.")})
        reject_cycle(
            self.parent,
            lambda unit: unit.parent,
            self,
            _("A unit cannot sit below itself or one of its sub-units."),
        )


class Scorecard(ChangeLoggedModel):
    """The strategy of one org unit: perspectives, objectives, KPIs; cascaded from a parent scorecard."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="scorecards")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="scorecards")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text=_("The scorecard this one cascades from."),
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_scorecards",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    reporting_frequency = models.CharField(
        max_length=10,
        choices=[(f.value, f.value.capitalize()) for f in Frequency],
        default=Frequency.MONTHLY,
        help_text=_("The review rhythm: how often this scorecard is reported on."),
    )
    due_days_after_period_end = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(365)],
        help_text=_("Values for a period are due this many days after it ends."),
    )
    grace_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("Extra days before a missing value counts as overdue."),
    )
    overdue_as_no_data = models.BooleanField(
        default=False, help_text=_("Leave overdue KPIs out of roll-ups, so a stale value cannot keep a parent green.")
    )
    rollup_method = rollup_method_field()

    class Meta:
        ordering = ("organisation", "name")

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.organisation_id, self.pk

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if (
            self.org_unit_id is not None
            and self.organisation_id is not None
            and self.org_unit.organisation_id != self.organisation_id
        ):
            errors["org_unit"] = _("The unit belongs to another organisation.")
        if self.parent is not None and self.parent.organisation_id != self.organisation_id:
            errors["parent"] = _("A scorecard can only cascade from a scorecard of the same organisation.")
        if errors:
            raise ValidationError(errors)
        reject_cycle(
            self.parent,
            lambda card: card.parent,
            self,
            _("A scorecard cannot cascade from itself or from one of its descendants."),
        )


class Perspective(ChangeLoggedModel):
    """One of the scorecard's lenses (Financial, Customer, …): ordered for display and weighted for roll-up."""

    class Kind(models.TextChoices):
        FINANCIAL = "financial", _("Financial")
        CUSTOMER = "customer", _("Customer")
        INTERNAL = "internal", _("Internal process")
        LEARNING = "learning", _("Learning & growth")
        CUSTOM = "custom", _("Custom")

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="perspectives")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOM)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    weight = non_negative_weight()
    rollup_method = rollup_method_field()

    class Meta:
        ordering = ("scorecard", "position", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "name"],
                name="perspective_unique_name",
                violation_error_message=_("This scorecard already has a perspective with that name."),
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="perspective_weight_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.scorecard.organisation_id, self.scorecard_id


class Objective(ChangeLoggedModel):
    """A strategic objective in a perspective, measured by KPIs and aligned to an objective above it."""

    perspective = models.ForeignKey(Perspective, on_delete=models.CASCADE, related_name="objectives")
    code = models.CharField(max_length=12, blank=True, help_text=_("Short label for maps, e.g. F1."))
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_objectives",
    )
    weight = non_negative_weight()
    position = models.PositiveSmallIntegerField(default=0)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="aligned_children",
        help_text=_("The objective on the parent scorecard that this one supports."),
    )
    rollup_method = rollup_method_field()
    map_x = models.FloatField(
        null=True, blank=True, help_text=_("Where the objective sits on the strategy map, from the left (0–1).")
    )
    map_y = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Where the objective sits within its perspective's band, from the top (0–1)."),
    )

    class Meta:
        ordering = ("perspective", "position", "id")
        constraints = [models.CheckConstraint(condition=Q(weight__gte=0), name="objective_weight_non_negative")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def scorecard(self) -> Scorecard:
        return self.perspective.scorecard

    def audit_scope(self) -> tuple[int | None, int | None]:
        scorecard = self.perspective.scorecard
        return scorecard.organisation_id, scorecard.pk

    def clean(self) -> None:
        if self.parent is None:
            return
        own_card = self.perspective.scorecard
        if own_card.parent_id is None or self.parent.perspective.scorecard_id != own_card.parent_id:
            raise ValidationError({"parent": _("An objective can only align to an objective on the parent scorecard.")})
        reject_cycle(
            self.parent,
            lambda objective: objective.parent,
            self,
            _("An objective cannot align to itself or to an objective aligned to it."),
        )


class ObjectiveLink(ChangeLoggedModel):
    """A cause-and-effect hypothesis between two objectives of a strategy map (cause → effect)."""

    class Sign(models.TextChoices):
        REINFORCES = "reinforces", _("Reinforces")
        TRADES_OFF = "trades_off", _("Trades off")

    class Strength(models.TextChoices):
        WEAK = "weak", _("Weak")
        MEDIUM = "medium", _("Medium")
        STRONG = "strong", _("Strong")

    cause = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="effects")
    effect = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="causes")
    sign = models.CharField(max_length=10, choices=Sign.choices, default=Sign.REINFORCES)
    strength = models.CharField(max_length=6, choices=Strength.choices, default=Strength.MEDIUM)
    rationale = models.TextField(blank=True, help_text=_("Why we believe the cause drives the effect."))

    class Meta:
        verbose_name = "cause-and-effect link"
        constraints = [
            models.UniqueConstraint(
                fields=["cause", "effect"],
                name="link_unique_pair",
                violation_error_message=_("These objectives are already linked in this direction."),
            ),
            models.CheckConstraint(
                condition=~Q(cause=models.F("effect")),
                name="link_no_self",
                violation_error_message=_("An objective cannot cause itself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cause} → {self.effect}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.cause.audit_scope()

    def clean(self) -> None:
        if self.cause_id is not None and self.cause_id == self.effect_id:
            raise ValidationError({"effect": _("An objective cannot cause itself; pick another objective.")})
        if (
            self.cause_id
            and self.effect_id
            and self.cause.perspective.scorecard_id != self.effect.perspective.scorecard_id
        ):
            raise ValidationError({"effect": _("Both objectives must be on the same scorecard.")})
