"""Scoring methods: how one KPI value becomes a score on Fourfold's 0-10 scale.

Fourfold scores on 0-10 like the goal/red-flag tools, because that scale has room above the goal (the goal
scores 6.67, excellence 10) and a status scheme can cut it anywhere. Methods that other tools express as a
percentage (min/max, equal-width bands, ratio to target, any deviation) are divided by 10: 25 % is 2.5,
83.3 % is 8.33. The ordering and the numbers are the same after that documented scale change.

Each method is a small frozen dataclass: its parameters are validated once, at construction, and raise a
``ScoringConfigError`` naming the field. A method holds the targets of one period, so callers build one per
period (they are cheap) and call ``score(actual, series)``, the one signature all methods share.
``method_from_config`` builds a method from stored JSON-like parameters and checks names and types.

A missing actual (``None``, or a non-finite float) never raises: it scores ``None`` with a "no data" trace.
Degenerate configurations (baseline equal to target, goal equal to red flag, zero targets, zero-width bands)
have defined results; none of them divides by zero.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple, TypeGuard, TypeVar

from fourfold.engine.explain import (
    ARROW,
    GREATER_OR_EQUAL,
    LESS_OR_EQUAL,
    MINUS,
    TIMES,
    ResultKind,
    Trace,
    TraceValue,
    describe_position,
    format_number,
    format_operand,
    format_percent,
    format_score,
)

if typing.TYPE_CHECKING:
    from _typeshed import DataclassInstance

SCORE_MIN = 0.0
SCORE_MAX = 10.0
RED_FLAG_SCORE = SCORE_MAX / 3
"""Score of a value exactly at the red flag (3.33); also the default lower edge of the "watch" status."""
GOAL_SCORE = 2 * SCORE_MAX / 3
"""Score of a value exactly at the goal (6.67), kept exact so that meeting the goal is always "on target"."""

NO_SERIES: Mapping[str, float | None] = types.MappingProxyType({})
"""The default for ``series``: most methods compare the actual with their own parameters only."""

_NO_EXTRA_INPUTS: Mapping[str, TraceValue] = types.MappingProxyType({})
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class ScoringConfigError(ValueError):
    """A scoring method, status scheme or roll-up was configured wrongly; the message names the field."""


def clamp(value: float, low: float = SCORE_MIN, high: float = SCORE_MAX) -> float:
    """Limit ``value`` to ``low..high``; by default the score scale, so raw scores become displayable.

    >>> clamp(11.67), clamp(-3.0), clamp(5.0)
    (10.0, 0.0, 5.0)
    """
    return max(low, min(high, value))


def safe_divide(numerator: float, denominator: float) -> float | None:
    """Divide, or return ``None`` when the denominator is zero, so each caller must decide what that means.

    >>> safe_divide(1.0, 4.0), safe_divide(1.0, 0.0)
    (0.25, None)
    """
    return None if denominator == 0 else numerator / denominator


def is_close(first: float, second: float) -> bool:
    """Compare measured values with a tolerance: ``0.7 * 300`` is 210.00000000000003, and must equal 210."""
    return math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12)


def is_present(value: float | None) -> TypeGuard[float]:
    """Whether a value counts as data: ``None`` and NaN/infinity (a broken import or formula) do not."""
    return value is not None and math.isfinite(value)


def require_finite(field: str, value: float) -> None:
    """Reject NaN and infinity in a parameter; they would silently poison every score computed from it."""
    if not math.isfinite(value):
        raise ScoringConfigError(f"{field} must be a finite number, got {value!r}")


def require_score(field: str, value: float) -> None:
    """Reject a number that is not a score on the 0-10 scale."""
    require_finite(field, value)
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise ScoringConfigError(f"{field} must be a score between 0 and 10, got {format_number(value)}")


def require_hex_colour(field: str, value: str) -> None:
    """Colours are stored as ``#RRGGBB`` so that every renderer (HTML, PDF, e-mail) can use them as is."""
    if not _HEX_COLOUR.fullmatch(value):
        raise ScoringConfigError(f"{field} must be a colour like #1a7f37, got {value!r}")


