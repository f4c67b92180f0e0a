"""Survey statistics: the reference functions against textbook values, and the Ibis aggregations against them."""

from __future__ import annotations

import doctest
import math
import random

import ibis
import pyarrow as pa
import pytest

from fourfold.metrics import stats
from fourfold.metrics.stats import (
    mean_aggregates,
    mean_score,
    net_promoter_score,
    nps_aggregates,
    top_box_aggregates,
    top_box_share,
)


def test_nps_of_the_textbook_example():
    estimate = net_promoter_score(50, 30, 20)
    assert estimate.value == pytest.approx(30)
    # Variance 0.5 + 0.2 − 0.3² = 0.61 over 100 answers.
    assert estimate.margin_of_error == pytest.approx(1.96 * math.sqrt(0.61 / 100) * 100)
    assert round(estimate.margin_of_error, 1) == 15.3
    assert (estimate.n, estimate.too_few_responses) == (100, False)


def test_too_few_responses_are_flagged_not_dropped():
    estimate = net_promoter_score(5, 2, 1)
    assert estimate.value == pytest.approx(50)
    assert estimate.too_few_responses
    assert not net_promoter_score(5, 2, 1, min_responses=8).too_few_responses


def test_without_answers_there_is_no_value():
    for estimate in (net_promoter_score(0, 0, 0), top_box_share(0, 0), mean_score([])):
        assert (estimate.value, estimate.margin_of_error, estimate.n, estimate.too_few_responses) == (
            None,
            None,
            0,
            True,
        )


def test_top_box_share_uses_the_wald_interval():
    estimate = top_box_share(45, 60)
    assert estimate.value == pytest.approx(75)
    assert estimate.margin_of_error == pytest.approx(1.96 * math.sqrt(0.75 * 0.25 / 60) * 100)
    # Wald's known weakness: everyone satisfied gives no margin at all.
    assert top_box_share(40, 40).margin_of_error == 0


def test_mean_score_uses_the_sample_standard_deviation():
    estimate = mean_score([1, 2, 3, 4, 5])
    # Squared deviations 4 + 1 + 0 + 1 + 4 = 10 over n − 1 = 4.
    assert estimate.value == 3
    assert estimate.margin_of_error == pytest.approx(1.96 * math.sqrt(10 / 4) / math.sqrt(5))
    assert mean_score([4]).margin_of_error is None


def aggregated(scores, scales, statistic):
    """Run an Ibis aggregation over one group of answers on DuckDB."""
    answers = ibis.memtable(
        pa.table({"score": pa.array(scores, pa.int64()), "scale_max": pa.array(scales, pa.int64())})
    )
    score = answers["score"].cast("float64")
    if statistic == "nps":
        expressions = nps_aggregates(score)
    elif statistic == "top_box":
        expressions = top_box_aggregates(score, answers["scale_max"].cast("float64"), 2)
    else:
        expressions = mean_aggregates(score)
    result = answers.aggregate(
        value=expressions.value,
        margin_of_error=expressions.margin_of_error,
        n=expressions.n,
        numerator=expressions.numerator,
        denominator=expressions.denominator,
    )
    return result.to_pyarrow().to_pylist()[0]


@pytest.mark.parametrize("seed", range(5))
def test_the_ibis_aggregations_match_the_reference(seed):
    generator = random.Random(seed)
    size = generator.randint(2, 80)
    nps_scores = [generator.randint(0, 10) for _ in range(size)]
    result = aggregated(nps_scores, [10] * size, "nps")
    reference = net_promoter_score(
        sum(score >= 9 for score in nps_scores),
        sum(7 <= score <= 8 for score in nps_scores),
        sum(score <= 6 for score in nps_scores),
    )
    assert (result["value"], result["margin_of_error"]) == (
        pytest.approx(reference.value, abs=1e-9),
        pytest.approx(reference.margin_of_error),
    )
    assert result["numerator"] / result["denominator"] * 100 == pytest.approx(reference.value, abs=1e-9)

    scales = [generator.choice([5, 10]) for _ in range(size)]
    scores = [generator.randint(1, scale) for scale in scales]
    result = aggregated(scores, scales, "top_box")
    reference = top_box_share(sum(score >= scale - 1 for score, scale in zip(scores, scales, strict=True)), size)
    assert (result["value"], result["margin_of_error"]) == (
        pytest.approx(reference.value),
        pytest.approx(reference.margin_of_error, abs=1e-9),
    )

    result = aggregated(scores, scales, "mean")
    reference = mean_score(scores)
    assert (result["value"], result["margin_of_error"], result["n"]) == (
        pytest.approx(reference.value),
        pytest.approx(reference.margin_of_error),
        size,
    )


def test_a_single_answer_has_no_margin_on_the_backend_either():
    assert aggregated([6], [7], "mean")["margin_of_error"] is None
    # One promoter: the variance 1 − 1² is 0, not a hair below it.
    assert aggregated([10], [10], "nps")["margin_of_error"] == 0


def test_the_module_examples_hold():
    assert doctest.testmod(stats).failed == 0
