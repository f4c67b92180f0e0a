"""KPIs and their numbers: definitions, targets and thresholds per period, reported values and their history."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.audit.models import ChangeLoggedModel
from fourfold.engine.formulas import FormulaError, parse_formula
from fourfold.engine.periods import Frequency, Period, PeriodKeyError
from fourfold.engine.progress import ProgressPlan
from fourfold.engine.rollup import ValueRollupMethod
from fourfold.engine.scoring import METHODS, ScoringConfigError, method_from_config
from fourfold.strategy.models import Objective, Scorecard, non_negative_weight

FREQUENCY_CHOICES = [(frequency.value, frequency.value.capitalize()) for frequency in Frequency]

# Large enough for a company's revenue in minor currencies, precise enough for ratios.
VALUE_DIGITS = {"max_digits": 24, "decimal_places": 8}
STORED_VALUE_STEP = Decimal(1).scaleb(-VALUE_DIGITS["decimal_places"])


def kpi_value_field(**options: object) -> models.DecimalField:  # type: ignore[type-arg]
    """A decimal field for KPI numbers (values, targets, thresholds), nullable unless told otherwise."""
    return models.DecimalField(**VALUE_DIGITS, null=True, blank=True, **options)  # type: ignore[arg-type]


class Kpi(ChangeLoggedModel):
    """A key performance indicator: how an objective is measured, how often, and which way is good.

    ``aggregation`` says how periods combine (sum new customers, average satisfaction, last headcount,
    recompute a ratio from numerator and denominator) — the rule most KPI tools get wrong for ratios.
    """

    class Unit(models.TextChoices):
        NUMBER = "number", _("Number")
        PERCENT = "percent", _("Percent")
        CURRENCY = "currency", _("Currency")
        DURATION = "duration", _("Duration")
        COUNT = "count", _("Count")
        YES_NO = "yes_no", _("Yes/no")

    class DurationUnit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")
        RANGE = "range", _("Within a range")

    class Aggregation(models.TextChoices):
        SUM = "sum", _("Sum")
        AVERAGE = "average", _("Average")
        LAST = "last", _("Last value")
        MIN = "min", _("Minimum")
        MAX = "max", _("Maximum")
        RATIO = "ratio", _("Recompute from numerator and denominator")

    class SourceKind(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        IMPORTED = "imported", _("Imported")
        COMPUTED = "computed", _("Computed from data")
        FORMULA = "formula", _("Formula over other KPIs")
        SURVEY = "survey", _("Survey")

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="kpis")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="kpis")
    key = models.CharField(
        max_length=60,
        validators=[
            RegexValidator(r"^[a-z][a-z0-9_]*$", _("Use lower-case letters, digits and _; start with a letter."))
        ],
        help_text=_("Identifier used in formulas and imports, unique within the scorecard (e.g. nps)."),
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    definition = models.TextField(blank=True, help_text=_("How the number is made: sources, inclusions, exclusions."))
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.NUMBER)
    currency_code = models.CharField(max_length=3, blank=True, help_text=_("ISO 4217 code for currency KPIs."))
    duration_unit = models.CharField(max_length=8, choices=DurationUnit.choices, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    frequency = models.CharField(max_length=10, choices=FREQUENCY_CHOICES, default=Frequency.MONTHLY)
    aggregation = models.CharField(max_length=8, choices=Aggregation.choices, default=Aggregation.AVERAGE)
    decimals = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(6)])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_kpis"
    )
    updaters = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="updated_kpis")
    updater_groups = models.ManyToManyField(Group, blank=True, related_name="updated_kpis")
    source_kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.MANUAL)
    formula = models.TextField(blank=True, help_text=_("For formula KPIs: an expression over other KPI keys."))
    weight = non_negative_weight()
    missing_policy = models.CharField(
        max_length=10,
        choices=[
            ("no_data", _("no data")),
            ("zero", _("treat as zero")),
            ("last_known", _("use the last known value")),
        ],
        default="no_data",
        help_text=_("For formula KPIs: what a missing input means."),
    )
    rollup_sources = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="rolled_up_into",
        help_text=_("KPIs of child scorecards whose values make this one (company revenue from its departments)."),
    )
    value_rollup = models.CharField(
        max_length=8,
        choices=[(method.value, method.value) for method in ValueRollupMethod],
        default=ValueRollupMethod.SUM,
        help_text=_("How the sources combine: sum, average, min, max, or ratio of summed numerators/denominators."),
    )
    baseline = kpi_value_field(help_text=_("The starting point progress is measured from."))
    baseline_period = models.CharField(max_length=10, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("objective", "position", "id")
        verbose_name = "KPI"
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "key"],
                name="kpi_unique_key_per_scorecard",
                violation_error_message=_("Another KPI on this scorecard already uses this key."),
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="kpi_weight_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.scorecard.organisation_id, self.scorecard_id

    @property
    def is_yes_no(self) -> bool:
        return self.unit == self.Unit.YES_NO

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if (
            self.objective_id is not None
            and self.scorecard_id is not None
            and self.objective.perspective.scorecard_id != self.scorecard_id
        ):
            errors["objective"] = _("The objective belongs to another scorecard.")
        if self.unit == self.Unit.CURRENCY and not (
            len(self.currency_code) == 3 and self.currency_code.isalpha() and self.currency_code.isupper()
        ):
            errors["currency_code"] = _("A currency KPI needs a three-letter ISO 4217 code such as EUR.")
        if self.unit != self.Unit.CURRENCY and self.currency_code:
            errors["currency_code"] = _("Only currency KPIs have a currency code.")
        if self.unit == self.Unit.DURATION and not self.duration_unit:
            errors["duration_unit"] = _("A duration KPI needs a unit: minutes, hours or days.")
        if self.unit != self.Unit.DURATION and self.duration_unit:
            errors["duration_unit"] = _("Only duration KPIs have a duration unit.")
        if self.unit == self.Unit.YES_NO and self.direction == self.Direction.RANGE:
            errors["direction"] = _("A yes/no KPI is better either as yes or as no, not within a range.")
        if (
            self.unit == self.Unit.YES_NO
            and self.baseline is not None
            and self.baseline not in (Decimal(0), Decimal(1))
        ):
            errors["baseline"] = _("A yes/no KPI's baseline must be yes (1) or no (0).")
        if self.source_kind == self.SourceKind.FORMULA and not self.formula.strip():
            errors["formula"] = _("A formula KPI needs a formula, e.g. revenue / active_learners.")
        if self.source_kind == self.SourceKind.FORMULA and self.formula.strip():
            try:
                parse_formula(self.formula)
            except FormulaError as error:
                errors["formula"] = str(error)
        if self.source_kind != self.SourceKind.FORMULA and self.formula.strip():
            errors["formula"] = _("Only formula KPIs have a formula; set the data source to Formula.")
        if errors:
            raise ValidationError(errors)


def resolve_period_key(kpi: Kpi, key: str, field: str) -> Period:
    """Parse ``key`` with the organisation's fiscal calendar, requiring the KPI's frequency.

    The one place where a typed period key becomes dates for KPI data, so every form, import and API call
    reports a wrong key the same way, against the field it came from.
    """
    try:
        return kpi.scorecard.organisation.calendar.parse(key, expected=Frequency(kpi.frequency))
    except PeriodKeyError as error:
        raise ValidationError({field: str(error)}) from error


def check_range_target(setting: KpiTarget) -> None:
    """A within-a-range KPI needs its good range, low ≤ high, and a target inside it when one is given."""
    if setting.range_low is None or setting.range_high is None:
        raise ValidationError({"range_low": _("A within-a-range KPI needs the lowest and highest good values.")})
    if setting.range_low > setting.range_high:
        raise ValidationError({"range_high": _("The highest good value must not be below the lowest.")})
    if setting.target is not None and not setting.range_low <= setting.target <= setting.range_high:
        raise ValidationError({"target": _("The target must lie inside the good range.")})


def check_threshold_order(setting: KpiTarget, *, higher_is_better: bool) -> None:
    """The red flag must sit on the bad side of the target: below it when higher is better, above when lower."""
    ordered = [
        (name, value)
        for name, value in (("target", setting.target), ("red_flag", setting.red_flag))
        if value is not None
    ]
    labels = {"target": _("the target"), "red_flag": _("the red flag")}
    for (earlier_name, earlier), (name, value) in itertools.pairwise(ordered):
        wrong_side = value > earlier if higher_is_better else value < earlier
        if wrong_side:
            raise ValidationError(
                {
                    name: _("With %(direction)s, %(field)s must not be %(side)s %(other)s (%(value)s).")
                    % {
                        "direction": _("higher is better") if higher_is_better else _("lower is better"),
                        "field": labels[name],
                        "side": _("above") if higher_is_better else _("below"),
                        "other": labels[earlier_name],
                        "value": earlier,
                    }
                }
            )


class KpiTarget(ChangeLoggedModel):
    """Target and thresholds for a KPI from a period on: they hold for later periods until changed.

    Storing only the changes (not a row per period) is what lets "the target is 80 from 2026-Q1" be
    entered once, and keeps the history of when a target moved.
    """

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="targets")
    period_key = models.CharField(max_length=10, help_text=_("First period this setting applies to, e.g. 2026-01."))
    # Filled from period_key by clean(); blank so that field validation leaves them to it.
    period_start = models.DateField(editable=False, blank=True)
    target = kpi_value_field()
    range_low = kpi_value_field(help_text=_("For within-a-range KPIs: lowest good value."))
    range_high = kpi_value_field(help_text=_("For within-a-range KPIs: highest good value."))
    red_flag = kpi_value_field(
        help_text=_("Where the KPI turns off target; between it and the target the status is 'watch'.")
    )
    scoring_method = models.CharField(
        max_length=20,
        blank=True,
        choices=[(name, name.replace("_", " ")) for name in METHODS],
        help_text=_("Leave empty for the default: goal/red flag, linear from the baseline, or ratio to target."),
    )
    scoring_parameters = models.JSONField(
        default=dict, blank=True, help_text=_("Parameters of the chosen scoring method, e.g. breakpoints.")
    )
    reach_by = models.CharField(
        max_length=10,
        blank=True,
        help_text=_("For a target reached over a span (12 000 by 2026-12): the period it must be reached by."),
    )
    progress_curve = models.JSONField(
        null=True,
        blank=True,
        help_text=_("Optional cumulative share expected after each period of the span, ending at 1 (default: linear)."),
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("kpi", "period_start")
        verbose_name = "KPI target"
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period_key"],
                name="target_unique_period",
                violation_error_message=_("This KPI already has a target setting for that period."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi} from {self.period_key}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.kpi.audit_scope()

    def clean(self) -> None:
        """Check the period against the KPI's frequency and the thresholds against its direction."""
        period = resolve_period_key(self.kpi, self.period_key, "period_key")
        self.period_key, self.period_start = period.key, period.start
        kpi = self.kpi
        explicit = bool(self.scoring_method or self.scoring_parameters)
        if explicit:
            self.check_scoring_method()
        if self.reach_by or self.progress_curve:
            self.check_progress(period)
        if kpi.is_yes_no:
            errors: dict[str, StrOrPromise] = {
                name: _("A yes/no KPI has no thresholds; its target is yes or no.")
                for name in ("range_low", "range_high", "red_flag")
                if getattr(self, name) is not None
            }
            if self.target not in (Decimal(0), Decimal(1)) and not (explicit and self.target is None):
                errors["target"] = _("The target of a yes/no KPI must be yes (1) or no (0).")
            if errors:
                raise ValidationError(errors)
            return
        if kpi.direction == Kpi.Direction.RANGE:
            if not explicit or self.range_low is not None or self.range_high is not None:
                check_range_target(self)
            return
        if self.target is None:
            if explicit:
                return  # the method carries its own anchors (breakpoints, rules)
            raise ValidationError({"target": _("Enter a target.")})
        check_threshold_order(self, higher_is_better=kpi.direction == Kpi.Direction.HIGHER)

    def check_progress(self, first: Period) -> None:
        """A span target needs a target, an end no earlier than its start, and a curve that fits the span."""
        if not self.reach_by:
            raise ValidationError({"reach_by": _("A progress curve needs the period the target is reached by.")})
        last = resolve_period_key(self.kpi, self.reach_by, "reach_by")
        self.reach_by = last.key
        if self.target is None:
            raise ValidationError({"target": _("Enter the target to reach by %(period)s.") % {"period": last.key}})
        try:
            ProgressPlan(
                self.kpi.scorecard.organisation.calendar,
                first,
                last,
                float(self.kpi.baseline or 0),
                float(self.target),
                tuple(self.progress_curve) if self.progress_curve else None,
            )
        except ScoringConfigError as error:
            field = "reach_by" if "before it starts" in str(error) else "progress_curve"
            raise ValidationError({field: str(error)}) from error

    def check_scoring_method(self) -> None:
        """An explicit method must exist and get exactly the parameters it needs (a goal needs a red flag)."""
        if not self.scoring_method:
            raise ValidationError(
                {"scoring_method": _("Parameters belong to a scoring method: choose one, or clear the parameters.")}
            )
        try:
            method_from_config(self.scoring_method, self.scoring_parameters or {})
        except ScoringConfigError as error:
            field = "scoring_method" if self.scoring_method not in METHODS else "scoring_parameters"
            raise ValidationError({field: f"{self.kpi.key}: {error}"}) from error


