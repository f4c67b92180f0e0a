"""The bulk path against the explained path: same scores and statuses for every KPI and node, every period.

Scorecards are generated from a seed with every feature the scalar evaluator knows (directions, aggregation
rules, frequencies, missing and empty values, target changes, explicit methods, formulas, cascaded roll-ups,
aligned objectives, roll-up methods, weight changes, overdue values), then evaluated both ways. The golden
examples of the reference (section 2) are checked through the batch as well.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.batch import BatchScores, ViewScores, compile_batch
from fourfold.engine.evaluate import KpiResult, NodeResult, ScorecardResult, evaluate_scorecard
from fourfold.engine.formulas import UnitKind, parse_formula
from fourfold.engine.model import (
    Direction,
    KpiModel,
    ObjectiveModel,
    PerspectiveModel,
    ScorecardModel,
    TargetSetting,
    View,
    WeightChange,
)
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.rollup import RollupMethod, ValueRollupMethod
from fourfold.engine.scoring import ScoringConfigError
from fourfold.engine.status import Status, StatusScheme

VIEWS = (Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.YEARLY)
FIVE_LEVELS = StatusScheme(
    levels=(
        Status("excellent", "Excellent", "#0a3069", 9.0),
        Status("on_target", "On target", "#1a7f37", 20 / 3),
        Status("watch", "Watch", "#bf8700", 5.0),
        Status("at_risk", "At risk", "#bc4c00", 10 / 3),
        Status("off_target", "Off target", "#cf222e"),
    )
)
EXPLICIT_METHODS: list[tuple[str, dict[str, object]]] = [
    ("min_max", {"minimum": 0, "maximum": 100}),
    (
        "rules",
        {
            "rules": [
                {"status": "On target", "operator": ">=", "value": 50},
                {"status": "Caution", "operator": ">=", "value": 30},
            ],
            "otherwise": "Below plan",
        },
    ),
    ("bands", {"thresholds": [0, 30, 60, 120]}),
    ("deviation", {"target": 50}),
    ("goal_red_flag", {"goal": 10}),  # refused: no red flag, so the KPI is not scored
]
FORMULAS = [
    "{a} + {b}",
    "{a} / ({b} - 50)",
    "if({a} > {b}, {a}, {b} * 2)",
    "round({a} / 3, 1)",
    "max({a}, {b}) - min({a}, 20)",
    "({a} >= {b} and {b} > 40) * 80 + 10",
    "not ({a} == {b}) or {a} < 30",
    "avg({a}, {b}, 10) ^ 0.5",
    "abs({a} - {b}) * 1.5",
    "-{a} + sum({a}, {b})",
    "{a} ^ ({b} / 10 - 5)",
]


# Generated scorecards -------------------------------------------------------------------------------------


class Generator:
    """Random scorecard trees and values from a seed; every choice stays within what the scalar path accepts."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.calendar = FiscalCalendar(fiscal_year_start_month=self.random.choice([1, 4, 7]))
        first_year = self.calendar.parse("2025")
        self.years = self.calendar.span(first_year, self.calendar.next(first_year))
        self.first_day = self.years[0].start
        self.days = (self.years[-1].end - self.first_day).days
        self.today = self.day(0.3, 1.05)
        self.values: dict[str, dict[str, PeriodValue]] = {}

    def day(self, low: float, high: float) -> date:
        return date.fromordinal(self.first_day.toordinal() + int(self.days * self.random.uniform(low, high)))

    def weight(self) -> dict[str, Any]:
        weight = self.random.choice([1.0, 1.0, 2.0, 0.5, 3.0, 0.0])
        changes: tuple[WeightChange, ...] = ()
        if self.random.random() < 0.2:
            changes = (WeightChange(self.day(0.2, 0.8), self.random.choice([0.0, 1.0, 4.0])),)
        return {"weight": weight, "weight_changes": changes}

    def periods_of(self, frequency: Frequency) -> list[Period]:
        if frequency is Frequency.YEARLY:
            return list(self.years)
        return [period for year in self.years for period in self.calendar.subperiods(year, frequency)]

    def stored_kpi(self, card_id: str, key: str) -> KpiModel:
        choose = self.random.choice
        unit = choose([UnitKind.NUMBER, UnitKind.NUMBER, UnitKind.PERCENT, UnitKind.YES_NO])
        direction = choose([Direction.HIGHER, Direction.HIGHER, Direction.LOWER, Direction.RANGE])
        aggregation = choose(list(Aggregation))
        frequency = choose([Frequency.MONTHLY] * 5 + [Frequency.QUARTERLY, Frequency.YEARLY, Frequency.WEEKLY])
        kpi = KpiModel(
            id=f"{card_id}/{key}",
            key=key,
            name=f"KPI {key} of {card_id}",
            unit=unit,
            direction=direction,
            frequency=frequency,
            aggregation=aggregation,
            baseline=choose([None, None, 10.0, 90.0, 50.0]),
            targets=self.targets(direction, unit),
            **self.weight(),
        )
        self.record(kpi)
        return kpi

    def targets(self, direction: Direction, unit: UnitKind) -> tuple[TargetSetting, ...]:
        choose = self.random.choice
        settings = []
        for _ in range(choose([0, 1, 1, 2, 3])):
            if unit is UnitKind.YES_NO:
                target = choose([0.0, 1.0, None])
            else:
                target = choose([None, 0.0, *(float(self.random.randint(-10, 100)) for _ in range(6))])
            red_flag = None
            if target is not None and self.random.random() < 0.5:
                # Mostly on the right side of the target, sometimes on the wrong one (then refused).
                side = -1 if direction is Direction.HIGHER else 1
                if self.random.random() < 0.1:
                    side = -side
                red_flag = target + side * choose([0.0, 10.0, 25.0])
            low = float(self.random.randint(20, 60))
            method: str | None = None
            parameters: dict[str, object] = {}
            if self.random.random() < 0.12:
                method, parameters = choose(EXPLICIT_METHODS)
            settings.append(
                TargetSetting(
                    starts=self.day(-0.1, 0.9),
                    target=target,
                    red_flag=red_flag,
                    range_low=choose([low, low, None]),
                    range_high=choose([low + 20, low, low - 5]),
                    method=method,
                    parameters=parameters,
                )
            )
        return tuple(sorted(settings, key=lambda setting: setting.starts))

    def record(self, kpi: KpiModel) -> None:
        readings: dict[str, PeriodValue] = {}
        for period in self.periods_of(kpi.frequency):
            draw = self.random.random()
            if draw < 0.15:
                continue
            value: float | None = float(self.random.randint(-5, 110))
            if kpi.unit is UnitKind.YES_NO:
                value = float(self.random.random() < 0.6)
            numerator: float | None = float(self.random.randint(0, 40))
            denominator: float | None = float(self.random.choice([0, 50, 80, 100, 120]))
            if draw < 0.2:
                value = numerator = denominator = None
            elif draw < 0.22:
                value = math.nan
            readings[period.key] = PeriodValue(period, value, numerator, denominator)
        self.values[kpi.id] = readings

    def computed_kpis(self, card_id: str, stored: list[KpiModel], child_kpis: list[KpiModel]) -> list[KpiModel]:
        choose = self.random.choice
        computed = []
        for number in range(self.random.randint(1, 3)):
            first, second = self.random.sample(stored, 2)
            formula = choose(FORMULAS).format(a=first.key, b=second.key)
            computed.append(
                KpiModel(
                    id=f"{card_id}/f{number}",
                    key=f"f{number}",
                    name=f"Formula {number}",
                    direction=choose([Direction.HIGHER, Direction.LOWER]),
                    frequency=choose([Frequency.MONTHLY, Frequency.MONTHLY, Frequency.QUARTERLY]),
                    aggregation=choose([Aggregation.SUM, Aggregation.AVERAGE, Aggregation.RATIO]),
                    formula=parse_formula(formula),
                    missing_policy=choose(["no_data", "zero", "last_known"]),
                    targets=self.targets(Direction.HIGHER, UnitKind.NUMBER),
                )
            )
        if child_kpis:
            for number in range(2):
                sources = tuple(kpi.id for kpi in self.random.sample(child_kpis, min(3, len(child_kpis))))
                computed.append(
                    KpiModel(
                        id=f"{card_id}/r{number}",
                        key=f"r{number}",
                        name=f"Roll-up {number}",
                        rollup_sources=sources,
                        value_rollup=choose(list(ValueRollupMethod)),
                        targets=self.targets(Direction.HIGHER, UnitKind.NUMBER),
                    )
                )
        if len(computed) > 1 and self.random.random() < 0.5:
            # A formula over computed KPIs: the batch must order computed KPIs by their dependencies.
            computed.append(
                KpiModel(
                    id=f"{card_id}/g",
                    key="g",
                    name="Formula of computed KPIs",
                    formula=parse_formula(f"{computed[0].key} - {computed[-1].key}"),
                    targets=self.targets(Direction.HIGHER, UnitKind.NUMBER),
                )
            )
        return computed

    def scorecard(self, card_id: str, children: tuple[ScorecardModel, ...]) -> ScorecardModel:
        choose = self.random.choice
        child_kpis = [kpi for child in children for kpi in _kpis_of(child)]
        child_objectives = [objective.id for child in children for objective in _objectives_of(child)]
        stored = [self.stored_kpi(card_id, f"k{number}") for number in range(self.random.randint(5, 8))]
        kpis = stored + self.computed_kpis(card_id, stored, child_kpis)
        self.random.shuffle(kpis)
        objectives = []
        for number in range(4):
            mine = tuple(kpis[number::4])
            rollup = choose([RollupMethod.WEIGHTED_AVERAGE] * 4 + list(RollupMethod))
            aligned = tuple(self.random.sample(child_objectives, min(len(child_objectives), self.random.randint(0, 2))))
            if number == 0:
                # A later objective of the same scorecard and an unknown id: the scalar path ignores both.
                aligned += (f"{card_id}/o3", "nowhere")
            objectives.append(
                ObjectiveModel(
                    id=f"{card_id}/o{number}",
                    name=f"Objective {number}",
                    kpis=mine,
                    aligned_children=aligned,
                    rollup=rollup,
                    own_kpi=choose([kpi.id for kpi in mine] + [None]) if mine else None,
                    **self.weight(),
                )
            )
        perspectives = tuple(
            PerspectiveModel(
                id=f"{card_id}/p{number}",
                name=f"Perspective {number}",
                objectives=tuple(objectives[2 * number : 2 * number + 2]),
                rollup=choose([RollupMethod.WEIGHTED_AVERAGE] * 4 + list(RollupMethod)),
                **self.weight(),
            )
            for number in range(2)
        )
        return ScorecardModel(
            id=card_id,
            name=f"Scorecard {card_id}",
            perspectives=(*perspectives, PerspectiveModel(id=f"{card_id}/empty", name="Empty")),
            children=children,
            calendar=self.calendar,
            statuses=choose([StatusScheme(), FIVE_LEVELS]),
            rollup=choose([RollupMethod.WEIGHTED_AVERAGE, RollupMethod.AVERAGE, RollupMethod.COUNT_BY_STATUS]),
            due_days=choose([0, 10, 30]),
            grace_days=choose([0, 5]),
            overdue_as_no_data=self.random.random() < 0.4,
        )

    def roots(self) -> list[ScorecardModel]:
        grandchild = self.scorecard("a-1-1", ())
        first = self.scorecard("a", (self.scorecard("a-1", (grandchild,)), self.scorecard("a-2", ())))
        return [first, self.scorecard("b", ())]


