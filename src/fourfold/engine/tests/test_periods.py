"""Tests for reporting periods and period keys.

Expected dates were worked out by hand from the rules: 2026-01-01 is a Thursday, so ISO week 2026-W01
runs from Monday 2025-12-29 and 2026 has 53 ISO weeks; 2025-01-01 is a Wednesday, so 2025 has 52.
"""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.periods import (
    FiscalCalendar,
    FiscalYearNaming,
    Frequency,
    Period,
    PeriodKeyError,
)

CALENDAR_YEAR = FiscalCalendar()
APRIL_START = FiscalCalendar(fiscal_year_start_month=4)
APRIL_END = FiscalCalendar(fiscal_year_start_month=4, naming=FiscalYearNaming.END)
JANUARY_END = FiscalCalendar(fiscal_year_start_month=1, naming=FiscalYearNaming.END)
OCTOBER_END = FiscalCalendar(fiscal_year_start_month=10, naming=FiscalYearNaming.END)

ALL_FORMATS = "(expected YYYY-MM, YYYY-Qn, YYYY or YYYY-Wnn)"

W, M, Q, Y = Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.YEARLY


def keys(periods: list[Period]) -> list[str]:
    return [period.key for period in periods]


# Frequency and FiscalCalendar construction


def test_frequencies_are_ranked_from_finest_to_coarsest():
    assert [frequency.rank for frequency in (W, M, Q, Y)] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("frequency", "key_format"),
    [(W, "YYYY-Wnn"), (M, "YYYY-MM"), (Q, "YYYY-Qn"), (Y, "YYYY")],
)
def test_each_frequency_knows_the_shape_of_its_keys(frequency, key_format):
    assert frequency.key_format == key_format


@pytest.mark.parametrize("month", [0, 13, -1, True, "4", 4.0, None])
def test_fiscal_year_start_month_must_be_a_month_number(month):
    with pytest.raises(ValueError, match=r"fiscal_year_start_month must be a whole number from 1 .* got"):
        FiscalCalendar(fiscal_year_start_month=month)


def test_naming_given_as_text_is_turned_into_the_enum():
    fiscal_calendar = FiscalCalendar(fiscal_year_start_month=4, naming="end")
    assert fiscal_calendar.naming is FiscalYearNaming.END


def test_unknown_naming_is_refused():
    with pytest.raises(ValueError, match=r"naming must be 'start' or 'end', got 'middle'"):
        FiscalCalendar(naming="middle")


# parse: valid keys


