"""Score and value roll-ups, with expected values worked out by hand (reference sections 6 and 7)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.explain import TIMES
from fourfold.engine.rollup import (
    ChildValue,
    Exclusion,
    RollupChild,
    RollupMethod,
    ValueRollupMethod,
    rollup_scores,
    rollup_values,
)
from fourfold.engine.scoring import ScoringConfigError
from fourfold.engine.status import Status, StatusScheme

SALES = RollupChild("a", "Sales", 8.0, weight=3)
CHURN = RollupChild("b", "Churn", 4.0, weight=1)
NPS = RollupChild("c", "NPS", 5.0, weight=1)
UNREPORTED = RollupChild("d", "Unreported", None, weight=1)


def close(first: float | None, second: float) -> bool:
    return first is not None and math.isclose(first, second, rel_tol=1e-9)


# Score roll-ups.


def test_weighted_average_is_the_default():
    # (3 * 8 + 1 * 4) / (3 + 1) = 28 / 4 = 7
    assert close(rollup_scores([SALES, CHURN]).score, 7.0)


def test_plain_average_ignores_weights():
    assert close(rollup_scores([SALES, CHURN], RollupMethod.AVERAGE).score, 6.0)


def test_a_plain_average_treats_a_small_item_like_a_large_one():
    large = RollupChild("large", "Large", 2.0, weight=9)
    small = RollupChild("small", "Small", 10.0, weight=1)
    # (9 * 2 + 1 * 10) / 10 = 2.8, while the plain average says (2 + 10) / 2 = 6.
    assert close(rollup_scores([large, small]).score, 2.8)
    assert close(rollup_scores([large, small], "average").score, 6.0)


def test_worst_child():
    result = rollup_scores([SALES, CHURN, NPS, UNREPORTED], RollupMethod.WORST)
    assert result.score == 4.0
    assert result.trace.reason == "Churn has the lowest score of the 3 children with data"


def test_children_without_data_are_excluded_not_counted_as_zero():
    result = rollup_scores([SALES, UNREPORTED, NPS])
    # (3 * 8 + 1 * 5) / (3 + 1) = 29 / 4 = 7.25, not 29 / 5.
    assert close(result.score, 7.25)
    assert result.included == ("a", "c")
    assert result.excluded == (Exclusion("d", "Unreported", "no data"),)
    assert result.excluded_count == 1


def test_overdue_children_can_be_treated_as_no_data():
    stale = RollupChild("c", "NPS", 5.0, weight=1, overdue=True)
    assert close(rollup_scores([SALES, stale]).score, 7.25)
    result = rollup_scores([SALES, stale], overdue_as_no_data=True)
    assert result.score == 8.0
    assert result.excluded == (Exclusion("c", "NPS", "overdue"),)


def test_zero_total_weight_gives_no_score():
    result = rollup_scores([RollupChild("a", "Sales", 8.0, weight=0), UNREPORTED])
    assert result.score is None
    assert result.trace.reason == "the 1 children with data all have weight 0"


def test_a_zero_weight_child_does_not_move_the_average():
    assert rollup_scores([RollupChild("a", "Sales", 8.0, weight=0), NPS]).score == 5.0


def test_no_children_with_data_gives_no_score():
    for method in (RollupMethod.WEIGHTED_AVERAGE, RollupMethod.AVERAGE, RollupMethod.WORST):
        result = rollup_scores([UNREPORTED], method)
        assert result.score is None
        assert result.excluded_count == 1
    assert rollup_scores([]).score is None


def test_count_by_status_counts_status_only_children_and_excludes_the_rest():
    children = [
        RollupChild("a", "Sales", 8.0, status="on_target"),
        RollupChild("b", "Margin", 7.0, status="on_target"),
        RollupChild("c", "Churn", 4.0, status="watch"),
        RollupChild("d", "Plan", None, status="Caution"),
        RollupChild("e", "Unreported", None),
    ]
    result = rollup_scores(children, RollupMethod.COUNT_BY_STATUS)
    assert result.score is None
    assert result.status_counts == {"on_target": 2, "watch": 1, "Caution": 1}
    assert result.excluded == (Exclusion("e", "Unreported", "no data"),)
    # Statuses are counted by key and named in the sentence; a key the scheme does not know is shown as it is.
    assert result.trace.to_sentence().startswith("Counted On target: 2, Watch: 1, Caution: 1 because 4 of 5")


def test_a_child_with_the_no_data_status_is_left_out_for_having_no_data():
    # An evaluated scorecard gives every child a status; the no-data one must not read as a status held.
    children = [SALES, RollupChild("e", "NPS", None, status="no_data")]
    result = rollup_scores(children)
    assert result.excluded == (Exclusion("e", "NPS", "no data"),)
    assert result.trace.to_sentence().endswith("Left out: NPS (no data).")
    assert "no_data" not in result.trace.to_sentence()


def test_a_status_only_child_left_out_of_a_score_roll_up_is_named_by_its_status_name():
    children = [SALES, RollupChild("e", "Orders", None, status="on_target")]
    sentence = rollup_scores(children).trace.to_sentence()
    assert sentence.endswith("Left out: Orders (status On target, no score).")


def test_the_roll_up_names_statuses_by_the_scheme_it_is_given():
    scheme = StatusScheme(
        levels=(Status("green", "Groen", "#1a7f37", 5.0), Status("red", "Rood", "#cf222e")),
        no_data=Status("unknown", "Onbekend", "#8c959f"),
    )
    children = [
        RollupChild("a", "Sales", 8.0, status="green"),
        RollupChild("b", "Orders", None, status="red"),
        RollupChild("c", "NPS", None, status="unknown"),
    ]
    scored = rollup_scores(children, statuses=scheme).trace.to_sentence()
    assert scored.endswith("Left out: Orders (status Rood, no score); NPS (no data).")
    counted = rollup_scores(children, RollupMethod.COUNT_BY_STATUS, statuses=scheme)
    # Counting is unchanged: every child with a status counts, the no-data status included.
    assert counted.status_counts == {"green": 1, "red": 1, "unknown": 1}
    assert counted.trace.to_sentence().startswith("Counted Groen: 1, Rood: 1, Onbekend: 1 because 3 of 3")


def test_self_standing_ignores_the_children():
    result = rollup_scores([SALES, CHURN], RollupMethod.SELF_STANDING, own_score=2.5)
    assert result.score == 2.5
    assert result.included == ()
    assert rollup_scores([SALES], RollupMethod.SELF_STANDING).score is None


def test_roll_up_trace_shows_the_arithmetic_and_the_exclusions():
    sentence = rollup_scores([SALES, UNREPORTED, NPS]).trace.to_sentence()
    assert sentence == (
        "Scored 7.25 because it is the weighted average of the 2 of 3 children with data. "
        f"Working: (3 {TIMES} 8.0 + 1 {TIMES} 5.0) / (3 + 1) = 7.25. Left out: Unreported (no data)."
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: rollup_scores([SALES], "median"),
            "unknown roll-up method 'median'; expected one of: weighted_average",
        ),
        (lambda: RollupChild("a", "Sales", 8.0, weight=-1), "weight of Sales must be 0 or more, got"),
        (lambda: RollupChild("a", "Sales", 11.0), "score of Sales must be a score between 0 and 10, got 11"),
        (lambda: rollup_scores([SALES, SALES]), "child ids must be unique: 'a' appears twice"),
        (lambda: rollup_values([], "median"), "unknown value roll-up method 'median'; expected one of: sum"),
    ],
)
def test_roll_up_errors(build, message):
    with pytest.raises(ScoringConfigError) as error:
        build()
    assert str(error.value).startswith(message)


children_strategy = st.lists(
    st.tuples(st.floats(0, 10), st.floats(0, 100)),
    min_size=1,
    max_size=12,
)


@given(children_strategy)
def test_weighted_average_lies_between_the_lowest_and_highest_child(pairs):
    children = [RollupChild(str(index), f"KPI {index}", score, weight) for index, (score, weight) in enumerate(pairs)]
    result = rollup_scores(children)
    if result.score is None:
        assert math.fsum(weight for _, weight in pairs) == 0
        return
    scores = [score for score, _ in pairs]
    assert min(scores) - 1e-9 <= result.score <= max(scores) + 1e-9


# Value roll-ups for cascaded KPIs.

JANUARY = ChildValue("jan", "January", numerator=2, denominator=4)
FEBRUARY = ChildValue("feb", "February", numerator=2, denominator=100)


def test_ratio_is_recomputed_from_numerators_and_denominators():
    result = rollup_values([JANUARY, FEBRUARY], ValueRollupMethod.RATIO)
    assert close(result.value, 4 / 104)
    # Neither the average of the rates ((0.5 + 0.02) / 2 = 0.26) nor their sum (0.52).
    assert not close(result.value, 0.26)
    assert not close(result.value, 0.52)


def test_ratio_leaves_out_children_missing_a_part():
    half = ChildValue("mar", "March", numerator=5)
    result = rollup_values([JANUARY, FEBRUARY, half], "ratio")
    assert close(result.value, 4 / 104)
    assert result.excluded == (Exclusion("mar", "March", "no data"),)


def test_ratio_with_zero_total_denominator_has_no_value():
    result = rollup_values([ChildValue("a", "A", numerator=0, denominator=0)], "ratio")
    assert result.value is None
    assert "add up to 0" in result.trace.reason


NORTH = ChildValue("n", "North", 3.0)
SOUTH = ChildValue("s", "South", 5.0)
EAST = ChildValue("e", "East", None)
WEST = ChildValue("w", "West", -2.0)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (ValueRollupMethod.SUM, 6.0),
        (ValueRollupMethod.AVERAGE, 2.0),
        (ValueRollupMethod.MIN, -2.0),
        (ValueRollupMethod.MAX, 5.0),
    ],
)
def test_value_roll_ups_skip_children_without_data(method, expected):
    result = rollup_values([NORTH, SOUTH, EAST, WEST], method)
    assert close(result.value, expected)
    assert result.included == ("n", "s", "w")
    assert result.excluded == (Exclusion("e", "East", "no data"),)


def test_a_sum_over_no_data_is_no_data_not_zero():
    assert rollup_values([EAST]).value is None
    assert rollup_values([ChildValue("x", "X", math.nan)]).value is None


def test_value_trace_shows_the_ratio_arithmetic():
    trace = rollup_values([JANUARY, FEBRUARY], "ratio").trace
    assert trace.steps == ("(2 + 2) / (4 + 100) = 4 / 104 = 0.0385",)
    assert trace.to_sentence().startswith("Rolled up to 0.0385 because it is the total numerator")
    assert trace.inputs == {"jan": (2, 4), "feb": (2, 100)}
