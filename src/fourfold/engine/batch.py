"""Bulk scoring: every KPI, objective, perspective and scorecard of many scorecards, for every period at once.

The explained path (:mod:`fourfold.engine.evaluate`) builds a trace for every number. That is what a page
about one scorecard needs, and far too slow for a portfolio overview, an export or the recompute after an
import: 500 scorecards of 20 KPIs over three years are 360 000 KPI-periods. This module computes the same
numbers, and only the numbers, with NumPy. :func:`compile_batch` turns the scorecard trees and their values
into arrays once; :meth:`Batch.compute` scores every period of the monthly, quarterly and yearly views;
:meth:`Batch.update_value` brings the scores up to date after one new value by recomputing only that KPI
and what depends on it.

The semantics are those of :mod:`~fourfold.engine.evaluate` for views of one period (``Span.PERIOD``); the
tests compare the two number by number on generated scorecards. What is vectorised, and what is not:

* **Values and targets.** Each reporting frequency keeps its KPIs on its own grid of periods. Aggregation to
  the view by each KPI's rule (sum, average, last, min, max, ratio of summed parts), the value as entered for
  a period read alone, inheritance by a finer view with the previous value carried forward, and targets and
  red flags combined by the same rules are array operations over all KPIs of a rule.
* **Computed KPIs.** Cascaded roll-ups (``rollup_sources``) and formulas are computed one KPI at a time,
  dependencies first, each over all periods at once. Formulas are evaluated as arrays, node by node, with
  the scalar rules for missing inputs, division by zero and tolerant comparisons. Formulas with the "last
  known" missing policy go through the scalar evaluator period by period, because their inputs reach back
  into the raw history before the view.
* **Scores.** The default methods (goal/red flag, linear progress, sign-safe ratio, yes/no, stabilize range)
  are array formulas. A target setting that names its own method is scored by that method's ``score``, one
  period at a time: such settings are few, and any of the methods may be configured.
* **Statuses and roll-ups.** Status thresholds, weighted and plain averages, worst child, count by status and
  self-standing objectives are array operations, one level at a time, bottom-up through the aligned
  objectives of cascaded scorecards.

The grid always covers whole fiscal years, so that no quarter or year is computed from part of its months.
"""

from __future__ import annotations

import graphlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.evaluate import Evaluator, kpi_series
from fourfold.engine.formulas import (
    Binary,
    Call,
    Expression,
    Formula,
    Number,
    Reference,
    Unary,
    UnitKind,
    check_formulas,
    round_half_away,
)
from fourfold.engine.model import (
    Direction,
    KpiModel,
    ObjectiveModel,
    PerspectiveModel,
    ScorecardModel,
    TargetSetting,
    ValueStore,
    View,
    Weighted,
)
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.rollup import RollupChild, RollupMethod, ValueRollupMethod
from fourfold.engine.scoring import (
    GOAL_SCORE,
    SCORE_MAX,
    SCORE_MIN,
    ScoringConfigError,
    ScoringMethod,
    method_from_config,
)
from fourfold.engine.status import Status, StatusScheme, is_overdue

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
StatusArray = npt.NDArray[np.int16]
"""Indexes into :attr:`BatchScores.statuses`; small, because a batch knows a handful of statuses."""

DEFAULT_VIEWS = (Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.YEARLY)

_RELATIVE_TOLERANCE = 1e-9
_ABSOLUTE_TOLERANCE = 1e-12
"""The tolerances of :func:`fourfold.engine.scoring.is_close`, so arrays compare as single values do."""

# Codes of the stored enums, for arrays: the position in the enum's declaration.
_RULES = tuple(Aggregation)
_ROLLUPS = tuple(RollupMethod)
_WEIGHTED_AVERAGE, _AVERAGE, _WORST, _COUNT_BY_STATUS, _SELF_STANDING = (
    _ROLLUPS.index(method)
    for method in (
        RollupMethod.WEIGHTED_AVERAGE,
        RollupMethod.AVERAGE,
        RollupMethod.WORST,
        RollupMethod.COUNT_BY_STATUS,
        RollupMethod.SELF_STANDING,
    )
)
_STORED, _ROLLED_UP, _FORMULA, _SCALAR_FORMULA = range(4)
"""Where a KPI's value comes from: the store, its cascaded sources, an array formula, the scalar evaluator."""


# Results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeScores:
    """Score and status of every node of one kind (KPIs, objectives, …) in every period of a view.

    Rows follow ``ids`` (``rows`` maps an id to its row), columns follow :attr:`ViewScores.periods`.
    ``score`` is NaN where there is no score (no data, nothing to score against, a status-only method);
    ``status`` indexes :attr:`BatchScores.statuses`. :meth:`Batch.update_value` updates both in place.
    """

    ids: tuple[str, ...]
    rows: Mapping[str, int]
    score: FloatArray
    status: StatusArray


@dataclass(frozen=True)
class ViewScores:
    """One view (monthly, quarterly or yearly) of the whole batch: the KPIs' figures and every node's score.

    ``value``, ``numerator`` and ``denominator`` are the KPIs' actuals for the view (the two parts only for
    ratio KPIs and inherited values), ``target`` and ``red_flag`` the thresholds combined like the actuals,
    and ``overdue`` says which KPIs miss their latest finished period's value past the due date and grace.
    """

    frequency: Frequency
    periods: tuple[Period, ...]
    columns: Mapping[str, int]
    kpis: NodeScores
    objectives: NodeScores
    perspectives: NodeScores
    scorecards: NodeScores
    value: FloatArray
    numerator: FloatArray
    denominator: FloatArray
    target: FloatArray
    red_flag: FloatArray
    overdue: BoolArray


@dataclass(frozen=True)
class BatchScores:
    """The computed views; live: :meth:`Batch.update_value` keeps the arrays current, it does not copy them."""

    views: Mapping[Frequency, ViewScores]
    statuses: Sequence[Status]
    """Every status the arrays refer to: the levels and no-data status of each scheme, then any status named
    by a rules method that its scheme does not have."""


@dataclass(frozen=True)
class NodeDelta:
    """The rows of one kind of node that an update recomputed, with their new scores and statuses."""

    rows: IndexArray
    score: FloatArray
    status: StatusArray


@dataclass(frozen=True)
class ViewDelta:
    """What an update changed in one view."""

    kpis: NodeDelta
    objectives: NodeDelta
    perspectives: NodeDelta
    scorecards: NodeDelta


@dataclass(frozen=True)
class BatchDelta:
    """What an update changed, view by view: enough to refresh exactly the figures on screen."""

    views: Mapping[Frequency, ViewDelta]


# Compiled structure -------------------------------------------------------------------------------------


class _StatusTable:
    """The statuses of a batch in one list, so that arrays of small integers can stand for them."""

    def __init__(self) -> None:
        self.statuses: list[Status] = []
        self._positions: dict[Status, int] = {}

    def index(self, status: Status) -> int:
        """The status's position, appending it the first time it is seen (rules may name ad-hoc statuses)."""
        position = self._positions.get(status)
        if position is None:
            position = self._positions[status] = len(self.statuses)
            self.statuses.append(status)
        return position


class _Scheme:
    """A status scheme as arrays: its thresholds, and where its statuses are in the status table."""

    def __init__(self, scheme: StatusScheme, table: _StatusTable) -> None:
        self.scheme = scheme
        # Validated by the scheme: only the last (catch-all) level may lack a threshold.
        self.thresholds = [float(level.min_score or 0.0) for level in scheme.levels[:-1]]
        self.levels = np.array([table.index(level) for level in scheme.levels], dtype=np.int16)
        self.no_data = np.int16(table.index(scheme.no_data))
        self.positions = {level.key: position for position, level in enumerate(scheme.levels)}

    def status_of(self, score: FloatArray) -> StatusArray:
        """``StatusScheme.status_for`` for an array: the best level the score as shown (two decimals) reaches."""
        status = np.full(score.shape, self.levels[-1], dtype=np.int16)
        shown = np.round(score, 2)
        # From the worst level up, so that the best level reached is written last.
        for position in range(len(self.thresholds) - 1, -1, -1):
            threshold = self.thresholds[position]
            reached = (shown >= threshold) | _close(score, np.float64(threshold))
            status = np.where(reached, self.levels[position], status)
        return np.where(np.isnan(score), self.no_data, status).astype(np.int16, copy=False)

    def keyed(self, key: str) -> int | None:
        """The status table index of this scheme's status with ``key``, if it has one."""
        position = self.positions.get(key)
        return None if position is None else int(self.levels[position])

    def level_lookup(self, table: _StatusTable) -> IndexArray:
        """For each status of the table, its level in this scheme by key (-1 if none): what counting matches."""
        return np.array([self.positions.get(status.key, -1) for status in table.statuses], dtype=np.intp)