@pytest.mark.parametrize(
    ("fiscal_calendar", "key", "start", "end", "frequency", "canonical"),
    [
        (CALENDAR_YEAR, "2026-03", date(2026, 3, 1), date(2026, 3, 31), M, "2026-03"),
        (CALENDAR_YEAR, "2026-3", date(2026, 3, 1), date(2026, 3, 31), M, "2026-03"),
        (CALENDAR_YEAR, "2024-02", date(2024, 2, 1), date(2024, 2, 29), M, "2024-02"),
        (CALENDAR_YEAR, "2025-02", date(2025, 2, 1), date(2025, 2, 28), M, "2025-02"),
        (CALENDAR_YEAR, "1900-01", date(1900, 1, 1), date(1900, 1, 31), M, "1900-01"),
        (CALENDAR_YEAR, "9999-12", date(9999, 12, 1), date(9999, 12, 31), M, "9999-12"),
        (APRIL_START, "2026-03", date(2026, 3, 1), date(2026, 3, 31), M, "2026-03"),
        (CALENDAR_YEAR, " 2026-q1 ", date(2026, 1, 1), date(2026, 3, 31), Q, "2026-Q1"),
        (CALENDAR_YEAR, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), Q, "2026-Q4"),
        (CALENDAR_YEAR, "2026-Q01", date(2026, 1, 1), date(2026, 3, 31), Q, "2026-Q1"),
        (APRIL_START, "2026-Q1", date(2026, 4, 1), date(2026, 6, 30), Q, "2026-Q1"),
        (APRIL_START, "2026-Q4", date(2027, 1, 1), date(2027, 3, 31), Q, "2026-Q4"),
        (APRIL_START, "9999-Q3", date(9999, 10, 1), date(9999, 12, 31), Q, "9999-Q3"),
        (APRIL_END, "2026-Q1", date(2025, 4, 1), date(2025, 6, 30), Q, "2026-Q1"),
        (APRIL_END, "2026-Q4", date(2026, 1, 1), date(2026, 3, 31), Q, "2026-Q4"),
        (OCTOBER_END, "2026-Q1", date(2025, 10, 1), date(2025, 12, 31), Q, "2026-Q1"),
        (JANUARY_END, "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), Q, "2026-Q1"),
        (CALENDAR_YEAR, "2026", date(2026, 1, 1), date(2026, 12, 31), Y, "2026"),
        (CALENDAR_YEAR, "\t2026\n", date(2026, 1, 1), date(2026, 12, 31), Y, "2026"),
        (JANUARY_END, "2026", date(2026, 1, 1), date(2026, 12, 31), Y, "2026"),
        (APRIL_START, "2026", date(2026, 4, 1), date(2027, 3, 31), Y, "2026"),
        (APRIL_END, "2026", date(2025, 4, 1), date(2026, 3, 31), Y, "2026"),
        (APRIL_END, "1900", date(1899, 4, 1), date(1900, 3, 31), Y, "1900"),
        (OCTOBER_END, "2026", date(2025, 10, 1), date(2026, 9, 30), Y, "2026"),
        (CALENDAR_YEAR, "2026-W07", date(2026, 2, 9), date(2026, 2, 15), W, "2026-W07"),
        (CALENDAR_YEAR, "2026-w7", date(2026, 2, 9), date(2026, 2, 15), W, "2026-W07"),
        (CALENDAR_YEAR, "2026-W01", date(2025, 12, 29), date(2026, 1, 4), W, "2026-W01"),
        (CALENDAR_YEAR, "2026-W53", date(2026, 12, 28), date(2027, 1, 3), W, "2026-W53"),
        (CALENDAR_YEAR, "2020-W53", date(2020, 12, 28), date(2021, 1, 3), W, "2020-W53"),
        (CALENDAR_YEAR, "1900-W01", date(1900, 1, 1), date(1900, 1, 7), W, "1900-W01"),
        (APRIL_END, "2026-W07", date(2026, 2, 9), date(2026, 2, 15), W, "2026-W07"),
    ],
)
def test_parse_gives_the_days_of_the_period_and_its_canonical_key(
    fiscal_calendar, key, start, end, frequency, canonical
):
    assert fiscal_calendar.parse(key) == Period(start, end, frequency, canonical)


def test_parse_accepts_a_key_of_the_expected_frequency():
    assert CALENDAR_YEAR.parse("2026-03", expected=M).key == "2026-03"


@pytest.mark.parametrize(
    ("key", "frequency"),
    [("2026-03", M), ("2026-Q2", Q), ("2026", Y), ("2026-W07", W), (" 2026-w7 ", W)],
)
def test_frequency_of_a_key(key, frequency):
    assert CALENDAR_YEAR.frequency_of(key) is frequency