def _kpis_of(card: ScorecardModel) -> list[KpiModel]:
    return [kpi for perspective in card.perspectives for objective in perspective.objectives for kpi in objective.kpis]


def _objectives_of(card: ScorecardModel) -> list[ObjectiveModel]:
    return [objective for perspective in card.perspectives for objective in perspective.objectives]


# Comparison -------------------------------------------------------------------------------------------------


def close(batch_value: float, scalar_value: float | None) -> bool:
    if scalar_value is None:
        return math.isnan(batch_value)
    return math.isclose(batch_value, scalar_value, rel_tol=1e-9, abs_tol=1e-9)


def compare_node(scores: BatchScores, view: ViewScores, kind: str, node: NodeResult, column: int) -> list[str]:
    nodes = getattr(view, kind)
    row = nodes.rows[node.id]
    score, status = nodes.score[row, column], scores.statuses[nodes.status[row, column]]
    if close(score, node.score) and status == node.status:
        return []
    return [
        f"{kind} {node.id} {view.periods[column].key}: batch {score} {status.key}, scalar {node.score} {node.status.key}"
    ]


def compare_kpi(scores: BatchScores, view: ViewScores, result: KpiResult, column: int) -> list[str]:
    row = view.kpis.rows[result.kpi.id]
    problems = []
    batch = (
        view.value[row, column],
        view.target[row, column],
        view.red_flag[row, column],
        view.kpis.score[row, column],
    )
    scalar = (result.actual.value, result.target, result.red_flag, result.score)
    for name, found, expected in zip(("value", "target", "red flag", "score"), batch, scalar, strict=True):
        if not close(found, expected):
            problems.append(f"KPI {result.kpi.id} {view.periods[column].key} {name}: batch {found}, scalar {expected}")
    status = scores.statuses[view.kpis.status[row, column]]
    if status != result.status or bool(view.overdue[row, column]) != result.overdue:
        problems.append(
            f"KPI {result.kpi.id} {view.periods[column].key}: batch {status.key} overdue={view.overdue[row, column]}, "
            f"scalar {result.status.key} overdue={result.overdue}"
        )
    return problems


