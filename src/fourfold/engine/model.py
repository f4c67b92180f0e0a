"""The shape of a scorecard as the engine sees it: plain frozen data, no database.

The Django apps build these from their models, ``fourfold score`` builds them from a YAML file; the
evaluator (:mod:`fourfold.engine.evaluate`) and the bulk calculator read nothing else. Values are kept apart
from the structure (:data:`ValueStore`), so that a new value never requires rebuilding the tree.

Identifiers (``id``) are strings unique within one evaluation: database primary keys, or
``"scorecard/kpi_key"`` paths in a file.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.formulas import Formula, MissingPolicy, UnitKind
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.rollup import RollupMethod, ValueRollupMethod
from fourfold.engine.status import StatusScheme


class Direction(StrEnum):
    """Which way is good for a KPI; "range" means inside a band is best."""

    HIGHER = "higher"
    LOWER = "lower"
    RANGE = "range"


class Span(StrEnum):
    """What a view covers: the period itself, its fiscal year to date, or the rolling year ending with it."""

    PERIOD = "period"
    YEAR_TO_DATE = "ytd"
    ROLLING_YEAR = "rolling"


@dataclass(frozen=True)
class View:
    """The period a scorecard is looked at for, and how much history that includes."""

    period: Period
    span: Span = Span.PERIOD


@dataclass(frozen=True)
class TargetSetting:
    """Target and thresholds from ``starts`` on, until a later setting; an explicit method overrides the default.

    Without ``method`` the KPI is scored by a default chosen from what is set (see
    :func:`fourfold.engine.evaluate.default_method`).
    """

    starts: date
    target: float | None = None
    red_flag: float | None = None
    range_low: float | None = None
    range_high: float | None = None
    method: str | None = None
    parameters: Mapping[str, object] = field(default_factory=dict)
    reach_by: Period | None = None
    """Set for a target reached over a span ("12 000 by December"): each period is then judged against the
    value expected by its end, on a straight line from the baseline or along ``progress_curve``."""
    progress_curve: tuple[float, ...] | None = None


@dataclass(frozen=True)
class WeightChange:
    """A weight that applies from ``starts`` on: priorities shift during a strategy's life."""

    starts: date
    weight: float


@dataclass(frozen=True, kw_only=True)
class Weighted:
    """Mixin data for anything that is weighted in its parent's roll-up."""

    weight: float = 1.0
    weight_changes: tuple[WeightChange, ...] = ()

    def weight_at(self, day: date) -> float:
        """The weight in force on ``day``: the latest change starting on or before it, else ``weight``.

        >>> Weighted(weight_changes=(WeightChange(date(2026, 7, 1), 3.0),)).weight_at(date(2026, 9, 30))
        3.0
        """
        starts = [change.starts for change in self.weight_changes]
        position = bisect.bisect_right(starts, day)
        return self.weight if position == 0 else self.weight_changes[position - 1].weight


@dataclass(frozen=True, kw_only=True)
class KpiModel(Weighted):
    """One KPI: how it is measured, combined over periods, and scored.

    A KPI gets its values from the value store, from a ``formula`` over other KPIs of the same scorecard
    (recomputed for every view from its inputs' values for that view), or from ``rollup_sources`` — KPIs of
    child scorecards combined by ``value_rollup`` (company revenue as the sum of its departments').
    """

    id: str
    key: str
    name: str
    unit: UnitKind = UnitKind.NUMBER
    direction: Direction = Direction.HIGHER
    frequency: Frequency = Frequency.MONTHLY
    aggregation: Aggregation = Aggregation.AVERAGE
    baseline: float | None = None
    targets: tuple[TargetSetting, ...] = ()
    formula: Formula | None = None
    missing_policy: MissingPolicy = "no_data"
    rollup_sources: tuple[str, ...] = ()
    value_rollup: ValueRollupMethod = ValueRollupMethod.SUM
    decimals: int = 1

    @property
    def ratio_scale(self) -> float:
        """100 for percentages recomputed from numerator and denominator, else 1."""
        return 100.0 if self.unit is UnitKind.PERCENT else 1.0

    def setting_at(self, day: date) -> TargetSetting | None:
        """The target setting in force on ``day`` (settings are sorted by start)."""
        starts = [setting.starts for setting in self.targets]
        position = bisect.bisect_right(starts, day)
        return None if position == 0 else self.targets[position - 1]


@dataclass(frozen=True, kw_only=True)
class ObjectiveModel(Weighted):
    """An objective: its KPIs and the objectives of child scorecards aligned to it roll up into its score."""

    id: str
    name: str
    code: str = ""
    kpis: tuple[KpiModel, ...] = ()
    aligned_children: tuple[str, ...] = ()
    rollup: RollupMethod = RollupMethod.WEIGHTED_AVERAGE
    own_kpi: str | None = None
    """For the self-standing roll-up: the KPI whose score is the objective's own."""


@dataclass(frozen=True, kw_only=True)
class PerspectiveModel(Weighted):
    """A perspective and its objectives."""

    id: str
    name: str
    objectives: tuple[ObjectiveModel, ...] = ()
    rollup: RollupMethod = RollupMethod.WEIGHTED_AVERAGE


@dataclass(frozen=True, kw_only=True)
class ScorecardModel(Weighted):
    """A scorecard, its perspectives and its cascaded children, with the rules that apply to all of them."""

    id: str
    name: str
    perspectives: tuple[PerspectiveModel, ...] = ()
    children: tuple[ScorecardModel, ...] = ()
    calendar: FiscalCalendar = field(default_factory=FiscalCalendar)
    statuses: StatusScheme = field(default_factory=StatusScheme)
    rollup: RollupMethod = RollupMethod.WEIGHTED_AVERAGE
    due_days: int = 10
    grace_days: int = 0
    overdue_as_no_data: bool = False

    def all_scorecards(self) -> list[ScorecardModel]:
        """This scorecard and every descendant, parents before children."""
        found = [self]
        for child in self.children:
            found.extend(child.all_scorecards())
        return found


ValueStore = Mapping[str, Mapping[str, PeriodValue]]
"""Reported values: KPI id → period key → value. KPIs computed by formula or roll-up have no entries."""
