"""Expected progress and health, with expected values worked out by hand (reference sections 1 and 8)."""

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.explain import ARROW, MINUS, TIMES
from fourfold.engine.periods import FiscalCalendar
from fourfold.engine.progress import ProgressError, ProgressPlan, health
from fourfold.engine.scoring import ScoringConfigError

CALENDAR_YEAR = FiscalCalendar()
APRIL_START = FiscalCalendar(fiscal_year_start_month=4)


def month(key: str):
    return CALENDAR_YEAR.parse(key)


def close(first: float | None, second: float) -> bool:
    return first is not None and math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12)


def plan_for_2026(start_value=0.0, target=12000.0, curve=None, last="2026-12"):
    return ProgressPlan(CALENDAR_YEAR, month("2026-01"), month(last), start_value, target, curve)


LINEAR = plan_for_2026()
# A seasonal business: slow first half, most of the way in the last months (cumulative shares).
SEASONAL = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0)


# The golden test: 12 000 over 12 months from 0 (reference section 8).


@pytest.mark.parametrize(
    ("key", "expected", "fraction"),
    [("2026-01", 1000.0, 1 / 12), ("2026-06", 6000.0, 0.5), ("2026-12", 12000.0, 1.0)],
)
def test_linear_expected_values(key, expected, fraction):
    result = LINEAR.expected(month(key))
    assert result.value == expected
    assert close(result.fraction, fraction)
    assert result.period == month(key)


def test_expected_value_trace():
    assert LINEAR.expected(month("2026-06")).trace.to_sentence() == (
        "Expected 6000 by 2026-06 because that is 6 of 12 months of the way from 0 to 12000. "
        f"Working: 0 + (12000 {MINUS} 0) {TIMES} 6 / 12 = 6000."
    )


def test_the_expected_path_has_one_value_per_period():
    path = LINEAR.expected_path()
    assert [expected.value for expected in path] == [1000.0 * number for number in range(1, 13)]
    assert [expected.period.key for expected in path][:2] == ["2026-01", "2026-02"]


def test_a_fiscal_quarterly_plan():
    plan = ProgressPlan(APRIL_START, APRIL_START.parse("2026-Q1"), APRIL_START.parse("2026-Q4"), 100.0, 500.0)
    # 100 + (500 - 100) * 2 / 4 = 300 by the second fiscal quarter (July to September 2026).
    assert plan.expected(APRIL_START.parse("2026-Q2")).value == 300.0


def test_a_lower_is_better_plan_goes_down():
    plan = plan_for_2026(start_value=3.0, target=0.0, last="2026-03")
    assert [expected.value for expected in plan.expected_path()] == [2.0, 1.0, 0.0]


def test_a_custom_curve():
    plan = plan_for_2026(curve=SEASONAL)
    assert plan.expected(month("2026-03")).value == 2400.0  # 0.2 * 12 000
    assert plan.expected(month("2026-06")).value == 6000.0  # 0.5 * 12 000
    assert plan.expected(month("2026-12")).value == 12000.0
    assert plan.expected(month("2026-03")).trace.to_sentence() == (
        "Expected 2400 by 2026-03 because the curve expects 20 % of the way from 0 to 12000 by then "
        f"(month 3 of 12). Working: 0 + (12000 {MINUS} 0) {TIMES} 0.2 = 2400."
    )


def test_a_curve_from_a_negative_start():
    plan = plan_for_2026(start_value=-5.0, target=15.0, curve=SEASONAL)
    # -5 + (15 - (-5)) * 0.2 = -5 + 4 = -1
    result = plan.expected(month("2026-03"))
    assert close(result.value, -1.0)
    assert result.trace.steps == (f"{MINUS}5 + (15 {MINUS} ({MINUS}5)) {TIMES} 0.2 = {MINUS}1",)


def test_a_curve_given_as_a_list_is_stored_as_a_tuple():
    assert plan_for_2026(curve=list(SEASONAL)).curve == SEASONAL


