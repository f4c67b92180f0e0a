"""The example files load, and score as worked out by hand.

Each expected score is computed in the comment beside it from the numbers in the example file, not taken
from the engine's output: goal/red flag is 10/3 · (1 + (actual − red flag) / (goal − red flag)), a
within-a-range KPI scores 10 inside the range and loses 10 per range-width outside it, a ratio KPI is
100 · numerator / denominator.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from fourfold.engine.evaluate import KpiResult, ScorecardResult, evaluate_scorecard
from fourfold.engine.model import Span, View
from fourfold.scorefile.load import LoadedScorecard, load_scorecard_file

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
TODAY = date(2026, 11, 15)


def score(name: str, period: str | None = None, span: Span = Span.PERIOD) -> ScorecardResult:
    loaded = load(name)
    view_period = loaded.default_period if period is None else loaded.model.calendar.parse(period)
    return evaluate_scorecard(loaded.model, loaded.values, View(view_period, span), today=TODAY)


def load(name: str) -> LoadedScorecard:
    return load_scorecard_file(EXAMPLES / f"{name}.yaml")


def kpi(result: ScorecardResult, key: str, card: str | None = None) -> KpiResult:
    cards = [result, *result.children]
    chosen = next(found for found in cards if card is None or found.id == card)
    return next(found for found in chosen.iter_kpis() if found.kpi.key == key)


def close(actual: float | None, expected: float) -> bool:
    return actual is not None and math.isclose(actual, expected, abs_tol=5e-4)


@pytest.mark.parametrize("name", ["online-learning", "customer-service", "corporate-training"])
def test_every_example_loads_and_scores_every_scorecard(name):
    loaded = load(name)
    result = score(name)
    assert len(loaded.model.children) == 1
    assert result.score is not None
    assert result.children[0].score is not None
    unscored = [found.kpi.key for card in (result, *result.children) for found in card.iter_kpis() if found.problem]
    assert unscored == []


def test_online_learning_defaults_to_the_latest_month_with_a_value():
    assert load("online-learning").default_period.key == "2026-10"


def test_online_learning_scores_worked_by_hand():
    result = score("online-learning")
    # The targets of fiscal 2026 apply from 2026-09: goal 460000, red flag 400000, actual 447800
    # → 10/3 · (1 + 47800/60000) = 10/3 · 1.79667 = 5.99, below the goal's 6.67: watch.
    revenue = kpi(result, "revenue")
    assert (revenue.target, revenue.red_flag) == (460000, 400000)
    assert close(revenue.score, 5.9889)
    assert revenue.status.key == "watch"
    # Ratio: 100 · 3040 / 4760 = 63.87 %; goal 65, red flag 58 → 10/3 · (1 + 5.8655/7) = 6.13.
    completion = kpi(result, "completion_rate")
    assert close(completion.actual.value, 63.8655)
    assert close(completion.score, 6.1264)
    # Formula: 447800 / 22860 = 19.589 EUR; goal 20, red flag 17 → 10/3 · (1 + 2.5888/3) = 6.21.
    assert close(kpi(result, "revenue_per_learner").actual.value, 19.5888)
    assert close(kpi(result, "revenue_per_learner").score, 6.2098)
    # Breakpoints 40 → 6.67 and 60 → 10: 44 is a fifth of the way, 6.67 + 0.2 · 3.33 = 7.336.
    assert close(kpi(result, "nps").score, 7.336)
    # Within 25–40 minutes (width 15): 42.5 is 2.5 beyond the top, 10 − 10 · 2.5/15 = 8.33.
    assert close(kpi(result, "session_minutes").score, 8.3333)
    # Yes/no: yes, the better answer, scores 10.
    assert kpi(result, "accessibility_audit").score == 10
    # Rolled up from the content studio's 13 courses; goal 14, red flag 10 → 10/3 · (1 + 3/4) = 5.83.
    published = kpi(result, "courses_published")
    assert published.actual.value == 13
    assert close(published.score, 5.8333)
    # Rules give a status and no score: 6 ≤ 10 is the first rule that holds, "watch".
    backlog = kpi(result, "review_backlog", card="content")
    assert backlog.score is None
    assert backlog.status.key == "watch"


def test_online_learning_rolls_aligned_child_objectives_into_the_parent_objective():
    result = score("online-learning")
    learning = next(perspective for perspective in result.perspectives if perspective.name == "Content and people")
    catalogue = learning.objectives[0]
    # P1 (courses 5.8333, on time 10/3 · (1 + (76.923 − 70)/15) = 4.8718, rules left out) = 5.3526;
    # A1 author hours 47 against goal 40, red flag 25 → 10/3 · (1 + 22/15) = 8.2222, weight 2 from 2026-09.
    # L1 = (1 · 5.8333 + 1 · 5.3526 + 2 · 8.2222) / 4 = 6.9076.
    assert close(catalogue.score, 6.9076)


def test_customer_service_scores_worked_by_hand():
    result = score("customer-service")
    assert result.view.period.key == "2026-09"
    # Quarterly survey on a monthly view: September shows 2026-Q3's 85.4; goal 85, red flag 78
    # → 10/3 · (1 + 7.4/7) = 6.86, on target in this scheme (from 6.66).
    csat = kpi(result, "csat")
    assert csat.actual.value == 85.4
    assert close(csat.score, 6.8571)
    assert csat.status.key == "on_target"
    # Lower is better: 396700 / 486500 = 0.8154 GBP against goal 0.88, red flag 0.98
    # → 10/3 · (1 + (0.98 − 0.8154)/0.10) = 8.82, above 8.5: excellent.
    cost = kpi(result, "cost_per_customer")
    assert close(cost.score, 8.8195)
    assert cost.status.key == "excellent"
    # Bands 1 | 2 | 3.5 | 5, lower is better: 2.0 starts the second band, 1 − 1/3 → 10 · 2/3 = 6.67.
    assert close(kpi(result, "agent_attrition").score, 6.6667)
    # Within 6–9 minutes: 9.3 is 0.3 beyond, 10 − 10 · 0.3/3 = 9.
    assert close(kpi(result, "handle_time").score, 9.0)
    # Linear from the baseline 60 to the target 80: 79.8 → 10 · 19.8/20 = 9.9.
    assert close(kpi(result, "service_level", card="contact-centre").score, 9.9)


def test_customer_service_year_to_date_recomputes_the_ratio_from_its_parts():
    result = score("customer-service", "2026-09", Span.YEAR_TO_DATE)
    resolution = kpi(result, "first_contact_resolution")
    # January to September 2026: 330150 resolved of 426900 contacts = 77.34 %, not the average of months;
    # the target is 78 and the red flag 68 all year → 10/3 · (1 + 9.336/10) = 6.45.
    assert (resolution.actual.numerator, resolution.actual.denominator) == (330150, 426900)
    assert close(resolution.actual.value, 77.3366)
    assert close(resolution.score, 6.4455)


def test_corporate_training_scores_worked_by_hand():
    result = score("corporate-training")
    assert result.view.period.key == "2026-09"
    # 117600 USD / 318 learners = 369.81; lower is better, goal 420, red flag 520
    # → 10/3 · (1 + (520 − 369.81)/100) = 8.34.
    assert close(kpi(result, "cost_per_learner").score, 8.3396)
    # September 2026 lies in 2027-Q2 (fiscal years from April, named by their end): 166/201 = 82.59 %,
    # fiscal 2027's goal 80, red flag 70 → 10/3 · (1 + 12.587/10) = 7.53.
    endorsement = kpi(result, "manager_endorsement")
    assert endorsement.actual.periods[0].key == "2027-Q2"
    assert close(endorsement.score, 7.529)
    # Bands 30 | 45 | 60 | 75: 63 is a fifth into the third band → 10 · (2 + 0.2)/3 = 7.33.
    assert close(kpi(result, "internal_fill_rate").score, 7.3333)
    # Rolled up: 15 leaders certified, goal 12, red flag 8 → 10/3 · (1 + 7/4) = 9.17.
    assert close(kpi(result, "leaders_certified").score, 9.1667)


def test_corporate_training_quarter_sums_months_against_the_summed_target():
    result = score("corporate-training", "2027-Q2")
    spend = kpi(result, "training_spend")
    # July to September 2026: 108700 + 121300 + 117600 = 347600 against 3 · 115000 = 345000 (red flag 405000)
    # → lower is better: 10/3 · (1 + (405000 − 347600)/60000) = 6.52.
    assert spend.actual.value == 347600
    assert (spend.target, spend.red_flag) == (345000, 405000)
    assert close(spend.score, 6.5222)


def test_the_example_in_the_documentation_loads_and_scores_as_the_page_says():
    page = (EXAMPLES.parent / "docs" / "scorecard-file.md").read_text(encoding="utf-8")
    text = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    loaded = load_scorecard_file(text)
    result = evaluate_scorecard(loaded.model, loaded.values, View(loaded.default_period), today=TODAY)
    assert result.view.period.key == "2026-04"
    # April's goal 88, red flag 75: 10/3 · (1 + 9/13) = 5.64.
    assert close(kpi(result, "csat").score, 5.641)
    # 100 · 47 / 51 = 92.16 %; goal 90, red flag 80 → 10/3 · (1 + 12.157/10) = 7.39.
    assert close(kpi(result, "renewal_rate").actual.value, 92.1569)
    assert close(kpi(result, "renewal_rate").score, 7.3856)
    assert kpi(result, "calls_answered").actual.value == 1030