def require_text(field: str, value: str) -> None:
    """Reject an empty label: a status or series without a name cannot be shown or looked up."""
    if not value.strip():
        raise ScoringConfigError(f"{field} must not be empty")


def _require_ascending(field: str, values: tuple[float, ...]) -> None:
    """Equal neighbours are allowed: they make a zero-width range, i.e. a step."""
    for position in range(1, len(values)):
        if values[position] < values[position - 1]:
            raise ScoringConfigError(
                f"{field} must be in ascending order: {format_number(values[position - 1])} > "
                f"{format_number(values[position])} at position {position}"
            )


@dataclass(frozen=True)
class ScoreResult:
    """A score (0-10 or ``None`` for no data) and everything needed to show and explain it.

    ``overachievement`` is the unclamped score for methods with a continuous formula (1.2 times the target
    distance scores 12), so a UI can say "120 % of target" while the score itself stays within 0-10.
    ``status_hint`` is set by methods that decide a status themselves (breakpoints, rules).
    """

    score: float | None
    overachievement: float | None
    status_hint: str | None
    trace: Trace


@dataclass(frozen=True)
class ScoringMethod(ABC):
    """The shared shape of all methods: ``score()`` handles missing data once, subclasses score a value.

    ``name`` is the registry key stored in the database; ``label`` is how messages refer to the method.
    """

    name: ClassVar[str]
    label: ClassVar[str]

    def score(self, actual: float | None, series: Mapping[str, float | None] = NO_SERIES) -> ScoreResult:
        """Score one period's actual; ``series`` holds other series' values for the period (for rules)."""
        if is_present(actual):
            return self._score_actual(actual, series)
        status = self._status_without_data()
        return self._result(
            actual,
            score=None,
            status=status,
            kind="score" if status is None else "status",
            steps=(),
            reason="there is no value for this period"
            if actual is None
            else f"the value {actual!r} is not a finite number",
        )

    @abstractmethod
    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        """Score a present, finite actual."""

    def _status_without_data(self) -> str | None:
        """Status-producing methods override this to name their "no data" status."""
        return None

    def _trace_inputs(self) -> dict[str, TraceValue]:
        """The method's parameters as trace inputs; nested parameters are rendered as readable text."""
        inputs: dict[str, TraceValue] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple) and not all(isinstance(item, float | int) for item in value):
                value = "; ".join(str(item) for item in value)
            inputs[field.name] = value
        return inputs

    def _result(
        self,
        actual: float | None,
        *,
        score: float | None,
        steps: tuple[str, ...],
        reason: str,
        overachievement: float | None = None,
        status: str | None = None,
        kind: ResultKind = "score",
        extra_inputs: Mapping[str, TraceValue] = _NO_EXTRA_INPUTS,
    ) -> ScoreResult:
        """Wrap a result with its trace; the inputs are the actual, the parameters and ``extra_inputs``."""
        trace = Trace(
            method=self.name,
            inputs={"actual": actual, **self._trace_inputs(), **extra_inputs},
            steps=steps,
            result=status if kind == "status" else score,
            reason=reason,
            result_kind=kind,
        )
        return ScoreResult(score=score, overachievement=overachievement, status_hint=status, trace=trace)


def fraction_step(actual: float, start: float, end: float, fraction: float) -> str:
    """The step every linear method shows: ``(actual - start) / (end - start) = fraction``."""
    return (
        f"({format_number(actual)} {MINUS} {format_operand(start)}) / "
        f"({format_number(end)} {MINUS} {format_operand(start)}) = {format_number(fraction)}"
    )


def _clamp_steps(raw: float) -> tuple[str, ...]:
    """The step that brings an unclamped score onto the 0-10 scale, if it changes anything."""
    if clamp(raw) == raw:
        return ()
    return (f"{format_number(raw)} limited to 0 to 10 {ARROW} {format_score(clamp(raw))}",)


class Anchor(NamedTuple):
    """A point on the value axis, such as the baseline or the goal: its parameter, its words and its value."""

    field: str
    label: str
    value: float


def reached(actual: float, anchor: float, higher_is_better: bool | None) -> Literal["short", "at", "beyond"]:
    """Compare an actual with an anchor when no distance can be measured (the two anchors coincide).

    Without a direction only an exact hit counts: anything else is "short" (not met).
    """
    if is_close(actual, anchor):
        return "at"
    if higher_is_better is None:
        return "short"
    return "beyond" if (actual > anchor) == higher_is_better else "short"