@dataclass
class _Series:
    """The KPIs reported at one frequency, on that frequency's periods of the grid.

    Values are kept as reported (NaN for no data); ``reported`` says a value is on file even if it is empty,
    which is what "overdue" asks. ``setting`` is the target setting in force for each period, as an index
    into the batch's settings (-1, the sentinel, for none); targets are ``setting_at`` forward-filled. The
    first column is the period before the batch's first one, read only to carry a value forward.
    """

    index: int
    frequency: Frequency
    periods: tuple[Period, ...]
    columns: dict[str, int]
    ends: IndexArray
    rows: IndexArray
    value: FloatArray
    numerator: FloatArray
    denominator: FloatArray
    reported: BoolArray
    setting: IndexArray
    target: FloatArray
    target_set: BoolArray
    red_flag: FloatArray
    red_flag_set: BoolArray


@dataclass(frozen=True)
class _Reading:
    """Which columns of a series each column of a view reads (``Evaluator.periods_read``, for a grid).

    A finer KPI reads the consecutive columns ``starts[j]..lasts[j]``; a KPI as fine as the view reads one;
    a coarser KPI reads the column that contains the view's period (``inherited``). ``latest_finished`` is
    the last column read that ended before today (-1 if none), the one "overdue" looks at.
    """

    starts: IndexArray
    lasts: IndexArray
    single: bool
    inherited: bool
    latest_finished: IndexArray


@dataclass
class _Plan:
    """What one view needs besides the scores: the readings of each series, the weights, the settings used."""

    frequency: Frequency
    periods: tuple[Period, ...]
    readings: tuple[_Reading, ...]
    kpi_weight: FloatArray
    objective_weight: FloatArray
    perspective_weight: FloatArray
    last_setting: IndexArray
    """The setting of the last period each KPI reads: it decides the scoring method, as in the scalar path."""


_Node = TypeVar("_Node", ObjectiveModel, PerspectiveModel, ScorecardModel)


@dataclass(frozen=True)
class _Nodes(Generic[_Node]):
    """One level above the KPIs: each node's children in the level below (contiguous), roll-up and scheme."""

    ids: tuple[str, ...]
    rows: dict[str, int]
    child_start: IndexArray
    child_stop: IndexArray
    method: IndexArray
    scheme: IndexArray
    items: Sequence[_Node]


@dataclass(frozen=True)
class _Children:
    """The children of some parents, parent by parent, with what a roll-up reads of them."""

    counts: IndexArray
    score: FloatArray
    status: StatusArray
    weight: FloatArray
    counted: BoolArray
    """False for a KPI left out as overdue (``overdue_as_no_data``); whether it has a score is separate."""


# Array helpers ------------------------------------------------------------------------------------------


def _close(first: FloatArray, second: FloatArray | np.float64) -> BoolArray:
    """:func:`fourfold.engine.scoring.is_close` for arrays (``np.isclose`` is asymmetric, this is not)."""
    scale = np.maximum(np.abs(first), np.abs(second))
    return np.asarray(np.abs(first - second) <= np.maximum(_RELATIVE_TOLERANCE * scale, _ABSOLUTE_TOLERANCE))


def _finite(values: FloatArray) -> FloatArray:
    """Non-finite results become NaN, "no data": the scalar path never lets infinity or NaN through."""
    return np.where(np.isfinite(values), values, np.nan)


def _concatenated_ranges(starts: IndexArray, counts: IndexArray) -> IndexArray:
    """``range(start, start + count)`` for each pair, concatenated, without a Python loop.

    >>> _concatenated_ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    offsets = np.cumsum(counts) - counts
    return np.asarray(np.repeat(starts - offsets, counts) + np.arange(int(counts.sum())), dtype=np.intp)


def _per_parent(ufunc: np.ufunc, children: npt.NDArray[Any], counts: IndexArray, empty: float) -> npt.NDArray[Any]:
    """Reduce the rows of each parent's children with ``ufunc``; a parent without children gets ``empty``."""
    result = np.full((len(counts), children.shape[1]), empty, dtype=children.dtype)
    nonempty = counts > 0
    if nonempty.any():
        # reduceat reads segments up to the next start, so only parents that have rows may pass a start.
        starts = (np.cumsum(counts) - counts)[nonempty]
        result[nonempty] = ufunc.reduceat(children, starts, axis=0)
    return result


def _segment_sum(matrix: npt.NDArray[Any], reading: _Reading) -> FloatArray:
    """Sum each view column's columns of a series (a plain gather when each reads one)."""
    if reading.single:
        return np.asarray(matrix[:, reading.starts], dtype=np.float64)
    return np.asarray(np.add.reduceat(matrix, reading.starts, axis=1), dtype=np.float64)


def _combine(matrix: FloatArray, rule: Aggregation, reading: _Reading) -> FloatArray:
    """Aggregate values (NaN = no data) into the view's columns by a rule other than ratio.

    As in :func:`fourfold.engine.aggregation.aggregate`: periods without data are left out, never read as
    zero, and a view column none of whose periods has data gets NaN.
    """
    if reading.single:
        return matrix[:, reading.starts]
    if rule is Aggregation.MIN:
        return np.asarray(np.fmin.reduceat(matrix, reading.starts, axis=1))
    if rule is Aggregation.MAX:
        return np.asarray(np.fmax.reduceat(matrix, reading.starts, axis=1))
    present = ~np.isnan(matrix)
    if rule is Aggregation.LAST:
        positions = np.where(present, np.arange(matrix.shape[1]), -1)
        latest = np.maximum.accumulate(positions, axis=1)[:, reading.lasts]
        picked = np.take_along_axis(matrix, np.maximum(latest, 0), axis=1)
        return np.where(latest >= reading.starts, picked, np.nan)
    total = _segment_sum(np.where(present, matrix, 0.0), reading)
    count = _segment_sum(present, reading)
    if rule is Aggregation.SUM:
        return np.where(count > 0, total, np.nan)
    return np.where(count > 0, total / count, np.nan)


def _combine_threshold(matrix: FloatArray, is_set: BoolArray, rule: Aggregation, reading: _Reading) -> FloatArray:
    """A target or red flag for the view, combined like the values (``Evaluator._combined_threshold``).

    Ratio targets are averaged; a sum target needs a setting for every period read, because a partial sum
    would compare a whole quarter's actual with part of its target.
    """
    combined = _combine(matrix, Aggregation.AVERAGE if rule is Aggregation.RATIO else rule, reading)
    if rule is Aggregation.SUM and not reading.single:
        lengths = reading.lasts - reading.starts + 1
        combined = np.where(_segment_sum(is_set, reading) == lengths, combined, np.nan)
    return combined


