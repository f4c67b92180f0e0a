"""Properties every scoring method and roll-up must keep, checked on generated inputs (hypothesis).

* Monotonic: a better actual never scores lower (higher is better: a larger actual; lower: a smaller one).
* Bounded: scores stay within 0-10.
* Sign-safe: the ratio to target stays monotonic for zero and negative targets, where the naive
  ``actual / target`` turns upside down.
* Roll-ups lie between the lowest and highest child score and do not depend on the children's order.
"""

from __future__ import annotations

import math

from hypothesis import assume, given
from hypothesis import strategies as st

from fourfold.engine.rollup import RollupChild, RollupMethod, rollup_scores
from fourfold.engine.scoring import EqualWidthBands, GoalRedFlag, LinearProgress, LinearRange, SignSafeRatio

numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def scores_in_order(method, low: float, high: float) -> tuple[float, float]:
    first, second = method.score(low).score, method.score(high).score
    assert first is not None
    assert second is not None
    assert 0.0 <= first <= 10.0
    assert 0.0 <= second <= 10.0
    return first, second


@given(numbers, numbers, numbers, numbers)
def test_goal_and_red_flag_is_monotonic(goal, red_flag, first, second):
    assume(not math.isclose(goal, red_flag, abs_tol=1e-6))
    method = GoalRedFlag(goal=goal, red_flag=red_flag)
    low, high = sorted((first, second))
    low_score, high_score = scores_in_order(method, low, high)
    if goal > red_flag:  # higher is better
        assert high_score >= low_score - 1e-9
    else:
        assert low_score >= high_score - 1e-9


@given(numbers, numbers, numbers, numbers)
def test_linear_progress_is_monotonic_in_the_better_direction(baseline, target, first, second):
    assume(not math.isclose(baseline, target, abs_tol=1e-6))
    method = LinearProgress(baseline=baseline, target=target)
    low, high = sorted((first, second))
    low_score, high_score = scores_in_order(method, low, high)
    assert (high_score >= low_score - 1e-9) if target > baseline else (low_score >= high_score - 1e-9)


@given(numbers, numbers, numbers, numbers)
def test_linear_between_minimum_and_maximum_is_monotonic(minimum, maximum, first, second):
    assume(maximum - minimum > 1e-6)
    low, high = sorted((first, second))
    low_score, high_score = scores_in_order(LinearRange(minimum=minimum, maximum=maximum), low, high)
    assert high_score >= low_score - 1e-9


@given(
    st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=2, max_size=6, unique=True),
    numbers,
    numbers,
)
def test_equal_width_bands_are_monotonic(thresholds, first, second):
    low, high = sorted((first, second))
    low_score, high_score = scores_in_order(EqualWidthBands(thresholds=tuple(sorted(thresholds))), low, high)
    assert high_score >= low_score - 1e-9


@given(numbers, numbers, numbers, st.booleans())
def test_ratio_to_target_is_sign_safe(target, first, second, higher_is_better):
    low, high = sorted((first, second))
    low_score, high_score = scores_in_order(SignSafeRatio(target=target, higher_is_better=higher_is_better), low, high)
    if higher_is_better:
        assert high_score >= low_score - 1e-9  # also for zero and negative targets
    else:
        assert low_score >= high_score - 1e-9


children = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(min_value=0, max_value=10, allow_nan=False)),
        st.floats(min_value=0, max_value=100, allow_nan=False),
    ),
    min_size=1,
    max_size=8,
)


@given(
    children, st.sampled_from([RollupMethod.WEIGHTED_AVERAGE, RollupMethod.AVERAGE, RollupMethod.WORST]), st.randoms()
)
def test_roll_ups_lie_between_their_children_and_ignore_order(pairs, method, random):
    nodes = [RollupChild(f"c{index}", f"Child {index}", score, weight) for index, (score, weight) in enumerate(pairs)]
    result = rollup_scores(nodes, method)
    shuffled = list(nodes)
    random.shuffle(shuffled)
    again = rollup_scores(shuffled, method)
    if result.score is None:
        assert again.score is None
        return
    counted = [node.score for node in nodes if node.score is not None]
    assert min(counted) - 1e-9 <= result.score <= max(counted) + 1e-9
    assert again.score is not None
    assert math.isclose(result.score, again.score, rel_tol=1e-12, abs_tol=1e-12)
    assert sorted(result.included) == sorted(again.included)