# parse: refused keys


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", f"'' is not a period key: it is empty {ALL_FORMATS}"),
        ("   ", f"'   ' is not a period key: it is empty {ALL_FORMATS}"),
        ("garbage", f"'garbage' is not a period key {ALL_FORMATS}"),
        ("26-03", f"'26-03' is not a period key {ALL_FORMATS}"),
        ("2026/03", f"'2026/03' is not a period key {ALL_FORMATS}"),
        ("2026-003", f"'2026-003' is not a period key {ALL_FORMATS}"),
        ("2026-Q1-2", f"'2026-Q1-2' is not a period key {ALL_FORMATS}"),
        ("2026-H1", f"'2026-H1' is not a period key {ALL_FORMATS}"),
        ("10000", f"'10000' is not a period key {ALL_FORMATS}"),
        ("-2026", f"'-2026' is not a period key {ALL_FORMATS}"),
        ("\u0662\u0660\u0662\u0666", f"'\u0662\u0660\u0662\u0666' is not a period key {ALL_FORMATS}"),
        ("2026-13", f"'2026-13' is not a period key: the month must be 01-12 {ALL_FORMATS}"),
        ("2026-00", f"'2026-00' is not a period key: the month must be 01-12 {ALL_FORMATS}"),
        ("2026-Q5", f"'2026-Q5' is not a period key: the quarter must be Q1-Q4 {ALL_FORMATS}"),
        ("2026-Q0", f"'2026-Q0' is not a period key: the quarter must be Q1-Q4 {ALL_FORMATS}"),
        (
            "2026-W00",
            f"'2026-W00' is not a period key: the week must be W01-W53, as ISO year 2026 has 53 weeks {ALL_FORMATS}",
        ),
        (
            "2025-W53",
            f"'2025-W53' is not a period key: the week must be W01-W52, as ISO year 2025 has 52 weeks {ALL_FORMATS}",
        ),
        (
            "2027-W53",
            f"'2027-W53' is not a period key: the week must be W01-W52, as ISO year 2027 has 52 weeks {ALL_FORMATS}",
        ),
        ("1899", f"'1899' is not a period key: the year must be between 1900 and 9999 {ALL_FORMATS}"),
        ("0999-01", f"'0999-01' is not a period key: the year must be between 1900 and 9999 {ALL_FORMATS}"),
        (
            "9999-W52",
            f"'9999-W52' is not a period key: week 52 of 9999 would end after 9999-12-31, "
            f"the last representable day {ALL_FORMATS}",
        ),
    ],
)
def test_parse_refuses_bad_keys_saying_what_was_given_and_what_is_expected(key, message):
    with pytest.raises(PeriodKeyError) as raised:
        CALENDAR_YEAR.parse(key)
    assert str(raised.value) == message


@pytest.mark.parametrize("key", ["9999", "9999-Q4"])
def test_parse_refuses_a_fiscal_period_that_would_end_after_the_last_representable_day(key):
    with pytest.raises(PeriodKeyError, match=r"would end after 9999-12-31"):
        APRIL_START.parse(key)


def test_parse_refuses_a_key_that_is_not_text():
    with pytest.raises(PeriodKeyError, match=r"^2026 is not a period key: keys are text"):
        CALENDAR_YEAR.parse(2026)


def test_period_key_error_is_a_value_error():
    with pytest.raises(ValueError, match="not a period key"):
        CALENDAR_YEAR.parse("nope")


@pytest.mark.parametrize(
    ("key", "expected", "message"),
    [
        (
            "2026-Q1",
            M,
            "'2026-Q1' is a quarterly period but a monthly period is required here (expected a key like 2026-03)",
        ),
        (
            "2026-03",
            Q,
            "'2026-03' is a monthly period but a quarterly period is required here (expected a key like 2026-Q1)",
        ),
        (
            "2026-03",
            W,
            "'2026-03' is a monthly period but a weekly period is required here (expected a key like 2026-W14)",
        ),
        (
            "2026-W07",
            Y,
            "'2026-W07' is a weekly period but a yearly period is required here (expected a key like 2026)",
        ),
        (
            "9999-12",
            W,
            "'9999-12' is a monthly period but a weekly period is required here (expected a key like 2026-W07)",
        ),
    ],
)
def test_parse_refuses_a_key_of_another_frequency_than_expected(key, expected, message):
    with pytest.raises(PeriodKeyError) as raised:
        CALENDAR_YEAR.parse(key, expected=expected)
    assert str(raised.value) == message


def test_a_malformed_key_with_an_expected_frequency_names_only_that_format():
    with pytest.raises(PeriodKeyError) as raised:
        CALENDAR_YEAR.parse("March", expected=M)
    assert str(raised.value) == "'March' is not a period key (expected YYYY-MM)"


# Period


@pytest.mark.parametrize(
    ("fiscal_calendar", "key", "label"),
    [
        (CALENDAR_YEAR, "2026-03", "Mar 2026"),
        (CALENDAR_YEAR, "2026-12", "Dec 2026"),
        (APRIL_START, "2026-01", "Jan 2026"),
        (CALENDAR_YEAR, "2026-Q1", "Q1 2026"),
        (JANUARY_END, "2026-Q3", "Q3 2026"),
        (APRIL_START, "2026-Q1", "Q1 FY2026"),
        (APRIL_START, "2026-Q4", "Q4 FY2026"),
        (APRIL_END, "2026-Q4", "Q4 FY2026"),
        (FiscalCalendar(fiscal_year_start_month=7), "2026-Q3", "Q3 FY2026"),
        (CALENDAR_YEAR, "2026", "2026"),
        (APRIL_START, "2026", "FY2026"),
        (APRIL_END, "2026", "FY2026"),
        (CALENDAR_YEAR, "2026-W07", "Week 7, 2026"),
        (CALENDAR_YEAR, "2026-W01", "Week 1, 2026"),
        (CALENDAR_YEAR, "2026-W53", "Week 53, 2026"),
    ],
)
def test_label(fiscal_calendar, key, label):
    assert fiscal_calendar.parse(key).label == label


