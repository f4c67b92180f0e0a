"""Scoring methods against the worked examples of the reference (golden tests), worked out by hand.

Section numbers refer to /work/shared/reference/scoring-examples.md. Percentages there become scores by the
documented scale change: a percentage divided by 10 (25 % is 2.5).
"""

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.explain import MINUS, TIMES
from fourfold.engine.scoring import (
    GOAL_SCORE,
    METHODS,
    RED_FLAG_SCORE,
    AnyDeviation,
    Breakpoint,
    Breakpoints,
    EqualWidthBands,
    GoalRedFlag,
    LinearProgress,
    LinearRange,
    NormalisedToWorst,
    Rule,
    Rules,
    ScoringConfigError,
    ScoringMethod,
    SignSafeRatio,
    YesNo,
    deviation_percent,
    method_from_config,
    sign_safe_ratio,
)


def close(first: float | None, second: float) -> bool:
    return first is not None and math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-9)


RED, AMBER, GREEN = "#cc0000", "#ffaa00", "#00aa00"

STABILIZE = Breakpoints(
    (
        Breakpoint(0, 0, "red", RED),
        Breakpoint(40, 5, "amber", AMBER),
        Breakpoint(50, 10, "green", GREEN),
        Breakpoint(60, 5, "amber", AMBER),
        Breakpoint(100, 0, "red", RED),
    )
)
THREE_BANDS = EqualWidthBands((0, 3000, 6000, 12000))
PLAN_RULES = Rules(
    (
        Rule("Above target", ">=", series="target"),
        Rule("Caution", ">=", series="target", factor=0.9),
    ),
    otherwise="Below plan",
)

ONE_OF_EACH: list[ScoringMethod] = [
    LinearProgress(baseline=3, target=0),
    LinearRange(minimum=0, maximum=200),
    NormalisedToWorst(worst=0, target=50),
    GoalRedFlag(goal=700, red_flag=500),
    STABILIZE,
    THREE_BANDS,
    YesNo(),
    PLAN_RULES,
    SignSafeRatio(target=-2),
    AnyDeviation(target=100),
]


def test_every_registered_method_is_exercised():
    assert {method.name for method in ONE_OF_EACH} == set(METHODS)


# Section 1: linear between two anchors.


def test_min_max_quarter_of_the_range_scores_a_quarter_of_the_scale():
    assert close(LinearRange(minimum=0, maximum=200).score(50).score, 2.5)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(2, 10 / 3), (1, 20 / 3), (0, 10.0)],
)
def test_linear_lower_is_better_from_baseline_3_to_target_0(actual, expected):
    assert close(LinearProgress(baseline=3, target=0).score(actual).score, expected)


def test_linear_clamps_the_score_and_keeps_the_overachievement():
    beyond = LinearProgress(baseline=3, target=0).score(-1)
    assert close(beyond.score, 10.0)
    assert close(beyond.overachievement, 40 / 3)
    behind = LinearProgress(baseline=3, target=0).score(4)
    assert close(behind.score, 0.0)
    assert close(behind.overachievement, -10 / 3)


@pytest.mark.parametrize(
    ("higher_is_better", "actual", "expected"),
    [
        (None, 5, 10.0),
        (None, 4, 0.0),
        (None, 6, 0.0),
        (True, 6, 10.0),
        (True, 4, 0.0),
        (False, 4, 10.0),
        (False, 6, 0.0),
    ],
)
def test_linear_with_baseline_equal_to_target_is_met_or_not_met(higher_is_better, actual, expected):
    result = LinearProgress(baseline=5, target=5, higher_is_better=higher_is_better).score(actual)
    assert result.score == expected
    assert result.overachievement is None
    assert "no range to measure" in result.trace.reason


def test_min_max_of_zero_width_is_met_at_or_above_the_value():
    method = LinearRange(minimum=100, maximum=100)
    assert method.score(120).score == 10.0
    assert method.score(100).score == 10.0
    assert method.score(80).score == 0.0


