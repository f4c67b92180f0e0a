"""Survey statistics with their uncertainty: NPS, top-box share (CSAT) and mean score (CES).

A survey score is an estimate from the people who answered, so each value comes with its 95 % margin of
error, and with a flag when fewer than ``min_responses`` answered: an NPS of 60 from 8 answers may be
anything from about 20 to 100, and a scorecard should say "too few responses" rather than colour it green.

Each statistic exists twice. The Ibis aggregations (:func:`nps_aggregates`, :func:`top_box_aggregates`,
:func:`mean_aggregates`) are what KPIs are computed with, on any backend, using only counts, sums, the sample
standard deviation and a square root, which every database computes alike. The pure-Python functions
(:func:`net_promoter_score`, :func:`top_box_share`, :func:`mean_score`) are the reference the aggregations are
tested against, written straight from the textbook formulas.

The formulas, with z = 1.96 for 95 % and n answers:

* **NPS** = 100 × (p₊ − p₋), where p₊ is the share of promoters (9 or 10) and p₋ of detractors (0 to 6) on the
  0–10 scale. Each answer scores +1, 0 or −1, whose variance is p₊ + p₋ − (p₊ − p₋)², so the margin of error
  is 100 × z × √((p₊ + p₋ − (p₊ − p₋)²) / n) points.
* **Top-box share** (CSAT) = 100 × p, the share of answers in the top ``boxes`` of the scale (4 or 5 of 5 for
  top-2-box), with the **Wald** margin 100 × z × √(p(1 − p) / n). Wald rather than Wilson because a scorecard
  shows one "value ± margin", and Wilson's interval is not centred on the value. Wald's known weakness, a
  margin of 0 when everyone (or no one) is satisfied, is a small-sample problem, which ``min_responses`` flags.
* **Mean score** (CES) = the average, with margin z × s / √n, s the sample standard deviation. The normal z
  rather than Student's t keeps one formula on every backend (none has a portable t quantile); from the
  default 30 answers up, t₀.₉₇₅ is at most 2.045, so the margin is at most 4 % too narrow, and below that the
  value is flagged anyway.

Every statistic is also a ratio (numerator / denominator: net promoters / answers, top-box answers / answers,
sum of scores / answers), so several periods or segments combine exactly by summing both parts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

Z_95 = 1.96
"""The normal quantile for a two-sided 95 % interval, rounded as survey practice (and its reference values) do."""

MIN_RESPONSES = 30
"""Below this many answers a survey value is flagged as resting on too few responses."""

NPS_PROMOTER = 9
"""Answers from this score up, on the 0–10 scale, are promoters."""
NPS_DETRACTOR = 6
"""Answers up to this score are detractors; 7 and 8 are passives."""


@dataclass(frozen=True)
class Estimate:
    """A survey value with its 95 % margin of error, the answers behind it, and whether they are too few.

    ``value`` and ``margin_of_error`` are ``None`` without answers; the margin also when it cannot be estimated
    (a mean of one answer).
    """

    value: float | None
    margin_of_error: float | None
    n: int
    too_few_responses: bool


def net_promoter_score(
    promoters: int, passives: int, detractors: int, *, min_responses: int = MIN_RESPONSES
) -> Estimate:
    """NPS in points from the three counts, with its margin of error.

    >>> estimate = net_promoter_score(50, 30, 20)
    >>> round(estimate.value, 6), round(estimate.margin_of_error, 2), estimate.too_few_responses
    (30.0, 15.31, False)
    """
    n = promoters + passives + detractors
    if n == 0:
        return Estimate(None, None, 0, True)
    share_promoters, share_detractors = promoters / n, detractors / n
    variance = share_promoters + share_detractors - (share_promoters - share_detractors) ** 2
    return Estimate(
        100 * (share_promoters - share_detractors),
        100 * Z_95 * math.sqrt(variance / n),
        n,
        n < min_responses,
    )


def top_box_share(in_top_boxes: int, n: int, *, min_responses: int = MIN_RESPONSES) -> Estimate:
    """The percentage of answers in the top boxes, with its Wald margin of error in points.

    >>> estimate = top_box_share(80, 100)
    >>> round(estimate.value, 6), round(estimate.margin_of_error, 4)
    (80.0, 7.84)
    """
    if n == 0:
        return Estimate(None, None, 0, True)
    share = in_top_boxes / n
    return Estimate(100 * share, 100 * Z_95 * math.sqrt(share * (1 - share) / n), n, n < min_responses)


def mean_score(scores: Sequence[float], *, min_responses: int = MIN_RESPONSES) -> Estimate:
    """The mean score, with the normal margin of error from the sample standard deviation.

    >>> estimate = mean_score([2, 4, 4, 6])
    >>> estimate.value, round(estimate.margin_of_error, 4), estimate.too_few_responses
    (4.0, 1.6003, True)
    """
    n = len(scores)
    if n == 0:
        return Estimate(None, None, 0, True)
    mean = math.fsum(scores) / n
    if n == 1:
        return Estimate(mean, None, 1, n < min_responses)
    deviation = math.sqrt(math.fsum((score - mean) ** 2 for score in scores) / (n - 1))
    return Estimate(mean, Z_95 * deviation / math.sqrt(n), n, n < min_responses)


@dataclass(frozen=True)
class SurveyAggregates:
    """Ibis aggregate expressions of one statistic, for ``Table.aggregate`` over the answers of a group."""

    numerator: ir.FloatingScalar
    denominator: ir.FloatingScalar
    value: ir.FloatingScalar
    margin_of_error: ir.FloatingScalar
    n: ir.IntegerScalar


def nps_aggregates(score: ir.NumericColumn) -> SurveyAggregates:
    """NPS of the non-empty scores of a group (0–10 scale), as :func:`net_promoter_score` computes it."""
    n = score.count()
    promoters = _count_where(score >= NPS_PROMOTER)
    detractors = _count_where(score <= NPS_DETRACTOR)
    answers = n.cast("float64").nullif(0.0)
    share_promoters, share_detractors = promoters / answers, detractors / answers
    spread = share_promoters - share_detractors
    variance = share_promoters + share_detractors - spread * spread
    return SurveyAggregates(
        numerator=promoters - detractors,
        denominator=n.cast("float64"),
        value=100 * spread,
        margin_of_error=100 * Z_95 * _non_negative(variance / answers).sqrt(),
        n=n,
    )


def top_box_aggregates(score: ir.NumericColumn, scale_max: ir.NumericColumn, boxes: int) -> SurveyAggregates:
    """The top-box share of a group: answers above ``scale_max − boxes``, each against its own scale."""
    n = score.count()
    in_top_boxes = _count_where(score > scale_max - boxes)
    share = in_top_boxes / n.cast("float64").nullif(0.0)
    return SurveyAggregates(
        numerator=in_top_boxes,
        denominator=n.cast("float64"),
        value=100 * share,
        margin_of_error=100 * Z_95 * _non_negative(share * (1 - share) / n.cast("float64")).sqrt(),
        n=n,
    )


def mean_aggregates(score: ir.NumericColumn) -> SurveyAggregates:
    """The mean score of a group, with the margin from the sample standard deviation (none for one answer)."""
    n = score.count()
    total = score.cast("float64").sum()
    return SurveyAggregates(
        numerator=total,
        denominator=n.cast("float64"),
        value=total / n.cast("float64").nullif(0.0),
        margin_of_error=Z_95 * score.cast("float64").std(how="sample") / n.cast("float64").sqrt(),
        n=n,
    )


def _count_where(condition: ir.BooleanColumn) -> ir.FloatingScalar:
    """How many rows meet ``condition``; summing booleans directly is not portable (Spark refuses it)."""
    return condition.ifelse(1.0, 0.0).sum()


def _non_negative(variance: ir.FloatingScalar) -> ir.FloatingScalar:
    """Guard a square root: rounding can take a zero variance a hair below 0, and PostgreSQL's sqrt raises."""
    return ibis.ifelse(variance > 0, variance, 0.0)
