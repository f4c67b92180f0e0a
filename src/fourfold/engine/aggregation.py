"""Period aggregation: how one KPI's values for several periods combine into the value of a longer view.

No single rule fits every KPI, so each KPI declares its own :class:`Aggregation`: new customers add up over a
quarter (sum), satisfaction does not (average), headcount and market share are whatever the latest value
says (last), and a ratio is recomputed from its summed numerators and denominators: 2/4 in January and 2/100
in February is 4/104 = 3.8 % for the two months, not the 26 % average of the monthly rates nor their 52 % sum.

Missing values are left out and counted, never read as zero: a quarter with two of its months reported sums
those two and says that one is missing.

Targets aggregate by the same rule as actuals. Pass a KPI's targets as :class:`PeriodValue` objects and the
same call gives the target of the longer view (monthly targets of 100 make a quarterly target of 300 for a
sum KPI and of 100 for an average KPI), so the actual and the target shown side by side always match.

A KPI reported less often than the view (a quarterly KPI on a monthly view) is not aggregated but inherited
(:func:`inherit`): every month shows its quarter's value, flagged as inherited. Inherited values are for
display only; aggregating them again would count the quarter once per month.

Sum, average, minimum, maximum and ratio use the arithmetic of cascaded KPIs
(:func:`fourfold.engine.rollup.rollup_values`), so a value rolled up across regions and one aggregated over
months cannot disagree on what "ratio" means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from fourfold.engine.explain import TIMES, Trace, TraceValue, format_number
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.rollup import ChildValue, ValueRollupMethod, rollup_values
from fourfold.engine.scoring import ScoringConfigError, is_present


class Aggregation(StrEnum):
    """How a KPI's values for several periods combine into one; the value is what gets stored."""

    SUM = "sum"
    AVERAGE = "average"
    LAST = "last"
    MIN = "min"
    MAX = "max"
    RATIO = "ratio"


class AggregationError(ScoringConfigError):
    """Values, a rule or a view that cannot be aggregated; the message says what was given and what is expected.

    It is a :class:`~fourfold.engine.scoring.ScoringConfigError`, like an unknown roll-up method, so that
    callers can catch every refused engine input with one class (and both are ``ValueError`` subclasses).
    """


_NOUNS = {
    Frequency.WEEKLY: "week",
    Frequency.MONTHLY: "month",
    Frequency.QUARTERLY: "quarter",
    Frequency.YEARLY: "year",
}
_WHAT_IT_IS = {
    Aggregation.SUM: "the sum",
    Aggregation.AVERAGE: "the average",
    Aggregation.MIN: "the lowest value",
    Aggregation.MAX: "the highest value",
    Aggregation.RATIO: "the total numerator over the total denominator",
}


@dataclass(frozen=True)
class PeriodValue:
    """One period's value of a KPI, or one period's target: both aggregate the same way.

    Ratio KPIs also carry the ``numerator`` and ``denominator`` the value was computed from, because only
    those can be aggregated; the ratio rule ignores ``value`` and the other rules ignore the two parts.
    """

    period: Period
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    sample_size: int | None = None
    """How many observations the value rests on (the answers of a survey), when it is known."""
    margin_of_error: float | None = None
    """The 95 % margin of error of an estimate (a survey score), in the value's unit."""
    small_sample: bool = False
    """Too few observations to be sure: the value is scored but flagged, never read as certain."""


@dataclass(frozen=True)
class AggregateResult:
    """The value of a view, the periods it was made from, the periods without data, and the trace.

    ``numerator`` and ``denominator`` are the totals of a ratio (the denominator is kept when it adds up to
    0, so a caller can tell "no traffic" from "no data"); they are ``None`` for the other rules.
    ``unsupplied_count`` counts periods that were expected but not given at all, so they cannot be named in
    ``missing_periods``; :attr:`missing_count` adds both. ``inherited_from`` is set by :func:`inherit` only:
    the value belongs to that coarser period, not to the view.
    """

    value: float | None
    numerator: float | None
    denominator: float | None
    included_periods: tuple[Period, ...]
    missing_periods: tuple[Period, ...]
    trace: Trace
    unsupplied_count: int = 0
    inherited_from: Period | None = None

    @property
    def missing_count(self) -> int:
        """How many periods of the view have no data; shown beside the value so a thin aggregate is visible."""
        return len(self.missing_periods) + self.unsupplied_count