@pytest.mark.parametrize(
    ("curve", "message"),
    [
        (SEASONAL[:-1], "the curve has 11 weights but 2026-01 to 2026-12 has 12 months: give one cumulative weight"),
        (
            (0.05, 0.1, 0.2, 0.15, *SEASONAL[4:]),
            "curve weights are cumulative and must not decrease: weight 4 (2026-04) is 0.15, below weight 3 "
            "(2026-03) 0.2",
        ),
        ((*SEASONAL[:-1], 0.95), "the curve must end at 1, the whole way to the target by 2026-12, but weight 12"),
        ((-0.1, *SEASONAL[1:]), "curve weight 1 (2026-01) must be a share of the way between 0 and 1, got"),
        ((*SEASONAL[:-1], 1.2), "curve weight 12 (2026-12) must be a share of the way between 0 and 1, got 1.2"),
    ],
)
def test_bad_curves_are_refused_naming_the_position(curve, message):
    with pytest.raises(ProgressError) as error:
        plan_for_2026(curve=curve)
    assert str(error.value).startswith(message)


def test_a_curve_may_end_a_rounding_error_away_from_1():
    monthly_share = [1 / 12] * 12
    cumulative = tuple(sum(monthly_share[: number + 1]) for number in range(12))
    assert plan_for_2026(curve=cumulative).expected(month("2026-12")).value == pytest.approx(12000.0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: ProgressPlan(CALENDAR_YEAR, month("2026-01"), CALENDAR_YEAR.parse("2026-Q4"), 0, 1),
            "the span must run over one frequency: 2026-01 is monthly but 2026-Q4 is quarterly",
        ),
        (
            lambda: ProgressPlan(CALENDAR_YEAR, month("2026-12"), month("2026-01"), 0, 1),
            "the span ends (2026-01) before it starts (2026-12)",
        ),
        (lambda: LINEAR.expected(month("2027-01")), "2027-01 is outside the span 2026-01 to 2026-12 of this plan"),
        (
            lambda: LINEAR.expected(CALENDAR_YEAR.parse("2026-Q2")),
            "2026-Q2 is a quarterly period but this plan runs over monthly periods from 2026-01 to 2026-12 "
            "(keys like YYYY-MM)",
        ),
    ],
)
def test_bad_plans_and_questions_are_refused(build, message):
    with pytest.raises(ProgressError) as error:
        build()
    assert str(error.value) == message


@pytest.mark.parametrize(("start_value", "target"), [(math.nan, 1.0), (0.0, math.inf)])
def test_plan_values_must_be_finite(start_value, target):
    with pytest.raises(ScoringConfigError, match="must be a finite number"):
        plan_for_2026(start_value=start_value, target=target)


def test_a_nan_curve_weight_is_refused_naming_its_position():
    with pytest.raises(ScoringConfigError, match=r"curve weight 2 \(2026-02\) must be a finite number"):
        plan_for_2026(curve=(0.05, math.nan, *SEASONAL[2:]))


def test_progress_errors_are_configuration_errors():
    assert issubclass(ProgressError, ScoringConfigError)


# Health against the expected value.


def test_health_is_the_share_of_the_expected_progress():
    result = LINEAR.health(3000.0, month("2026-06"))
    assert result.health == 0.5  # 3000 / 6000
    assert result.trace.to_sentence() == (
        "Health 50 % because 3000 lies halfway between the start 0 and the expected value 6000. "
        f"Working: (3000 {MINUS} 0) / (6000 {MINUS} 0) = 0.5."
    )
    assert result.trace.inputs["period"] == "2026-06"


def test_health_is_clamped_and_keeps_the_unclamped_share():
    ahead = health(9000.0, 6000.0, 0.0)
    assert (ahead.health, ahead.unclamped) == (1.0, 1.5)
    assert ahead.trace.steps[-1] == f"150 % limited to 0 to 100 % {ARROW} 100 %"
    behind = health(-100.0, 6000.0, 0.0)
    assert behind.health == 0.0
    assert close(behind.unclamped, -100 / 6000)


@pytest.mark.parametrize(("actual", "expected_health"), [(2.0, 1 / 3), (1.0, 2 / 3), (0.0, 1.0), (4.0, 0.0)])
def test_lower_is_better_health_uses_the_same_formula(actual, expected_health):
    # Reference section 1: start 3, target 0; here the target is the value expected by now.
    assert close(health(actual, 0.0, 3.0).health, expected_health)


def test_lower_is_better_plan_health_midway():
    plan = plan_for_2026(start_value=3.0, target=0.0, last="2026-03")
    # Expected 1 by February; an actual of 2 has made (2 - 3) / (1 - 3) = half the expected progress.
    assert plan.health(2.0, month("2026-02")).health == 0.5