@dataclass(frozen=True)
class _AnchoredMethod(ScoringMethod):
    """Methods that place the actual on the way from one anchor (fraction 0) to another (fraction 1).

    The direction follows the anchors: an end below the start means lower is better, with the same formula.
    ``higher_is_better`` is only needed when the anchors coincide; if given otherwise, it must agree.
    """

    score_at_end: ClassVar[float]

    @abstractmethod
    def _anchors(self) -> tuple[Anchor, Anchor, bool | None]:
        """The start, the end and the declared direction, if any."""

    @abstractmethod
    def _raw_score(self, fraction: float) -> tuple[float, str]:
        """The unclamped score for a fraction, and the step that shows it."""

    def __post_init__(self) -> None:
        start, end, higher_is_better = self._anchors()
        require_finite(start.field, start.value)
        require_finite(end.field, end.value)
        if higher_is_better is not None and start.value != end.value and (end.value > start.value) != higher_is_better:
            side = "above" if end.value > start.value else "below"
            raise ScoringConfigError(
                f"higher_is_better={higher_is_better} contradicts the {end.label} {format_number(end.value)} "
                f"lying {side} the {start.label} {format_number(start.value)}; drop it or swap the values"
            )

    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        start, end, higher_is_better = self._anchors()
        fraction = safe_divide(actual - start.value, end.value - start.value)
        if fraction is None:
            return self._score_on_coinciding_anchors(actual, start, end, higher_is_better)
        raw, raw_step = self._raw_score(fraction)
        score = clamp(raw)
        return self._result(
            actual,
            score=score,
            overachievement=raw,
            steps=(fraction_step(actual, start.value, end.value, fraction), raw_step, *_clamp_steps(raw)),
            reason=describe_position(actual, fraction, (start.label, start.value), (end.label, end.value)),
        )

    def _score_on_coinciding_anchors(
        self, actual: float, start: Anchor, end: Anchor, higher_is_better: bool | None
    ) -> ScoreResult:
        # The limit of the formula as the anchors close in: short of them 0, at them the end's score, beyond 10.
        outcome = reached(actual, end.value, higher_is_better)
        score = {"short": SCORE_MIN, "at": self.score_at_end, "beyond": SCORE_MAX}[outcome]
        direction = {None: "only an exact hit counts", True: "higher is better", False: "lower is better"}
        verdict = {"short": "does not reach it", "at": "meets it", "beyond": "goes beyond it"}[outcome]
        return self._result(
            actual,
            score=score,
            steps=(f"{start.label} = {end.label} = {format_number(end.value)}; {direction[higher_is_better]}",),
            reason=(
                f"the {start.label} and the {end.label} are both {format_number(end.value)}, so there is "
                f"no range to measure along and {format_number(actual)} {verdict}"
            ),
        )


@dataclass(frozen=True)
class _LinearMethod(_AnchoredMethod):
    """Linear anchored methods: the start scores 0, the end scores 10, clamped, unclamped value kept."""

    score_at_end = SCORE_MAX

    def _raw_score(self, fraction: float) -> tuple[float, str]:
        raw = SCORE_MAX * fraction
        return raw, f"10 {TIMES} {format_number(fraction)} = {format_number(raw)}"


@dataclass(frozen=True)
class LinearProgress(_LinearMethod):
    """Progress from a baseline to a target: ``(actual - baseline) / (target - baseline)``, times 10.

    A target below the baseline means lower is better; the formula is the same.
    """

    name = "linear"
    label = "linear"

    baseline: float
    target: float
    higher_is_better: bool | None = None

    def _anchors(self) -> tuple[Anchor, Anchor, bool | None]:
        return (
            Anchor("baseline", "baseline", self.baseline),
            Anchor("target", "target", self.target),
            self.higher_is_better,
        )


