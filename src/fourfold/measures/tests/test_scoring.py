"""Scores served to pages: read from the database, evaluated, and never stale after a change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fourfold.engine.model import Span, View
from fourfold.measures.scoring import default_period, kpi_history, parse_view, scorecard_evaluation
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set, kpi_update
from fourfold.strategy.services import StatusLevelInput, objective_update, status_scheme_set

TODAY = dt.date(2026, 11, 23)


def march(world) -> View:
    return View(world.organisation.calendar.parse("2026-03"))


def kpi_score(world, view: View) -> float | None:
    result = scorecard_evaluation(world.scorecard, view, today=TODAY).result
    (kpi,) = [kpi for kpi in result.iter_kpis() if kpi.kpi.key == "csat"]
    return kpi.score


def test_a_new_value_target_or_threshold_is_scored_at_once(world):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal(70))
    assert kpi_score(world, march(world)) == pytest.approx(5.0)  # halfway from the red flag 60 to the goal 80
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal(80))
    assert kpi_score(world, march(world)) == pytest.approx(20 / 3)  # at the goal
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(100), red_flag=Decimal(60))
    assert kpi_score(world, march(world)) == pytest.approx(10 / 3 * (1 + 20 / 40))  # 80 is half way from 60 to 100


def test_a_weight_or_structure_change_is_rolled_up_at_once(world):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal(70))
    second = kpi_create(by=world.editor, objective=world.objective, key="nps", name="NPS", weight=Decimal(3))
    kpi_target_set(by=world.editor, kpi=second, period_key="2026-01", target=Decimal(40), red_flag=Decimal(20))
    actual_record(by=world.editor, kpi=second, period_key="2026-03", value=Decimal(40))

    def objective():
        return scorecard_evaluation(world.scorecard, march(world), today=TODAY).result.perspectives[1].objectives[0]

    assert objective().score == pytest.approx((5.0 * 1 + 20 / 3 * 3) / 4)
    kpi_update(by=world.editor, kpi=second, changes={"weight": Decimal(1)})
    assert objective().score == pytest.approx((5.0 + 20 / 3) / 2)
    objective_update(by=world.editor, objective=world.objective, changes={"weight": Decimal(2)})
    assert objective().score == pytest.approx((5.0 + 20 / 3) / 2)  # the objective's own weight counts above it


def test_a_new_status_scheme_applies_at_once(world):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal(70))
    levels = [StatusLevelInput("fine", "Fine", "#1a7f37", Decimal(4)), StatusLevelInput("poor", "Poor", "#cf222e")]
    status_scheme_set(by=world.org_admin, organisation=world.organisation, levels=levels)
    result = scorecard_evaluation(world.scorecard, march(world), today=TODAY).result
    assert next(result.iter_kpis()).status.name == "Fine"  # 5.0 reaches the new floor of 4


def test_a_cached_evaluation_needs_few_queries(world, django_assert_max_num_queries):
    scorecard_evaluation(world.scorecard, march(world), today=TODAY)
    with django_assert_max_num_queries(2):  # the tree and its version
        scorecard_evaluation(world.scorecard, march(world), today=TODAY)


def test_views_are_read_from_what_people_type(world):
    assert default_period(world.scorecard, TODAY).key == "2026-10"  # the last month that has ended
    view = parse_view(world.scorecard, "2026-q1", "ytd", TODAY)
    assert (view.period.key, view.span) == ("2026-Q1", Span.YEAR_TO_DATE)
    with pytest.raises(ValueError, match="not a period key"):
        parse_view(world.scorecard, "March", None, TODAY)


def test_kpi_history_scores_each_period(world):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    for period, value in (("2026-01", 60), ("2026-02", 80)):
        actual_record(by=world.updater, kpi=world.kpi, period_key=period, value=Decimal(value))
    calendar = world.organisation.calendar
    results = kpi_history(world.kpi, [calendar.parse("2026-01"), calendar.parse("2026-02")], today=TODAY)
    assert results["2026-01"].score == pytest.approx(10 / 3)
    assert results["2026-02"].score == pytest.approx(20 / 3)


def test_a_view_ending_on_a_leap_day_is_read(world):
    view = View(world.organisation.calendar.parse("2024-02"))
    assert scorecard_evaluation(world.scorecard, view, today=TODAY).result.view.period.end == dt.date(2024, 2, 29)


def test_removing_a_child_scorecard_is_not_served_from_an_old_cache(world):
    from fourfold.strategy.services import objective_create, scorecard_delete

    child_objective = objective_create(
        by=world.org_admin,
        perspective=world.child_scorecard.perspectives.get(kind="customer"),
        name="Win",
        parent=world.objective,
    )
    child_kpi = kpi_create(by=world.org_admin, objective=child_objective, key="wins", name="Wins")
    kpi_target_set(by=world.org_admin, kpi=child_kpi, period_key="2026-01", target=Decimal(10))
    actual_record(by=world.org_admin, kpi=child_kpi, period_key="2026-03", value=Decimal(5))
    with_child = scorecard_evaluation(world.scorecard, march(world), today=TODAY).result
    assert with_child.children
    scorecard_delete(by=world.org_admin, scorecard=world.child_scorecard)
    without_child = scorecard_evaluation(world.scorecard, march(world), today=TODAY).result
    assert without_child.children == ()


def test_rules_compare_with_the_kpis_own_target(world):
    rules = {
        "rules": [
            {"status": "On target", "operator": ">=", "series": "target", "factor": 1.0},
            {"status": "Watch", "operator": ">=", "series": "target", "factor": 0.9},
        ],
        "otherwise": "Off target",
    }
    kpi_target_set(
        by=world.editor,
        kpi=world.kpi,
        period_key="2026-01",
        target=Decimal(80),
        scoring_method="rules",
        scoring_parameters=rules,
    )
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal(75))  # 75 >= 0.9 x 80 = 72
    result = scorecard_evaluation(world.scorecard, march(world), today=TODAY).result
    assert next(result.iter_kpis()).status.key == "watch"


def test_a_target_saved_without_a_method_keeps_the_method_set_for_that_period(world):
    kpi_target_set(
        by=world.editor,
        kpi=world.kpi,
        period_key="2026-01",
        target=Decimal(80),
        scoring_method="ratio",
        scoring_parameters={"target": 80},
    )
    setting = kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(85))
    assert setting.scoring_method == "ratio"


def test_an_explicit_method_still_checks_the_red_flag_order(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="must not be above the target"):
        kpi_target_set(
            by=world.editor,
            kpi=world.kpi,
            period_key="2026-01",
            target=Decimal(80),
            red_flag=Decimal(90),
            scoring_method="ratio",
            scoring_parameters={"target": 80},
        )


def test_a_broken_formula_saved_past_the_checks_does_not_break_the_page(world):
    from fourfold.measures.models import Kpi

    broken = Kpi(
        scorecard=world.scorecard,
        objective=world.objective,
        key="broken",
        name="Broken",
        source_kind="formula",
        formula="csat / missing_kpi",
    )
    broken.save()  # as the admin of an older version could have
    result = scorecard_evaluation(world.scorecard, march(world), today=TODAY).result
    (row,) = [kpi for kpi in result.iter_kpis() if kpi.kpi.key == "broken"]
    assert row.actual.value is None
    assert "missing_kpi" in row.explanation()


def test_weights_change_from_a_period_on(world):
    from fourfold.measures.services import weight_change_set

    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    second = kpi_create(by=world.editor, objective=world.objective, key="nps", name="NPS", weight=Decimal(1))
    kpi_target_set(by=world.editor, kpi=second, period_key="2026-01", target=Decimal(40), red_flag=Decimal(20))
    for period in ("2026-03", "2026-09"):
        actual_record(by=world.updater, kpi=world.kpi, period_key=period, value=Decimal(70))  # scores 5.0
        actual_record(by=world.editor, kpi=second, period_key=period, value=Decimal(40))  # scores 6.67
    weight_change_set(by=world.editor, weighted=second, period_key="2026-07", weight=Decimal(3))

    def objective_score(period: str) -> float | None:
        view = View(world.organisation.calendar.parse(period))
        return scorecard_evaluation(world.scorecard, view, today=TODAY).result.perspectives[1].objectives[0].score

    assert objective_score("2026-03") == pytest.approx((5.0 + 20 / 3) / 2)  # equal weights before July
    assert objective_score("2026-09") == pytest.approx((5.0 + 3 * 20 / 3) / 4)  # NPS weighs 3 from July


def test_weight_changes_need_an_editor_and_a_valid_period(world):
    from django.core.exceptions import PermissionDenied, ValidationError

    from fourfold.measures.services import weight_change_set

    with pytest.raises(PermissionDenied):
        weight_change_set(by=world.viewer, weighted=world.objective, period_key="2026-07", weight=Decimal(2))
    with pytest.raises(ValidationError, match="not a period key"):
        weight_change_set(by=world.editor, weighted=world.objective, period_key="July", weight=Decimal(2))
    change = weight_change_set(by=world.editor, weighted=world.objective, period_key="2026-7", weight=Decimal(2))
    assert (change.period_key, change.starts) == ("2026-07", dt.date(2026, 7, 1))


def test_a_target_reached_by_december_is_judged_on_the_pages_by_progress(world):
    sales = kpi_create(
        by=world.editor, objective=world.objective, key="sales", name="Sales", aggregation="sum", baseline=Decimal(0)
    )
    kpi_target_set(by=world.editor, kpi=sales, period_key="2026-01", target=Decimal(12_000), reach_by="2026-12")
    for month in range(1, 4):
        actual_record(by=world.editor, kpi=sales, period_key=f"2026-{month:02d}", value=Decimal(1_100))
    result = scorecard_evaluation(world.scorecard, march(world), today=TODAY).result
    (row,) = [kpi for kpi in result.iter_kpis() if kpi.kpi.key == "sales"]
    # 3 000 expected after three of twelve months; 3 300 done -> 110 % of expected -> score 10 (11 unclamped)
    assert row.target == pytest.approx(3_000)
    assert row.actual.value == pytest.approx(3_300)
    assert row.score == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reach_by": "2025-12"}, "reach_by", "before it starts"),
        ({"reach_by": "2026-Q4"}, "reach_by", "monthly"),
        ({"reach_by": "2026-03", "progress_curve": [0.5, 0.4, 1.0]}, "progress_curve", ""),
        ({"progress_curve": [0.2, 1.0]}, "reach_by", "needs the period"),
    ],
)
def test_bad_progress_targets_are_refused_on_the_field(world, changes, field, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(100), **changes)
    assert message in " ".join(error.value.message_dict[field])