def test_a_period_prints_as_its_key():
    assert str(CALENDAR_YEAR.parse("2026-w7")) == "2026-W07"


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2026, 2, 28), False),
        (date(2026, 3, 1), True),
        (date(2026, 3, 15), True),
        (date(2026, 3, 31), True),
        (date(2026, 4, 1), False),
    ],
)
def test_contains_includes_both_ends(day, inside):
    assert CALENDAR_YEAR.parse("2026-03").contains(day) is inside


def test_periods_sort_by_first_day_then_last_day():
    parsed = [CALENDAR_YEAR.parse(key) for key in ("2026-02", "2026-Q1", "2025", "2026-01")]
    assert keys(sorted(parsed)) == ["2025", "2026-01", "2026-Q1", "2026-02"]


def test_equal_periods_are_interchangeable_as_dictionary_keys():
    values = {CALENDAR_YEAR.parse("2026-3"): 42}
    assert values[CALENDAR_YEAR.parse(" 2026-03")] == 42


# period_containing and fiscal_year_of


@pytest.mark.parametrize(
    ("fiscal_calendar", "day", "frequency", "key"),
    [
        (CALENDAR_YEAR, date(2026, 2, 10), W, "2026-W07"),
        (CALENDAR_YEAR, date(2026, 2, 10), M, "2026-02"),
        (CALENDAR_YEAR, date(2026, 2, 10), Q, "2026-Q1"),
        (CALENDAR_YEAR, date(2026, 2, 10), Y, "2026"),
        (APRIL_START, date(2026, 2, 10), Q, "2025-Q4"),
        (APRIL_START, date(2026, 2, 10), Y, "2025"),
        (APRIL_END, date(2026, 2, 10), Q, "2026-Q4"),
        (APRIL_END, date(2026, 2, 10), Y, "2026"),
        (APRIL_START, date(2026, 4, 1), Q, "2026-Q1"),
        (APRIL_START, date(2026, 4, 1), Y, "2026"),
        (APRIL_END, date(2026, 4, 1), Q, "2027-Q1"),
        (APRIL_END, date(2026, 4, 1), Y, "2027"),
        (OCTOBER_END, date(2025, 11, 15), Q, "2026-Q1"),
        (CALENDAR_YEAR, date(2025, 12, 29), W, "2026-W01"),
        (CALENDAR_YEAR, date(2027, 1, 1), W, "2026-W53"),
        (CALENDAR_YEAR, date(2027, 1, 1), M, "2027-01"),
    ],
)
def test_period_containing(fiscal_calendar, day, frequency, key):
    assert fiscal_calendar.period_containing(day, frequency).key == key


@pytest.mark.parametrize(
    ("fiscal_calendar", "day", "frequency", "message"),
    [
        (CALENDAR_YEAR, date(1899, 12, 31), M, "year 1899 is outside the supported years 1900-9999"),
        (CALENDAR_YEAR, date(1899, 12, 31), W, "ISO week year 1899 is outside the supported years 1900-9999"),
        (CALENDAR_YEAR, date(9999, 12, 31), W, "week 52 of 9999 would end after 9999-12-31"),
        (APRIL_START, date(9999, 5, 1), Y, "9999 would end after 9999-12-31"),
    ],
)
def test_period_containing_refuses_days_outside_the_supported_years(fiscal_calendar, day, frequency, message):
    with pytest.raises(ValueError, match=message):
        fiscal_calendar.period_containing(day, frequency)