def compare_tree(scores: BatchScores, view: ViewScores, card: ScorecardResult, column: int) -> list[str]:
    problems = compare_node(scores, view, "scorecards", card, column)
    for perspective in card.perspectives:
        problems += compare_node(scores, view, "perspectives", perspective, column)
        for objective in perspective.objectives:
            problems += compare_node(scores, view, "objectives", objective, column)
            for kpi in objective.kpis:
                problems += compare_kpi(scores, view, kpi, column)
    for child in card.children:
        problems += compare_tree(scores, view, child, column)
    return problems


def differences(roots, values, scores: BatchScores, today: date) -> list[str]:
    problems: list[str] = []
    for view in scores.views.values():
        for column, period in enumerate(view.periods):
            for root in roots:
                problems += compare_tree(
                    scores, view, evaluate_scorecard(root, values, View(period), today=today), column
                )
    return problems


# Tests ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_the_batch_scores_generated_scorecards_like_the_scalar_evaluator(seed):
    generator = Generator(seed)
    roots = generator.roots()
    batch = compile_batch(roots, generator.values, generator.calendar, generator.years, today=generator.today)
    scores = batch.compute(VIEWS)
    assert differences(roots, generator.values, scores, generator.today) == []


def test_a_weekly_view_is_scored_like_the_scalar_evaluator():
    generator = Generator(99)
    roots = generator.roots()
    batch = compile_batch(roots, generator.values, generator.calendar, generator.years, today=generator.today)
    scores = batch.compute([Frequency.WEEKLY])
    assert differences(roots, generator.values, scores, generator.today) == []