@dataclass(frozen=True)
class LinearRange(_LinearMethod):
    """Performance between a minimum (scores 0) and a maximum (scores 10); 25 % of the range scores 2.5.

    Higher is always better here; use ``linear`` or ``worst_value`` when lower is better.
    """

    name = "min_max"
    label = "min/max"

    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        if self.maximum < self.minimum:
            raise ScoringConfigError(
                f"maximum must not be below minimum: {format_number(self.maximum)} < {format_number(self.minimum)}"
            )
        super().__post_init__()

    def _anchors(self) -> tuple[Anchor, Anchor, bool | None]:
        return Anchor("minimum", "minimum", self.minimum), Anchor("maximum", "maximum", self.maximum), True


@dataclass(frozen=True)
class NormalisedToWorst(_LinearMethod):
    """Normalised by the worst acceptable value: ``(actual - worst) / (target - worst)``, times 10."""

    name = "worst_value"
    label = "worst-value"

    worst: float
    target: float
    higher_is_better: bool | None = None

    def _anchors(self) -> tuple[Anchor, Anchor, bool | None]:
        return (
            Anchor("worst", "worst value", self.worst),
            Anchor("target", "target", self.target),
            self.higher_is_better,
        )


@dataclass(frozen=True)
class GoalRedFlag(_AnchoredMethod):
    """Goal / red flag on 0-10: the red flag scores 3.33, the goal 6.67, and the line extends both ways.

    ``score = clamp(10 * (1 + (actual - red_flag) / (goal - red_flag)) / 3)``: 10 is reached one goal/red
    distance beyond the goal, 0 one distance before the red flag. A goal below the red flag means lower is
    better. When goal and red flag coincide, meeting them scores 6.67, beating them 10, missing them 0 (the
    limit of the formula as the distance shrinks).
    """

    name = "goal_red_flag"
    label = "goal/red-flag"
    score_at_end = GOAL_SCORE

    goal: float
    red_flag: float
    higher_is_better: bool | None = None

    def _anchors(self) -> tuple[Anchor, Anchor, bool | None]:
        return (
            Anchor("red_flag", "red flag", self.red_flag),
            Anchor("goal", "goal", self.goal),
            self.higher_is_better,
        )

    def _raw_score(self, fraction: float) -> tuple[float, str]:
        raw = SCORE_MAX * (1 + fraction) / 3
        return raw, f"10 {TIMES} (1 + {format_operand(fraction)}) / 3 = {format_number(raw)}"


def _locate(edges: tuple[float, ...], actual: float) -> int:
    """Index of the last edge at or below ``actual`` (-1 below the first): on a step, the later edge wins."""
    return max((index for index, edge in enumerate(edges) if edge <= actual), default=-1)


@dataclass(frozen=True)
class Breakpoint:
    """A value that scores ``score`` and earns ``status`` (shown in ``colour``) once it is reached."""

    value: float
    score: float
    status: str
    colour: str

    def __post_init__(self) -> None:
        require_finite("value", self.value)
        require_score("score", self.score)
        require_text("status", self.status)
        require_hex_colour("colour", self.colour)

    def __str__(self) -> str:
        return f"{format_number(self.value)} {ARROW} {format_score(self.score)} ({self.status}, {self.colour})"


@dataclass(frozen=True)
class Breakpoints(ScoringMethod):
    """N ordered breakpoints with piecewise-linear scores between them, flat beyond the ends.

    Any shape fits: rising, falling, or "stabilize" (best in the middle of a range, falling off on both
    sides). Two breakpoints at the same value make a step; the value itself takes the later one.
    A status is earned only on reaching its breakpoint: between two breakpoints, the value carries the
    status of the lower-scoring one, so "green" always means the green breakpoint was reached.
    """

    name = "breakpoints"
    label = "breakpoints"

    points: tuple[Breakpoint, ...]

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            raise ScoringConfigError(f"points needs at least 2 breakpoints, got {len(self.points)}")
        _require_ascending("points", tuple(point.value for point in self.points))

    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        index = _locate(tuple(point.value for point in self.points), actual)
        if index in {-1, len(self.points) - 1}:
            point = self.points[max(index, 0)]
            side = "below the first" if index == -1 else "at or beyond the last"
            return self._result(
                actual,
                score=float(point.score),
                status=point.status,
                steps=(f"{format_number(actual)} is {side} breakpoint {point}",),
                reason=f"{format_number(actual)} is {side} breakpoint ({format_number(point.value)}), "
                f"which scores {format_score(point.score)}",
            )
        low, high = self.points[index], self.points[index + 1]
        fraction = (actual - low.value) / (high.value - low.value)
        score = low.score + fraction * (high.score - low.score)
        # Conservative on purpose: between two breakpoints, the weaker status holds until the better is reached.
        earned = low if actual == low.value or low.score <= high.score else high
        return self._result(
            actual,
            score=score,
            status=earned.status,
            steps=(
                fraction_step(actual, low.value, high.value, fraction),
                f"{format_score(low.score)} + {format_number(fraction)} {TIMES} "
                f"({format_score(high.score)} {MINUS} {format_score(low.score)}) = {format_number(score)}",
                f"status {earned.status} ({earned.colour}) from breakpoint {format_number(earned.value)}",
            ),
            reason=describe_position(actual, fraction, ("breakpoint", low.value), ("breakpoint", high.value)),
        )