@pytest.mark.parametrize(
    ("fiscal_calendar", "day", "fiscal_year"),
    [
        (CALENDAR_YEAR, date(2026, 1, 1), 2026),
        (CALENDAR_YEAR, date(2026, 12, 31), 2026),
        (JANUARY_END, date(2026, 6, 15), 2026),
        (APRIL_START, date(2026, 3, 31), 2025),
        (APRIL_START, date(2026, 4, 1), 2026),
        (APRIL_END, date(2026, 3, 31), 2026),
        (APRIL_END, date(2026, 4, 1), 2027),
        (OCTOBER_END, date(2025, 9, 30), 2025),
        (OCTOBER_END, date(2025, 10, 1), 2026),
    ],
)
def test_fiscal_year_of(fiscal_calendar, day, fiscal_year):
    assert fiscal_calendar.fiscal_year_of(day) == fiscal_year


# shift, next, previous


@pytest.mark.parametrize(
    ("fiscal_calendar", "key", "steps", "shifted"),
    [
        (CALENDAR_YEAR, "2026-11", 3, "2027-02"),
        (CALENDAR_YEAR, "2026-01", -1, "2025-12"),
        (CALENDAR_YEAR, "2026-03", 0, "2026-03"),
        (CALENDAR_YEAR, "2026-03", 12, "2027-03"),
        (CALENDAR_YEAR, "2026-03", -24, "2024-03"),
        (CALENDAR_YEAR, "2026-Q4", 1, "2027-Q1"),
        (CALENDAR_YEAR, "2026-Q1", -5, "2024-Q4"),
        (CALENDAR_YEAR, "2026", 1, "2027"),
        (CALENDAR_YEAR, "2026-W52", 1, "2026-W53"),
        (CALENDAR_YEAR, "2026-W52", 2, "2027-W01"),
        (CALENDAR_YEAR, "2025-W52", 1, "2026-W01"),
        (CALENDAR_YEAR, "2026-W01", -1, "2025-W52"),
        (CALENDAR_YEAR, "2026-W07", 10, "2026-W17"),
    ],
)
def test_shift(fiscal_calendar, key, steps, shifted):
    assert fiscal_calendar.shift(fiscal_calendar.parse(key), steps) == fiscal_calendar.parse(shifted)


def test_shift_moves_fiscal_quarters_across_fiscal_years():
    assert APRIL_START.shift(APRIL_START.parse("2026-Q4"), 1) == Period(
        date(2027, 4, 1), date(2027, 6, 30), Q, "2027-Q1"
    )
    assert APRIL_START.shift(APRIL_START.parse("2026-Q1"), -1) == Period(
        date(2026, 1, 1), date(2026, 3, 31), Q, "2025-Q4"
    )


def test_next_and_previous():
    march = CALENDAR_YEAR.parse("2026-03")
    assert CALENDAR_YEAR.next(march).key == "2026-04"
    assert CALENDAR_YEAR.previous(march).key == "2026-02"


@pytest.mark.parametrize(
    ("key", "steps", "message"),
    [
        ("9999-12", 1, "year 10000 is outside the supported years 1900-9999"),
        ("1900-01", -1, "year 1899 is outside the supported years 1900-9999"),
        ("9999", 1, "fiscal year 10000 is outside the supported years 1900-9999"),
        ("1900-Q1", -1, "fiscal year 1899 is outside the supported years 1900-9999"),
        ("9999-W51", 1, "week 52 of 9999 would end after 9999-12-31"),
        ("1900-W01", -1, "ISO week year 1899 is outside the supported years 1900-9999"),
        ("2026-W01", 10**7, "that week is outside the supported years 1900-9999"),
        ("2026-W01", -(10**7), "that week is outside the supported years 1900-9999"),
    ],
)
def test_shift_refuses_to_leave_the_supported_years(key, steps, message):
    with pytest.raises(ValueError, match=message):
        CALENDAR_YEAR.shift(CALENDAR_YEAR.parse(key), steps)


# Periods from another calendar


def test_a_quarter_of_another_fiscal_calendar_is_refused():
    calendar_quarter = CALENDAR_YEAR.parse("2026-Q1")
    with pytest.raises(
        ValueError,
        match=r"2026-Q1 \(2026-01-01 to 2026-03-31\) is not a quarterly period of this fiscal calendar "
        r"\(fiscal year starting in month 4, named after the year it starts in\)",
    ):
        APRIL_START.next(calendar_quarter)


def test_a_year_named_differently_is_refused():
    with pytest.raises(ValueError, match=r"named after the year it ends in"):
        APRIL_END.subperiods(APRIL_START.parse("2026"), M)