@pytest.mark.parametrize("seed", range(3))
def test_an_incremental_update_equals_a_full_recompute(seed):
    generator = Generator(seed)
    roots = generator.roots()
    batch = compile_batch(roots, generator.values, generator.calendar, generator.years, today=generator.today)
    live = batch.compute(VIEWS)
    values = {kpi_id: dict(readings) for kpi_id, readings in generator.values.items()}
    stored = [kpi for root in roots for card in root.all_scorecards() for kpi in _kpis_of(card) if _is_stored(kpi)]
    chooser = random.Random(seed)
    for _ in range(25):
        kpi = chooser.choice(stored)
        period = chooser.choice(generator.periods_of(kpi.frequency))
        reading = PeriodValue(period, chooser.choice([None, 0.0, 35.0, 75.0, 140.0]), 7.0, chooser.choice([0.0, 20.0]))
        values.setdefault(kpi.id, {})[period.key] = reading
        delta = batch.update_value(kpi.id, period.key, reading.value, reading.numerator, reading.denominator)
        fresh = compile_batch(roots, values, generator.calendar, generator.years, today=generator.today).compute(VIEWS)
        for frequency in VIEWS:
            np.testing.assert_allclose(live.views[frequency].value, fresh.views[frequency].value, rtol=1e-12)
            np.testing.assert_array_equal(live.views[frequency].overdue, fresh.views[frequency].overdue)
            for kind in ("kpis", "objectives", "perspectives", "scorecards"):
                updated, recomputed = getattr(live.views[frequency], kind), getattr(fresh.views[frequency], kind)
                np.testing.assert_allclose(updated.score, recomputed.score, rtol=1e-12, atol=1e-12)
                assert [live.statuses[index] for index in updated.status.ravel()] == [
                    fresh.statuses[index] for index in recomputed.status.ravel()
                ]
        changed = delta.views[Frequency.QUARTERLY].kpis
        row = live.views[Frequency.QUARTERLY].kpis.rows[kpi.id]
        assert row in changed.rows
        np.testing.assert_array_equal(changed.score, live.views[Frequency.QUARTERLY].kpis.score[changed.rows])
    # The batch works on its own copy: the caller's store is untouched.
    assert values != generator.values