@dataclass(frozen=True)
class EqualWidthBands(ScoringMethod):
    """Thresholds cut the value axis into bands of equal weight, however wide each band is.

    With n bands, a value in band k (0-based) scores ``10 * (k + (actual - low_k) / (high_k - low_k)) / n``:
    bands 0-3000, 3000-6000, 6000-12000 give 9000 a score of 8.33 where a straight line would give 7.5.
    Values outside the thresholds score 0 or 10. Equal neighbouring thresholds make an empty band (a step).
    """

    name = "bands"
    label = "equal-width bands"

    thresholds: tuple[float, ...]
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if len(self.thresholds) < 2:
            raise ScoringConfigError(f"thresholds needs at least 2 values (one band), got {len(self.thresholds)}")
        for position, threshold in enumerate(self.thresholds):
            require_finite(f"thresholds[{position}]", threshold)
        _require_ascending("thresholds", self.thresholds)

    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        band_count = len(self.thresholds) - 1
        index = _locate(self.thresholds, actual)
        steps: list[str] = []
        if index in {-1, band_count}:
            edge = "below the lowest" if index == -1 else "at or above the highest"
            position = 0.0 if index == -1 else 1.0
            reason = f"{format_number(actual)} is {edge} threshold"
        else:
            low, high = self.thresholds[index], self.thresholds[index + 1]
            within = (actual - low) / (high - low)
            position = (index + within) / band_count
            steps += [
                fraction_step(actual, low, high, within),
                f"({index} + {format_number(within)}) / {band_count} = {format_number(position)}",
            ]
            reason = (
                f"{format_number(actual)} lies in band {index + 1} of {band_count} ({format_number(low)} to "
                f"{format_number(high)}), {format_percent(within)} of the way through it"
            )
        if not self.higher_is_better:
            steps.append(f"lower is better: 1 {MINUS} {format_number(position)} = {format_number(1 - position)}")
            position = 1 - position
        score = SCORE_MAX * position
        steps.append(f"10 {TIMES} {format_number(position)} = {format_score(score)}")
        return self._result(actual, score=score, steps=tuple(steps), reason=reason)


@dataclass(frozen=True)
class YesNo(ScoringMethod):
    """A yes/no KPI: the better answer scores 10, the other 0. Any non-zero value reads as "yes"."""

    name = "yes_no"
    label = "yes/no"

    yes_is_better: bool = True

    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        answer = "yes" if actual != 0 else "no"
        better = "yes" if self.yes_is_better else "no"
        score = SCORE_MAX if answer == better else SCORE_MIN
        return self._result(
            actual,
            score=score,
            steps=(f"{format_number(actual)} reads as {answer}; the better answer is {better}",),
            reason=f"the answer is {answer} and {better} is the better answer",
        )


RuleOperator = Literal[">=", ">", "<=", "<", "=="]

OPERATOR_TESTS: Mapping[RuleOperator, Callable[[float, float], bool]] = {
    ">=": lambda actual, reference: actual > reference or is_close(actual, reference),
    ">": lambda actual, reference: actual > reference and not is_close(actual, reference),
    "<=": lambda actual, reference: actual < reference or is_close(actual, reference),
    "<": lambda actual, reference: actual < reference and not is_close(actual, reference),
    "==": is_close,
}
_OPERATOR_SIGNS: Mapping[RuleOperator, str] = {
    ">=": GREATER_OR_EQUAL,
    ">": ">",
    "<=": LESS_OR_EQUAL,
    "<": "<",
    "==": "=",
}