def test_months_are_shared_by_all_fiscal_calendars():
    assert APRIL_END.next(CALENDAR_YEAR.parse("2026-03")).key == "2026-04"


def test_a_hand_made_period_whose_key_disagrees_with_its_dates_is_refused():
    wrong_key = Period(date(2026, 3, 1), date(2026, 3, 31), M, "2026-3")
    with pytest.raises(ValueError, match="is not a monthly period of this fiscal calendar"):
        CALENDAR_YEAR.next(wrong_key)


# span


def test_span_includes_both_ends_oldest_first():
    first, last = CALENDAR_YEAR.parse("2026-11"), CALENDAR_YEAR.parse("2027-02")
    assert keys(CALENDAR_YEAR.span(first, last)) == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_span_of_weeks_crosses_a_53_week_year():
    first, last = CALENDAR_YEAR.parse("2026-W52"), CALENDAR_YEAR.parse("2027-W01")
    assert keys(CALENDAR_YEAR.span(first, last)) == ["2026-W52", "2026-W53", "2027-W01"]


def test_span_of_one_period_is_that_period():
    march = CALENDAR_YEAR.parse("2026-03")
    assert CALENDAR_YEAR.span(march, march) == [march]


def test_span_backwards_is_empty():
    assert CALENDAR_YEAR.span(CALENDAR_YEAR.parse("2026-03"), CALENDAR_YEAR.parse("2026-02")) == []


def test_span_needs_the_same_frequency_at_both_ends():
    with pytest.raises(ValueError, match=r"cannot span from 2026-01 \(monthly\) to 2026-Q2 \(quarterly\)"):
        CALENDAR_YEAR.span(CALENDAR_YEAR.parse("2026-01"), CALENDAR_YEAR.parse("2026-Q2"))


# subperiods and parent


@pytest.mark.parametrize(
    ("fiscal_calendar", "key", "frequency", "expected"),
    [
        (CALENDAR_YEAR, "2026-Q1", M, ["2026-01", "2026-02", "2026-03"]),
        (APRIL_START, "2026-Q4", M, ["2027-01", "2027-02", "2027-03"]),
        (APRIL_END, "2026-Q1", M, ["2025-04", "2025-05", "2025-06"]),
        (APRIL_START, "2026", Q, ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]),
        (
            APRIL_START,
            "2026",
            M,
            [f"2026-{month:02d}" for month in range(4, 13)] + ["2027-01", "2027-02", "2027-03"],
        ),
        (CALENDAR_YEAR, "2026-02", W, ["2026-W06", "2026-W07", "2026-W08", "2026-W09"]),
        (CALENDAR_YEAR, "2026-01", W, ["2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"]),
        (CALENDAR_YEAR, "2025-12", W, ["2025-W49", "2025-W50", "2025-W51", "2025-W52"]),
        (CALENDAR_YEAR, "2026-Q1", W, [f"2026-W{week:02d}" for week in range(1, 14)]),
        (CALENDAR_YEAR, "2026", W, [f"2026-W{week:02d}" for week in range(1, 54)]),
        (CALENDAR_YEAR, "2025", W, [f"2025-W{week:02d}" for week in range(1, 53)]),
        (APRIL_START, "2026-Q1", W, [f"2026-W{week:02d}" for week in range(14, 27)]),
    ],
)
def test_subperiods(fiscal_calendar, key, frequency, expected):
    assert keys(fiscal_calendar.subperiods(fiscal_calendar.parse(key), frequency)) == expected


@pytest.mark.parametrize(("key", "frequency"), [("2026-03", Q), ("2026-03", M), ("2026-W07", W)])
def test_subperiods_must_be_finer(key, frequency):
    with pytest.raises(ValueError, match=r"sub-periods must be finer than"):
        CALENDAR_YEAR.subperiods(CALENDAR_YEAR.parse(key), frequency)