# Section 2: goal / red flag.


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(300, 0.0), (500, 10 / 3), (600, 5.0), (700, 20 / 3), (900, 10.0), (1000, 10.0)],
)
def test_goal_700_red_flag_500(actual, expected):
    assert close(GoalRedFlag(goal=700, red_flag=500).score(actual).score, expected)


def test_goal_red_flag_overachievement_extrapolates_the_line():
    assert close(GoalRedFlag(goal=700, red_flag=500).score(1000).overachievement, 35 / 3)


@pytest.mark.parametrize(("actual", "expected"), [(7.5, 5.0), (0, 10.0), (15, 0.0)])
def test_goal_below_red_flag_means_lower_is_better(actual, expected):
    assert close(GoalRedFlag(goal=5, red_flag=10).score(actual).score, expected)


@pytest.mark.parametrize(
    ("higher_is_better", "actual", "expected"),
    [(None, 5, GOAL_SCORE), (None, 6, 0.0), (True, 6, 10.0), (True, 4, 0.0), (False, 4, 10.0)],
)
def test_goal_equal_to_red_flag_is_the_limit_of_the_formula(higher_is_better, actual, expected):
    assert close(GoalRedFlag(goal=5, red_flag=5, higher_is_better=higher_is_better).score(actual).score, expected)


@pytest.mark.parametrize(
    ("yes_is_better", "actual", "expected"),
    [(True, 1, 10.0), (True, 0, 0.0), (False, 0, 10.0), (False, 1, 0.0)],
)
def test_yes_no_gives_the_better_answer_10_and_the_other_0(yes_is_better, actual, expected):
    assert YesNo(yes_is_better=yes_is_better).score(actual).score == expected


@pytest.mark.parametrize(
    ("actual", "expected_score", "expected_status"),
    [
        (45, 7.5, "amber"),
        (50, 10.0, "green"),
        (55, 7.5, "amber"),
        (80, 2.5, "red"),
        (-5, 0.0, "red"),
        (120, 0.0, "red"),
    ],
)
def test_stabilize_is_best_in_the_middle_and_falls_off_on_both_sides(actual, expected_score, expected_status):
    result = STABILIZE.score(actual)
    assert close(result.score, expected_score)
    assert result.status_hint == expected_status


def test_two_breakpoints_at_one_value_make_a_step_and_the_later_wins():
    step = Breakpoints(
        (
            Breakpoint(0, 0, "red", RED),
            Breakpoint(10, 0, "red", RED),
            Breakpoint(10, 10, "green", GREEN),
            Breakpoint(20, 10, "green", GREEN),
        )
    )
    assert (step.score(9.99).score, step.score(9.99).status_hint) == (0.0, "red")
    assert (step.score(10).score, step.score(10).status_hint) == (10.0, "green")


# Section 3: equal-width bands and normalisation by the worst value.


def test_equal_width_bands_value_9000_scores_83_percent_not_75():
    assert close(THREE_BANDS.score(9000).score, 25 / 3)
    assert close(LinearRange(minimum=0, maximum=12000).score(9000).score, 7.5)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(-1, 0.0), (0, 0.0), (1500, 5 / 3), (3000, 10 / 3), (4500, 5.0), (12000, 10.0), (15000, 10.0)],
)
def test_equal_width_bands_across_the_axis(actual, expected):
    assert close(THREE_BANDS.score(actual).score, expected)


def test_equal_width_bands_lower_is_better_mirrors_the_score():
    assert close(EqualWidthBands((0, 3000, 6000, 12000), higher_is_better=False).score(9000).score, 5 / 3)


@pytest.mark.parametrize(("actual", "expected"), [(5, 5 / 3), (10, 20 / 3), (15, 25 / 3)])
def test_an_empty_band_is_a_step(actual, expected):
    assert close(EqualWidthBands((0, 10, 10, 20)).score(actual).score, expected)


def test_normalised_by_worst_value_both_ways():
    assert close(NormalisedToWorst(worst=0, target=50).score(40).score, 8.0)
    assert close(NormalisedToWorst(worst=100, target=20).score(60).score, 5.0)