@dataclass(frozen=True)
class Rule:
    """``status`` applies when ``actual <operator> reference``, the reference being ``value`` or ``series``.

    Either reference is multiplied by ``factor``, so "0.9 times the target" is one rule.

    Comparisons tolerate float rounding, so ``actual >= 0.9 * target`` holds when they are equal on paper.
    """

    status: str
    operator: RuleOperator
    value: float | None = None
    series: str | None = None
    factor: float = 1.0

    def __post_init__(self) -> None:
        require_text("status", self.status)
        require_finite("factor", self.factor)
        if (self.value is None) == (self.series is None):
            raise ScoringConfigError(f"rule {self.status!r} needs either value or series, not both or neither")
        if self.value is not None:
            require_finite("value", self.value)
        if self.series is not None:
            require_text("series", self.series)

    def __str__(self) -> str:
        reference = format_number(self.value) if self.value is not None else str(self.series)
        if self.factor != 1:
            reference = f"{format_number(self.factor)} {TIMES} {reference}"
        return f"{self.status} if actual {_OPERATOR_SIGNS[self.operator]} {reference}"

    def base(self, series: Mapping[str, float | None]) -> float | None:
        """The static value, or the series' value for the period (``None`` when it has none)."""
        if self.series is None:
            return self.value
        return series.get(self.series)


@dataclass(frozen=True)
class Rules(ScoringMethod):
    """Ordered rules, first match wins, yielding a status without a numeric score.

    If a rule refers to a series with no value this period, the rules stop there with the ``no_data``
    status: a later rule matching would say nothing reliable, since the earlier one might have matched.
    """

    name = "rules"
    label = "rules"

    rules: tuple[Rule, ...]
    otherwise: str
    no_data: str = "No information"

    def __post_init__(self) -> None:
        if not self.rules:
            raise ScoringConfigError("rules needs at least one rule")
        require_text("otherwise", self.otherwise)
        require_text("no_data", self.no_data)

    def _status_without_data(self) -> str | None:
        return self.no_data

    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        steps: list[str] = []
        # Namespaced so that a series called "actual" cannot overwrite the actual in the trace.
        used_series = {
            f"series.{rule.series}": series.get(rule.series) for rule in self.rules if rule.series is not None
        }
        for number, rule in enumerate(self.rules, start=1):
            base = rule.base(series)
            if not is_present(base):
                # Stop rather than skip: a later match would be unreliable, as this rule might have matched.
                return self._status_result(
                    actual,
                    self.no_data,
                    steps,
                    used_series,
                    f"rule {number} ({rule}) needs {rule.series}, which has no value for this period",
                )
            reference = rule.factor * base
            described = format_number(base) if rule.series is None else f"{rule.series} {format_number(base)}"
            if rule.factor != 1:
                described = f"{format_number(rule.factor)} {TIMES} {described}"
            comparison = f"{format_number(actual)} {_OPERATOR_SIGNS[rule.operator]} {described}"
            if rule.factor != 1:
                comparison += f" = {format_number(reference)}"
            matched = OPERATOR_TESTS[rule.operator](actual, reference)
            steps.append(f"rule {number}: {comparison} is {'true' if matched else 'false'}")
            if matched:
                return self._status_result(actual, rule.status, steps, used_series, f"{comparison} (rule {number})")
        return self._status_result(
            actual, self.otherwise, steps, used_series, f"none of the {len(self.rules)} rules matched"
        )

    def _status_result(
        self, actual: float, status: str, steps: list[str], used_series: Mapping[str, TraceValue], reason: str
    ) -> ScoreResult:
        return self._result(
            actual,
            score=None,
            status=status,
            kind="status",
            steps=tuple(steps),
            extra_inputs=used_series,
            reason=reason,
        )