def period_noun(frequency: Frequency | None, count: int = 1) -> str:
    """The word for ``count`` periods of ``frequency``, for the sentences of traces.

    >>> period_noun(Frequency.MONTHLY, 12), period_noun(Frequency.QUARTERLY), period_noun(None, 2)
    ('months', 'quarter', 'periods')
    """
    noun = "period" if frequency is None else _NOUNS[frequency]
    return noun if count == 1 else noun + "s"


def parse_aggregation(rule: Aggregation | str) -> Aggregation:
    """The rule for a stored name; an unknown name is refused with the list of valid ones.

    >>> parse_aggregation("ratio") is Aggregation.RATIO
    True
    >>> try:
    ...     parse_aggregation("median")
    ... except AggregationError as error:
    ...     print(error)
    unknown aggregation rule 'median'; expected one of: sum, average, last, min, max, ratio
    """
    try:
        return Aggregation(rule)
    except ValueError:
        choices = ", ".join(member.value for member in Aggregation)
        raise AggregationError(f"unknown aggregation rule {rule!r}; expected one of: {choices}") from None


def aggregate(
    values: Sequence[PeriodValue],
    rule: Aggregation | str,
    *,
    scale: float = 1.0,
    expected_count: int | None = None,
) -> AggregateResult:
    """Combine the values of periods of one frequency into one value by the KPI's rule.

    Values may come in any order; they are sorted by period. Periods without data are left out and listed,
    never read as zero; if none has data the value is ``None``, so a quarter without reports does not read
    as "zero sales". ``expected_count`` is the number of periods in the whole span, for callers that only
    pass the periods they have: the ones not given are counted as missing too.

    * ``ratio`` is ``scale * sum(numerators) / sum(denominators)`` over the periods that have both parts
      (``scale`` is e.g. 100 for a percentage; it applies to this rule only, the other rules take values
      already in the KPI's unit); it is ``None`` when the denominators add up to 0.
    * ``last`` is the value of the latest period that has one; the trace says so when that is not the last
      period of the span.

    >>> from fourfold.engine.periods import FiscalCalendar
    >>> january, february = FiscalCalendar().parse("2026-01"), FiscalCalendar().parse("2026-02")
    >>> visits = [PeriodValue(january, 50.0, 2, 4), PeriodValue(february, 2.0, 2, 100)]
    >>> round(aggregate(visits, "ratio", scale=100).value, 4)
    3.8462
    >>> aggregate([PeriodValue(january, 120.0), PeriodValue(february, None)], "last").value
    120.0
    """
    chosen = parse_aggregation(rule)
    _check_scale(chosen, scale)
    ordered = _in_order_of_one_frequency(values)
    unsupplied = _unsupplied_count(len(ordered), expected_count)
    numerator = denominator = None
    if chosen is Aggregation.LAST:
        included = [item for item in ordered if is_present(item.value)]
        reported = [item.value for item in included if item.value is not None]
        value = reported[-1] if reported else None
        steps: tuple[str, ...] = ()
        if value is not None:
            steps = (f"latest value: {included[-1].period.key} = {format_number(value)}",)
        inputs: dict[str, TraceValue] = {item.period.key: item.value for item in ordered}
    else:
        rolled = rollup_values(
            [
                ChildValue(item.period.key, item.period.key, item.value, item.numerator, item.denominator)
                for item in ordered
            ],
            ValueRollupMethod(chosen.value),
        )
        # The roll-up decides which periods have data (both parts for a ratio), so the two cannot disagree.
        included = [item for item in ordered if item.period.key in rolled.included]
        value, steps, inputs = rolled.value, rolled.trace.steps, dict(rolled.trace.inputs)
    if chosen is Aggregation.RATIO:
        # The totals travel with the result so that aggregates can be aggregated again (months, then
        # quarters, then the year) without ever averaging ratios.
        numerator = math.fsum(item.numerator for item in included if item.numerator is not None)
        denominator = math.fsum(item.denominator for item in included if item.denominator is not None)
        inputs["scale"] = scale
        if value is not None and scale != 1:
            scaled = f"{format_number(scale)} {TIMES} {format_number(numerator)} / {format_number(denominator)}"
            steps += (f"{scaled} = {format_number(scale * value)}",)
            value *= scale
    if expected_count is not None:
        inputs["expected_count"] = expected_count
    included_periods = tuple(item.period for item in included)
    missing = tuple(item.period for item in ordered if item.period not in included_periods)
    exclusions = tuple(f"{period.key} (no data)" for period in missing)
    if unsupplied:
        frequency = ordered[0].period.frequency if ordered else None
        exclusions += (f"{unsupplied} expected {period_noun(frequency, unsupplied)} not supplied",)
    trace = Trace(
        method=f"period_{chosen.value}",
        inputs=inputs,
        steps=steps,
        result=value,
        reason=_reason(chosen, value, ordered, included, unsupplied, scale),
        result_kind="value",
        exclusions=exclusions,
    )
    return AggregateResult(
        value=value,
        numerator=numerator,
        denominator=denominator,
        included_periods=included_periods,
        missing_periods=missing,
        trace=trace,
        unsupplied_count=unsupplied,
    )


