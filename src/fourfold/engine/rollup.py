"""Roll-ups: scores from children to parents, and values from cascaded KPIs to their parent KPI.

Scores roll up KPI -> objective -> perspective -> scorecard -> parent scorecard, one level at a time, with
the same function. Children without data are left out, never counted as zero, and the result says how many
were left out and why: an objective with one KPI reported and three missing is not the same as four KPIs
on target. The default is the weighted average, because a plain average treats a small item like a large one.

Value roll-ups are for cascaded KPIs (regional sales -> company sales). A ratio KPI must be recomputed from
its children's numerators and denominators: 2/4 and 2/100 make 4/104 = 3.8 %, not the 26 % average.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from fourfold.engine.explain import TIMES, ResultKind, Trace, TraceValue, format_number, format_score
from fourfold.engine.scoring import (
    ScoringConfigError,
    clamp,
    is_present,
    require_finite,
    require_score,
    safe_divide,
)
from fourfold.engine.status import StatusScheme


class RollupMethod(StrEnum):
    """How a parent's score is made from its children's scores; the value is what gets stored."""

    WEIGHTED_AVERAGE = "weighted_average"
    AVERAGE = "average"
    WORST = "worst"
    COUNT_BY_STATUS = "count_by_status"
    SELF_STANDING = "self_standing"


class ValueRollupMethod(StrEnum):
    """How a cascaded KPI's value is made from its children's values."""

    SUM = "sum"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"
    RATIO = "ratio"


@dataclass(frozen=True)
class RollupChild:
    """One child's contribution: its score (``None`` without data), weight, status key and overdue flag.

    ``status`` is what count-by-status counts; a status-only KPI (scored by rules) has a status and no score.
    It is a key of the roll-up's status scheme, which names it when an explanation mentions it.
    """

    id: str
    name: str
    score: float | None
    weight: float = 1.0
    status: str | None = None
    overdue: bool = False

    def __post_init__(self) -> None:
        require_finite(f"weight of {self.name}", self.weight)
        if self.weight < 0:
            raise ScoringConfigError(f"weight of {self.name} must be 0 or more, got {format_number(self.weight)}")
        if self.score is not None:
            require_score(f"score of {self.name}", self.score)


@dataclass(frozen=True)
class ChildValue:
    """One cascaded child's value for the period; ratio roll-ups use the numerator and denominator instead."""

    id: str
    name: str
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Exclusion:
    """A child left out of a roll-up, and why ("no data", "overdue")."""

    id: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})"


@dataclass(frozen=True)
class RollupResult:
    """A parent's score (or status counts) with the children used, the children left out, and the trace."""

    score: float | None
    status_counts: dict[str, int]
    included: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    trace: Trace

    @property
    def excluded_count(self) -> int:
        """How many children were left out; shown beside the score so a thin roll-up is visible."""
        return len(self.excluded)


@dataclass(frozen=True)
class ValueRollupResult:
    """A cascaded KPI's value with the children used, the children left out, and the trace."""

    value: float | None
    included: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    trace: Trace


_Child = TypeVar("_Child", RollupChild, ChildValue)


DEFAULT_STATUSES = StatusScheme()
"""The scheme roll-ups name statuses by when their caller gives none: the default three and "no data"."""


def status_name(statuses: StatusScheme, key: str) -> str:
    """The name readers know a status by; a key the scheme lacks is shown as it is rather than hidden.

    >>> status_name(DEFAULT_STATUSES, "on_target"), status_name(DEFAULT_STATUSES, "Caution")
    ('On target', 'Caution')
    """
    try:
        return statuses.get(key).name
    except KeyError:
        return key


def _partition(
    children: Sequence[_Child],
    has_data: Callable[[_Child], bool],
    *,
    overdue_as_no_data: bool,
    statuses: StatusScheme = DEFAULT_STATUSES,
) -> tuple[list[_Child], list[Exclusion]]:
    """Split children into those that count and those left out, with the reason for each.

    Every child of an evaluated scorecard carries a status, the no-data one included, so a child whose
    status is the scheme's no-data status is said to have no data; only a child with a real status and no
    score (a status-only KPI in a score roll-up) has its status named.
    """
    seen: set[str] = set()
    included: list[_Child] = []
    excluded: list[Exclusion] = []
    for child in children:
        if child.id in seen:
            raise ScoringConfigError(f"child ids must be unique: {child.id!r} appears twice")
        seen.add(child.id)
        if overdue_as_no_data and isinstance(child, RollupChild) and child.overdue:
            excluded.append(Exclusion(child.id, child.name, "overdue"))
        elif has_data(child):
            included.append(child)
        elif (
            isinstance(child, RollupChild)
            and child.status is not None
            and child.status != statuses.no_data.key
            and child.score is None
        ):
            reason = f"status {status_name(statuses, child.status)}, no score"
            excluded.append(Exclusion(child.id, child.name, reason))
        else:
            excluded.append(Exclusion(child.id, child.name, "no data"))
    return included, excluded