def _target_scale(target: float) -> float:
    """The distance unit for ratio methods: ``|target|``, or 1 for a zero target (no division by zero)."""
    # 1 is the reference's choice: it turns the formulas into 1 + actual and 1 - actual for a zero target.
    return abs(target) or 1.0


def sign_safe_ratio(actual: float, target: float, *, higher_is_better: bool = True) -> float:
    """Ratio to target that stays right for negative and zero targets (1.0 means "on target").

    Higher is better: ``(actual - target + |target|) / |target|``; lower is better:
    ``1 - (actual - target) / |target|``; a zero target uses 1 for ``|target|``. The naive
    ``actual / target`` says 3 against -2 is -150 %; this says 350 %.

    >>> sign_safe_ratio(3, -2), sign_safe_ratio(-1, -1), sign_safe_ratio(0.5, 0)
    (3.5, 1.0, 1.5)
    >>> sign_safe_ratio(80, 100, higher_is_better=False)
    1.2
    """
    scale = _target_scale(target)
    if higher_is_better:
        return (actual - target + scale) / scale
    return 1 - (actual - target) / scale


def deviation_percent(actual: float, target: float) -> float:
    """Closeness to target when any deviation is bad: ``100 - |actual - target| / |target| * 100``.

    A zero target uses 1 for ``|target|``, as in ``sign_safe_ratio``.

    >>> deviation_percent(90, 100), deviation_percent(110, 100), deviation_percent(0.25, 0)
    (90.0, 90.0, 75.0)
    """
    return 100 - abs(actual - target) / _target_scale(target) * 100


@dataclass(frozen=True)
class _PercentOfTargetMethod(ScoringMethod):
    """Methods that express the actual as a percentage of the target; the score is that percentage / 10."""

    target: float

    def __post_init__(self) -> None:
        require_finite("target", self.target)

    @abstractmethod
    def _percent(self, actual: float) -> tuple[float, str, str]:
        """The percentage, the formula that gives it (with the scale written out) and the reason clause."""

    def _score_actual(self, actual: float, series: Mapping[str, float | None]) -> ScoreResult:
        percent, formula, reason = self._percent(actual)
        raw = percent / 10
        scale = format_number(_target_scale(self.target))
        scale_source = f"|{format_number(self.target)}| = {scale}" if self.target != 0 else "1, as the target is 0"
        return self._result(
            actual,
            score=clamp(raw),
            overachievement=raw,
            steps=(
                f"scale = {scale_source}",
                f"{formula} = {format_number(percent)} %",
                f"{format_number(percent)} / 10 = {format_number(raw)}",
                *_clamp_steps(raw),
            ),
            reason=reason,
        )


@dataclass(frozen=True)
class SignSafeRatio(_PercentOfTargetMethod):
    """Ratio to target, sign-safe (see ``sign_safe_ratio``), shown as a percentage.

    Mapping to 0-10: the percentage divided by 10 and clamped, so 100 % of target scores 10 and 50 % scores 5;
    the unclamped value (35 for 350 %) is the over-achievement.
    """

    name = "ratio"
    label = "ratio-to-target"

    higher_is_better: bool = True

    def _percent(self, actual: float) -> tuple[float, str, str]:
        ratio = sign_safe_ratio(actual, self.target, higher_is_better=self.higher_is_better)
        shown, target = format_number(actual), format_operand(self.target)
        scale = format_number(_target_scale(self.target))
        if self.higher_is_better:
            formula = f"({shown} {MINUS} {target} + {scale}) / {scale} {TIMES} 100"
        else:
            formula = f"(1 {MINUS} ({shown} {MINUS} {target}) / {scale}) {TIMES} 100"
        direction = "higher" if self.higher_is_better else "lower"
        reason = f"{shown} is {format_percent(ratio)} of the target {format_number(self.target)}"
        return ratio * 100, formula, f"{reason} ({direction} is better)"


@dataclass(frozen=True)
class AnyDeviation(_PercentOfTargetMethod):
    """Any deviation from target is bad (see ``deviation_percent``); the percentage / 10 is the score."""

    name = "deviation"
    label = "any-deviation"

    def _percent(self, actual: float) -> tuple[float, str, str]:
        percent = deviation_percent(actual, self.target)
        shown, target = format_number(actual), format_number(self.target)
        scale = format_number(_target_scale(self.target))
        formula = f"100 {MINUS} |{shown} {MINUS} {format_operand(self.target)}| / {scale} {TIMES} 100"
        deviation = format_number(abs(actual - self.target))
        reason = f"{shown} deviates by {deviation} from the target {target}, leaving {format_number(percent)} %"
        return percent, formula, reason


