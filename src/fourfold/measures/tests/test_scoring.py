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