# Section 4: ordered rules, first match wins.


@pytest.mark.parametrize(
    ("actual", "expected"),
    [(1200, "Above target"), (1000, "Above target"), (950, "Caution"), (900, "Caution"), (899, "Below plan")],
)
def test_rules_against_target_series(actual, expected):
    result = PLAN_RULES.score(actual, {"target": 1000})
    assert result.status_hint == expected
    assert result.score is None


def test_rules_without_data_say_no_information():
    assert PLAN_RULES.score(None, {"target": 1000}).status_hint == "No information"


def test_rules_stop_at_a_rule_whose_series_has_no_value():
    result = PLAN_RULES.score(500, {"target": None})
    assert result.status_hint == "No information"
    assert "needs target" in result.trace.reason


def test_rules_tolerate_float_rounding_in_the_factor():
    # 0.7 * 300 is 210.00000000000003 in floating point; 210 must still count as reaching it.
    rules = Rules((Rule("Caution", ">=", series="target", factor=0.7),), otherwise="Below plan")
    assert rules.score(210, {"target": 300}).status_hint == "Caution"


def test_rules_with_a_static_value():
    rules = Rules((Rule("Clean", "==", value=0), Rule("Few", "<", value=3)), otherwise="Many")
    assert [rules.score(defects).status_hint for defects in (0, 2, 3)] == ["Clean", "Few", "Many"]


# Section 5: ratio to target, and where the naive form breaks.


@pytest.mark.parametrize(
    ("actual", "target", "naive_percent", "right_percent"),
    [(3, -2, -150.0, 350.0), (-1, -1, -100.0, 100.0)],
)
def test_sign_safe_ratio_differs_from_the_documented_naive_answers(actual, target, naive_percent, right_percent):
    # The reference documents -150 % and -100 % as answers users complained about. 3 beats a target of -2
    # by 5, i.e. 2.5 target-sizes, so 350 %; -1 against -1 is exactly on target, so 100 %.
    ours = sign_safe_ratio(actual, target) * 100
    assert not math.isclose(ours, naive_percent)
    assert math.isclose(ours, right_percent)


def test_naive_division_reproduces_the_first_complaint():
    assert math.isclose(3 / -2 * 100, -150.0)


@pytest.mark.parametrize(
    ("actual", "target", "higher_is_better", "expected"),
    [
        (50, 100, True, 0.5),
        (-15, -10, True, 0.5),
        (-5, -10, True, 1.5),
        (80, 100, False, 1.2),
        (0.5, 0, True, 1.5),
        (0.5, 0, False, 0.5),
    ],
)
def test_sign_safe_ratio_by_hand(actual, target, higher_is_better, expected):
    assert close(sign_safe_ratio(actual, target, higher_is_better=higher_is_better), expected)


def test_ratio_method_maps_percent_to_score_and_keeps_overachievement():
    result = SignSafeRatio(target=-2).score(3)
    assert result.score == 10.0
    assert close(result.overachievement, 35.0)
    assert close(SignSafeRatio(target=100).score(50).score, 5.0)
    assert close(SignSafeRatio(target=0, higher_is_better=False).score(0.5).score, 5.0)


@pytest.mark.parametrize(
    ("actual", "target", "expected_percent"),
    [(90, 100, 90.0), (110, 100, 90.0), (250, 100, -50.0), (-40, -50, 80.0), (0.25, 0, 75.0), (0, 0, 100.0)],
)
def test_any_deviation_is_bad(actual, target, expected_percent):
    assert close(deviation_percent(actual, target), expected_percent)
    result = AnyDeviation(target=target).score(actual)
    assert close(result.score, max(0.0, expected_percent / 10))
    assert close(result.overachievement, expected_percent / 10)


# Missing data and unusual numbers.