def aggregate_to(
    calendar: FiscalCalendar,
    values_by_period: Mapping[str, PeriodValue],
    target: Period,
    rule: Aggregation | str,
    *,
    source_frequency: Frequency,
    scale: float = 1.0,
) -> AggregateResult:
    """Combine the ``source_frequency`` values that make up ``target``: months into a quarter, weeks into a month.

    Sub-periods come from the calendar, so fiscal quarters are respected and a week belongs to the month of
    its Thursday (ISO rule): no week is split or counted twice. ``values_by_period`` maps period keys to
    values and may hold a KPI's whole history; entries outside ``target`` are ignored, and sub-periods
    without an entry count as missing. Every entry must be a ``source_frequency`` value filed under its own
    key, so one mapping can serve every view.

    >>> from fourfold.engine.periods import FiscalCalendar
    >>> calendar = FiscalCalendar()
    >>> targets = {key: PeriodValue(calendar.parse(key), 100.0) for key in ("2026-01", "2026-02", "2026-03")}
    >>> aggregate_to(calendar, targets, calendar.parse("2026-Q1"), "sum", source_frequency=Frequency.MONTHLY).value
    300.0
    """
    if source_frequency.rank >= target.frequency.rank:
        raise AggregationError(
            f"cannot aggregate {source_frequency} values into {target.key}, a {target.frequency} period: the "
            f"values must be finer than the view (use inherit() to show a coarser KPI on a finer view)"
        )
    return _aggregate_span(
        calendar.subperiods(target, source_frequency), values_by_period, rule, source_frequency, scale
    )


def year_to_date(
    calendar: FiscalCalendar,
    values_by_period: Mapping[str, PeriodValue],
    period: Period,
    rule: Aggregation | str,
    *,
    scale: float = 1.0,
) -> AggregateResult:
    """Combine the values from the start of ``period``'s fiscal year up to and including ``period``.

    The values have ``period``'s frequency; for a year-to-date figure of a quarter from monthly values, pass
    the quarter's last month. ``values_by_period`` is read as in :func:`aggregate_to`.
    """
    return _aggregate_span(calendar.year_to_date(period), values_by_period, rule, period.frequency, scale)


def rolling(
    calendar: FiscalCalendar,
    values_by_period: Mapping[str, PeriodValue],
    period: Period,
    count: int,
    rule: Aggregation | str,
    *,
    scale: float = 1.0,
) -> AggregateResult:
    """Combine the ``count`` periods ending with ``period``, such as a rolling twelve months.

    Rolling windows smooth out seasonality and ignore fiscal year boundaries; ``values_by_period`` is read
    as in :func:`aggregate_to`.
    """
    return _aggregate_span(calendar.trailing(period, count), values_by_period, rule, period.frequency, scale)


