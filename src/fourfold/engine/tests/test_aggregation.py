"""Period aggregation and inheritance, with expected values worked out by hand (reference section 6).

Dates used below: 2026-01-01 is a Thursday, so ISO week 2026-W01 (Monday 2025-12-29 to Sunday 2026-01-04)
belongs to January 2026, and January's last week is 2026-W05 (Thursday 2026-01-29); December 2025 holds
2025-W49 (Thursday 2025-12-04) to 2025-W52 (Thursday 2025-12-25).
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.aggregation import (
    AggregateResult,
    Aggregation,
    AggregationError,
    PeriodValue,
    aggregate,
    aggregate_to,
    inherit,
    parse_aggregation,
    period_noun,
    rolling,
    year_to_date,
)
from fourfold.engine.explain import TIMES
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.scoring import ScoringConfigError

CALENDAR_YEAR = FiscalCalendar()
APRIL_START = FiscalCalendar(fiscal_year_start_month=4)
W, M, Q, Y = Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.YEARLY

JANUARY, FEBRUARY, MARCH = (CALENDAR_YEAR.parse(key) for key in ("2026-01", "2026-02", "2026-03"))


def close(first: float | None, second: float) -> bool:
    return first is not None and math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12)


def keys(periods: tuple[Period, ...]) -> list[str]:
    return [period.key for period in periods]


def by_key(calendar: FiscalCalendar, values: dict[str, float | None]) -> dict[str, PeriodValue]:
    return {key: PeriodValue(calendar.parse(key), value) for key, value in values.items()}


# The golden test: a ratio is recomputed from its parts (reference section 6).

CONVERSIONS = [PeriodValue(JANUARY, 50.0, 2, 4), PeriodValue(FEBRUARY, 2.0, 2, 100)]


def test_ratio_over_periods_is_total_numerator_over_total_denominator():
    result = aggregate(CONVERSIONS, Aggregation.RATIO, scale=100)
    # (2 + 2) / (4 + 100) = 4 / 104, as a percentage 400 / 104 = 3.846 %.
    assert close(result.value, 400 / 104)
    assert round(result.value, 1) == 3.8
    # Neither the average of the monthly rates ((50 + 2) / 2 = 26) nor their sum (52).
    assert not close(result.value, 26.0)
    assert not close(result.value, 52.0)
    assert (result.numerator, result.denominator) == (4.0, 104.0)
    assert keys(result.included_periods) == ["2026-01", "2026-02"]


def test_ratio_trace_shows_the_totals_and_the_scale():
    sentence = aggregate(CONVERSIONS, "ratio", scale=100).trace.to_sentence()
    assert sentence == (
        "Rolled up to 3.8462 because it is the total numerator over the total denominator of the 2 of 2 months "
        "with data (2026-01 to 2026-02), times 100. "
        f"Working: (2 + 2) / (4 + 100) = 4 / 104 = 0.0385; 100 {TIMES} 4 / 104 = 3.8462."
    )


def test_ratio_without_scale_is_a_fraction():
    assert close(aggregate(CONVERSIONS, "ratio").value, 4 / 104)


def test_ratio_leaves_out_periods_missing_a_part_even_with_a_value():
    partial = PeriodValue(MARCH, 40.0, numerator=5)
    result = aggregate([*CONVERSIONS, partial], "ratio")
    assert close(result.value, 4 / 104)
    assert keys(result.missing_periods) == ["2026-03"]


def test_ratio_with_zero_total_denominator_has_no_value_and_says_why():
    result = aggregate([PeriodValue(JANUARY, None, 0, 0), PeriodValue(FEBRUARY, None)], "ratio")
    assert result.value is None
    # The parts are kept, so "no traffic" (0 / 0) can be told from "no data".
    assert (result.numerator, result.denominator) == (0.0, 0.0)
    assert result.trace.reason == (
        "the denominators of the 1 of 2 months with data (2026-01 to 2026-02) add up to 0, so there is no ratio"
    )


# The other rules, and missing values.

GAPPY = [PeriodValue(JANUARY, 10.0), PeriodValue(FEBRUARY, None), PeriodValue(MARCH, 30.0)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # February has no value: it is left out, not read as 0.
        (Aggregation.SUM, 40.0),  # 10 + 30
        (Aggregation.AVERAGE, 20.0),  # (10 + 30) / 2, not 40 / 3
        (Aggregation.LAST, 30.0),
        (Aggregation.MIN, 10.0),
        (Aggregation.MAX, 30.0),
    ],
)
def test_each_rule_leaves_missing_periods_out_and_counts_them(rule, expected):
    result = aggregate(GAPPY, rule)
    assert result.value == expected
    assert keys(result.included_periods) == ["2026-01", "2026-03"]
    assert keys(result.missing_periods) == ["2026-02"]
    assert result.missing_count == 1
    assert result.trace.exclusions == ("2026-02 (no data)",)
    assert (result.numerator, result.denominator) == (None, None)


def test_values_may_come_in_any_order():
    assert aggregate(GAPPY[::-1], "last").value == 30.0
    assert keys(aggregate(GAPPY[::-1], "sum").included_periods) == ["2026-01", "2026-03"]


def test_sum_trace():
    assert aggregate(GAPPY, "sum").trace.to_sentence() == (
        "Rolled up to 40 because it is the sum of the 2 of 3 months with data (2026-01 to 2026-03). "
        "Working: 10 + 30 = 40. Left out: 2026-02 (no data)."
    )


def test_last_is_the_latest_period_with_a_value_and_says_when_that_is_not_the_end_of_the_span():
    result = aggregate([PeriodValue(JANUARY, 100.0), PeriodValue(FEBRUARY, 110.0), PeriodValue(MARCH, None)], "last")
    assert result.value == 110.0
    assert result.trace.to_sentence() == (
        "Rolled up to 110 because it is the value of 2026-02, the latest of the 2 of 3 months with data "
        "(2026-01 to 2026-03); it is not the last month of the span, as 2026-03 has no data. "
        "Working: latest value: 2026-02 = 110. Left out: 2026-03 (no data)."
    )


def test_last_at_the_end_of_the_span_needs_no_warning():
    assert aggregate(GAPPY, "last").trace.reason == (
        "it is the value of 2026-03, the latest of the 2 of 3 months with data (2026-01 to 2026-03)"
    )


def test_nan_counts_as_missing():
    result = aggregate([PeriodValue(JANUARY, math.nan), PeriodValue(FEBRUARY, 5.0)], "last")
    assert result.value == 5.0
    assert keys(result.missing_periods) == ["2026-01"]


@pytest.mark.parametrize("rule", list(Aggregation))
def test_no_data_at_all_gives_no_value_not_zero(rule):
    result = aggregate([PeriodValue(JANUARY, None), PeriodValue(FEBRUARY, None)], rule)
    assert result.value is None
    assert result.missing_count == 2
    assert result.trace.reason == "none of the 2 months (2026-01 to 2026-02) has data"


def test_no_values_at_all():
    result = aggregate([], "sum")
    assert result.value is None
    assert result.trace.to_sentence() == "No value because no periods were given."


def test_expected_count_counts_periods_that_were_not_given():
    result = aggregate([PeriodValue(JANUARY, 10.0), PeriodValue(FEBRUARY, 20.0)], "sum", expected_count=3)
    assert result.value == 30.0
    assert result.missing_periods == ()
    assert result.unsupplied_count == 1
    assert result.missing_count == 1
    assert result.trace.reason == "it is the sum of the 2 of 3 months with data (2026-01 to 2026-02)"
    assert result.trace.exclusions == ("1 expected month not supplied",)


def test_last_with_unsupplied_periods_may_not_be_the_end_of_the_span():
    result = aggregate([PeriodValue(JANUARY, 10.0)], "last", expected_count=3)
    assert result.trace.reason == (
        "it is the value of 2026-01, the latest of the 1 of 3 months with data (2026-01); "
        "it may not be the last month of the span, as 2 expected months were not supplied"
    )


# Targets aggregate by the same rule as actuals.

Q1_MONTHS = ("2026-01", "2026-02", "2026-03")


def test_monthly_targets_sum_to_the_quarterly_target_of_a_sum_kpi():
    targets = by_key(CALENDAR_YEAR, dict.fromkeys(Q1_MONTHS, 100.0))
    result = aggregate_to(CALENDAR_YEAR, targets, CALENDAR_YEAR.parse("2026-Q1"), "sum", source_frequency=M)
    assert result.value == 300.0


@pytest.mark.parametrize(("rule", "expected"), [("average", 90.0), ("last", 100.0), ("min", 80.0), ("max", 100.0)])
def test_monthly_targets_of_other_kpis_follow_their_rule(rule, expected):
    targets = by_key(CALENDAR_YEAR, dict(zip(Q1_MONTHS, (80.0, 90.0, 100.0), strict=True)))
    result = aggregate_to(CALENDAR_YEAR, targets, CALENDAR_YEAR.parse("2026-Q1"), rule, source_frequency=M)
    assert result.value == expected


# Views built with the calendar.

MONTH_NUMBERS = by_key(CALENDAR_YEAR, {f"2026-{month:02d}": float(month) for month in range(1, 13)})


def test_months_into_a_fiscal_quarter_ignoring_the_rest_of_the_history():
    # Fiscal years starting in April: 2026-Q1 is April, May and June, so 4 + 5 + 6 = 15.
    result = aggregate_to(APRIL_START, MONTH_NUMBERS, APRIL_START.parse("2026-Q1"), "sum", source_frequency=M)
    assert result.value == 15.0
    assert keys(result.included_periods) == ["2026-04", "2026-05", "2026-06"]


def test_a_month_without_an_entry_is_missing():
    result = aggregate_to(CALENDAR_YEAR, MONTH_NUMBERS, CALENDAR_YEAR.parse("2027-Q1"), "sum", source_frequency=M)
    assert result.value is None
    assert keys(result.missing_periods) == ["2027-01", "2027-02", "2027-03"]


def test_quarters_into_a_year():
    quarters = by_key(CALENDAR_YEAR, {"2026-Q1": 10.0, "2026-Q2": 20.0, "2026-Q3": 30.0, "2026-Q4": 40.0})
    year = CALENDAR_YEAR.parse("2026")
    assert aggregate_to(CALENDAR_YEAR, quarters, year, "sum", source_frequency=Q).value == 100.0
    assert aggregate_to(CALENDAR_YEAR, quarters, year, "average", source_frequency=Q).value == 25.0


def test_weeks_into_months_by_their_thursday():
    weeks = by_key(CALENDAR_YEAR, {f"2025-W{week}": float(week) for week in range(48, 53)})
    weeks |= by_key(CALENDAR_YEAR, {f"2026-W{week:02d}": float(week) for week in range(1, 7)})
    january = aggregate_to(CALENDAR_YEAR, weeks, JANUARY, "sum", source_frequency=W)
    # W01 starts on 2025-12-29 but its Thursday is 2026-01-01: 1 + 2 + 3 + 4 + 5 = 15.
    assert keys(january.included_periods) == ["2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    assert january.value == 15.0
    december = aggregate_to(CALENDAR_YEAR, weeks, CALENDAR_YEAR.parse("2025-12"), "sum", source_frequency=W)
    # W48's Thursday is 2025-11-27, so December is 49 + 50 + 51 + 52 = 202.
    assert december.value == 202.0


def test_year_to_date_starts_at_the_fiscal_year():
    calendar_ytd = year_to_date(CALENDAR_YEAR, MONTH_NUMBERS, MARCH, "sum")
    assert calendar_ytd.value == 6.0  # 1 + 2 + 3
    fiscal_ytd = year_to_date(APRIL_START, MONTH_NUMBERS, APRIL_START.parse("2026-05"), "sum")
    assert fiscal_ytd.value == 9.0  # April and May: 4 + 5
    assert keys(fiscal_ytd.included_periods) == ["2026-04", "2026-05"]


def test_rolling_twelve_months_crosses_the_year_boundary():
    # Months numbered from 1 (2025-01) to 18 (2026-06); the twelve months to 2026-03 are numbers 4 to 15.
    numbered = by_key(
        CALENDAR_YEAR,
        {CALENDAR_YEAR.shift(CALENDAR_YEAR.parse("2025-01"), index).key: float(index + 1) for index in range(18)},
    )
    result = rolling(CALENDAR_YEAR, numbered, MARCH, 12, "sum")
    assert result.value == 114.0  # (4 + 15) * 12 / 2
    assert keys(result.included_periods)[0] == "2025-04"
    assert rolling(CALENDAR_YEAR, numbered, MARCH, 12, "average").value == 9.5
    without_august = {key: value for key, value in numbered.items() if key != "2025-08"}
    gappy = rolling(CALENDAR_YEAR, without_august, MARCH, 12, "sum")
    assert gappy.value == 106.0  # 114 - 8
    assert keys(gappy.missing_periods) == ["2025-08"]


def test_views_pass_the_scale_on_to_ratios():
    conversions = {value.period.key: value for value in CONVERSIONS}
    result = year_to_date(CALENDAR_YEAR, conversions, FEBRUARY, "ratio", scale=100)
    assert close(result.value, 400 / 104)


# Inheritance for KPIs reported less often than the view.

QUARTERLY_300 = by_key(CALENDAR_YEAR, {"2026-Q1": 300.0})


def test_every_month_of_a_quarter_inherits_the_quarters_value():
    for month in (JANUARY, FEBRUARY, MARCH):
        result = inherit(CALENDAR_YEAR, QUARTERLY_300, month, source_frequency=Q)
        assert result.value == 300.0
        assert result.inherited_from == CALENDAR_YEAR.parse("2026-Q1")
        assert result.trace.method == "inherit"


def test_inherited_trace_says_so():
    result = inherit(CALENDAR_YEAR, QUARTERLY_300, FEBRUARY, source_frequency=Q)
    assert result.trace.to_sentence() == (
        "Inherited 300 from 2026-Q1 because the KPI is reported quarterly, less often than this monthly view, "
        "so 2026-02 shows the value of 2026-Q1, the quarter that contains it. Working: 2026-02 lies in 2026-Q1."
    )


def test_inheritance_follows_the_fiscal_calendar_and_the_thursday_rule():
    fiscal = by_key(APRIL_START, {"2026-Q1": 7.0})
    # With fiscal years starting in April, May 2026 lies in 2026-Q1.
    assert inherit(APRIL_START, fiscal, APRIL_START.parse("2026-05"), source_frequency=Q).value == 7.0
    monthly = by_key(CALENDAR_YEAR, {"2026-01": 1.0, "2026-02": 2.0})
    # 2026-W05 runs from 2026-01-26 to 2026-02-01; its Thursday (2026-01-29) is in January.
    assert inherit(CALENDAR_YEAR, monthly, CALENDAR_YEAR.parse("2026-W05"), source_frequency=M).value == 1.0


def test_nothing_to_inherit():
    result = inherit(CALENDAR_YEAR, QUARTERLY_300, CALENDAR_YEAR.parse("2026-05"), source_frequency=Q)
    assert result.value is None
    assert keys(result.missing_periods) == ["2026-Q2"]
    assert result.inherited_from == CALENDAR_YEAR.parse("2026-Q2")
    assert result.trace.headline() == "Nothing to inherit from 2026-Q2"


def test_a_ratio_inherits_its_parts():
    quarter = CALENDAR_YEAR.parse("2026-Q1")
    stored = {"2026-Q1": PeriodValue(quarter, 25.0, numerator=1, denominator=4)}
    result = inherit(CALENDAR_YEAR, stored, JANUARY, source_frequency=Q)
    assert (result.value, result.numerator, result.denominator) == (25.0, 1, 4)


# Bad input.


def quarter_of_months(values, rule="sum", frequency=M, target="2026-Q1", scale=1.0):
    return aggregate_to(
        CALENDAR_YEAR, values, CALENDAR_YEAR.parse(target), rule, source_frequency=frequency, scale=scale
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: aggregate(GAPPY, "median"),
            "unknown aggregation rule 'median'; expected one of: sum, average, last, min, max, ratio",
        ),
        (
            lambda: aggregate([PeriodValue(JANUARY, 1.0), PeriodValue(CALENDAR_YEAR.parse("2026-Q1"), 1.0)], "sum"),
            "cannot aggregate periods of different frequencies: 2026-01 is monthly but 2026-Q1 is quarterly",
        ),
        (
            lambda: aggregate([PeriodValue(JANUARY, 1.0), PeriodValue(JANUARY, 2.0)], "sum"),
            "2026-01 is given twice; give one value per period",
        ),
        (
            lambda: aggregate(GAPPY, "sum", expected_count=2),
            "expected_count must be a whole number of at least the 3 periods given",
        ),
        (lambda: aggregate(GAPPY, "sum", expected_count=True), "expected_count must be a whole number"),
        (lambda: aggregate(GAPPY, "sum", scale=100), "scale=100 applies to the ratio rule only, got rule 'sum'"),
        (lambda: aggregate(CONVERSIONS, "ratio", scale=0), "scale must be a finite number other than 0, got 0"),
        (lambda: aggregate(CONVERSIONS, "ratio", scale=math.inf), "scale must be a finite number other than 0"),
        (
            lambda: quarter_of_months(QUARTERLY_300, frequency=Q),
            "cannot aggregate quarterly values into 2026-Q1, a quarterly period: the values must be finer",
        ),
        (
            lambda: quarter_of_months({"2026-02": PeriodValue(JANUARY, 1.0)}),
            "the value filed under '2026-02' belongs to 2026-01; file it under its own key",
        ),
        (
            lambda: quarter_of_months({**MONTH_NUMBERS, **QUARTERLY_300}),
            "2026-Q1 is a quarterly period but the values must all be monthly (keys like YYYY-MM)",
        ),
        (
            lambda: aggregate_to(
                CALENDAR_YEAR,
                by_key(APRIL_START, {"2026-Q1": 1.0}),
                CALENDAR_YEAR.parse("2026"),
                "sum",
                source_frequency=Q,
            ),
            "the value for 2026-Q1 covers 2026-04-01 to 2026-06-30, but 2026-Q1 of this calendar covers 2026-01-01",
        ),
        (
            lambda: inherit(CALENDAR_YEAR, MONTH_NUMBERS, CALENDAR_YEAR.parse("2026-Q1"), source_frequency=M),
            "cannot inherit monthly values on 2026-Q1, a quarterly period: inheritance is for KPIs reported less often",
        ),
        (
            lambda: inherit(CALENDAR_YEAR, MONTH_NUMBERS, FEBRUARY, source_frequency=Q),
            "2026-01 is a monthly period but the values must all be quarterly",
        ),
    ],
)
def test_bad_input_is_refused_saying_what_was_given_and_what_is_expected(call, message):
    with pytest.raises(AggregationError) as error:
        call()
    assert str(error.value).startswith(message)


def test_aggregation_errors_are_configuration_errors_and_value_errors():
    assert issubclass(AggregationError, ScoringConfigError)
    assert issubclass(AggregationError, ValueError)


def test_a_rolling_window_needs_a_period():
    with pytest.raises(ValueError, match="a trailing window needs at least one period, got count=0"):
        rolling(CALENDAR_YEAR, MONTH_NUMBERS, MARCH, 0, "sum")


def test_rule_names_and_nouns():
    assert parse_aggregation(Aggregation.LAST) is Aggregation.LAST
    assert [period_noun(frequency, 2) for frequency in (W, M, Q, Y)] == ["weeks", "months", "quarters", "years"]


# Properties.

amounts = st.floats(-1e6, 1e6, allow_nan=False)
maybe_amounts = st.none() | amounts
Q1 = CALENDAR_YEAR.parse("2026-Q1")


def months_of_q1(values):
    return {key: PeriodValue(CALENDAR_YEAR.parse(key), value) for key, value in zip(Q1_MONTHS, values, strict=True)}


@given(st.lists(maybe_amounts, min_size=3, max_size=3))
def test_the_sum_over_sub_periods_is_the_sum_of_the_parts(values):
    result = quarter_of_months(months_of_q1(values))
    present = [value for value in values if value is not None]
    if not present:
        assert result.value is None
        return
    assert result.value == math.fsum(present)
    assert result.missing_count == 3 - len(present)


@given(st.lists(amounts, min_size=12, max_size=12))
def test_a_years_sum_is_the_sum_of_its_quarters_sums(values):
    months = by_key(CALENDAR_YEAR, {f"2026-{index + 1:02d}": value for index, value in enumerate(values)})
    quarters = {
        f"2026-Q{quarter}": PeriodValue(
            CALENDAR_YEAR.parse(f"2026-Q{quarter}"), quarter_of_months(months, target=f"2026-Q{quarter}").value
        )
        for quarter in range(1, 5)
    }
    year = CALENDAR_YEAR.parse("2026")
    from_months = aggregate_to(CALENDAR_YEAR, months, year, "sum", source_frequency=M).value
    from_quarters = aggregate_to(CALENDAR_YEAR, quarters, year, "sum", source_frequency=Q).value
    assert math.isclose(from_months, from_quarters, rel_tol=1e-9, abs_tol=1e-6)


counts = st.floats(0, 1e6, allow_nan=False)
positive_counts = st.floats(1e-3, 1e6, allow_nan=False)


@given(counts, positive_counts, st.sampled_from([1.0, 100.0, 1000.0]))
def test_the_ratio_of_one_period_is_its_own_ratio(numerator, denominator, scale):
    result = aggregate([PeriodValue(JANUARY, None, numerator, denominator)], "ratio", scale=scale)
    assert close(result.value, scale * numerator / denominator)


@given(st.lists(st.tuples(counts, positive_counts), min_size=6, max_size=6))
def test_a_ratio_over_a_half_year_is_the_ratio_of_its_quarters_parts(parts):
    months = {
        f"2026-{index + 1:02d}": PeriodValue(CALENDAR_YEAR.parse(f"2026-{index + 1:02d}"), None, numerator, denominator)
        for index, (numerator, denominator) in enumerate(parts)
    }
    quarters: list[AggregateResult] = [
        quarter_of_months(months, "ratio", target=target) for target in ("2026-Q1", "2026-Q2")
    ]
    as_quarters = [
        PeriodValue(CALENDAR_YEAR.parse(target), None, result.numerator, result.denominator)
        for target, result in zip(("2026-Q1", "2026-Q2"), quarters, strict=True)
    ]
    from_months = aggregate(list(months.values()), "ratio").value
    assert close(aggregate(as_quarters, "ratio").value, from_months)


@given(st.lists(maybe_amounts, min_size=1, max_size=12))
def test_the_average_lies_between_the_minimum_and_the_maximum(values):
    periods = [CALENDAR_YEAR.shift(JANUARY, index) for index in range(len(values))]
    series = [PeriodValue(period, value) for period, value in zip(periods, values, strict=True)]
    average = aggregate(series, "average").value
    if average is None:
        assert all(value is None for value in values)
        return
    low, high = aggregate(series, "min").value, aggregate(series, "max").value
    assert low is not None
    assert high is not None
    assert low - 1e-9 * abs(low) - 1e-12 <= average <= high + 1e-9 * abs(high) + 1e-12


@given(st.lists(amounts, min_size=1, max_size=6), st.sampled_from(["sum", "average", "last", "min", "max"]))
def test_adding_empty_periods_changes_no_value(values, rule):
    periods = [CALENDAR_YEAR.shift(JANUARY, 2 * index) for index in range(len(values))]
    reported = [PeriodValue(period, value) for period, value in zip(periods, values, strict=True)]
    gaps = [PeriodValue(CALENDAR_YEAR.next(period), None) for period in periods[:-1]]
    with_gaps = aggregate([*reported, *gaps], rule)
    assert with_gaps.value == aggregate(reported, rule).value
    assert with_gaps.missing_count == len(gaps)


@given(maybe_amounts, st.sampled_from(["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]))
def test_every_month_of_a_quarter_shows_the_same_inherited_value(value, quarter_key):
    quarter = CALENDAR_YEAR.parse(quarter_key)
    stored = {quarter_key: PeriodValue(quarter, value)}
    inherited = [
        inherit(CALENDAR_YEAR, stored, month, source_frequency=Q).value
        for month in CALENDAR_YEAR.subperiods(quarter, M)
    ]
    assert inherited == [value] * 3