def _is_stored(kpi: KpiModel) -> bool:
    return kpi.formula is None and not kpi.rollup_sources


def test_an_update_recomputes_only_the_kpi_and_its_ancestors():
    generator = Generator(5)
    roots = generator.roots()
    batch = compile_batch(roots, generator.values, generator.calendar, generator.years, today=generator.today)
    scores = batch.compute(VIEWS)
    kpi = next(kpi for kpi in _kpis_of(roots[1]) if _is_stored(kpi))
    period = generator.periods_of(kpi.frequency)[0]
    delta = batch.update_value(kpi.id, period.key, 42.0).views[Frequency.MONTHLY]
    view = scores.views[Frequency.MONTHLY]
    assert [view.scorecards.ids[row] for row in delta.scorecards.rows] == ["b"]
    assert len(delta.perspectives.rows) == 1
    assert {view.kpis.ids[row] for row in delta.kpis.rows} >= {kpi.id}
    assert all(view.kpis.ids[row].startswith("b/") for row in delta.kpis.rows)


def test_updates_are_refused_for_computed_kpis_unknown_periods_and_before_a_compute():
    generator = Generator(1)
    roots = generator.roots()
    batch = compile_batch(roots, generator.values, generator.calendar, generator.years, today=generator.today)
    stored = next(kpi for kpi in _kpis_of(roots[1]) if _is_stored(kpi))
    with pytest.raises(RuntimeError, match="compute"):
        batch.update_value(stored.id, generator.periods_of(stored.frequency)[0].key, 1.0)
    batch.compute()
    computed = next(kpi for kpi in _kpis_of(roots[0]) if kpi.rollup_sources)
    with pytest.raises(ValueError, match="computed from other KPIs"):
        batch.update_value(computed.id, "2025-07", 1.0)
    with pytest.raises(KeyError, match="1999"):
        batch.update_value(stored.id, "1999-01" if stored.frequency is Frequency.MONTHLY else "1999", 1.0)


def test_the_grid_covers_whole_fiscal_years():
    calendar = FiscalCalendar(fiscal_year_start_month=4)
    card = ScorecardModel(id="s", name="S", calendar=calendar)
    batch = compile_batch([card], {}, calendar, [calendar.parse("2026-02")], today=date(2026, 3, 1))
    assert [period.key for period in batch.periods(Frequency.QUARTERLY)] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert batch.periods(Frequency.MONTHLY)[0].key == "2025-04"