def inherit(
    calendar: FiscalCalendar,
    values_by_period_of_coarser_kpi: Mapping[str, PeriodValue],
    view_period: Period,
    *,
    source_frequency: Frequency,
) -> AggregateResult:
    """The value of a KPI reported less often than the view: that of the coarser period containing the view.

    A quarterly KPI on a monthly view gives every month of the quarter the quarter's value (a week takes the
    month of its Thursday), because the months have no values of their own. Value, numerator and
    denominator are copied as stored, ``inherited_from`` names the coarser period, and the trace says the
    value is inherited. Do not aggregate inherited values again: a sum would count the quarter once a month.

    >>> from fourfold.engine.periods import FiscalCalendar
    >>> calendar = FiscalCalendar()
    >>> quarterly = {"2026-Q1": PeriodValue(calendar.parse("2026-Q1"), 300.0)}
    >>> inherit(calendar, quarterly, calendar.parse("2026-02"), source_frequency=Frequency.QUARTERLY).value
    300.0
    """
    if source_frequency.rank <= view_period.frequency.rank:
        raise AggregationError(
            f"cannot inherit {source_frequency} values on {view_period.key}, a {view_period.frequency} period: "
            f"inheritance is for KPIs reported less often than the view (use aggregate_to() to combine finer values)"
        )
    _check_entries(values_by_period_of_coarser_kpi, source_frequency)
    source = calendar.parent(view_period, source_frequency)
    stored = _lookup(values_by_period_of_coarser_kpi, source)
    value = stored.value if is_present(stored.value) else None
    noun = period_noun(source_frequency)
    view = view_period.key
    inputs: dict[str, TraceValue] = {"view_period": view, "inherited_from": source.key, "value": stored.value}
    if stored.numerator is not None or stored.denominator is not None:
        inputs |= {"numerator": stored.numerator, "denominator": stored.denominator}
    if value is not None:
        title = f"Inherited {format_number(value)} from {source.key}"
        reason = (
            f"the KPI is reported {source_frequency}, less often than this {view_period.frequency} view, so "
            f"{view} shows the value of {source.key}, the {noun} that contains it"
        )
    else:
        title = f"Nothing to inherit from {source.key}"
        reason = (
            f"the KPI is reported {source_frequency} and {source.key}, the {noun} that contains {view}, has no data"
        )
    missing = () if value is not None else (source,)
    trace = Trace(
        method="inherit",
        inputs=inputs,
        steps=(f"{view} lies in {source.key}",),
        result=value,
        reason=reason,
        result_kind="value",
        exclusions=tuple(f"{period.key} (no data)" for period in missing),
        title=title,
    )
    return AggregateResult(
        value=value,
        numerator=stored.numerator,
        denominator=stored.denominator,
        included_periods=(source,) if value is not None else (),
        missing_periods=missing,
        trace=trace,
        inherited_from=source,
    )


def _aggregate_span(
    span: Sequence[Period],
    values_by_period: Mapping[str, PeriodValue],
    rule: Aggregation | str,
    frequency: Frequency,
    scale: float,
) -> AggregateResult:
    """Aggregate the values of ``span`` looked up by key, the periods without an entry counting as missing."""
    _check_entries(values_by_period, frequency)
    return aggregate([_lookup(values_by_period, period) for period in span], rule, scale=scale)


def _check_entries(values_by_period: Mapping[str, PeriodValue], frequency: Frequency) -> None:
    """Refuse a mapping that files values under other periods' keys or mixes in other frequencies."""
    for key, item in values_by_period.items():
        if item.period.key != key:
            raise AggregationError(
                f"the value filed under {key!r} belongs to {item.period.key}; file it under its own key"
            )
        if item.period.frequency != frequency:
            raise AggregationError(
                f"{key} is a {item.period.frequency} period but the values must all be {frequency} "
                f"(keys like {frequency.key_format})"
            )