def weighted_mean(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Mean of ``(value, weight)`` pairs; ``None`` when nothing carries weight.

    >>> weighted_mean([(8.0, 3.0), (4.0, 1.0)])
    7.0
    >>> weighted_mean([(8.0, 0.0)]) is None
    True
    """
    largest = max((weight for _, weight in pairs), default=0.0)
    if largest <= 0:
        return None
    # Tiny (subnormal) weights lose precision in products and could push the mean outside the values, so
    # weights are first scaled by a power of two, which is exact, to bring the largest near 1.
    _, exponent = math.frexp(largest)
    scaled = [(value, math.ldexp(weight, -exponent)) for value, weight in pairs]
    mean = safe_divide(math.fsum(value * weight for value, weight in scaled), math.fsum(w for _, w in scaled))
    if mean is None:
        return None
    counted = [value for value, weight in scaled if weight > 0]
    return clamp(mean, min(counted), max(counted))


def rollup_scores(
    children: Sequence[RollupChild],
    method: RollupMethod | str = RollupMethod.WEIGHTED_AVERAGE,
    *,
    own_score: float | None = None,
    overdue_as_no_data: bool = False,
    statuses: StatusScheme = DEFAULT_STATUSES,
) -> RollupResult:
    """Roll children's scores up into their parent's score.

    Children without data are excluded and listed; with ``overdue_as_no_data`` overdue children are too, so
    a stale value cannot keep a parent green. If all weights of the children with data are 0, there is no
    score: those children were declared not to count. ``own_score`` is used by the self-standing method only.
    ``statuses`` is the scheme the children's status keys belong to: the explanation names statuses by it.

    >>> children = [RollupChild("a", "Revenue", 8.0, weight=3), RollupChild("b", "Churn", None)]
    >>> result = rollup_scores(children)
    >>> result.score, result.excluded_count
    (8.0, 1)
    """
    chosen = _parse(RollupMethod, method, "roll-up method")
    if chosen is RollupMethod.SELF_STANDING:
        return _self_standing(children, own_score)
    counting = chosen is RollupMethod.COUNT_BY_STATUS
    included, excluded = _partition(
        children,
        (lambda child: child.status is not None) if counting else (lambda child: child.score is not None),
        overdue_as_no_data=overdue_as_no_data,
        statuses=statuses,
    )
    inputs: dict[str, TraceValue] = {child.id: child.status if counting else child.score for child in children}
    included_ids = tuple(child.id for child in included)
    if counting:
        # Counted by key, as statuses are judged; said by name, as readers know them.
        counts = dict(Counter(str(child.status) for child in included))
        summary = ", ".join(f"{status_name(statuses, key)}: {count}" for key, count in counts.items()) or None
        reason = f"{len(included)} of {len(children)} children have a status"
        trace = _trace(chosen, inputs, (), summary, reason, excluded, kind="counts")
        return RollupResult(None, counts, included_ids, tuple(excluded), trace)
    score, steps, reason = _combine_scores(chosen, included, len(children))
    return RollupResult(
        score, {}, included_ids, tuple(excluded), _trace(chosen, inputs, steps, score, reason, excluded)
    )


def _combine_scores(
    method: RollupMethod, included: Sequence[RollupChild], child_count: int
) -> tuple[float | None, tuple[str, ...], str]:
    """The parent score, the working and the reason, from the children that have a score."""
    scored = [(child, child.score) for child in included if child.score is not None]
    if not scored:
        return None, (), f"none of the {child_count} children has data"
    if method is RollupMethod.WORST:
        worst_child, worst_score = min(scored, key=lambda pair: pair[1])
        return (
            worst_score,
            (),
            f"{worst_child.name} has the lowest score of the {len(scored)} children with data",
        )
    weighted = method is RollupMethod.WEIGHTED_AVERAGE
    # A plain average is a weighted one with equal weights: one formula, one rounding behaviour.
    pairs = [(score, child.weight if weighted else 1.0) for child, score in scored]
    mean = weighted_mean(pairs)
    if mean is None:
        return None, (), f"the {len(scored)} children with data all have weight 0"
    if weighted:
        numerator = " + ".join(f"{format_number(weight)} {TIMES} {format_score(score)}" for score, weight in pairs)
        denominator = " + ".join(format_number(weight) for _, weight in pairs)
        step = f"({numerator}) / ({denominator}) = {format_number(mean)}"
    else:
        step = f"({_plus(score for score, _ in pairs)}) / {len(pairs)} = {format_number(mean)}"
    kind = "weighted average" if weighted else "average"
    return mean, (step,), f"it is the {kind} of the {len(scored)} of {child_count} children with data"


def _self_standing(children: Sequence[RollupChild], own_score: float | None) -> RollupResult:
    """The parent's own measure decides; children are named in the trace but do not count."""
    if own_score is not None:
        require_score("own_score", own_score)
    reason = (
        f"the parent stands on its own measure and ignores its {len(children)} children"
        if own_score is not None
        else "the parent stands on its own measure, which has no data"
    )
    trace = _trace(RollupMethod.SELF_STANDING, {"own_score": own_score}, (), own_score, reason, ())
    return RollupResult(own_score, {}, (), (), trace)


def rollup_values(
    children: Sequence[ChildValue], method: ValueRollupMethod | str = ValueRollupMethod.SUM
) -> ValueRollupResult:
    """Roll cascaded children's values up into the parent KPI's value.

    Children without data are left out and listed; if none has data the result is ``None``, not 0, so a
    sum over missing regions does not read as "zero sales". A ratio is ``sum(numerators) / sum(denominators)``
    and is ``None`` when the denominators add up to 0.

    >>> months = [ChildValue("jan", "January", numerator=2, denominator=4),
    ...           ChildValue("feb", "February", numerator=2, denominator=100)]
    >>> round(rollup_values(months, "ratio").value, 4)
    0.0385
    """
    chosen = _parse(ValueRollupMethod, method, "value roll-up method")
    ratio = chosen is ValueRollupMethod.RATIO
    included, excluded = _partition(
        children,
        (lambda child: is_present(child.numerator) and is_present(child.denominator))
        if ratio
        else (lambda child: is_present(child.value)),
        overdue_as_no_data=False,
    )
    inputs: dict[str, TraceValue] = {child.id: _ratio_input(child) if ratio else child.value for child in children}
    value, steps, reason = _combine_values(chosen, included, len(children))
    trace = _trace(chosen, inputs, steps, value, reason, excluded, kind="value")
    return ValueRollupResult(value, tuple(child.id for child in included), tuple(excluded), trace)


def _ratio_input(child: ChildValue) -> TraceValue:
    if child.numerator is None or child.denominator is None:
        return None
    return (child.numerator, child.denominator)


def _combine_values(
    method: ValueRollupMethod, included: Sequence[ChildValue], child_count: int
) -> tuple[float | None, tuple[str, ...], str]:
    """The parent value, the working and the reason, from the children that have data."""
    if not included:
        return None, (), f"none of the {child_count} children has data"
    with_data = f"the {len(included)} of {child_count} children with data"
    if method is ValueRollupMethod.RATIO:
        numerators = [child.numerator for child in included if child.numerator is not None]
        denominators = [child.denominator for child in included if child.denominator is not None]
        total_numerator, total_denominator = math.fsum(numerators), math.fsum(denominators)
        ratio = safe_divide(total_numerator, total_denominator)
        step = (
            f"({_plus(numerators)}) / ({_plus(denominators)}) "
            f"= {format_number(total_numerator)} / {format_number(total_denominator)}"
        )
        if ratio is None:
            return None, (step,), f"the denominators of {with_data} add up to 0"
        return (
            ratio,
            (f"{step} = {format_number(ratio)}",),
            f"it is the total numerator over the total denominator of {with_data}",
        )
    values = [child.value for child in included if child.value is not None]
    if method is ValueRollupMethod.SUM:
        total = math.fsum(values)
        return (
            total,
            (f"{_plus(values)} = {format_number(total)}",),
            f"it is the sum of {with_data}",
        )
    if method is ValueRollupMethod.AVERAGE:
        mean = math.fsum(values) / len(values)
        step = f"({_plus(values)}) / {len(values)} = {format_number(mean)}"
        return mean, (step,), f"it is the average of {with_data}"
    pick, word = (min, "lowest") if method is ValueRollupMethod.MIN else (max, "highest")
    chosen = pick(values)
    return (
        chosen,
        (f"{method.value}({', '.join(map(format_number, values))}) = {format_number(chosen)}",),
        f"it is the {word} value of {with_data}",
    )


def _plus(values: Iterable[float]) -> str:
    """``8 + 4 + 2``: the left-hand side of a sum in the working."""
    return " + ".join(map(format_number, values))


_Method = TypeVar("_Method", RollupMethod, ValueRollupMethod)


def _parse(enum: type[_Method], method: _Method | str, what: str) -> _Method:
    """Accept the enum or its stored string, and name the choices when neither fits."""
    try:
        return enum(method)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise ScoringConfigError(f"unknown {what} {method!r}; expected one of: {choices}") from None


def _trace(
    method: RollupMethod | ValueRollupMethod,
    inputs: dict[str, TraceValue],
    steps: tuple[str, ...],
    result: float | str | None,
    reason: str,
    excluded: Sequence[Exclusion],
    *,
    kind: ResultKind = "score",
) -> Trace:
    return Trace(
        method=method.value,
        inputs=inputs,
        steps=steps,
        result=result,
        reason=reason,
        result_kind=kind,
        exclusions=tuple(str(exclusion) for exclusion in excluded),
    )