def test_configuration_errors_raise_when_the_batch_is_compiled():
    calendar = FiscalCalendar()
    kpi = KpiModel(id="k", key="k", name="K", weight=-1.0)
    card = ScorecardModel(
        id="s",
        name="S",
        perspectives=(PerspectiveModel(id="p", name="P", objectives=(ObjectiveModel(id="o", name="O", kpis=(kpi,)),)),),
    )
    periods = [calendar.parse("2026")]
    with pytest.raises(ScoringConfigError, match="weight of K must be 0 or more"):
        compile_batch([card], {}, calendar, periods, today=date(2026, 1, 1))
    orphan = replace(kpi, weight=1.0, rollup_sources=("elsewhere",))
    objective = ObjectiveModel(id="o", name="O", kpis=(orphan,))
    lonely = replace(card, perspectives=(PerspectiveModel(id="p", name="P", objectives=(objective,)),))
    with pytest.raises(ScoringConfigError, match="elsewhere"):
        compile_batch([lonely], {}, calendar, periods, today=date(2026, 1, 1))
    with pytest.raises(ValueError, match="appears twice"):
        compile_batch([lonely, lonely], {}, calendar, periods, today=date(2026, 1, 1))


# Golden examples (reference section 2) ----------------------------------------------------------------------


def golden_scores(kpi: KpiModel, actuals: list[float]) -> list[float]:
    """The monthly scores of one KPI with ``actuals`` reported for January, February, … of 2026."""
    calendar = FiscalCalendar()
    months = [calendar.parse(f"2026-{month:02d}") for month in range(1, len(actuals) + 1)]
    card = ScorecardModel(
        id="s",
        name="S",
        perspectives=(PerspectiveModel(id="p", name="P", objectives=(ObjectiveModel(id="o", name="O", kpis=(kpi,)),)),),
    )
    values = {kpi.id: {month.key: PeriodValue(month, actual) for month, actual in zip(months, actuals, strict=True)}}
    scores = compile_batch([card], values, calendar, months, today=date(2026, 1, 1)).compute([Frequency.MONTHLY])
    return [round(score, 2) for score in scores.views[Frequency.MONTHLY].kpis.score[0, : len(actuals)].tolist()]


def starting_2026(**setting: float) -> tuple[TargetSetting, ...]:
    return (TargetSetting(starts=date(2026, 1, 1), **setting),)


def test_golden_goal_and_red_flag():
    kpi = KpiModel(id="k", key="k", name="Sales", targets=starting_2026(target=700, red_flag=500))
    assert golden_scores(kpi, [300, 500, 600, 700, 900, 1000]) == [0.0, 3.33, 5.0, 6.67, 10.0, 10.0]


def test_golden_goal_below_the_red_flag_means_lower_is_better():
    kpi = KpiModel(
        id="k", key="k", name="Defects", direction=Direction.LOWER, targets=starting_2026(target=5, red_flag=10)
    )
    assert golden_scores(kpi, [7.5, 0, 15]) == [5.0, 10.0, 0.0]


def test_golden_yes_no():
    kpi = KpiModel(id="k", key="k", name="Audit passed", unit=UnitKind.YES_NO, targets=starting_2026(target=1))
    assert golden_scores(kpi, [1, 0]) == [10.0, 0.0]


def test_golden_stabilize_puts_the_best_score_in_the_middle_of_the_range():
    kpi = KpiModel(
        id="k",
        key="k",
        name="Stock days",
        direction=Direction.RANGE,
        targets=starting_2026(range_low=40, range_high=60),
    )
    # 10 inside 40-60, falling to 0 one range width (20) outside it on both sides.
    assert golden_scores(kpi, [10, 20, 30, 40, 50, 60, 70, 80, 90]) == [0.0, 0.0, 5.0, 10.0, 10.0, 10.0, 5.0, 0.0, 0.0]


def test_scorecards_without_kpis_compute_to_no_data():
    calendar = FiscalCalendar()
    objective = ObjectiveModel(id="o", name="O")
    card = ScorecardModel(
        id="s", name="S", perspectives=(PerspectiveModel(id="p", name="P", objectives=(objective,)),), calendar=calendar
    )
    scores = compile_batch([card], {}, calendar, [calendar.parse("2026")], today=date(2026, 1, 1)).compute()
    view = scores.views[Frequency.YEARLY]
    assert np.isnan(view.scorecards.score).all()
    assert {scores.statuses[index].key for index in view.objectives.status.ravel().tolist()} == {"no_data"}