def _lookup(values_by_period: Mapping[str, PeriodValue], period: Period) -> PeriodValue:
    """The value stored for ``period``, or a missing one; refuses a same-key period of another calendar."""
    stored = values_by_period.get(period.key)
    if stored is None:
        return PeriodValue(period, None)
    if stored.period != period:
        raise AggregationError(
            f"the value for {period.key} covers {stored.period.start} to {stored.period.end}, but {period.key} of "
            f"this calendar covers {period.start} to {period.end}; use the fiscal calendar the values were made with"
        )
    return stored


def _check_scale(rule: Aggregation, scale: float) -> None:
    """Refuse a scale that would hide the ratio (0, NaN) or that a rule other than ratio would silently ignore."""
    if not math.isfinite(scale) or scale == 0:
        raise AggregationError(f"scale must be a finite number other than 0, got {scale!r}")
    if scale != 1 and rule is not Aggregation.RATIO:
        raise AggregationError(
            f"scale={format_number(scale)} applies to the ratio rule only, got rule {rule.value!r}: the other "
            f"rules take values already in the KPI's unit, so leave scale at 1"
        )


def _in_order_of_one_frequency(values: Sequence[PeriodValue]) -> list[PeriodValue]:
    """The values sorted by period, refusing mixed frequencies and periods given twice."""
    ordered = sorted(values, key=lambda item: item.period)
    for earlier, later in pairwise(ordered):
        if later.period.frequency != earlier.period.frequency:
            raise AggregationError(
                f"cannot aggregate periods of different frequencies: {earlier.period.key} is "
                f"{earlier.period.frequency} but {later.period.key} is {later.period.frequency}; "
                f"give values of one frequency"
            )
        if later.period == earlier.period:
            raise AggregationError(f"{later.period.key} is given twice; give one value per period")
    return ordered


def _unsupplied_count(given: int, expected_count: int | None) -> int:
    """How many periods of the span were expected but not given."""
    if expected_count is None:
        return 0
    if isinstance(expected_count, bool) or not isinstance(expected_count, int) or expected_count < given:
        raise AggregationError(
            f"expected_count must be a whole number of at least the {given} periods given (it counts the "
            f"periods of the whole span, given or not), got {expected_count!r}"
        )
    return expected_count - given


def _reason(
    rule: Aggregation,
    value: float | None,
    ordered: Sequence[PeriodValue],
    included: Sequence[PeriodValue],
    unsupplied: int,
    scale: float,
) -> str:
    """The "because" of an aggregate: which periods made it, how, and which period ``last`` picked."""
    total = len(ordered) + unsupplied
    if total == 0:
        return "no periods were given"
    frequency = ordered[0].period.frequency if ordered else None
    span = f" ({_span_text(ordered)})" if ordered else ""
    if not included:
        return f"none of the {total} {period_noun(frequency, total)}{span} has data"
    with_data = f"the {len(included)} of {total} {period_noun(frequency, total)} with data{span}"
    if rule is Aggregation.LAST:
        return _latest_reason(ordered, included[-1].period, with_data, unsupplied)
    if value is None:
        return f"the denominators of {with_data} add up to 0, so there is no ratio"
    reason = f"it is {_WHAT_IT_IS[rule]} of {with_data}"
    return reason + f", times {format_number(scale)}" if scale != 1 else reason


def _latest_reason(ordered: Sequence[PeriodValue], latest: Period, with_data: str, unsupplied: int) -> str:
    """Say which period ``last`` took, and warn when a later period of the span has no data."""
    noun = period_noun(latest.frequency)
    reason = f"it is the value of {latest.key}, the latest of {with_data}"
    later = [item.period.key for item in ordered if item.period > latest]
    if later:
        verb = "has" if len(later) == 1 else "have"
        return reason + f"; it is not the last {noun} of the span, as {', '.join(later)} {verb} no data"
    if unsupplied:
        verb = "was" if unsupplied == 1 else "were"
        return (
            reason + f"; it may not be the last {noun} of the span, as {unsupplied} expected "
            f"{period_noun(latest.frequency, unsupplied)} {verb} not supplied"
        )
    return reason


def _span_text(ordered: Sequence[PeriodValue]) -> str:
    """``2026-01 to 2026-03``, or the one key of a one-period span."""
    first, last = ordered[0].period.key, ordered[-1].period.key
    return first if first == last else f"{first} to {last}"