class Actual(ChangeLoggedModel):
    """The value reported for a KPI in one period; a replaced value moves to :class:`ActualRevision`."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Typed in")
        IMPORT = "import", _("Imported")
        API = "api", _("API")
        COMPUTED = "computed", _("Computed from data")
        FORMULA = "formula", _("Formula")
        SURVEY = "survey", _("Survey")

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="actuals")
    period_key = models.CharField(max_length=10)
    # Filled from period_key by clean(); blank so that field validation leaves them to it.
    period_start = models.DateField(editable=False, blank=True)
    period_end = models.DateField(editable=False, blank=True)
    value = kpi_value_field()
    numerator = kpi_value_field()
    denominator = kpi_value_field()
    sample_size = models.PositiveBigIntegerField(
        null=True, blank=True, help_text=_("How many observations the value rests on (a survey's answers).")
    )
    margin_of_error = kpi_value_field(help_text=_("The 95 % margin of error of an estimate, in the KPI's unit."))
    small_sample = models.BooleanField(
        default=False, help_text=_("Too few observations to be sure: scored, but flagged and explained.")
    )
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        ordering = ("kpi", "period_start")
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period_key"], name="actual_unique_period"),
            models.CheckConstraint(condition=Q(value__isnull=False), name="actual_has_value"),
        ]
        indexes = [models.Index(fields=["kpi", "period_start"], name="actual_kpi_period_idx")]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_key}: {self.value}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.kpi.audit_scope()

    def clean(self) -> None:
        """Fill the period's dates from its key and check the value against the KPI's unit."""
        period = resolve_period_key(self.kpi, self.period_key, "period_key")
        self.period_key, self.period_start, self.period_end = period.key, period.start, period.end
        errors: dict[str, StrOrPromise] = {}
        if self.denominator is not None and self.denominator == 0:
            errors["denominator"] = _("The denominator must not be zero.")
        if (self.numerator is None) != (self.denominator is None):
            errors["denominator" if self.denominator is None else "numerator"] = _(
                "Give both numerator and denominator, or neither."
            )
        if self.kpi.aggregation == Kpi.Aggregation.RATIO and self.numerator is None and self.denominator is None:
            errors["numerator"] = _(
                "This KPI combines periods from numerator and denominator; enter both (e.g. 45 resolved of 60)."
            )
        elif self.value is None:
            errors.setdefault("value", _("Enter a value."))
        elif self.kpi.is_yes_no and self.value not in (Decimal(0), Decimal(1)):
            errors["value"] = _("A yes/no KPI's value must be yes (1) or no (0).")
        if errors:
            raise ValidationError(errors)


class ActualRevision(models.Model):
    """A value that was replaced: what it was, who had entered it, and who replaced it when.

    Append-only, so the KPI page can list every value a period ever had; the audit trail records the same
    change with its context, but this table is what value history is read from.
    """

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="actual_revisions")
    period_key = models.CharField(max_length=10)
    value = kpi_value_field()
    numerator = kpi_value_field()
    denominator = kpi_value_field()
    sample_size = models.PositiveBigIntegerField(null=True, blank=True)
    margin_of_error = kpi_value_field()
    small_sample = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Actual.Source.choices)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ("kpi", "period_key", "-replaced_at")

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_key}: {self.value} (replaced {self.replaced_at:%Y-%m-%d})"


class WeightChange(ChangeLoggedModel):
    """A new weight for a KPI, objective or perspective from a period on: priorities shift during a strategy.

    The weight on the object itself holds until the first change; roll-ups of a period use the weight in
    force at its end.
    """

    perspective = models.ForeignKey(
        "strategy.Perspective", null=True, blank=True, on_delete=models.CASCADE, related_name="weight_changes"
    )
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="weight_changes"
    )
    kpi = models.ForeignKey(Kpi, null=True, blank=True, on_delete=models.CASCADE, related_name="weight_changes")
    period_key = models.CharField(max_length=10, help_text=_("First period the weight applies to, e.g. 2027-01."))
    starts = models.DateField(editable=False, blank=True)
    weight = non_negative_weight()

    class Meta:
        ordering = ("starts",)
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(perspective__isnull=False, objective__isnull=True, kpi__isnull=True)
                    | Q(perspective__isnull=True, objective__isnull=False, kpi__isnull=True)
                    | Q(perspective__isnull=True, objective__isnull=True, kpi__isnull=False)
                ),
                name="weight_change_one_target",
                violation_error_message=_("A weight change is for one KPI, objective or perspective."),
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="weight_change_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.weighted} weighs {self.weight} from {self.period_key}"

    @property
    def weighted(self) -> models.Model:
        """The KPI, objective or perspective whose weight changes."""
        target = self.kpi or self.objective or self.perspective
        if target is None:
            raise ValidationError(_("A weight change is for one KPI, objective or perspective."))
        return target

    @property
    def scorecard(self) -> Scorecard:
        if self.kpi is not None:
            return self.kpi.scorecard
        if self.objective is not None:
            return self.objective.perspective.scorecard
        if self.perspective is not None:
            return self.perspective.scorecard
        raise ValidationError(_("A weight change is for one KPI, objective or perspective."))

    def audit_scope(self) -> tuple[int | None, int | None]:
        scorecard = self.scorecard
        return scorecard.organisation_id, scorecard.pk

    def clean(self) -> None:
        """Any period key of the organisation's calendar will do; the change starts with that period."""
        try:
            period = self.scorecard.organisation.calendar.parse(self.period_key)
        except PeriodKeyError as error:
            raise ValidationError({"period_key": str(error)}) from error
        self.period_key, self.starts = period.key, period.start


class KpiComment(ChangeLoggedModel):
    """A comment on a KPI, optionally about one period: the commentary thread of the KPI page.

    Commentary is how a KPI's story is told between reviews ("March dipped because of the migration"), so it
    stays with the KPI and its history rather than in e-mails.
    """

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="comments")
    period_key = models.CharField(max_length=10, blank=True, help_text=_("The period it is about, if one."))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()

    class Meta:
        ordering = ("kpi", "created_at")

    def __str__(self) -> str:
        return f"{self.author} on {self.kpi}{f' ({self.period_key})' if self.period_key else ''}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.kpi.audit_scope()
