"""Expected progress: where a KPI should stand on the way to its target, and how healthy the actual is.

A target of 12 000 by December from 0 says nothing about June until someone decides the path: linear
(6 000 after six of twelve months) or a custom curve for a seasonal business that makes most of its sales
in the last quarter. A :class:`ProgressPlan` holds the span, the start value, the target and the path, and
gives the expected value at the end of any period of the span. :func:`health` then says how much of the
expected progress the actual has made, clamped to 0-100 %, so that being behind in June shows before
December does.

The actual must be measured the way the target is: for a sum KPI (new customers) it is the total since the
start of the span (see :func:`fourfold.engine.aggregation.year_to_date`), for a last-value KPI (headcount)
it is the value itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from fourfold.engine.aggregation import period_noun
from fourfold.engine.explain import (
    ARROW,
    MINUS,
    TIMES,
    Trace,
    TraceValue,
    describe_position,
    format_number,
    format_operand,
    format_percent,
)
from fourfold.engine.periods import FiscalCalendar, Period
from fourfold.engine.scoring import (
    ScoringConfigError,
    clamp,
    fraction_step,
    is_close,
    is_present,
    reached,
    require_finite,
    safe_divide,
)


class ProgressError(ScoringConfigError):
    """A plan or a question about it that makes no sense; the message says what was given and what is expected.

    It is a :class:`~fourfold.engine.scoring.ScoringConfigError` because a plan is part of a KPI's target
    configuration, and the finiteness checks it shares with scoring raise that class.
    """


@dataclass(frozen=True)
class ExpectedValue:
    """Where the KPI should stand at the end of ``period``: ``value``, ``fraction`` of the way to the target."""

    period: Period
    value: float
    fraction: float
    trace: Trace


@dataclass(frozen=True)
class HealthResult:
    """How much of the expected progress the actual has made: ``health`` from 0 to 1, ``None`` without an actual.

    ``unclamped`` keeps over- and under-achievement (1.5 is 150 % of the expected progress, a negative number
    means the actual moved away from the target); it is ``None`` when no distance can be measured because the
    expected value equals the start.
    """

    health: float | None
    unclamped: float | None
    trace: Trace


@dataclass(frozen=True)
class ProgressPlan:
    """A target to reach from ``start_value`` over the periods ``first`` to ``last``, and the path on the way.

    Without a ``curve`` the path is linear: after period k of n the expected value is
    ``start + (target - start) * k / n``. A ``curve`` gives one cumulative weight per period instead (the
    share of the way expected by the end of that period), so it must not decrease, must stay within 0-1 and
    must end at 1: by the last period the whole target is expected. A target below the start (fewer
    complaints) works the same way; a target equal to the start means "hold the line". ``periods`` is the
    span, worked out once by the calendar.

    >>> from fourfold.engine.periods import FiscalCalendar
    >>> calendar = FiscalCalendar()
    >>> plan = ProgressPlan(calendar, calendar.parse("2026-01"), calendar.parse("2026-12"), 0.0, 12000.0)
    >>> june = plan.expected(calendar.parse("2026-06"))
    >>> june.value, june.trace.headline(), june.trace.reason
    (6000.0, 'Expected 6000 by 2026-06', 'that is 6 of 12 months of the way from 0 to 12000')
    """

    calendar: FiscalCalendar
    first: Period
    last: Period
    start_value: float
    target: float
    curve: tuple[float, ...] | None = None
    periods: tuple[Period, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_finite("start_value", self.start_value)
        require_finite("target", self.target)
        if self.first.frequency != self.last.frequency:
            raise ProgressError(
                f"the span must run over one frequency: {self.first.key} is {self.first.frequency} "
                f"but {self.last.key} is {self.last.frequency}"
            )
        if self.last < self.first:
            raise ProgressError(f"the span ends ({self.last.key}) before it starts ({self.first.key})")
        object.__setattr__(self, "periods", tuple(self.calendar.span(self.first, self.last)))
        if self.curve is not None:
            # Stored curves arrive as JSON lists; a tuple keeps the plan hashable and immutable.
            object.__setattr__(self, "curve", tuple(self.curve))
            self._check_curve(self.curve)

    def expected(self, period: Period) -> ExpectedValue:
        """The value expected at the end of ``period``, a period of the plan's span."""
        position = self._position(period)
        count = len(self.periods)
        start, target = self.start_value, self.target
        span_text = f"from {format_number(start)} to {format_number(target)}"
        inputs: dict[str, TraceValue] = {
            "start_value": start,
            "target": target,
            "period": period.key,
            "first": self.first.key,
            "last": self.last.key,
        }
        if self.curve is None:
            fraction = position / count
            value = start + (target - start) * position / count
            share = f"{position} / {count}"
            reason = f"that is {position} of {count} {period_noun(period.frequency, count)} of the way {span_text}"
        else:
            fraction = self.curve[position - 1]
            value = start + (target - start) * fraction
            share = format_number(fraction)
            reason = (
                f"the curve expects {format_percent(fraction)} of the way {span_text} by then "
                f"({period_noun(period.frequency)} {position} of {count})"
            )
            inputs["curve"] = self.curve
        step = (
            f"{format_number(start)} + ({format_number(target)} {MINUS} {format_operand(start)}) {TIMES} {share} "
            f"= {format_number(value)}"
        )
        trace = Trace(
            method="expected_linear" if self.curve is None else "expected_curve",
            inputs=inputs,
            steps=(step,),
            result=value,
            reason=reason,
            result_kind="value",
            title=f"Expected {format_number(value)} by {period.key}",
        )
        return ExpectedValue(period, value, fraction, trace)

    def expected_path(self) -> tuple[ExpectedValue, ...]:
        """The expected value of every period of the span, oldest first, e.g. for a chart's target line."""
        return tuple(self.expected(period) for period in self.periods)

    def health(self, actual: float | None, period: Period) -> HealthResult:
        """:func:`health` of ``actual`` against the value expected by the end of ``period``.

        The plan knows which way is better (towards the target), which decides the health while nothing
        is expected yet, e.g. in a first month whose curve weight is 0.
        """
        expected = self.expected(period)
        higher_is_better = None if self.target == self.start_value else self.target > self.start_value
        result = health(actual, expected.value, self.start_value, higher_is_better=higher_is_better)
        trace = dataclasses.replace(result.trace, inputs={**result.trace.inputs, "period": period.key})
        return dataclasses.replace(result, trace=trace)

    def _position(self, period: Period) -> int:
        """Where ``period`` lies in the span, counting from 1 as people count months."""
        if period.frequency != self.first.frequency:
            raise ProgressError(
                f"{period.key} is a {period.frequency} period but this plan runs over {self.first.frequency} "
                f"periods from {self.first.key} to {self.last.key} (keys like {self.first.frequency.key_format})"
            )
        if period not in self.periods:
            raise ProgressError(f"{period.key} is outside the span {self.first.key} to {self.last.key} of this plan")
        return self.periods.index(period) + 1

    def _check_curve(self, curve: tuple[float, ...]) -> None:
        """Refuse a curve that does not give a share of the way for each period, rising to the whole way."""
        count = len(self.periods)
        if len(curve) != count:
            raise ProgressError(
                f"the curve has {len(curve)} weights but {self.first.key} to {self.last.key} has {count} "
                f"{period_noun(self.first.frequency, count)}: give one cumulative weight per "
                f"{period_noun(self.first.frequency)}"
            )
        for position, (weight, period) in enumerate(zip(curve, self.periods, strict=True), start=1):
            require_finite(f"curve weight {position} ({period.key})", weight)
            if weight < 0 or (weight > 1 and not is_close(weight, 1.0)):
                raise ProgressError(
                    f"curve weight {position} ({period.key}) must be a share of the way between 0 and 1, "
                    f"got {format_number(weight)}"
                )
            if position > 1 and weight < curve[position - 2]:
                raise ProgressError(
                    f"curve weights are cumulative and must not decrease: weight {position} ({period.key}) is "
                    f"{format_number(weight)}, below weight {position - 1} ({self.periods[position - 2].key}) "
                    f"{format_number(curve[position - 2])}"
                )
        if not is_close(curve[-1], 1.0):
            raise ProgressError(
                f"the curve must end at 1, the whole way to the target by {self.last.key}, "
                f"but weight {count} ({self.last.key}) is {format_number(curve[-1])}"
            )