@pytest.mark.parametrize(
    ("fiscal_calendar", "key", "frequency", "expected"),
    [
        (CALENDAR_YEAR, "2026-03", Q, "2026-Q1"),
        (CALENDAR_YEAR, "2026-03", Y, "2026"),
        (CALENDAR_YEAR, "2026-Q3", Y, "2026"),
        (APRIL_START, "2026-03", Q, "2025-Q4"),
        (APRIL_START, "2026-03", Y, "2025"),
        (APRIL_END, "2026-03", Q, "2026-Q4"),
        (APRIL_END, "2026-03", Y, "2026"),
        (APRIL_START, "2026-Q4", Y, "2026"),
        (CALENDAR_YEAR, "2026-W01", M, "2026-01"),
        (CALENDAR_YEAR, "2026-W01", Y, "2026"),
        (CALENDAR_YEAR, "2025-W01", M, "2025-01"),
        (CALENDAR_YEAR, "2026-W05", M, "2026-01"),
        (CALENDAR_YEAR, "2026-W09", M, "2026-02"),
        (CALENDAR_YEAR, "2026-W53", M, "2026-12"),
        (CALENDAR_YEAR, "2026-W53", Y, "2026"),
        (APRIL_START, "2026-W14", Q, "2026-Q1"),
        (APRIL_START, "2026-W14", Y, "2026"),
        (APRIL_START, "2026-W13", Y, "2025"),
    ],
)
def test_parent(fiscal_calendar, key, frequency, expected):
    assert fiscal_calendar.parent(fiscal_calendar.parse(key), frequency).key == expected


@pytest.mark.parametrize(("key", "frequency"), [("2026-Q1", M), ("2026-03", M), ("2026", Y)])
def test_parent_must_be_coarser(key, frequency):
    with pytest.raises(ValueError, match=r"the parent must be coarser than"):
        CALENDAR_YEAR.parent(CALENDAR_YEAR.parse(key), frequency)


# year_to_date and trailing


@pytest.mark.parametrize(
    ("fiscal_calendar", "key", "expected"),
    [
        (CALENDAR_YEAR, "2026-03", ["2026-01", "2026-02", "2026-03"]),
        (CALENDAR_YEAR, "2026-01", ["2026-01"]),
        (APRIL_START, "2026-05", ["2026-04", "2026-05"]),
        (
            APRIL_START,
            "2026-02",
            [f"2025-{month:02d}" for month in range(4, 13)] + ["2026-01", "2026-02"],
        ),
        (APRIL_END, "2026-02", [f"2025-{month:02d}" for month in range(4, 13)] + ["2026-01", "2026-02"]),
        (APRIL_START, "2026-Q3", ["2026-Q1", "2026-Q2", "2026-Q3"]),
        (CALENDAR_YEAR, "2026", ["2026"]),
        (APRIL_START, "2026", ["2026"]),
        (CALENDAR_YEAR, "2026-W03", ["2026-W01", "2026-W02", "2026-W03"]),
        (CALENDAR_YEAR, "2025-W01", ["2025-W01"]),
        (APRIL_START, "2026-W15", ["2026-W14", "2026-W15"]),
    ],
)
def test_year_to_date(fiscal_calendar, key, expected):
    assert keys(fiscal_calendar.year_to_date(fiscal_calendar.parse(key))) == expected


def test_year_to_date_refuses_a_year_of_another_fiscal_calendar():
    with pytest.raises(ValueError, match="is not a yearly period of this fiscal calendar"):
        APRIL_START.year_to_date(CALENDAR_YEAR.parse("2026"))


def test_trailing_twelve_months():
    expected = [f"2025-{month:02d}" for month in range(4, 13)] + ["2026-01", "2026-02", "2026-03"]
    assert keys(CALENDAR_YEAR.trailing(CALENDAR_YEAR.parse("2026-03"), 12)) == expected


def test_trailing_four_quarters():
    expected = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert keys(CALENDAR_YEAR.trailing(CALENDAR_YEAR.parse("2026-Q2"), 4)) == expected


def test_trailing_one_is_the_period_itself():
    march = CALENDAR_YEAR.parse("2026-03")
    assert CALENDAR_YEAR.trailing(march, 1) == [march]


@pytest.mark.parametrize("count", [0, -3])
def test_trailing_needs_at_least_one_period(count):
    with pytest.raises(ValueError, match=f"at least one period, got count={count}"):
        CALENDAR_YEAR.trailing(CALENDAR_YEAR.parse("2026-03"), count)


# Properties

fiscal_calendars = st.builds(FiscalCalendar, st.integers(1, 12), st.sampled_from(FiscalYearNaming))
days = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))
frequencies = st.sampled_from(Frequency)
frequency_pairs = st.tuples(frequencies, frequencies).filter(lambda pair: pair[0].rank < pair[1].rank)
ONE_DAY = timedelta(days=1)