def _ratio(
    numerator: FloatArray, denominator: FloatArray, reading: _Reading, scale: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A ratio KPI for the view: summed numerators over summed denominators, times the KPI's scale.

    Periods count only with both parts; the totals are returned too (0 when no period counts, as
    ``math.fsum`` of nothing), so that a ratio roll-up further up can add them again.
    """
    both = ~np.isnan(numerator) & ~np.isnan(denominator)
    numerators = _segment_sum(np.where(both, numerator, 0.0), reading)
    denominators = _segment_sum(np.where(both, denominator, 0.0), reading)
    counted = _segment_sum(both, reading) > 0
    value = np.where(counted & (denominators != 0), scale[:, None] * (numerators / denominators), np.nan)
    return value, numerators, denominators


# Array formulas -----------------------------------------------------------------------------------------

_COMPARISONS: Mapping[str, Callable[[FloatArray, FloatArray], BoolArray]] = {
    ">=": lambda left, right: (left > right) | _close(left, right),
    ">": lambda left, right: (left > right) & ~_close(left, right),
    "<=": lambda left, right: (left < right) | _close(left, right),
    "<": lambda left, right: (left < right) & ~_close(left, right),
    "==": _close,
    "!=": lambda left, right: ~_close(left, right),
}
"""The tolerant comparisons of formulas and status rules (``scoring.OPERATOR_TESTS``), for arrays."""

_ARITHMETIC: Mapping[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "^": np.power,
}
"""Raw arithmetic: a division by zero or an undefined power gives a non-finite number, which becomes NaN."""

_OF_VALUES: Mapping[str, Callable[[FloatArray], FloatArray]] = {
    "abs": lambda values: np.abs(values[0]),
    "avg": lambda values: (values / len(values)).sum(axis=0),
    "max": lambda values: values.max(axis=0),
    "min": lambda values: values.min(axis=0),
    "sum": lambda values: values.sum(axis=0),
}


def _formula_array(expression: Expression, inputs: Callable[[str], FloatArray], width: int) -> FloatArray:
    """A formula's value for every period at once, NaN where ``formulas.evaluate`` gives ``None``.

    Both branches of ``if``, ``and`` and ``or`` are computed and the taken one is picked per period, which
    gives the lazy scalar evaluation's result: an input missing in the branch not taken does not matter.
    """
    match expression:
        case Number(value):
            return np.full(width, value)
        case Reference(key):
            return inputs(key)
        case Unary("-", operand):
            return -_formula_array(operand, inputs, width)
        case Unary(_, operand):
            inner = _formula_array(operand, inputs, width)
            return np.where(np.isnan(inner), np.nan, inner == 0)
        case Binary("and" | "or" as operator, left, right):
            first = _formula_array(left, inputs, width)
            second = _formula_array(right, inputs, width)
            decided_by_left = (first != 0) == (operator == "or")
            result = np.where(decided_by_left, first != 0, np.where(np.isnan(second), np.nan, second != 0))
            return np.where(np.isnan(first), np.nan, result)
        case Binary(operator, left, right):
            first = _formula_array(left, inputs, width)
            second = _formula_array(right, inputs, width)
            if operator in _COMPARISONS:
                result = _COMPARISONS[operator](first, second).astype(np.float64)
            else:
                result = _finite(_ARITHMETIC[operator](first, second))
            return np.where(np.isnan(first) | np.isnan(second), np.nan, result)
        case Call("if", (condition, when_true, when_false)):
            test = _formula_array(condition, inputs, width)
            chosen = np.where(
                test != 0, _formula_array(when_true, inputs, width), _formula_array(when_false, inputs, width)
            )
            return np.where(np.isnan(test), np.nan, chosen)
        case Call("round", arguments):
            # Rounding on the decimal text (half away from zero) has no NumPy equivalent; periods are few.
            values = [_formula_array(argument, inputs, width) for argument in arguments]
            digits = values[1] if len(values) == 2 else np.zeros(width)
            return np.array(
                [
                    np.nan if math.isnan(number) or math.isnan(places) else round_half_away(number, int(places))
                    for number, places in zip(values[0].tolist(), digits.tolist(), strict=True)
                ]
            )
        case Call(function, arguments):
            stacked = np.vstack([_formula_array(argument, inputs, width) for argument in arguments])
            result = _finite(_OF_VALUES[function](stacked))
            return np.where(np.isnan(stacked).any(axis=0), np.nan, result)


# Default scoring methods as arrays --------------------------------------------------------------------
# Each mirrors the method ``evaluate.default_method`` would build for the element; the caller picks, per
# element, the one that applies, so all of them see every element and may compute nonsense where unused.


def _yes_no_scores(value: FloatArray, target: FloatArray, lower_is_better: BoolArray) -> FloatArray:
    """``YesNo``: the better answer (the target's, else the direction's) scores 10, the other 0."""
    yes_is_better = np.where(np.isnan(target), ~lower_is_better, target != 0)
    return np.where((value != 0) == yes_is_better, SCORE_MAX, SCORE_MIN)


def _series_at(
    target: FloatArray, red_flag: FloatArray, baseline: float, cell: tuple[int, int]
) -> dict[str, float | None]:
    """What rules may compare with at one cell, as the scalar path passes it (``kpi_series``)."""
    return kpi_series(_optional(target[cell]), _optional(red_flag[cell]), _optional(baseline))


def _optional(number: float | np.floating[Any]) -> float | None:
    return None if math.isnan(number) else float(number)


def _stabilize_scores(value: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """The stabilize breakpoints: 10 inside the range, falling to 0 one range width outside it."""
    spread = high - low
    width = np.where(spread != 0, spread, np.maximum(np.abs(low) * 0.1, 1.0))
    edges = (low - width, low, high, high + width)
    # The index of the last breakpoint at or below the value, as ``Breakpoints`` locates it.
    position = sum((value >= edge).astype(np.intp) for edge in edges) - 1
    rising = SCORE_MIN + (value - edges[0]) / (edges[1] - edges[0]) * (SCORE_MAX - SCORE_MIN)
    falling = SCORE_MAX + (value - edges[2]) / (edges[3] - edges[2]) * (SCORE_MIN - SCORE_MAX)
    return np.select([position == 0, position == 1, position == 2], [rising, SCORE_MAX, falling], SCORE_MIN)


def _goal_red_flag_scores(value: FloatArray, goal: FloatArray, red_flag: FloatArray, higher: BoolArray) -> FloatArray:
    """``GoalRedFlag``: the red flag scores 3.33, the goal 6.67; coinciding anchors score met/beaten/missed."""
    distance = goal - red_flag
    raw = SCORE_MAX * (1 + (value - red_flag) / distance) / 3
    beyond = np.where((value > goal) == higher, SCORE_MAX, SCORE_MIN)
    coinciding = np.where(_close(value, goal), GOAL_SCORE, beyond)
    return np.where(distance == 0, coinciding, np.clip(raw, SCORE_MIN, SCORE_MAX))


def _linear_scores(value: FloatArray, baseline: FloatArray, target: FloatArray) -> FloatArray:
    """``LinearProgress``: the way from the baseline (0) to the target (10), clamped."""
    return np.clip(SCORE_MAX * ((value - baseline) / (target - baseline)), SCORE_MIN, SCORE_MAX)


def _ratio_to_target_scores(value: FloatArray, target: FloatArray, higher: BoolArray) -> FloatArray:
    """``SignSafeRatio``: the sign-safe percentage of target, divided by 10 and clamped."""
    scale = np.where(target != 0, np.abs(target), 1.0)
    ratio = np.where(higher, (value - target + scale) / scale, 1 - (value - target) / scale)
    return np.clip(ratio * 100 / 10, SCORE_MIN, SCORE_MAX)


# The batch ----------------------------------------------------------------------------------------------


def compile_batch(
    roots: Sequence[ScorecardModel],
    values: ValueStore,
    calendar: FiscalCalendar,
    periods: Sequence[Period],
    *,
    today: date,
) -> Batch:
    """Compile scorecard trees and their values into arrays, once, for repeated bulk computation.

    ``roots`` are independent trees, each evaluated as ``evaluate_scorecard`` evaluates it: aligned objectives
    and roll-up sources are looked up within the tree. ``periods`` say which time to cover; the grid is
    widened to the whole fiscal years that contain them. ``today`` decides which values are overdue.
    Identifiers must be unique across the batch and every root must use ``calendar``. Configuration errors
    that make the scalar path raise when it meets them (bad weights, formula cycles, unknown roll-up
    sources) raise here, at once.
    """
    return Batch(roots, values, calendar, periods, today=today)


class Batch:
    """Scorecard trees compiled into arrays; build it with :func:`compile_batch`.

    The batch keeps its own copy of the values, so :meth:`update_value` changes them without touching the
    caller's store.
    """

    def __init__(
        self,
        roots: Sequence[ScorecardModel],
        values: ValueStore,
        calendar: FiscalCalendar,
        periods: Sequence[Period],
        *,
        today: date,
    ) -> None:
        if not periods:
            raise ValueError("a batch needs at least one period to cover")
        for root in roots:
            if root.calendar != calendar:
                raise ValueError(f"scorecard {root.id} uses another fiscal calendar than the batch")
        self.roots = tuple(roots)
        self.calendar = calendar
        self.today = today
        first, last = (
            period if period.frequency is Frequency.YEARLY else calendar.parent(period, Frequency.YEARLY)
            for period in (min(periods), max(periods))
        )
        self.years = tuple(calendar.span(first, last))
        self._store = {kpi_id: dict(readings) for kpi_id, readings in values.items()}
        self._table = _StatusTable()
        self._schemes: list[_Scheme] = []
        self._scheme_positions: dict[StatusScheme, int] = {}
        self._plans: dict[Frequency, _Plan] = {}
        self._scores: BatchScores | None = None
        self._compile_tree()
        self._compile_kpis()
        self._compile_settings()
        self._kpi_series_index = np.zeros(len(self._kpis), dtype=np.intp)
        self._kpi_local = np.zeros(len(self._kpis), dtype=np.intp)
        self._series = tuple(
            self._compile_series(index, frequency)
            for index, frequency in enumerate(sorted({kpi.frequency for kpi in self._kpis}, key=lambda f: f.rank))
        )

    def periods(self, frequency: Frequency) -> tuple[Period, ...]:
        """The periods of a view: every period of ``frequency`` in the batch's fiscal years."""
        return _grid(self.calendar, self.years, frequency)

    # Compilation --------------------------------------------------------------------------------------

    def _scheme(self, scheme: StatusScheme) -> int:
        position = self._scheme_positions.get(scheme)
        if position is None:
            position = self._scheme_positions[scheme] = len(self._schemes)
            self._schemes.append(_Scheme(scheme, self._table))
        return position

    def _compile_tree(self) -> None:
        """Number the nodes in tree order, so that each node's children are a contiguous range of rows."""
        self._cards: list[ScorecardModel] = []
        card_root: list[int] = []
        for root_index, root in enumerate(self.roots):
            for card in root.all_scorecards():
                self._cards.append(card)
                card_root.append(root_index)
        perspectives: list[PerspectiveModel] = []
        objectives: list[ObjectiveModel] = []
        self._kpis: list[KpiModel] = []
        perspective_card: list[int] = []
        objective_perspective: list[int] = []
        kpi_objective: list[int] = []
        self._card_objectives: list[range] = []
        for card_index, card in enumerate(self._cards):
            first_objective = len(objectives)
            for perspective in card.perspectives:
                perspective_card.append(card_index)
                perspectives.append(perspective)
                for objective in perspective.objectives:
                    objective_perspective.append(len(perspectives) - 1)
                    objectives.append(objective)
                    kpi_objective.extend([len(objectives) - 1] * len(objective.kpis))
                    self._kpis.extend(objective.kpis)
            self._card_objectives.append(range(first_objective, len(objectives)))
        card_scheme = np.array([self._scheme(card.statuses) for card in self._cards], dtype=np.intp)
        self._perspective_card = np.array(perspective_card, dtype=np.intp)
        self._objective_perspective = np.array(objective_perspective, dtype=np.intp)
        self._kpi_objective = np.array(kpi_objective, dtype=np.intp)
        objective_card = self._perspective_card[self._objective_perspective]
        self._kpi_card = objective_card[self._kpi_objective]
        self._kpi_root = np.array(card_root, dtype=np.intp)[self._kpi_card]
        self._kpi_scheme = card_scheme[self._kpi_card]
        self._scorecards = _nodes(
            "scorecard", self._cards, [len(card.perspectives) for card in self._cards], card_scheme
        )
        self._perspectives = _nodes(
            "perspective",
            perspectives,
            [len(perspective.objectives) for perspective in perspectives],
            card_scheme[self._perspective_card],
        )
        self._objectives = _nodes(
            "objective", objectives, [len(objective.kpis) for objective in objectives], card_scheme[objective_card]
        )
        self._kpi_ids = tuple(kpi.id for kpi in self._kpis)
        self._kpi_rows = _unique_rows("KPI", self._kpi_ids)
        self._own_kpi = np.array(
            [
                next((self._kpi_rows[kpi.id] for kpi in objective.kpis if kpi.id == objective.own_kpi), -1)
                for objective in objectives
            ],
            dtype=np.intp,
        )
        for card in self._cards:
            # The scalar path checks these when it first needs them; a batch fails at once, with its message.
            is_overdue(
                period_end=self.today,
                due_days=card.due_days,
                grace_days=card.grace_days,
                today=self.today,
                has_value=True,
            )
        weighted: list[KpiModel | ObjectiveModel | PerspectiveModel] = [*self._kpis, *objectives, *perspectives]
        for item in weighted:
            for weight in (item.weight, *(change.weight for change in item.weight_changes)):
                RollupChild(item.id, item.name, None, weight)
        self._compile_alignment()

    def _compile_alignment(self) -> None:
        """Link objectives to the aligned objectives of cascaded scorecards, in the scalar evaluation order.

        ``Evaluator`` evaluates child scorecards before their parent and counts an aligned objective only if
        it has been evaluated by then; the same order decides here which links count, and each objective's
        level: 0 without aligned children, else one more than its highest aligned child.
        """
        objectives = self._objectives.items
        card_positions = {id(card): position for position, card in enumerate(self._cards)}
        aligned: list[list[int]] = [[] for _ in objectives]
        levels = [0] * len(objectives)
        for root in self.roots:
            evaluated: dict[str, int] = {}
            for card in _children_first(root):
                for row in self._card_objectives[card_positions[id(card)]]:
                    objective = objectives[row]
                    aligned[row] = [evaluated[child] for child in objective.aligned_children if child in evaluated]
                    if len(set(aligned[row])) < len(aligned[row]):
                        # ``rollup_scores`` refuses the same child twice; ids that count for nothing do not matter.
                        raise ScoringConfigError(f"child ids must be unique: objective {objective.id} aligns one twice")
                    levels[row] = max((levels[child] + 1 for child in aligned[row]), default=0)
                    evaluated[objective.id] = row
        self._aligned_pointer = np.cumsum([0, *(len(children) for children in aligned)], dtype=np.intp)
        self._aligned_child = np.array([child for children in aligned for child in children], dtype=np.intp)
        self._aligned_parents: list[list[int]] = [[] for _ in objectives]
        for parent, children in enumerate(aligned):
            for child in children:
                self._aligned_parents[child].append(parent)
        self._objective_level = np.array(levels, dtype=np.intp)
        self._objective_levels = [
            np.flatnonzero(self._objective_level == level) for level in range(max(levels, default=-1) + 1)
        ]

    def _compile_kpis(self) -> None:
        """Per-KPI codes (rule, direction, unit, baseline) and the order of computed KPIs."""
        kpis = self._kpis
        self._kpi_rule = np.array([_RULES.index(Aggregation(kpi.aggregation)) for kpi in kpis], dtype=np.intp)
        self._kpi_scale = np.array(
            [kpi.ratio_scale if kpi.aggregation is Aggregation.RATIO else 1.0 for kpi in kpis], dtype=np.float64
        )
        self._yes_no = np.array([kpi.unit is UnitKind.YES_NO for kpi in kpis], dtype=np.bool_)
        self._in_range = np.array([kpi.direction is Direction.RANGE for kpi in kpis], dtype=np.bool_)
        self._higher = np.array([kpi.direction is Direction.HIGHER for kpi in kpis], dtype=np.bool_)
        self._lower = np.array([kpi.direction is Direction.LOWER for kpi in kpis], dtype=np.bool_)
        self._baseline_set = np.array([kpi.baseline is not None for kpi in kpis], dtype=np.bool_)
        self._baseline = np.array([np.nan if kpi.baseline is None else kpi.baseline for kpi in kpis], dtype=np.float64)
        self._due_after = np.array(
            [self._cards[card].due_days + self._cards[card].grace_days for card in self._kpi_card.tolist()],
            dtype=np.intp,
        )
        self._overdue_excludes = np.array(
            [self._cards[card].overdue_as_no_data for card in self._kpi_card.tolist()], dtype=np.bool_
        )
        self._kpi_source = np.full(len(kpis), _STORED, dtype=np.intp)
        self._formulas: dict[int, Formula] = {}
        self._formula_inputs: dict[int, dict[str, int]] = {}
        self._rollup_sources: dict[int, IndexArray] = {}
        dependencies: dict[int, list[int]] = {}
        root_rows: list[dict[str, int]] = [{} for _ in self.roots]
        for row, root in enumerate(self._kpi_root.tolist()):
            root_rows[root][kpis[row].id] = row
        for card, objective_rows in enumerate(self._card_objectives):
            rows = [
                row
                for objective in objective_rows
                for row in range(self._objectives.child_start[objective], self._objectives.child_stop[objective])
            ]
            by_key = {kpis[row].key: row for row in rows}
            if len(by_key) < len(rows):
                raise ValueError(f"KPI keys must be unique within scorecard {self._cards[card].id}")
            check_formulas(
                {key: formula for key, row in by_key.items() if (formula := kpis[row].formula) is not None},
                by_key.keys(),
            )
            for row in rows:
                kpi = kpis[row]
                if kpi.rollup_sources:
                    ValueRollupMethod(kpi.value_rollup)
                    unknown = [source for source in kpi.rollup_sources if source not in root_rows[self._kpi_root[row]]]
                    if unknown:
                        raise ScoringConfigError(
                            f"roll-up source {unknown[0]} of KPI {kpi.id} is not a KPI of its scorecard tree"
                        )
                    self._kpi_source[row] = _ROLLED_UP
                    sources = [root_rows[self._kpi_root[row]][source] for source in kpi.rollup_sources]
                    self._rollup_sources[row] = np.array(sources, dtype=np.intp)
                    dependencies[row] = sources
                elif kpi.formula is not None:
                    # Only these two policies are array formulas; "last known" and bad policies go to the scalar
                    # evaluator, which reads the history or raises as it should.
                    vectorised = kpi.missing_policy in {"no_data", "zero"}
                    self._kpi_source[row] = _FORMULA if vectorised else _SCALAR_FORMULA
                    self._formulas[row] = kpi.formula
                    self._formula_inputs[row] = {key: by_key[key] for key in kpi.formula.dependencies}
                    dependencies[row] = list(self._formula_inputs[row].values())
        self._dependants: list[list[int]] = [[] for _ in kpis]
        for row, inputs in dependencies.items():
            for dependency in inputs:
                self._dependants[dependency].append(row)
        graph = {
            row: [dependency for dependency in inputs if dependency in dependencies]
            for row, inputs in dependencies.items()
        }
        try:
            order = list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as error:
            cycle = " → ".join(kpis[row].id for row in error.args[1])
            raise ScoringConfigError(f"KPIs computed from each other: {cycle}") from None
        self._derived_rank = np.full(len(kpis), -1, dtype=np.intp)
        self._derived_rank[order] = np.arange(len(order))

    def _compile_settings(self) -> None:
        """Every target setting of every KPI as arrays, with a sentinel last entry that stands for "none"."""
        settings = [setting for kpi in self._kpis for setting in kpi.targets]
        self._setting_offset = np.cumsum([0, *(len(kpi.targets) for kpi in self._kpis)], dtype=np.intp)[:-1]
        self._setting_target = _thresholds(setting.target for setting in settings)
        self._setting_target_set = np.array([setting.target is not None for setting in settings] + [False])
        self._setting_red_flag = _thresholds(setting.red_flag for setting in settings)
        self._setting_red_flag_set = np.array([setting.red_flag is not None for setting in settings] + [False])
        self._setting_low = _thresholds(setting.range_low for setting in settings)
        self._setting_high = _thresholds(setting.range_high for setting in settings)
        # ``_stabilize`` refuses a missing or inverted range; infinities fail its breakpoint checks.
        self._setting_range_valid = (
            np.isfinite(self._setting_low) & np.isfinite(self._setting_high) & (self._setting_low <= self._setting_high)
        )
        # Targets reached over a span are judged by the explained path, cell by cell, like explicit methods.
        self._setting_progress = np.array([setting.reach_by is not None for setting in settings] + [False])
        self._setting_explicit = (
            np.array([bool(setting.method) for setting in settings] + [False]) | self._setting_progress
        )
        self._methods: list[ScoringMethod | None] = [_explicit_method(setting) for setting in settings]

    def _compile_series(self, index: int, frequency: Frequency) -> _Series:
        """The values and settings of the KPIs reported at ``frequency``, on that frequency's grid.

        The grid starts one period early: a coarser KPI without a value yet carries its previous one forward,
        and the first period of the batch must be able to find it.
        """
        grid = _grid(self.calendar, self.years, frequency)
        periods = (self.calendar.previous(grid[0]), *grid)
        columns = {period.key: column for column, period in enumerate(periods)}
        rows = np.array([row for row, kpi in enumerate(self._kpis) if kpi.frequency == frequency], dtype=np.intp)
        shape = (len(rows), len(periods))
        cells: tuple[list[int], list[int]] = ([], [])
        readings: list[PeriodValue] = []
        for local, row in enumerate(rows.tolist()):
            if self._kpi_source[row] != _STORED:
                continue
            for key, reading in self._store.get(self._kpis[row].id, {}).items():
                column = columns.get(key)
                if column is not None:
                    cells[0].append(local)
                    cells[1].append(column)
                    readings.append(reading)
        value, numerator, denominator = (np.full(shape, np.nan) for _ in range(3))
        reported = np.zeros(shape, dtype=np.bool_)
        value[cells] = _present([reading.value for reading in readings])
        numerator[cells] = _present([reading.numerator for reading in readings])
        denominator[cells] = _present([reading.denominator for reading in readings])
        reported[cells] = True
        starts = np.array([period.start.toordinal() for period in periods])
        setting = np.full(shape, -1, dtype=np.intp)
        for local, row in enumerate(rows.tolist()):
            targets = self._kpis[row].targets
            if targets:
                # ``setting_at``: the latest setting starting on or before the period's first day.
                position = np.searchsorted([target.starts.toordinal() for target in targets], starts, side="right") - 1
                setting[local] = np.where(position >= 0, self._setting_offset[row] + position, -1)
        self._kpi_series_index[rows] = index
        self._kpi_local[rows] = np.arange(len(rows))
        return _Series(
            index=index,
            frequency=frequency,
            periods=periods,
            columns=columns,
            ends=np.array([period.end.toordinal() for period in periods], dtype=np.intp),
            rows=rows,
            value=value,
            numerator=numerator,
            denominator=denominator,
            reported=reported,
            setting=setting,
            target=self._setting_target[setting],
            target_set=self._setting_target_set[setting],
            red_flag=self._setting_red_flag[setting],
            red_flag_set=self._setting_red_flag_set[setting],
        )

    # Computation --------------------------------------------------------------------------------------

    def compute(self, views: Iterable[Frequency] = DEFAULT_VIEWS) -> BatchScores:
        """Score every KPI and node for every period of each view, from scratch.

        The result is live: :meth:`update_value` updates the arrays of the latest ``compute`` in place (and
        reports what changed), so a cache holding it stays current without copying 360 000 scores a time.
        """
        computed: dict[Frequency, ViewScores] = {}
        everything = np.arange(len(self._kpis), dtype=np.intp)
        with np.errstate(all="ignore"):
            for frequency in views:
                plan = self._plan(Frequency(frequency))
                view = self._empty_view(plan)
                self._compute_kpis(plan, view, everything)
                for level in self._objective_levels:
                    self._roll_up_objectives(plan, view, level)
                self._roll_up_range(self._perspectives, view.perspectives, view.objectives, plan.objective_weight)
                self._roll_up_range(self._scorecards, view.scorecards, view.perspectives, plan.perspective_weight)
                computed[plan.frequency] = view
        self._scores = BatchScores(computed, self._table.statuses)
        return self._scores

    def update_value(
        self,
        kpi_id: str,
        period_key: str,
        value: float | None,
        numerator: float | None = None,
        denominator: float | None = None,
    ) -> BatchDelta:
        """Record one reported value and bring the computed views up to date; return what was recomputed.

        Only the KPI, the KPIs computed from it (formulas, roll-ups, transitively), their objectives, the
        objectives those are aligned to up the cascade, and their perspectives and scorecards are
        recomputed, in every view of the last :meth:`compute`. A ``None`` value is on file but empty, as in
        the store: the period has no data but is not overdue.
        """
        if self._scores is None:
            raise RuntimeError("compute() the batch before updating it")
        row = self._kpi_rows[kpi_id]
        if self._kpi_source[row] != _STORED:
            raise ValueError(f"KPI {kpi_id} is computed from other KPIs; it has no values of its own")
        series = self._series[self._kpi_series_index[row]]
        column = series.columns.get(period_key)
        if column is None:
            raise KeyError(f"{period_key} is not a {series.frequency} period of the batch's fiscal years")
        local = self._kpi_local[row]
        series.value[local, column], series.numerator[local, column], series.denominator[local, column] = _present(
            [value, numerator, denominator]
        )
        series.reported[local, column] = True
        self._store.setdefault(kpi_id, {})[period_key] = PeriodValue(
            series.periods[column], value, numerator, denominator
        )
        kpis = self._affected_kpis(row)
        objectives = self._affected_objectives(kpis)
        perspectives = np.unique(self._objective_perspective[objectives])
        scorecards = np.unique(self._perspective_card[perspectives])
        deltas: dict[Frequency, ViewDelta] = {}
        with np.errstate(all="ignore"):
            for frequency, view in self._scores.views.items():
                plan = self._plans[frequency]
                self._compute_kpis(plan, view, kpis)
                levels = self._objective_level[objectives]
                for level in np.unique(levels).tolist():
                    self._roll_up_objectives(plan, view, objectives[levels == level])
                self._roll_up_range(
                    self._perspectives, view.perspectives, view.objectives, plan.objective_weight, perspectives
                )
                self._roll_up_range(
                    self._scorecards, view.scorecards, view.perspectives, plan.perspective_weight, scorecards
                )
                deltas[frequency] = ViewDelta(
                    _delta(view.kpis, kpis),
                    _delta(view.objectives, objectives),
                    _delta(view.perspectives, perspectives),
                    _delta(view.scorecards, scorecards),
                )
        return BatchDelta(deltas)

    def _affected_kpis(self, row: int) -> IndexArray:
        """The KPI and every KPI computed from it, directly or through others."""
        found = {row}
        pending = [row]
        while pending:
            for dependant in self._dependants[pending.pop()]:
                if dependant not in found:
                    found.add(dependant)
                    pending.append(dependant)
        return np.array(sorted(found), dtype=np.intp)

    def _affected_objectives(self, kpis: IndexArray) -> IndexArray:
        """The objectives of the KPIs and every objective they are aligned to, up the cascade."""
        found = set(self._kpi_objective[kpis].tolist())
        pending = list(found)
        while pending:
            for parent in self._aligned_parents[pending.pop()]:
                if parent not in found:
                    found.add(parent)
                    pending.append(parent)
        return np.array(sorted(found), dtype=np.intp)

    def _plan(self, frequency: Frequency) -> _Plan:
        plan = self._plans.get(frequency)
        if plan is None:
            periods = _grid(self.calendar, self.years, frequency)
            plan = self._plans[frequency] = _Plan(
                frequency=frequency,
                periods=periods,
                readings=tuple(_reading(self.calendar, series, periods, self.today) for series in self._series),
                kpi_weight=_weights(self._kpis, periods),
                objective_weight=_weights(self._objectives.items, periods),
                perspective_weight=_weights(self._perspectives.items, periods),
                last_setting=np.full((len(self._kpis), len(periods)), -1, dtype=np.intp),
            )
        return plan

    def _empty_view(self, plan: _Plan) -> ViewScores:
        width = len(plan.periods)

        def scores(ids: tuple[str, ...], rows: Mapping[str, int]) -> NodeScores:
            return NodeScores(
                ids, rows, np.full((len(ids), width), np.nan), np.zeros((len(ids), width), dtype=np.int16)
            )

        shape = (len(self._kpi_ids), width)
        return ViewScores(
            frequency=plan.frequency,
            periods=plan.periods,
            columns={period.key: column for column, period in enumerate(plan.periods)},
            kpis=scores(self._kpi_ids, self._kpi_rows),
            objectives=scores(self._objectives.ids, self._objectives.rows),
            perspectives=scores(self._perspectives.ids, self._perspectives.rows),
            scorecards=scores(self._scorecards.ids, self._scorecards.rows),
            value=np.full(shape, np.nan),
            numerator=np.full(shape, np.nan),
            denominator=np.full(shape, np.nan),
            target=np.full(shape, np.nan),
            red_flag=np.full(shape, np.nan),
            overdue=np.zeros(shape, dtype=np.bool_),
        )

    # KPIs ---------------------------------------------------------------------------------------------

    def _compute_kpis(self, plan: _Plan, view: ViewScores, rows: IndexArray) -> None:
        """Values, targets, scores and statuses of the KPIs ``rows`` (sorted) for every period of the view."""
        series_of_rows = self._kpi_series_index[rows]
        for series, reading in zip(self._series, plan.readings, strict=True):
            local = self._kpi_local[rows[series_of_rows == series.index]]
            if local.size:
                self._read_series(plan, view, series, reading, local)
        derived = rows[self._derived_rank[rows] >= 0]
        evaluators: dict[tuple[int, int], Evaluator] = {}
        for row in derived[np.argsort(self._derived_rank[derived])].tolist():
            source = self._kpi_source[row]
            if source == _ROLLED_UP:
                view.value[row] = self._rolled_up_value(view, row)
            elif source == _FORMULA:
                view.value[row] = self._formula_value(view, row)
            else:
                view.value[row] = self._scalar_value(plan, row, evaluators)
        self._score_kpis(plan, view, rows)

    def _read_series(
        self, plan: _Plan, view: ViewScores, series: _Series, reading: _Reading, local: IndexArray
    ) -> None:
        """Aggregate reported values, targets and red flags into the view, one aggregation rule at a time."""
        if reading.inherited:
            self._inherit_series(plan, view, series, reading, local)
            return
        rows = series.rows[local]
        rules = self._kpi_rule[rows]
        for code in np.unique(rules).tolist():
            chosen = local[rules == code]
            out = series.rows[chosen]
            rule = _RULES[code]
            if rule is Aggregation.RATIO:
                value, numerator, denominator = _ratio(
                    series.numerator[chosen], series.denominator[chosen], reading, self._kpi_scale[out]
                )
            else:
                value = _combine(series.value[chosen], rule, reading)
                numerator = denominator = np.full(value.shape, np.nan)
            if reading.single:
                # The one period read shows its value as entered, parts included, when it has one.
                entered = series.value[chosen][:, reading.starts]
                has_value = ~np.isnan(entered)
                value = np.where(has_value, entered, value)
                numerator = np.where(has_value, series.numerator[chosen][:, reading.starts], numerator)
                denominator = np.where(has_value, series.denominator[chosen][:, reading.starts], denominator)
            view.value[out], view.numerator[out], view.denominator[out] = value, numerator, denominator
            view.target[out] = _combine_threshold(series.target[chosen], series.target_set[chosen], rule, reading)
            view.red_flag[out] = _combine_threshold(series.red_flag[chosen], series.red_flag_set[chosen], rule, reading)
        plan.last_setting[rows] = series.setting[local][:, reading.lasts]
        latest = np.maximum(reading.latest_finished, 0)
        view.overdue[rows] = (
            (reading.latest_finished >= 0)
            & ~series.reported[local][:, latest]
            & (self.today.toordinal() > series.ends[latest] + self._due_after[rows, None])
            & (self._kpi_source[rows] == _STORED)[:, None]
        )

    def _inherit_series(
        self, plan: _Plan, view: ViewScores, series: _Series, reading: _Reading, local: IndexArray
    ) -> None:
        """A coarser KPI on a finer view: the containing period's value as stored, even a ratio's.

        When that period has no value yet, the value of the period just before is carried forward, and
        then that earlier period decides the target, the method and "overdue" too, as in the scalar path.
        """
        rows = series.rows[local]
        containing = reading.starts
        carried = np.isnan(series.value[local][:, containing]) & ~np.isnan(series.value[local][:, containing - 1])
        column = np.where(carried, containing - 1, containing)

        def at(matrix: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return np.take_along_axis(matrix[local], column, axis=1)

        view.value[rows], view.numerator[rows], view.denominator[rows] = (
            at(series.value),
            at(series.numerator),
            at(series.denominator),
        )
        view.target[rows], view.red_flag[rows] = at(series.target), at(series.red_flag)
        plan.last_setting[rows] = at(series.setting)
        # A carried value stands in for a period not reported yet: that period decides "overdue".
        latest = np.maximum(reading.latest_finished, 0)
        stored = (self._kpi_source[rows] == _STORED)[:, None]
        awaited_late = (
            carried
            & ~series.reported[local][:, containing]
            & (self.today.toordinal() > series.ends[containing] + self._due_after[rows, None])
        )
        view.overdue[rows] = stored & (
            awaited_late
            | (
                (reading.latest_finished >= 0)
                & ~carried
                & ~series.reported[local][:, latest]
                & (self.today.toordinal() > series.ends[latest] + self._due_after[rows, None])
            )
        )

    def _rolled_up_value(self, view: ViewScores, row: int) -> FloatArray:
        """A cascaded KPI from its sources' values for the view (``rollup.rollup_values``, per period)."""
        sources = self._rollup_sources[row]
        method = ValueRollupMethod(self._kpis[row].value_rollup)
        view.numerator[row] = view.denominator[row] = np.nan
        if method is ValueRollupMethod.RATIO:
            numerators, denominators = view.numerator[sources], view.denominator[sources]
            both = ~np.isnan(numerators) & ~np.isnan(denominators)
            total = np.where(both, numerators, 0.0).sum(axis=0)
            divisor = np.where(both, denominators, 0.0).sum(axis=0)
            used = both.any(axis=0)
            view.numerator[row] = np.where(used, total, np.nan)
            view.denominator[row] = np.where(used, divisor, np.nan)
            scale = self._kpis[row].ratio_scale
            return np.where(used & (divisor != 0), scale * total / np.where(divisor != 0, divisor, 1.0), np.nan)
        values = view.value[sources]
        if method is ValueRollupMethod.MIN:
            return np.asarray(np.fmin.reduce(values, axis=0))
        if method is ValueRollupMethod.MAX:
            return np.asarray(np.fmax.reduce(values, axis=0))
        present = ~np.isnan(values)
        count = present.sum(axis=0)
        total = np.where(present, values, 0.0).sum(axis=0)
        return np.where(count > 0, total if method is ValueRollupMethod.SUM else total / count, np.nan)

    def _formula_value(self, view: ViewScores, row: int) -> FloatArray:
        """A formula KPI from its siblings' values for the view, with "no data" or "zero" for missing inputs."""
        inputs = self._formula_inputs[row]
        as_zero = self._kpis[row].missing_policy == "zero"
        view.numerator[row] = view.denominator[row] = np.nan

        def value_of(key: str) -> FloatArray:
            values = view.value[inputs[key]]
            return np.where(np.isnan(values), 0.0, values) if as_zero else values

        return _formula_array(self._formulas[row].expression, value_of, view.value.shape[1])

    def _scalar_value(self, plan: _Plan, row: int, evaluators: dict[tuple[int, int], Evaluator]) -> FloatArray:
        """A KPI's value from the scalar evaluator, period by period (one evaluator per tree and period)."""
        root = int(self._kpi_root[row])
        found: list[float] = []
        for column, period in enumerate(plan.periods):
            evaluator = evaluators.get((root, column))
            if evaluator is None:
                evaluator = evaluators[root, column] = Evaluator(
                    self.roots[root], self._store, View(period), today=self.today
                )
            value = evaluator.value(self._kpis[row]).value
            found.append(np.nan if value is None else value)
        return np.array(found, dtype=np.float64)

    def _score_kpis(self, plan: _Plan, view: ViewScores, rows: IndexArray) -> None:
        """Score the KPIs ``rows`` by the method each period's last setting implies, then give them statuses.

        The default method is decided per element exactly as ``evaluate.default_method`` decides it, including
        the settings it refuses (an inverted goal and red flag, a baseline on the wrong side, a bad range),
        which leave the element unscored.
        """
        value = view.value[rows]
        target = view.target[rows]
        red_flag = view.red_flag[rows]
        setting = plan.last_setting[rows]
        explicit = self._setting_explicit[setting]
        higher = self._higher[rows, None]
        baseline = self._baseline[rows, None]
        defaulted = (setting >= 0) & ~explicit
        yes_no = defaulted & self._yes_no[rows, None]
        in_range = defaulted & ~self._yes_no[rows, None] & self._in_range[rows, None]
        directed = defaulted & ~self._yes_no[rows, None] & ~self._in_range[rows, None] & ~np.isnan(target)
        with_red_flag = directed & ~np.isnan(red_flag)
        # A baseline equal to the target cannot show progress; the ratio to target scores instead.
        baseline_applies = self._baseline_set[rows, None] & (baseline != target)
        with_baseline = directed & np.isnan(red_flag) & baseline_applies
        candidates: list[tuple[BoolArray, Callable[[], FloatArray]]] = [
            (yes_no, lambda: _yes_no_scores(value, target, self._lower[rows, None])),
            (
                in_range & self._setting_range_valid[setting],
                lambda: _stabilize_scores(value, self._setting_low[setting], self._setting_high[setting]),
            ),
            (
                with_red_flag & ((target == red_flag) | ((target > red_flag) == higher)),
                lambda: _goal_red_flag_scores(value, target, red_flag, higher),
            ),
            (
                with_baseline & np.isfinite(baseline) & ((target > baseline) == higher),
                lambda: _linear_scores(value, baseline, target),
            ),
            (
                directed & np.isnan(red_flag) & ~baseline_applies,
                lambda: _ratio_to_target_scores(value, target, higher),
            ),
        ]
        score = np.full(value.shape, np.nan)
        for applies, scores in candidates:
            if applies.any():
                score = np.where(applies, scores(), score)
        score = np.where(np.isnan(value), np.nan, score)
        status = self._statuses(self._kpi_scheme[rows], score)
        stabilized = in_range & self._setting_range_valid[setting] & ~np.isnan(value)
        if stabilized.any():
            inside = (value >= self._setting_low[setting]) & (value <= self._setting_high[setting])
            status = self._range_statuses(rows, stabilized, inside, status)
        evaluators: dict[tuple[int, int], Evaluator] = {}
        for position, column in zip(*np.nonzero(explicit), strict=True):
            row = int(rows[position])
            if self._setting_progress[setting[position, column]]:
                self._score_progress(plan, view, row, column, score, status, (position, column), evaluators)
                continue
            series = _series_at(target, red_flag, self._baseline[row], (position, column))
            self._score_explicitly(row, value, score, status, setting, (position, column), series)
        view.kpis.score[rows] = score
        view.kpis.status[rows] = status

    def _score_progress(
        self,
        plan: _Plan,
        view: ViewScores,
        row: int,
        column: int,
        score: FloatArray,
        status: StatusArray,
        cell: tuple[int, int],
        evaluators: dict[tuple[int, int], Evaluator],
    ) -> None:
        """A target reached over a span, judged by the explained path for one period (few cells in practice)."""
        root = int(self._kpi_root[row])
        evaluator = evaluators.get((root, column))
        if evaluator is None:
            evaluator = evaluators[root, column] = Evaluator(
                self.roots[root], self._store, View(plan.periods[column]), today=self.today
            )
        kpi = self._kpis[row]
        result = evaluator.kpi_result(kpi, evaluator.owner[kpi.id])
        score[cell] = np.nan if result.score is None else result.score
        status[cell] = self._table.index(result.status)
        view.value[row, column] = np.nan if result.actual.value is None else result.actual.value
        view.target[row, column] = np.nan if result.target is None else result.target

    def _score_explicitly(
        self,
        row: int,
        value: FloatArray,
        score: FloatArray,
        status: StatusArray,
        setting: IndexArray,
        cell: tuple[int, int],
        series: Mapping[str, float | None],
    ) -> None:
        """Score one element by the method its setting names, through that method's own ``score``."""
        method = self._methods[setting[cell]]
        if method is None:
            return  # a misconfigured method leaves the KPI unscored, with no data, as in the scalar path
        actual = float(value[cell])
        result = method.score(None if math.isnan(actual) else actual, series)
        score[cell] = np.nan if result.score is None else result.score
        scheme = self._schemes[self._kpi_scheme[row]].scheme
        # The scalar path's own rule: a rules method names its status, every other method's score decides.
        status[cell] = self._table.index(Evaluator._status(scheme, result, method))

    def _range_statuses(
        self, rows: IndexArray, stabilized: BoolArray, inside: BoolArray, status: StatusArray
    ) -> StatusArray:
        """The stabilize breakpoints' own statuses (on target inside the range, off target outside) where the
        row's scheme has those keys, as the scalar path takes them (``Evaluator._status``)."""
        for index, scheme in enumerate(self._schemes):
            on, off = scheme.keyed("on_target"), scheme.keyed("off_target")
            mine = stabilized & (self._kpi_scheme[rows] == index)[:, None]
            if on is not None:
                status = np.where(mine & inside, np.int16(on), status)
            if off is not None:
                status = np.where(mine & ~inside, np.int16(off), status)
        return status.astype(np.int16, copy=False)

    def _statuses(self, schemes: IndexArray, score: FloatArray) -> StatusArray:
        """Each row's status by its own scheme (one array operation per scheme in use)."""
        if len(self._schemes) == 1:
            return self._schemes[0].status_of(score)
        status = np.zeros(score.shape, dtype=np.int16)
        for index, scheme in enumerate(self._schemes):
            mine = schemes == index
            if mine.any():
                status[mine] = scheme.status_of(score[mine])
        return status

    # Roll-ups -----------------------------------------------------------------------------------------

    def _roll_up_objectives(self, plan: _Plan, view: ViewScores, parents: IndexArray) -> None:
        """Roll KPIs and aligned child objectives up into the objectives ``parents`` (all of one level)."""
        nodes = self._objectives
        kpi_counts = nodes.child_stop[parents] - nodes.child_start[parents]
        kpis = _concatenated_ranges(nodes.child_start[parents], kpi_counts)
        children = _Children(
            counts=kpi_counts,
            score=view.kpis.score[kpis],
            status=view.kpis.status[kpis],
            weight=plan.kpi_weight[kpis],
            counted=~(view.overdue[kpis] & self._overdue_excludes[kpis, None]),
        )
        aligned_counts = self._aligned_pointer[parents + 1] - self._aligned_pointer[parents]
        if aligned_counts.any():
            aligned = self._aligned_child[_concatenated_ranges(self._aligned_pointer[parents], aligned_counts)]
            owners = np.arange(len(parents))
            order = np.argsort(
                np.concatenate((np.repeat(owners, kpi_counts), np.repeat(owners, aligned_counts))), kind="stable"
            )
            children = _Children(
                counts=kpi_counts + aligned_counts,
                score=np.concatenate((children.score, view.objectives.score[aligned]))[order],
                status=np.concatenate((children.status, view.objectives.status[aligned]))[order],
                weight=np.concatenate((children.weight, plan.objective_weight[aligned]))[order],
                counted=np.concatenate((children.counted, np.ones((len(aligned), len(plan.periods)), np.bool_)))[order],
            )
        own_rows = self._own_kpi[parents]
        own = np.full((len(parents), len(plan.periods)), np.nan)
        own[own_rows >= 0] = view.kpis.score[own_rows[own_rows >= 0]]
        view.objectives.score[parents], view.objectives.status[parents] = self._roll_up(
            children, nodes.method[parents], nodes.scheme[parents], own
        )

    def _roll_up_range(
        self,
        nodes: _Nodes[PerspectiveModel] | _Nodes[ScorecardModel],
        parent_scores: NodeScores,
        child_scores: NodeScores,
        child_weight: FloatArray,
        parents: IndexArray | None = None,
    ) -> None:
        """Roll objectives up into perspectives, or perspectives into scorecards (all, or ``parents``)."""
        chosen = np.arange(len(nodes.ids), dtype=np.intp) if parents is None else parents
        counts = nodes.child_stop[chosen] - nodes.child_start[chosen]
        rows = _concatenated_ranges(nodes.child_start[chosen], counts)
        children = _Children(
            counts=counts,
            score=child_scores.score[rows],
            status=child_scores.status[rows],
            weight=child_weight[rows],
            counted=np.ones(child_scores.score[rows].shape, dtype=np.bool_),
        )
        parent_scores.score[chosen], parent_scores.status[chosen] = self._roll_up(
            children, nodes.method[chosen], nodes.scheme[chosen], None
        )

    def _roll_up(
        self, children: _Children, methods: IndexArray, schemes: IndexArray, own: FloatArray | None
    ) -> tuple[FloatArray, StatusArray]:
        """``rollup.rollup_scores`` for many parents at once; children without a score are left out.

        ``own`` is the self-standing objectives' own KPI score; perspectives and scorecards have none.
        """
        used = set(methods.tolist())
        with_score = children.counted & ~np.isnan(children.score)
        score = np.full((len(methods), children.score.shape[1]), np.nan)
        if used & {_WEIGHTED_AVERAGE, _AVERAGE}:
            plain = np.repeat(methods == _AVERAGE, children.counts)[:, None]
            weight = np.where(with_score, np.where(plain, 1.0, children.weight), 0.0)
            total = _per_parent(np.add, np.where(with_score, children.score * weight, 0.0), children.counts, 0.0)
            carried = _per_parent(np.add, weight, children.counts, 0.0)
            averaged = np.isin(methods, (_WEIGHTED_AVERAGE, _AVERAGE))[:, None]
            # Children with data that all weigh 0 were declared not to count: no score.
            score = np.where(averaged & (carried > 0), total / carried, score)
        if _WORST in used:
            lowest = _per_parent(np.fmin, np.where(with_score, children.score, np.nan), children.counts, np.nan)
            score = np.where((methods == _WORST)[:, None], lowest, score)
        if _SELF_STANDING in used and own is not None:
            score = np.where((methods == _SELF_STANDING)[:, None], own, score)
        status = self._statuses(schemes, score)
        if _COUNT_BY_STATUS in used:
            counting = (methods == _COUNT_BY_STATUS)[:, None]
            status = np.where(counting, self._worst_counted(children, schemes), status)
        return score, status

    def _worst_counted(self, children: _Children, schemes: IndexArray) -> StatusArray:
        """Count by status: the worst level of the parent's scheme that a counted child has, by status key."""
        lookup = np.stack([scheme.level_lookup(self._table) for scheme in self._schemes])
        child_schemes = np.repeat(schemes, children.counts)[:, None]
        levels = np.where(children.counted, lookup[child_schemes, children.status], -1)
        worst = _per_parent(np.maximum, levels, children.counts, -1)
        deepest = max(len(scheme.levels) for scheme in self._schemes)
        level_status = np.stack(
            [np.pad(scheme.levels, (0, deepest - len(scheme.levels)), mode="edge") for scheme in self._schemes]
        )
        no_data = np.array([scheme.no_data for scheme in self._schemes], dtype=np.int16)
        return np.where(
            worst >= 0, level_status[schemes[:, None], np.maximum(worst, 0)], no_data[schemes][:, None]
        ).astype(np.int16)


# Compilation helpers ------------------------------------------------------------------------------------


def _nodes(
    kind: str,
    items: Sequence[_Node],
    child_counts: Sequence[int],
    schemes: IndexArray,
) -> _Nodes[_Node]:
    """A level's nodes, given each node's number of children: children follow their parents' order."""
    stops = np.cumsum(child_counts, dtype=np.intp)
    ids = tuple(item.id for item in items)
    return _Nodes(
        ids=ids,
        rows=_unique_rows(kind, ids),
        child_start=stops - np.asarray(child_counts, dtype=np.intp),
        child_stop=stops,
        method=np.array([_ROLLUPS.index(RollupMethod(item.rollup)) for item in items], dtype=np.intp),
        scheme=schemes,
        items=items,
    )


def _unique_rows(kind: str, ids: Sequence[str]) -> dict[str, int]:
    """Row of each id; ids must be unique across a batch, as they are within one evaluation."""
    rows = {node_id: row for row, node_id in enumerate(ids)}
    if len(rows) < len(ids):
        duplicate = next(node_id for row, node_id in enumerate(ids) if rows[node_id] != row)
        raise ValueError(f"{kind} id {duplicate!r} appears twice in the batch")
    return rows


def _children_first(card: ScorecardModel) -> Iterable[ScorecardModel]:
    """The tree in the order ``Evaluator`` evaluates it: each scorecard after its children."""
    for child in card.children:
        yield from _children_first(child)
    yield card


def _present(values: Sequence[float | None]) -> FloatArray:
    """Values as floats, NaN for what does not count as data (``None``, NaN, infinity: ``is_present``)."""
    array = np.array(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def _thresholds(values: Iterable[float | None]) -> FloatArray:
    """A threshold per setting plus the sentinel; NaN where there is none or it is not a number."""
    return _present([*values, None])


def _explicit_method(setting: TargetSetting) -> ScoringMethod | None:
    """The method a setting names, built once; ``None`` if it names none or its configuration is refused."""
    if not setting.method:
        return None
    try:
        return method_from_config(setting.method, setting.parameters)
    except ScoringConfigError:
        return None


def _grid(calendar: FiscalCalendar, years: Sequence[Period], frequency: Frequency) -> tuple[Period, ...]:
    """Every period of ``frequency`` in the fiscal years, in order (weeks by their Thursday)."""
    if frequency is Frequency.YEARLY:
        return tuple(years)
    return tuple(period for year in years for period in calendar.subperiods(year, frequency))


def _reading(calendar: FiscalCalendar, series: _Series, view_periods: Sequence[Period], today: date) -> _Reading:
    """Which of a series' columns each view period reads, and which of those had finished by ``today``."""
    frequency = view_periods[0].frequency
    if series.frequency.rank > frequency.rank:
        starts = np.array(
            [series.columns[calendar.parent(period, series.frequency).key] for period in view_periods], dtype=np.intp
        )
        lasts, inherited = starts, True
    else:
        # The series' lead-in period belongs to no view period; its owner -1 sorts first and is never read.
        if series.frequency is frequency:
            owners = np.arange(-1, len(series.periods) - 1)
        else:
            view_columns = {period.key: column for column, period in enumerate(view_periods)}
            owners = np.array(
                [-1, *(view_columns[calendar.parent(period, frequency).key] for period in series.periods[1:])]
            )
        columns = np.arange(len(view_periods))
        starts = np.searchsorted(owners, columns, side="left").astype(np.intp)
        lasts = (np.searchsorted(owners, columns, side="right") - 1).astype(np.intp)
        inherited = False
    # Periods end in order, so those finished before today are the first ``finished`` columns.
    finished = int(np.searchsorted(series.ends, today.toordinal(), side="left"))
    latest = np.minimum(lasts, finished - 1)
    return _Reading(
        starts=starts,
        lasts=lasts,
        single=bool(np.all(starts == lasts)),
        inherited=inherited,
        latest_finished=np.where(latest >= starts, latest, -1),
    )


def _weights(items: Sequence[Weighted], periods: Sequence[Period]) -> FloatArray:
    """Each item's weight in force at the end of each period, as ``weight_at(view.period.end)``."""
    weights = np.repeat(np.array([item.weight for item in items], dtype=np.float64)[:, None], len(periods), axis=1)
    for row, item in enumerate(items):
        if item.weight_changes:
            weights[row] = [item.weight_at(period.end) for period in periods]
    return weights


def _delta(scores: NodeScores, rows: IndexArray) -> NodeDelta:
    return NodeDelta(rows, scores.score[rows], scores.status[rows])