def health(
    actual: float | None,
    expected: float,
    start_value: float,
    *,
    higher_is_better: bool | None = None,
) -> HealthResult:
    """How much of the expected progress the actual has made: ``(actual - start) / (expected - start)``, 0-1.

    The same formula serves both directions: when the target lies below the start, so does the expected
    value, and the signs cancel. A missing actual (``None``, NaN, infinity) gives ``None``, never 0 %.

    When the expected value equals the start, nothing is expected yet and no distance can be measured:
    staying at the start is 100 %, and so is moving towards the target if ``higher_is_better`` says which
    way that is; moving the other way is 0 %, and so is any move when no direction is given (as in
    scoring, only an exact hit counts then). ``higher_is_better`` is not consulted otherwise.

    >>> health(3000.0, 6000.0, 0.0).health
    0.5
    >>> round(health(2.0, 0.0, 3.0).health, 4)  # lower is better: from 3 down to 0, 2 is a third of the way
    0.3333
    >>> health(9000.0, 6000.0, 0.0).health, health(9000.0, 6000.0, 0.0).unclamped
    (1.0, 1.5)
    """
    require_finite("expected", expected)
    require_finite("start_value", start_value)
    inputs: dict[str, TraceValue] = {
        "actual": actual,
        "expected": expected,
        "start_value": start_value,
        "higher_is_better": higher_is_better,
    }
    if not is_present(actual):
        reason = "there is no actual to compare" if actual is None else f"the actual {actual!r} is not a finite number"
        return HealthResult(None, None, _health_trace(inputs, None, (), reason))
    fraction = safe_divide(actual - start_value, expected - start_value)
    if fraction is None:
        return _health_without_distance(inputs, actual, start_value, higher_is_better)
    clamped = clamp(fraction, 0.0, 1.0)
    steps: tuple[str, ...] = (fraction_step(actual, start_value, expected, fraction),)
    if clamped != fraction:
        steps += (f"{format_percent(fraction)} limited to 0 to 100 % {ARROW} {format_percent(clamped)}",)
    reason = describe_position(actual, fraction, ("start", start_value), ("expected value", expected))
    return HealthResult(clamped, fraction, _health_trace(inputs, clamped, steps, reason))