@pytest.mark.parametrize(
    ("actual", "reason"),
    [
        (None, "there is no actual to compare"),
        (math.nan, "the actual nan is not a finite number"),
        (math.inf, "the actual inf is not a finite number"),
    ],
)
def test_a_missing_actual_has_no_health_rather_than_zero(actual, reason):
    result = health(actual, 6000.0, 0.0)
    assert (result.health, result.unclamped) == (None, None)
    assert result.trace.to_sentence() == f"No health because {reason}."


@pytest.mark.parametrize(
    ("actual", "higher_is_better", "expected_health"),
    [
        (0.0, None, 1.0),  # nothing expected, nothing moved: on plan
        (0.0, True, 1.0),
        (500.0, True, 1.0),  # already ahead
        (-500.0, True, 0.0),  # moved the wrong way
        (-500.0, False, 1.0),
        (500.0, None, 0.0),  # no direction: only staying at the start counts, as in scoring
    ],
)
def test_health_when_nothing_is_expected_yet(actual, higher_is_better, expected_health):
    result = health(actual, 0.0, 0.0, higher_is_better=higher_is_better)
    assert result.health == expected_health
    assert result.unclamped is None


def test_health_when_nothing_is_expected_yet_says_why():
    assert health(500.0, 0.0, 0.0, higher_is_better=True).trace.to_sentence() == (
        "Health 100 % because nothing is expected yet: the expected value equals the start 0, and 500 is "
        "already ahead, as higher is better. Working: expected value = start = 0; higher is better."
    )


def test_a_plan_knows_its_direction_while_nothing_is_expected():
    plan = plan_for_2026(curve=(0.0, 0.5, 1.0), last="2026-03")
    assert plan.health(100.0, month("2026-01")).health == 1.0
    assert plan.health(-100.0, month("2026-01")).health == 0.0
    downwards = plan_for_2026(start_value=10.0, target=4.0, curve=(0.0, 0.5, 1.0), last="2026-03")
    assert downwards.health(9.0, month("2026-01")).health == 1.0


def test_holding_the_line_counts_only_an_exact_hit():
    hold = plan_for_2026(start_value=100.0, target=100.0, last="2026-03")
    assert hold.expected(month("2026-02")).value == 100.0
    assert hold.health(100.0, month("2026-02")).health == 1.0
    assert hold.health(101.0, month("2026-02")).health == 0.0


@pytest.mark.parametrize(("expected", "start_value"), [(math.nan, 0.0), (1.0, math.inf)])
def test_health_needs_finite_anchors(expected, start_value):
    with pytest.raises(ScoringConfigError, match="must be a finite number"):
        health(1.0, expected, start_value)


# Properties.

amounts = st.floats(-1e6, 1e6, allow_nan=False)


@given(amounts, amounts, st.integers(1, 24))
def test_a_linear_path_moves_steadily_from_the_start_to_the_target(start_value, target, count):
    plan = ProgressPlan(
        CALENDAR_YEAR, month("2026-01"), CALENDAR_YEAR.shift(month("2026-01"), count - 1), start_value, target
    )
    values = [expected.value for expected in plan.expected_path()]
    assert len(values) == count
    assert math.isclose(values[-1], target, rel_tol=1e-9, abs_tol=1e-6)
    steps = [later - earlier for earlier, later in pairwise([start_value, *values])]
    assert all(math.isclose(step, (target - start_value) / count, rel_tol=1e-6, abs_tol=1e-6) for step in steps)


@given(st.lists(st.floats(0, 1), min_size=11, max_size=11), amounts, amounts)
def test_a_curve_keeps_every_expected_value_between_start_and_target(weights, start_value, target):
    curve = (*sorted(weights), 1.0)
    plan = plan_for_2026(start_value=start_value, target=target, curve=curve)
    low, high = min(start_value, target), max(start_value, target)
    for expected in plan.expected_path():
        assert low - 1e-6 <= expected.value <= high + 1e-6


@given(st.none() | amounts, amounts, amounts, st.none() | st.booleans())
def test_health_always_lies_between_0_and_1(actual, expected, start_value, higher_is_better):
    result = health(actual, expected, start_value, higher_is_better=higher_is_better)
    if actual is None:
        assert result.health is None
    else:
        assert result.health is not None
        assert 0.0 <= result.health <= 1.0