METHODS: Mapping[str, type[ScoringMethod]] = types.MappingProxyType(
    {
        method.name: method
        for method in (
            LinearProgress,
            LinearRange,
            GoalRedFlag,
            Breakpoints,
            EqualWidthBands,
            NormalisedToWorst,
            YesNo,
            Rules,
            SignSafeRatio,
            AnyDeviation,
        )
    }
)
"""Every scoring method by its stored name."""


def method_from_config(name: str, params: Mapping[str, object]) -> ScoringMethod:
    """Build a scoring method from its stored name and JSON-like parameters, checking names and types.

    Integers are accepted where numbers are expected and lists where sequences are; booleans are never
    taken for numbers. Nested parameters (``points``, ``rules``) are mappings of their own fields.

    >>> method_from_config("goal_red_flag", {"goal": 700, "red_flag": 500}).score(600).score
    5.0
    >>> method_from_config("lineer", {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fourfold.engine.scoring.ScoringConfigError: unknown scoring method 'lineer'; expected one of: bands, ...
    """
    method_class = METHODS.get(name)
    if method_class is None:
        raise ScoringConfigError(f"unknown scoring method {name!r}; expected one of: {', '.join(sorted(METHODS))}")
    return _build(method_class, params, label=method_class.label, path="")


_Built = TypeVar("_Built", bound="DataclassInstance")


def _build(target_class: type[_Built], params: object, *, label: str, path: str) -> _Built:
    if not isinstance(params, Mapping):
        raise ScoringConfigError(f"{path or 'parameters'} must be a mapping, got {params!r}")
    fields = {field.name: field for field in dataclasses.fields(target_class) if field.init}
    prefix = f"{path}." if path else ""
    unexpected = sorted(str(key) for key in params if key not in fields)
    if unexpected:
        raise ScoringConfigError(
            f"unexpected parameter {', '.join(prefix + key for key in unexpected)} for the {label} method; "
            f"expected: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(target_class)
    arguments: dict[str, object] = {}
    for field_name, field in fields.items():
        if field_name in params:
            arguments[field_name] = _convert(
                params[field_name], hints[field_name], label=label, path=prefix + field_name
            )
        elif field.default is dataclasses.MISSING:
            raise ScoringConfigError(f"{prefix}{field_name} is required for the {label} method")
    try:
        return target_class(**arguments)
    except ScoringConfigError as error:
        if not path:
            raise
        raise ScoringConfigError(f"{path}: {error}") from error


def _convert(value: object, expected: object, *, label: str, path: str) -> object:
    """Check one parameter against its type hint and convert it (int to float, list to tuple)."""
    origin, arguments = typing.get_origin(expected), typing.get_args(expected)
    if origin in {typing.Union, types.UnionType}:
        if value is None and type(None) in arguments:
            return None
        (present_type,) = (argument for argument in arguments if argument is not type(None))
        return _convert(value, present_type, label=label, path=path)
    if origin is Literal:
        if value in arguments:
            return value
        raise ScoringConfigError(f"{path} must be one of {', '.join(map(repr, arguments))}, got {value!r}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ScoringConfigError(f"{path} must be a list, got {value!r}")
        return tuple(
            _convert(item, arguments[0], label=label, path=f"{path}[{position}]") for position, item in enumerate(value)
        )
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScoringConfigError(f"{path} must be a number, got {value!r}")
        return float(value)
    if expected is bool:
        if not isinstance(value, bool):
            raise ScoringConfigError(f"{path} must be true or false, got {value!r}")
        return value
    if expected is str:
        if not isinstance(value, str):
            raise ScoringConfigError(f"{path} must be text, got {value!r}")
        return value
    if isinstance(expected, type) and dataclasses.is_dataclass(expected):
        return _build(expected, value, label=label, path=path)
    raise TypeError(f"no conversion for parameter type {expected!r} at {path}")
