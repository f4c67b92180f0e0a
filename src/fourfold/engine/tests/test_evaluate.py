"""The evaluator ties the engine together: views, targets, default methods, formulas, roll-ups, cascading.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.evaluate import evaluate_scorecard
from fourfold.engine.formulas import UnitKind, parse_formula
from fourfold.engine.model import (
    Direction,
    KpiModel,
    ObjectiveModel,
    PerspectiveModel,
    ScorecardModel,
    Span,
    TargetSetting,
    View,
)
from fourfold.engine.periods import FiscalCalendar, Frequency
from fourfold.engine.rollup import ValueRollupMethod

CALENDAR = FiscalCalendar()
TODAY = date(2026, 11, 23)
JAN = date(2026, 1, 1)


def kpi(key: str, **fields) -> KpiModel:
    return KpiModel(id=key, key=key, name=key.replace("_", " ").capitalize(), **fields)


def card(*kpis: KpiModel, id: str = "company", children=(), aligned=(), weights=None) -> ScorecardModel:
    objectives = tuple(
        ObjectiveModel(
            id=f"{id}-o{index}",
            name=f"Objective {index}",
            kpis=(model,),
            aligned_children=aligned if index == 0 else (),
        )
        for index, model in enumerate(kpis)
    )
    return ScorecardModel(
        id=id,
        name=id,
        perspectives=(PerspectiveModel(id=f"{id}-p", name="Customer", objectives=objectives),),
        children=children,
        calendar=CALENDAR,
    )


def one_objective(*kpis: KpiModel) -> ScorecardModel:
    """A scorecard whose one objective, "O", holds all of ``kpis``: for roll-ups over several KPIs."""
    objective = ObjectiveModel(id="o", name="O", kpis=kpis)
    perspective = PerspectiveModel(id="p", name="Customer", objectives=(objective,))
    return ScorecardModel(id="c", name="c", calendar=CALENDAR, perspectives=(perspective,))


def values(key: str, **by_period: float | tuple[float, float]) -> dict[str, dict[str, PeriodValue]]:
    store: dict[str, PeriodValue] = {}
    for period_key, value in by_period.items():
        period = CALENDAR.parse(period_key.replace("_", "-"))
        if isinstance(value, tuple):
            numerator, denominator = value
            store[period.key] = PeriodValue(period, 100 * numerator / denominator, numerator, denominator)
        else:
            store[period.key] = PeriodValue(period, value)
    return {key: store}


def result_of(model: ScorecardModel, store, period: str, span: Span = Span.PERIOD):
    evaluation = evaluate_scorecard(model, store, View(CALENDAR.parse(period), span), today=TODAY)
    return evaluation, {result.kpi.key: result for result in evaluation.iter_kpis()}


def test_goal_and_red_flag_score_the_reference_example():
    sales = kpi("sales", targets=(TargetSetting(JAN, target=700, red_flag=500),))
    _, kpis = result_of(card(sales), values("sales", **{"2026_03": 600}), "2026-03")
    assert kpis["sales"].score == pytest.approx(5.0)  # halfway between red flag 500 and goal 700
    assert kpis["sales"].status.key == "watch"
    assert "600 lies halfway between the red flag 500 and the goal 700" in kpis["sales"].explanation()


def test_a_quarter_sums_months_and_their_targets():
    signups = kpi("signups", aggregation=Aggregation.SUM, targets=(TargetSetting(JAN, target=100),))
    store = values("signups", **{"2026_01": 100, "2026_02": 120, "2026_03": 80})
    _, kpis = result_of(card(signups), store, "2026-Q1")
    assert kpis["signups"].actual.value == 300  # 100 + 120 + 80
    assert kpis["signups"].target == 300  # three monthly targets of 100
    assert kpis["signups"].score == pytest.approx(10.0)  # ratio to target: 300 / 300 = 100 %


def test_a_partial_sum_target_is_not_compared():
    signups = kpi("signups", aggregation=Aggregation.SUM, targets=(TargetSetting(date(2026, 2, 1), target=100),))
    store = values("signups", **{"2026_01": 100, "2026_02": 120, "2026_03": 80})
    _, kpis = result_of(card(signups), store, "2026-Q1")
    assert kpis["signups"].target is None  # January has no target: 200 of a quarter's target would mislead
    assert kpis["signups"].score is None


def test_a_ratio_is_recomputed_from_numerators_and_denominators():
    conversion = kpi(
        "conversion", unit=UnitKind.PERCENT, aggregation=Aggregation.RATIO, targets=(TargetSetting(JAN, target=5),)
    )
    store = values("conversion", **{"2026_01": (2, 4), "2026_02": (2, 100)})
    _, kpis = result_of(card(conversion), store, "2026-Q1")
    assert kpis["conversion"].actual.value == pytest.approx(100 * 4 / 104)  # 3.85 %, not 26 % nor 52 %


def test_year_to_date_and_rolling_year_views():
    visits = kpi("visits", aggregation=Aggregation.SUM)
    store = values("visits", **{f"2025_{month:02d}": 10 for month in range(1, 13)} | {"2026_01": 20, "2026_02": 30})
    _, ytd = result_of(card(visits), store, "2026-02", Span.YEAR_TO_DATE)
    _, rolling = result_of(card(visits), store, "2026-02", Span.ROLLING_YEAR)
    assert ytd["visits"].actual.value == 50  # January 20 + February 30
    assert rolling["visits"].actual.value == 150  # March-December 2025 (10 x 10) + 20 + 30


def test_formula_kpis_are_recomputed_from_their_inputs_for_the_view():
    revenue = kpi("revenue", unit=UnitKind.NUMBER, aggregation=Aggregation.SUM)
    learners = kpi("learners", aggregation=Aggregation.AVERAGE)
    arpu = kpi("arpu", formula=parse_formula("revenue / learners"), targets=(TargetSetting(JAN, target=30),))
    store = values("revenue", **{"2026_01": 60_000, "2026_02": 60_000}) | values(
        "learners", **{"2026_01": 3_000, "2026_02": 5_000}
    )
    _, kpis = result_of(card(revenue, learners, arpu), store, "2026-Q1")
    # quarter: revenue 120 000 (sum), learners 4 000 (average of 3 000 and 5 000; March missing) -> 30
    assert kpis["arpu"].actual.value == pytest.approx(30.0)
    assert kpis["arpu"].score == pytest.approx(10.0)


def test_within_a_range_is_best_and_falls_off_outside():
    class_size = kpi(
        "class_size", direction=Direction.RANGE, targets=(TargetSetting(JAN, range_low=18, range_high=25),)
    )
    _, inside = result_of(card(class_size), values("class_size", **{"2026_03": 20}), "2026-03")
    _, outside = result_of(card(class_size), values("class_size", **{"2026_03": 26}), "2026-03")
    assert inside["class_size"].score == pytest.approx(10.0)
    # width 7: 26 is 1/7 of the way from 25 (score 10) to 32 (score 0) -> 10 - 10/7 = 8.571
    assert outside["class_size"].score == pytest.approx(10 - 10 / 7)


def test_yes_no_kpis_score_the_better_answer():
    launched = kpi("launched", unit=UnitKind.YES_NO, targets=(TargetSetting(JAN, target=1),))
    _, kpis = result_of(card(launched), values("launched", **{"2026_03": 0}), "2026-03")
    assert kpis["launched"].score == 0
    assert kpis["launched"].status.key == "off_target"


def test_linear_progress_from_the_baseline_when_there_is_no_red_flag():
    errors = kpi("errors", direction=Direction.LOWER, baseline=3, targets=(TargetSetting(JAN, target=0),))
    _, kpis = result_of(card(errors), values("errors", **{"2026_03": 2}), "2026-03")
    assert kpis["errors"].score == pytest.approx(10 / 3)  # from 3 to 0, at 2: one third of the way


def test_rules_name_the_status():
    rules = {
        "rules": [
            {"status": "On target", "operator": ">=", "value": 100},
            {"status": "Watch", "operator": ">=", "value": 90},
        ],
        "otherwise": "Off target",
    }
    orders = kpi("orders", targets=(TargetSetting(JAN, method="rules", parameters=rules),))
    _, kpis = result_of(card(orders), values("orders", **{"2026_03": 95}), "2026-03")
    assert kpis["orders"].status.key == "watch"
    assert kpis["orders"].score is None


def test_a_kpi_without_a_target_is_not_scored_and_says_why():
    loose = kpi("loose")
    _, kpis = result_of(card(loose), values("loose", **{"2026_03": 5}), "2026-03")
    assert kpis["loose"].score is None
    assert "no target is set for this period" in kpis["loose"].explanation()


def test_weighted_roll_up_excludes_kpis_without_data():
    good = kpi("good", weight=3, targets=(TargetSetting(JAN, target=100),))
    half = kpi("half", weight=1, targets=(TargetSetting(JAN, target=100),))
    silent = kpi("silent", weight=5, targets=(TargetSetting(JAN, target=100),))
    model = one_objective(*(good, half, silent))
    store = values("good", **{"2026_03": 100}) | values("half", **{"2026_03": 50})
    evaluation, _ = result_of(model, store, "2026-03")
    objective = evaluation.perspectives[0].objectives[0]
    # ratio scores: good 10, half 5 (50 % of target); weighted (10*3 + 5*1) / 4 = 8.75; silent left out
    assert objective.score == pytest.approx(8.75)
    assert [exclusion.name for exclusion in objective.rollup.excluded] == ["Silent"]
    assert evaluation.score == pytest.approx(8.75)


def test_roll_up_explanations_say_no_data_and_name_statuses_never_their_keys():
    rules = {"rules": [{"status": "On target", "operator": ">=", "value": 100}], "otherwise": "Off target"}
    scored = kpi("scored", targets=(TargetSetting(JAN, target=100),))
    ruled = kpi("ruled", targets=(TargetSetting(JAN, method="rules", parameters=rules),))
    silent = kpi("silent", targets=(TargetSetting(JAN, target=100),))
    model = one_objective(*(scored, ruled, silent))
    store = values("scored", **{"2026_03": 100}) | values("ruled", **{"2026_03": 120})
    evaluation, _ = result_of(model, store, "2026-03")
    explanation = evaluation.perspectives[0].objectives[0].explanation()
    assert "Left out: Ruled (status On target, no score); Silent (no data)." in explanation
    assert "no_data" not in explanation
    assert "on_target" not in explanation


def test_aligned_objectives_of_child_scorecards_roll_into_their_parent_objective():
    child_kpi = kpi("team_sales", targets=(TargetSetting(JAN, target=100),))
    child = card(child_kpi, id="team")
    parent_kpi = kpi("sales", targets=(TargetSetting(JAN, target=100),))
    parent = card(parent_kpi, id="company", children=(child,), aligned=("team-o0",))
    store = values("team_sales", **{"2026_03": 50}) | values("sales", **{"2026_03": 100})
    evaluation, _ = result_of(parent, store, "2026-03")
    objective = evaluation.perspectives[0].objectives[0]
    assert objective.score == pytest.approx(7.5)  # own KPI 10 and aligned team objective 5, equal weights
    assert evaluation.children[0].score == pytest.approx(5.0)


def test_cascaded_kpi_values_are_summed_from_children():
    team_a = kpi("revenue_a", aggregation=Aggregation.SUM)
    team_b = kpi("revenue_b", aggregation=Aggregation.SUM)
    child = card(team_a, team_b, id="teams")
    company = kpi("revenue", rollup_sources=("revenue_a", "revenue_b"), value_rollup=ValueRollupMethod.SUM)
    store = values("revenue_a", **{"2026_03": 40}) | values("revenue_b", **{"2026_03": 60})
    _, kpis = result_of(card(company, children=(child,)), store, "2026-03")
    assert kpis["revenue"].actual.value == 100


def test_a_quarterly_kpi_on_a_monthly_view_inherits_or_carries_its_last_value_forward():
    nps = kpi(
        "nps", frequency=Frequency.QUARTERLY, aggregation=Aggregation.LAST, targets=(TargetSetting(JAN, target=40),)
    )
    store = values("nps", **{"2026_Q2": 42})
    _, may = result_of(card(nps), store, "2026-05")
    _, august = result_of(card(nps), store, "2026-08")
    _, november = result_of(card(nps), store, "2026-11")
    assert may["nps"].actual.value == 42  # May lies in Q2
    assert august["nps"].actual.value == 42  # Q3 not reported yet: Q2 carried forward, and said so
    assert "Carried forward 42 from 2026-Q2" in august["nps"].explanation()
    assert august["nps"].overdue is True  # Q3 ended on 30 September; its value was due ten days later
    assert november["nps"].actual.value is None  # never further than one reporting cycle


def test_a_missing_value_past_its_due_date_is_overdue():
    late = kpi("late", targets=(TargetSetting(JAN, target=1),))
    _, kpis = result_of(card(late), {}, "2026-10")  # October ended 31 days before TODAY, due after 10
    _, current = result_of(card(late), {}, "2026-11")  # November has not ended
    assert kpis["late"].overdue is True
    assert current["late"].overdue is False


def test_the_result_is_json_ready():
    import json

    sales = kpi("sales", targets=(TargetSetting(JAN, target=700, red_flag=500),))
    evaluation, _ = result_of(card(sales), values("sales", **{"2026_03": 600}), "2026-03")
    data = json.loads(json.dumps(evaluation.to_dict()))
    kpi_data = data["perspectives"][0]["objectives"][0]["kpis"][0]
    assert math.isclose(kpi_data["score"], 5.0)
    assert kpi_data["status"] == "watch"


def test_a_ratio_roll_up_of_percentages_keeps_its_parts_and_scale():
    team_a = kpi("conv_a", unit=UnitKind.PERCENT, aggregation=Aggregation.RATIO)
    team_b = kpi("conv_b", unit=UnitKind.PERCENT, aggregation=Aggregation.RATIO)
    child = card(team_a, team_b, id="teams")
    company = kpi(
        "conversion", unit=UnitKind.PERCENT, rollup_sources=("conv_a", "conv_b"), value_rollup=ValueRollupMethod.RATIO
    )
    store = values("conv_a", **{"2026_03": (2, 4)}) | values("conv_b", **{"2026_03": (2, 100)})
    _, kpis = result_of(card(company, children=(child,)), store, "2026-03")
    assert kpis["conversion"].actual.value == pytest.approx(100 * 4 / 104)  # 3.85 %, not 0.0385
    assert (kpis["conversion"].actual.numerator, kpis["conversion"].actual.denominator) == (4, 104)


def test_outside_the_good_range_is_off_target_and_the_explanation_agrees():
    class_size = kpi(
        "class_size", direction=Direction.RANGE, targets=(TargetSetting(JAN, range_low=18, range_high=25),)
    )
    _, kpis = result_of(card(class_size), values("class_size", **{"2026_03": 26}), "2026-03")
    assert kpis["class_size"].status.key == "off_target"
    assert "off_target" in kpis["class_size"].explanation()


def sales_towards_12_000_by_december():
    """A sum KPI to reach 12 000 by December from 0, with 900 sold in each of January to June."""
    sales = kpi(
        "sales",
        aggregation=Aggregation.SUM,
        baseline=0,
        targets=(TargetSetting(JAN, target=12_000, reach_by=CALENDAR.parse("2026-12")),),
    )
    return sales, values("sales", **{f"2026_{month:02d}": 900 for month in range(1, 7)})


def test_a_target_reached_over_a_span_is_judged_by_the_progress_expected():
    sales, store = sales_towards_12_000_by_december()
    _, june = result_of(card(sales), store, "2026-06")
    # 12 000 by December from 0: 6 000 expected after six months; 6 x 900 = 5 400 done -> 90 % -> 9.0
    assert june["sales"].target == pytest.approx(6_000)
    assert june["sales"].actual.value == pytest.approx(5_400)
    assert june["sales"].score == pytest.approx(9.0)
    assert "6000" in june["sales"].explanation()


def test_the_batch_path_judges_progress_targets_like_the_explained_path():
    from fourfold.engine.batch import compile_batch

    sales, store = sales_towards_12_000_by_december()
    model = card(sales)
    months = CALENDAR.span(CALENDAR.parse("2026-01"), CALENDAR.parse("2026-12"))
    scores = compile_batch([model], store, CALENDAR, months, today=TODAY).compute((Frequency.MONTHLY,))
    monthly = scores.views[Frequency.MONTHLY]
    june = [period.key for period in monthly.periods].index("2026-06")
    assert monthly.kpis.score[0, june] == pytest.approx(9.0)


def test_a_value_from_too_few_responses_is_scored_but_flagged_and_explained():
    nps = kpi("nps", targets=(TargetSetting(JAN, target=40, red_flag=20),))
    period = CALENDAR.parse("2026-03")
    store = {"nps": {period.key: PeriodValue(period, 30.0, sample_size=12, margin_of_error=27.5, small_sample=True)}}
    _, kpis = result_of(card(nps), store, "2026-03")
    result = kpis["nps"]
    assert result.score == pytest.approx(5.0)  # halfway between 20 and 40: scored as any value, but not trusted
    assert result.to_dict()["small_sample"] is True
    assert result.explanation().endswith(
        "Caution: this value rests on only 12 responses, with a margin of error of ±27.5, too few to be sure of it."
    )


def test_a_quarter_combining_a_thin_month_keeps_the_flag_and_sums_the_responses():
    csat = kpi("csat", aggregation=Aggregation.RATIO, unit=UnitKind.PERCENT)
    months = [CALENDAR.parse(key) for key in ("2026-01", "2026-02", "2026-03")]
    answers = [(80, 100, False), (9, 12, True), (150, 200, False)]
    store = {
        "csat": {
            month.key: PeriodValue(month, 100 * top / n, top, n, sample_size=n, small_sample=thin)
            for month, (top, n, thin) in zip(months, answers, strict=True)
        }
    }
    _, kpis = result_of(card(csat), store, "2026-Q1")
    value = kpis["csat"].actual
    assert value.value == pytest.approx(100 * 239 / 312)  # (80 + 9 + 150) / (100 + 12 + 200)
    assert (value.sample_size, value.margin_of_error, value.small_sample) == (312, None, True)
    assert (
        kpis["csat"]
        .explanation()
        .endswith("Caution: the value for 2026-02 rests on too few responses to be sure of it (312 responses in all).")
    )


def test_enough_responses_add_no_caution():
    nps = kpi("nps", targets=(TargetSetting(JAN, target=40, red_flag=20),))
    period = CALENDAR.parse("2026-03")
    store = {"nps": {period.key: PeriodValue(period, 30.0, sample_size=400, margin_of_error=6.1)}}
    _, kpis = result_of(card(nps), store, "2026-03")
    assert "Caution" not in kpis["nps"].explanation()
    assert kpis["nps"].to_dict()["small_sample"] is False