@given(fiscal_calendars, days, frequencies)
def test_every_day_is_in_exactly_one_period_of_each_frequency(fiscal_calendar, day, frequency):
    period = fiscal_calendar.period_containing(day, frequency)
    assert period.contains(day)
    assert period.frequency is frequency
    assert fiscal_calendar.previous(period).end + ONE_DAY == period.start
    assert period.end + ONE_DAY == fiscal_calendar.next(period).start


@given(fiscal_calendars, days, frequencies)
def test_a_period_key_parses_back_to_the_same_period(fiscal_calendar, day, frequency):
    period = fiscal_calendar.period_containing(day, frequency)
    assert fiscal_calendar.parse(period.key) == period
    assert fiscal_calendar.parse(period.key.lower(), expected=frequency) == period


@given(fiscal_calendars, days, frequencies, st.integers(-20, 20), st.integers(-20, 20))
def test_shifting_adds_up_and_can_be_undone(fiscal_calendar, day, frequency, steps, more_steps):
    period = fiscal_calendar.period_containing(day, frequency)
    shifted = fiscal_calendar.shift(period, steps)
    assert fiscal_calendar.shift(shifted, -steps) == period
    assert fiscal_calendar.shift(shifted, more_steps) == fiscal_calendar.shift(period, steps + more_steps)
    assert (shifted > period) == (steps > 0)


@given(fiscal_calendars, days, frequencies, st.integers(-30, 30))
def test_span_counts_the_periods_between_its_ends(fiscal_calendar, day, frequency, steps):
    first = fiscal_calendar.period_containing(day, frequency)
    spanned = fiscal_calendar.span(first, fiscal_calendar.shift(first, steps))
    assert len(spanned) == max(steps + 1, 0)
    assert spanned == sorted(spanned)


@given(fiscal_calendars, days, frequency_pairs)
def test_subperiods_tile_their_parent_without_gap_or_overlap(fiscal_calendar, day, pair):
    finer, coarser = pair
    parent = fiscal_calendar.period_containing(day, coarser)
    children = fiscal_calendar.subperiods(parent, finer)
    for earlier, later in pairwise(children):
        assert earlier.end + ONE_DAY == later.start
    assert all(fiscal_calendar.parent(child, coarser) == parent for child in children)
    assert fiscal_calendar.parent(fiscal_calendar.previous(children[0]), coarser) != parent
    assert fiscal_calendar.parent(fiscal_calendar.next(children[-1]), coarser) != parent
    if finer is not Frequency.WEEKLY:
        assert (children[0].start, children[-1].end) == (parent.start, parent.end)


@given(fiscal_calendars, days, frequency_pairs)
def test_a_period_is_among_the_subperiods_of_its_parent(fiscal_calendar, day, pair):
    finer, coarser = pair
    period = fiscal_calendar.period_containing(day, finer)
    assert period in fiscal_calendar.subperiods(fiscal_calendar.parent(period, coarser), finer)


@given(fiscal_calendars, days, frequencies)
def test_year_to_date_runs_from_the_first_period_of_the_fiscal_year(fiscal_calendar, day, frequency):
    period = fiscal_calendar.period_containing(day, frequency)
    periods = fiscal_calendar.year_to_date(period)
    assert periods[-1] == period
    if frequency is not Frequency.YEARLY:
        fiscal_year = fiscal_calendar.parent(period, Frequency.YEARLY)
        assert periods == fiscal_calendar.subperiods(fiscal_year, frequency)[: len(periods)]


@given(fiscal_calendars, days)
def test_the_fiscal_year_of_a_day_names_the_yearly_period_containing_it(fiscal_calendar, day):
    assert str(fiscal_calendar.fiscal_year_of(day)) == fiscal_calendar.period_containing(day, Frequency.YEARLY).key


@given(fiscal_calendars, days, frequencies, st.integers(1, 40))
def test_trailing_ends_at_the_period_and_has_the_requested_length(fiscal_calendar, day, frequency, count):
    period = fiscal_calendar.period_containing(day, frequency)
    window = fiscal_calendar.trailing(period, count)
    assert len(window) == count
    assert window[-1] == period