def _health_without_distance(
    inputs: dict[str, TraceValue], actual: float, start_value: float, higher_is_better: bool | None
) -> HealthResult:
    """Health when the expected value equals the start: nothing was expected, so only the direction counts."""
    outcome = reached(actual, start_value, higher_is_better)
    value = 0.0 if outcome == "short" else 1.0
    direction = {None: "no direction given", True: "higher is better", False: "lower is better"}[higher_is_better]
    shown = format_number(actual)
    verdict = {
        "at": f"{shown} is still at it, as planned",
        "beyond": f"{shown} is already ahead, as {direction}",
        "short": f"{shown} has moved the wrong way, as {direction}"
        if higher_is_better is not None
        else f"{shown} has moved away from it and, with no direction given, only staying there counts",
    }[outcome]
    reason = f"nothing is expected yet: the expected value equals the start {format_number(start_value)}, and {verdict}"
    step = f"expected value = start = {format_number(start_value)}; {direction}"
    return HealthResult(value, None, _health_trace(inputs, value, (step,), reason))


def _health_trace(inputs: dict[str, TraceValue], value: float | None, steps: tuple[str, ...], reason: str) -> Trace:
    return Trace(
        method="health",
        inputs=inputs,
        steps=steps,
        result=value,
        reason=reason,
        result_kind="value",
        title="No health" if value is None else f"Health {format_percent(value)}",
    )