@pytest.mark.parametrize("method", ONE_OF_EACH, ids=lambda method: method.name)
@pytest.mark.parametrize("actual", [None, math.nan, math.inf])
def test_missing_actual_scores_none_with_a_no_data_trace(method, actual):
    result = method.score(actual, {"target": 1000})
    assert result.score is None
    assert result.overachievement is None
    assert result.trace.reason in {
        "there is no value for this period",
        f"the value {actual!r} is not a finite number",
    }
    assert result.status_hint == ("No information" if method.name == "rules" else None)


@given(actual=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_every_score_lies_within_0_and_10_or_is_none(actual):
    for method in ONE_OF_EACH:
        score = method.score(actual, {"target": 1000}).score
        assert score is None or 0.0 <= score <= 10.0


@given(
    target=st.floats(min_value=-1e6, max_value=1e6),
    low=st.floats(min_value=-1e6, max_value=1e6),
    high=st.floats(min_value=-1e6, max_value=1e6),
)
def test_sign_safe_ratio_never_ranks_a_better_value_lower(target, low, high):
    # The naive ratio breaks exactly this with a negative target: 3 beats 1 but 3 / -2 < 1 / -2.
    low, high = sorted((low, high))
    assert sign_safe_ratio(low, target) <= sign_safe_ratio(high, target)
    assert sign_safe_ratio(low, target, higher_is_better=False) >= sign_safe_ratio(high, target, higher_is_better=False)


@given(
    goal=st.floats(min_value=-1e6, max_value=1e6),
    distance=st.floats(min_value=1e-3, max_value=1e6),
    low=st.floats(min_value=-1e7, max_value=1e7),
    high=st.floats(min_value=-1e7, max_value=1e7),
)
def test_goal_red_flag_score_rises_with_the_value_when_higher_is_better(goal, distance, low, high):
    method = GoalRedFlag(goal=goal, red_flag=goal - distance)
    low, high = sorted((low, high))
    low_score, high_score = method.score(low).score, method.score(high).score
    assert low_score is not None
    assert high_score is not None
    assert low_score <= high_score


# Configuration: errors name the field and what is expected.


def test_unknown_method_lists_the_choices():
    with pytest.raises(ScoringConfigError) as error:
        method_from_config("lineer", {})
    assert str(error.value) == (
        "unknown scoring method 'lineer'; expected one of: bands, breakpoints, deviation, goal_red_flag, "
        "linear, min_max, ratio, rules, worst_value, yes_no"
    )


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("goal_red_flag", {"goal": 700}, "red_flag is required for the goal/red-flag method"),
        (
            "linear",
            {"baseline": 0, "target": 1, "colour": "#ffffff"},
            "unexpected parameter colour for the linear method; expected: baseline, target, higher_is_better",
        ),
        ("goal_red_flag", {"goal": "700", "red_flag": 500}, "goal must be a number, got '700'"),
        ("goal_red_flag", {"goal": True, "red_flag": 500}, "goal must be a number, got True"),
        ("yes_no", {"yes_is_better": 1}, "yes_is_better must be true or false, got 1"),
        ("bands", {"thresholds": 3000}, "thresholds must be a list, got 3000"),
        (
            "bands",
            {"thresholds": [0, 3000, 2000]},
            "thresholds must be in ascending order: 3000 > 2000 at position 2",
        ),
        ("bands", {"thresholds": [0]}, "thresholds needs at least 2 values (one band), got 1"),
        (
            "breakpoints",
            {"points": [{"value": 0, "score": 0, "colour": RED}]},
            "points[0].status is required for the breakpoints method",
        ),
        (
            "breakpoints",
            {"points": [{"value": 0, "score": 0, "status": "red", "colour": "red"}] * 2},
            "points[0]: colour must be a colour like #1a7f37, got 'red'",
        ),
        (
            "breakpoints",
            {"points": [{"value": 0, "score": 11, "status": "red", "colour": RED}] * 2},
            "points[0]: score must be a score between 0 and 10, got 11",
        ),
        (
            "rules",
            {"rules": [{"status": "Up", "operator": "=>", "value": 1}], "otherwise": "Down"},
            "rules[0].operator must be one of '>=', '>', '<=', '<', '==', got '=>'",
        ),
        (
            "rules",
            {
                "rules": [{"status": "Up", "operator": ">=", "value": 1, "series": "target"}],
                "otherwise": "Down",
            },
            "rules[0]: rule 'Up' needs either value or series, not both or neither",
        ),
        ("rules", {"rules": [], "otherwise": "Down"}, "rules needs at least one rule"),
        ("min_max", {"minimum": 200, "maximum": 0}, "maximum must not be below minimum: 0 < 200"),
        ("ratio", {"target": math.nan}, "target must be a finite number, got nan"),
        ("linear", "baseline=3", "parameters must be a mapping, got 'baseline=3'"),
    ],
)
def test_configuration_errors_name_the_field(name, params, message):
    with pytest.raises(ScoringConfigError) as error:
        method_from_config(name, params)
    assert str(error.value) == message


def test_a_declared_direction_must_agree_with_the_anchors():
    with pytest.raises(ScoringConfigError, match="higher_is_better=True contradicts the target 0 lying below"):
        LinearProgress(baseline=3, target=0, higher_is_better=True)


def test_config_builds_the_same_method_as_the_constructor():
    assert method_from_config("bands", {"thresholds": [0, 3000, 6000, 12000]}) == THREE_BANDS
    assert (
        method_from_config(
            "rules",
            {
                "rules": [
                    {"status": "Above target", "operator": ">=", "series": "target"},
                    {"status": "Caution", "operator": ">=", "series": "target", "factor": 0.9},
                ],
                "otherwise": "Below plan",
            },
        )
        == PLAN_RULES
    )
    assert method_from_config("yes_no", {}) == YesNo(yes_is_better=True)


# Every number explains itself.


def test_goal_red_flag_trace_reads_as_a_sentence():
    trace = GoalRedFlag(goal=700, red_flag=500).score(600).trace
    assert trace.to_sentence() == (
        "Scored 5.0 because 600 lies halfway between the red flag 500 and the goal 700. "
        f"Working: (600 {MINUS} 500) / (700 {MINUS} 500) = 0.5; 10 {TIMES} (1 + 0.5) / 3 = 5."
    )
    assert trace.inputs == {"actual": 600, "goal": 700, "red_flag": 500, "higher_is_better": None}


def test_clamping_shows_in_the_working():
    assert "limited to 0 to 10" in GoalRedFlag(goal=700, red_flag=500).score(1000).trace.to_sentence()


def test_negative_operands_are_bracketed():
    steps = SignSafeRatio(target=-2).score(3).trace.steps
    assert f"(3 {MINUS} ({MINUS}2) + 2) / 2 {TIMES} 100 = 350 %" in steps


def test_rule_trace_names_the_comparison():
    sentence = PLAN_RULES.score(950, {"target": 1000}).trace.to_sentence()
    assert sentence.startswith('Status "Caution" because 950 \N{GREATER-THAN OR EQUAL TO} 0.9')


@pytest.mark.parametrize("method", ONE_OF_EACH, ids=lambda method: method.name)
def test_trace_is_json_ready(method):
    encoded = json.loads(json.dumps(method.score(950, {"target": 1000}).trace.to_dict()))
    assert encoded["method"] == method.name
    assert encoded["inputs"]["actual"] == 950
    assert encoded["sentence"].endswith(".")


def test_breakpoint_trace_names_the_earned_status_and_colour():
    assert f"status amber ({AMBER}) from breakpoint 40" in STABILIZE.score(45).trace.steps


def test_goal_and_red_flag_scores_are_the_thirds_of_the_scale():
    assert GoalRedFlag(goal=700, red_flag=500).score(700).score == GOAL_SCORE
    assert GoalRedFlag(goal=700, red_flag=500).score(500).score == RED_FLAG_SCORE


def test_the_engine_does_not_import_django():
    modules = "fourfold.engine.scoring, fourfold.engine.status, fourfold.engine.rollup, fourfold.engine.explain"
    check = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    completed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"
