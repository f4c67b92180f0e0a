"""Evaluate a scorecard tree for one view: every KPI's value, target, score and status, and every roll-up.

This is the explained path: each number carries its trace, so a page can say why a KPI is red. It is built
entirely from the engine's parts — period aggregation, formulas, value roll-ups, scoring methods, status
schemes and score roll-ups — and adds only the decisions that tie them together:

* **Which periods a view reads.** A KPI reported as often as the view reads that period; a finer KPI reads
  the sub-periods (months of a quarter); a coarser KPI inherits the value of the period containing the view.
  Year-to-date and rolling-year views read the KPI's periods from the start of the fiscal year, or the last
  twelve months (four quarters, 52 weeks), up to the view's end.
* **Targets follow the KPI's rule.** Targets and thresholds of the periods read are combined like the values
  (summed for a sum KPI, averaged for averages and ratios), so a quarter's sales are compared with the
  quarter's target, not a month's. A sum target needs a setting for every period read.
* **The default scoring method** when a target setting names none (:func:`default_method`).
* **Cascading.** Child scorecards are evaluated first; an objective's roll-up includes the objectives of
  child scorecards aligned to it, next to its own KPIs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from fourfold.engine.aggregation import AggregateResult, Aggregation, PeriodValue, aggregate, inherit
from fourfold.engine.explain import TIMES, Trace, TraceValue, format_number
from fourfold.engine.formulas import FormulaError, UnitKind, check_formulas, evaluate
from fourfold.engine.model import (
    Direction,
    KpiModel,
    ObjectiveModel,
    PerspectiveModel,
    ScorecardModel,
    Span,
    TargetSetting,
    ValueStore,
    View,
)
from fourfold.engine.periods import Frequency, Period
from fourfold.engine.progress import ProgressPlan
from fourfold.engine.rollup import (
    ChildValue,
    RollupChild,
    RollupMethod,
    RollupResult,
    ValueRollupMethod,
    rollup_scores,
    rollup_values,
)
from fourfold.engine.scoring import (
    Breakpoint,
    Breakpoints,
    GoalRedFlag,
    LinearProgress,
    Rules,
    ScoreResult,
    ScoringConfigError,
    ScoringMethod,
    SignSafeRatio,
    YesNo,
    is_present,
    method_from_config,
)
from fourfold.engine.status import Status, StatusScheme, is_overdue

PERIODS_PER_YEAR = {Frequency.WEEKLY: 52, Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4, Frequency.YEARLY: 1}
"""How many periods of each frequency make the rolling year."""


@dataclass(frozen=True)
class KpiValue:
    """A KPI's value for a view, however it was obtained, with the trace that says how."""

    value: float | None
    numerator: float | None
    denominator: float | None
    trace: Trace
    periods: tuple[Period, ...]
    awaited: Period | None = None
    """For a carried-forward value: the period whose own value is still missing (it decides "overdue")."""
    sample_size: int | None = None
    """The observations behind the value, summed over the periods it combines, when every one says."""
    margin_of_error: float | None = None
    """The margin of error of a value read for exactly one period; combining periods gives none."""
    thin_periods: tuple[Period, ...] = ()
    """The periods behind the value whose own values rest on too few responses (a survey's few answers)."""

    @property
    def small_sample(self) -> bool:
        """Whether any value behind this one rests on too few responses: it is scored, but flagged."""
        return bool(self.thin_periods)

    def caution(self) -> str | None:
        """The sentence that keeps a value from too few responses from being read as certain."""
        if not self.thin_periods:
            return None
        if self.periods == self.thin_periods and len(self.periods) == 1:
            resting = f"only {self.sample_size} responses" if self.sample_size is not None else "too few responses"
            margin = (
                f", with a margin of error of ±{format_number(self.margin_of_error)}"
                if self.margin_of_error is not None
                else ""
            )
            return f"Caution: this value rests on {resting}{margin}, too few to be sure of it."
        thin = ", ".join(period.key for period in self.thin_periods)
        in_all = f" ({self.sample_size} responses in all)" if self.sample_size is not None else ""
        verb = "rests" if len(self.thin_periods) == 1 else "rest"
        return f"Caution: the value for {thin} {verb} on too few responses to be sure of it{in_all}."


@dataclass(frozen=True)
class KpiResult:
    """Everything shown for one KPI in one view, each part explainable."""

    kpi: KpiModel
    actual: KpiValue
    target: float | None
    red_flag: float | None
    method: ScoringMethod | None
    scored: ScoreResult | None
    status: Status
    overdue: bool
    problem: str | None = None
    """Why the KPI could not be scored (no target set, a bad setting), in words for the page."""

    @property
    def score(self) -> float | None:
        return None if self.scored is None else self.scored.score

    def explanation(self) -> str:
        """The value, the score and the status in one paragraph, for "why is this red?"."""
        parts = [self.actual.trace.to_sentence()]
        if self.scored is not None:
            parts.append(self.scored.trace.to_sentence())
        elif self.problem:
            parts.append(f"Not scored: {self.problem}.")
        parts.append(f"Status: {self.status.name}{' (overdue)' if self.overdue else ''}.")
        caution = self.actual.caution()
        if caution is not None:
            parts.append(caution)
        return " ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary with the traces, for the API and ``fourfold score --format json``."""
        return {
            "id": self.kpi.id,
            "key": self.kpi.key,
            "name": self.kpi.name,
            "actual": self.actual.value,
            "numerator": self.actual.numerator,
            "denominator": self.actual.denominator,
            "target": self.target,
            "red_flag": self.red_flag,
            "method": None if self.method is None else self.method.name,
            "score": self.score,
            "status": self.status.key,
            "overdue": self.overdue,
            "small_sample": self.actual.small_sample,
            "problem": self.problem,
            "explanation": self.explanation(),
            "value_trace": self.actual.trace.to_dict(),
            "score_trace": None if self.scored is None else self.scored.trace.to_dict(),
        }


@dataclass(frozen=True)
class NodeResult:
    """An objective, perspective or scorecard: its rolled-up score and status, and how they came about."""

    id: str
    name: str
    score: float | None
    status: Status
    rollup: RollupResult

    def explanation(self) -> str:
        return f"{self.rollup.trace.to_sentence()} Status: {self.status.name}."

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "status": self.status.key,
            "excluded": [str(exclusion) for exclusion in self.rollup.excluded],
            "explanation": self.explanation(),
            "trace": self.rollup.trace.to_dict(),
        }


@dataclass(frozen=True)
class ObjectiveResult(NodeResult):
    kpis: tuple[KpiResult, ...]


@dataclass(frozen=True)
class PerspectiveResult(NodeResult):
    objectives: tuple[ObjectiveResult, ...]


@dataclass(frozen=True)
class ScorecardResult(NodeResult):
    view: View
    perspectives: tuple[PerspectiveResult, ...]
    children: tuple[ScorecardResult, ...]

    def iter_kpis(self) -> Iterator[KpiResult]:
        """Every KPI result of this scorecard (not of its children), in display order."""
        for perspective in self.perspectives:
            for objective in perspective.objectives:
                yield from objective.kpis

    def to_dict(self) -> dict[str, object]:
        """The whole tree as JSON-ready data."""
        return {
            **self.summary(),
            "period": self.view.period.key,
            "span": self.view.span.value,
            "perspectives": [
                {
                    **perspective.summary(),
                    "objectives": [
                        {**objective.summary(), "kpis": [kpi.to_dict() for kpi in objective.kpis]}
                        for objective in perspective.objectives
                    ],
                }
                for perspective in self.perspectives
            ],
            "children": [child.to_dict() for child in self.children],
        }


def kpi_series(target: float | None, red_flag: float | None, baseline: float | None) -> dict[str, float | None]:
    """The KPI's own reference values a rule may compare with ("Caution if actual ≥ 0.9 × target")."""
    return {"target": target, "red_flag": red_flag, "baseline": baseline}


def default_method(
    kpi: KpiModel, setting: TargetSetting, target: float | None, red_flag: float | None
) -> ScoringMethod:
    """The method a KPI is scored by when its target setting names none.

    * yes/no KPIs: the target answer scores 10, the other 0;
    * within-a-range KPIs: 10 inside the good range, falling to 0 one range-width outside it (stabilize);
    * a target and a red flag: goal / red flag (the target scores 6.67 — on target — and the red flag 3.33);
    * a target and a baseline: linear progress from the baseline to the target;
    * a target alone: the sign-safe ratio to target.

    Raises :class:`ScoringConfigError` when nothing to score against is set.
    """
    if kpi.unit is UnitKind.YES_NO:
        return YesNo(yes_is_better=target != 0 if target is not None else kpi.direction is not Direction.LOWER)
    if kpi.direction is Direction.RANGE:
        return _stabilize(setting)
    if target is None:
        raise ScoringConfigError("no target is set for this period")
    higher_is_better = kpi.direction is Direction.HIGHER
    if red_flag is not None:
        return GoalRedFlag(goal=target, red_flag=red_flag, higher_is_better=higher_is_better)
    if kpi.baseline is not None and kpi.baseline != target:
        return LinearProgress(baseline=kpi.baseline, target=target, higher_is_better=higher_is_better)
    return SignSafeRatio(target=target, higher_is_better=higher_is_better)


def _stabilize(setting: TargetSetting) -> Breakpoints:
    low, high = setting.range_low, setting.range_high
    if low is None or high is None:
        raise ScoringConfigError("a within-a-range KPI needs range_low and range_high")
    width = high - low or max(abs(low) * 0.1, 1.0)
    return Breakpoints(
        points=(
            Breakpoint(low - width, 0.0, "off_target", "#cf222e"),
            Breakpoint(low, 10.0, "on_target", "#1a7f37"),
            Breakpoint(high, 10.0, "on_target", "#1a7f37"),
            Breakpoint(high + width, 0.0, "off_target", "#cf222e"),
        )
    )


class Evaluator:
    """Evaluates one scorecard tree for one view; build one per view (it caches values as it goes)."""

    def __init__(self, root: ScorecardModel, values: ValueStore, view: View, *, today: date) -> None:
        self.root = root
        self.values = values
        self.view = view
        self.today = today
        self.calendar = root.calendar
        self.kpis: dict[str, KpiModel] = {}
        self.formula_problems: dict[str, str] = {}
        self.kpis_by_key: dict[str, dict[str, KpiModel]] = {}
        """Each scorecard's KPIs by key: what a formula's names refer to."""
        self.owner: dict[str, ScorecardModel] = {}
        for card in root.all_scorecards():
            by_key = {
                kpi.key: kpi
                for perspective in card.perspectives
                for objective in perspective.objectives
                for kpi in objective.kpis
            }
            formulas = {key: kpi.formula for key, kpi in by_key.items() if kpi.formula is not None}
            try:
                check_formulas(formulas, by_key.keys())
            except FormulaError as error:  # saved past the checks (the admin): show it, do not fail the page
                self.formula_problems[card.id] = str(error)
            self.kpis_by_key[card.id] = by_key
            for kpi in by_key.values():
                self.kpis[kpi.id] = kpi
                self.owner[kpi.id] = card
        self.objective_models = {
            objective.id: objective
            for card in root.all_scorecards()
            for perspective in card.perspectives
            for objective in perspective.objectives
        }
        self._values: dict[str, KpiValue] = {}
        self._objectives: dict[str, ObjectiveResult] = {}

    def run(self) -> ScorecardResult:
        """Evaluate the whole tree, children first."""
        return self._scorecard(self.root)

    # Values -------------------------------------------------------------------------------------------

    def periods_read(self, kpi: KpiModel) -> tuple[Period, ...]:
        """The KPI's own periods that the view covers (see the module docstring)."""
        view_period = self.view.period
        if kpi.frequency is view_period.frequency:
            end = view_period
        elif kpi.frequency.rank < view_period.frequency.rank:
            end = self.calendar.subperiods(view_period, kpi.frequency)[-1]
        else:
            end = self.calendar.parent(view_period, kpi.frequency)
        if self.view.span is Span.YEAR_TO_DATE:
            return tuple(self.calendar.year_to_date(end))
        if self.view.span is Span.ROLLING_YEAR:
            return tuple(self.calendar.trailing(end, PERIODS_PER_YEAR[kpi.frequency]))
        if kpi.frequency.rank < view_period.frequency.rank:
            return tuple(self.calendar.subperiods(view_period, kpi.frequency))
        return (end,)

    def value(self, kpi: KpiModel) -> KpiValue:
        """The KPI's value for the view, from the store, its formula or its cascaded sources."""
        cached = self._values.get(kpi.id)
        if cached is None:
            cached = self._values[kpi.id] = self._compute_value(kpi)
        return cached

    def _compute_value(self, kpi: KpiModel) -> KpiValue:
        periods = self.periods_read(kpi)
        if kpi.rollup_sources:
            children = []
            for source_id in kpi.rollup_sources:
                source = self.kpis.get(source_id)
                if source is None:
                    continue  # no longer below this scorecard; the loader leaves such sources out too
                found = self.value(source)
                children.append(ChildValue(source.id, source.name, found.value, found.numerator, found.denominator))
            rolled = rollup_values(children, kpi.value_rollup)
            if kpi.value_rollup is not ValueRollupMethod.RATIO:
                return KpiValue(rolled.value, None, None, rolled.trace, periods)
            # Keep the summed parts, so this KPI can itself be rolled up by ratio, and show a percentage as one.
            used = [child for child in children if child.id in rolled.included]
            numerator = sum(child.numerator or 0.0 for child in used) if used else None
            denominator = sum(child.denominator or 0.0 for child in used) if used else None
            value = None if rolled.value is None else rolled.value * kpi.ratio_scale
            trace = rolled.trace
            if value is not None and kpi.ratio_scale != 1:
                trace = replace(trace, result=value, title=f"Rolled up to {format_number(value)} %")
            return KpiValue(value, numerator, denominator, trace, periods)
        if kpi.formula is not None and self.owner[kpi.id].id in self.formula_problems:
            problem = self.formula_problems[self.owner[kpi.id].id]
            trace = Trace("formula", {}, (), None, f"the scorecard's formulas cannot be evaluated: {problem}", "value")
            return KpiValue(None, None, None, trace, periods)
        if kpi.formula is not None:
            siblings = self.kpis_by_key[self.owner[kpi.id].id]
            inputs = {key: self.value(siblings[key]).value for key in kpi.formula.dependencies}
            last_known = (
                self._last_known(siblings, kpi.formula.dependencies, self.periods_read(kpi)[0].start)
                if kpi.missing_policy == "last_known"
                else {}
            )
            evaluation = evaluate(kpi.formula, inputs, missing=kpi.missing_policy, last_known=last_known, kpi=kpi.key)
            return KpiValue(evaluation.value, None, None, evaluation.trace, periods)
        stored = self.values.get(kpi.id, {})
        if self.view.span is Span.PERIOD and kpi.frequency.rank > self.view.period.frequency.rank:
            result: AggregateResult = inherit(self.calendar, stored, self.view.period, source_frequency=kpi.frequency)
            if result.value is None:
                carried = self._carried_forward(kpi, stored, periods[0])
                if carried is not None:
                    return carried
        else:
            single = stored.get(periods[0].key) if len(periods) == 1 else None
            if single is not None and is_present(single.value):
                return KpiValue(
                    single.value,
                    single.numerator,
                    single.denominator,
                    _reported_trace(kpi, single, single.value),
                    periods,
                    sample_size=single.sample_size,
                    margin_of_error=single.margin_of_error,
                    thin_periods=periods if single.small_sample else (),
                )
            readings = [stored.get(period.key) or PeriodValue(period, None) for period in periods]
            scale = kpi.ratio_scale if kpi.aggregation is Aggregation.RATIO else 1.0
            result = aggregate(readings, kpi.aggregation, scale=scale)
            included = [reading for reading in readings if reading.period in result.included_periods]
            sizes = [reading.sample_size for reading in included]
            return KpiValue(
                result.value,
                result.numerator,
                result.denominator,
                result.trace,
                periods,
                sample_size=sum(size for size in sizes if size is not None) if included and None not in sizes else None,
                thin_periods=tuple(reading.period for reading in included if reading.small_sample),
            )
        return KpiValue(result.value, result.numerator, result.denominator, result.trace, periods)

    def _carried_forward(self, kpi: KpiModel, stored: Mapping[str, PeriodValue], unreported: Period) -> KpiValue | None:
        """A KPI reported less often than the view whose current period has no value yet shows its last one.

        Only the period just before is used, so a value is never carried further than one reporting cycle.
        """
        previous = self.calendar.previous(unreported)
        earlier = stored.get(previous.key)
        if earlier is None or not is_present(earlier.value):
            return None
        trace = Trace(
            method="carried_forward",
            inputs={"unreported": unreported.key, "carried_from": previous.key, "value": earlier.value},
            steps=(),
            result=earlier.value,
            reason=f"{unreported.key} has no value yet, so the last reported value, for {previous.key}, is shown",
            result_kind="value",
            title=f"Carried forward {format_number(earlier.value)} from {previous.key}",
        )
        return KpiValue(earlier.value, earlier.numerator, earlier.denominator, trace, (previous,), unreported)

    def _last_known(
        self, siblings: Mapping[str, KpiModel], keys: frozenset[str], first: date
    ) -> dict[str, float | None]:
        """Each stored input's latest value before ``first``, for the "use last known" missing policy."""
        known: dict[str, float | None] = {}
        for key in keys:
            earlier = [
                reading for reading in self.values.get(siblings[key].id, {}).values() if reading.period.end < first
            ]
            with_value = [reading for reading in earlier if is_present(reading.value)]
            known[key] = max(with_value, key=lambda reading: reading.period.start).value if with_value else None
        return known

    # Scores -------------------------------------------------------------------------------------------

    def kpi_result(self, kpi: KpiModel, card: ScorecardModel) -> KpiResult:
        """Value, target, score, status and overdue flag of one KPI."""
        actual = self.value(kpi)
        periods = actual.periods
        settings = [kpi.setting_at(period.start) for period in periods]
        last_setting = settings[-1] if settings else None
        target = self._combined_threshold(kpi, periods, settings, "target")
        red_flag = self._combined_threshold(kpi, periods, settings, "red_flag")
        overdue = self._overdue(kpi, card, periods if actual.awaited is None else (actual.awaited,))
        if last_setting is not None and last_setting.reach_by is not None and periods:
            progress = self._progress_result(kpi, card, actual, last_setting, last_setting.reach_by, overdue)
            if progress is not None:
                return progress
        if last_setting is None:
            return self._unscored(kpi, card, actual, target, red_flag, overdue, "no target is set for this period")
        try:
            method = (
                method_from_config(last_setting.method, last_setting.parameters)
                if last_setting.method
                else default_method(kpi, last_setting, target, red_flag)
            )
        except ScoringConfigError as error:
            return self._unscored(kpi, card, actual, target, red_flag, overdue, str(error))
        scored = method.score(actual.value, kpi_series(target, red_flag, kpi.baseline))
        status = self._status(card.statuses, scored, method)
        return KpiResult(kpi, actual, target, red_flag, method, scored, status, overdue)

    def _progress_result(
        self,
        kpi: KpiModel,
        card: ScorecardModel,
        actual: KpiValue,
        setting: TargetSetting,
        reach_by: Period,
        overdue: bool,
    ) -> KpiResult | None:
        """Judge a target reached over a span by the progress expected at the end of the period read.

        A sum KPI counts everything from the start of the span (sales to date); any other KPI is already a
        level (learners enrolled) and is compared as it stands. ``None`` outside the span, where the KPI is
        scored against the target itself.
        """
        end = actual.periods[-1]
        first = self.calendar.period_containing(setting.starts, kpi.frequency)
        if setting.target is None or reach_by.frequency is not kpi.frequency or not first <= end <= reach_by:
            return None
        try:
            plan = ProgressPlan(
                self.calendar, first, reach_by, kpi.baseline or 0.0, setting.target, setting.progress_curve
            )
        except ScoringConfigError as error:
            return self._unscored(kpi, card, actual, setting.target, None, overdue, str(error))
        expected = plan.expected(end)
        so_far = actual
        if kpi.aggregation is Aggregation.SUM:
            stored = self.values.get(kpi.id, {})
            span = self.calendar.span(first, end)
            summed = aggregate(
                [stored.get(period.key) or PeriodValue(period, None) for period in span], Aggregation.SUM
            )
            so_far = KpiValue(summed.value, None, None, summed.trace, tuple(span))
        judged = plan.health(so_far.value, end)
        score = None if judged.health is None else judged.health * 10
        trace = replace(
            judged.trace,
            steps=(*expected.trace.steps, *judged.trace.steps),
            reason=f"{judged.trace.reason}; {expected.trace.reason}",
            result=score,
            result_kind="score",
            title=None,
        )
        overachievement = None if judged.unclamped is None else judged.unclamped * 10
        scored = ScoreResult(score, overachievement, None, trace)
        return KpiResult(kpi, so_far, expected.value, None, None, scored, card.statuses.status_for(score), overdue)

    def _unscored(
        self,
        kpi: KpiModel,
        card: ScorecardModel,
        actual: KpiValue,
        target: float | None,
        red_flag: float | None,
        overdue: bool,
        problem: str,
    ) -> KpiResult:
        return KpiResult(kpi, actual, target, red_flag, None, None, card.statuses.no_data, overdue, problem)

    def _combined_threshold(
        self, kpi: KpiModel, periods: Sequence[Period], settings: Sequence[TargetSetting | None], name: str
    ) -> float | None:
        """Combine one threshold over the periods read with the KPI's rule (ratios average their targets)."""
        readings = [
            PeriodValue(period, getattr(setting, name) if setting is not None else None)
            for period, setting in zip(periods, settings, strict=True)
        ]
        if kpi.aggregation is Aggregation.SUM and any(reading.value is None for reading in readings):
            return None  # a partial sum would compare a whole quarter's actual with part of its target
        rule = Aggregation.AVERAGE if kpi.aggregation is Aggregation.RATIO else kpi.aggregation
        return aggregate(readings, rule).value

    def _overdue(self, kpi: KpiModel, card: ScorecardModel, periods: Sequence[Period]) -> bool:
        """True when the latest finished period read has no value past its due date and grace period."""
        if kpi.formula is not None or kpi.rollup_sources:
            return False
        finished = [period for period in periods if period.end < self.today]
        if not finished:
            return False
        latest = finished[-1]
        has_value = latest.key in self.values.get(kpi.id, {})
        return is_overdue(
            period_end=latest.end,
            due_days=card.due_days,
            grace_days=card.grace_days,
            today=self.today,
            has_value=has_value,
        )

    @staticmethod
    def _status(scheme: StatusScheme, scored: ScoreResult, method: ScoringMethod) -> Status:
        """:func:`scored_status`, as the batch evaluator also asks it, so both judge statuses alike."""
        return scored_status(scheme, scored, method)

    def _node_status(self, scheme: StatusScheme, method: RollupMethod, rolled: RollupResult) -> Status:
        """A roll-up's status: from its score, or for count-by-status the worst status counted."""
        if method is RollupMethod.COUNT_BY_STATUS:
            for status in reversed(scheme.levels):
                if rolled.status_counts.get(status.key):
                    return status
            return scheme.no_data
        return scheme.status_for(rolled.score)

    def _objective(self, objective: ObjectiveModel, card: ScorecardModel) -> ObjectiveResult:
        day = self.view.period.end
        kpis = tuple(self.kpi_result(kpi, card) for kpi in objective.kpis)
        children = [
            RollupChild(
                f"kpi:{result.kpi.id}",
                result.kpi.name,
                result.score,
                result.kpi.weight_at(day),
                result.status.key,
                result.overdue,
            )
            for result in kpis
        ]
        for aligned_id in objective.aligned_children:
            aligned = self._objectives.get(aligned_id)
            if aligned is not None:
                weight = self.objective_models[aligned_id].weight_at(day)
                children.append(
                    RollupChild(f"objective:{aligned.id}", aligned.name, aligned.score, weight, aligned.status.key)
                )
        own = next((result.score for result in kpis if result.kpi.id == objective.own_kpi), None)
        rolled = rollup_scores(
            children,
            objective.rollup,
            own_score=own,
            overdue_as_no_data=card.overdue_as_no_data,
            statuses=card.statuses,
        )
        result = ObjectiveResult(
            objective.id,
            objective.name,
            rolled.score,
            self._node_status(card.statuses, objective.rollup, rolled),
            rolled,
            kpis,
        )
        self._objectives[objective.id] = result
        return result

    def _perspective(self, perspective: PerspectiveModel, card: ScorecardModel) -> PerspectiveResult:
        day = self.view.period.end
        objectives = tuple(self._objective(objective, card) for objective in perspective.objectives)
        children = [
            RollupChild(f"objective:{result.id}", result.name, result.score, model.weight_at(day), result.status.key)
            for result, model in zip(objectives, perspective.objectives, strict=True)
        ]
        rolled = rollup_scores(
            children, perspective.rollup, overdue_as_no_data=card.overdue_as_no_data, statuses=card.statuses
        )
        status = self._node_status(card.statuses, perspective.rollup, rolled)
        return PerspectiveResult(perspective.id, perspective.name, rolled.score, status, rolled, objectives)

    def _scorecard(self, card: ScorecardModel) -> ScorecardResult:
        children = tuple(self._scorecard(child) for child in card.children)
        day = self.view.period.end
        perspectives = tuple(self._perspective(perspective, card) for perspective in card.perspectives)
        rollup_children = [
            RollupChild(f"perspective:{result.id}", result.name, result.score, model.weight_at(day), result.status.key)
            for result, model in zip(perspectives, card.perspectives, strict=True)
        ]
        rolled = rollup_scores(rollup_children, card.rollup, statuses=card.statuses)
        status = self._node_status(card.statuses, card.rollup, rolled)
        return ScorecardResult(card.id, card.name, rolled.score, status, rolled, self.view, perspectives, children)


def _reported_trace(kpi: KpiModel, reading: PeriodValue, value: float) -> Trace:
    """The trace of a value read as entered for exactly the period viewed."""
    steps: tuple[str, ...] = ()
    inputs: dict[str, TraceValue] = {"period": reading.period.key, "value": value}
    if reading.numerator is not None and reading.denominator is not None:
        inputs |= {"numerator": reading.numerator, "denominator": reading.denominator}
        scale = f" {TIMES} {format_number(kpi.ratio_scale)}" if kpi.ratio_scale != 1 else ""
        steps = (
            f"{format_number(reading.numerator)} / {format_number(reading.denominator)}{scale} = "
            f"{format_number(value)}",
        )
    return Trace(
        method="reported",
        inputs=inputs,
        steps=steps,
        result=value,
        reason=f"that is the value reported for {reading.period.key}",
        result_kind="value",
        title=f"Value {format_number(value)}",
    )


def scored_status(scheme: StatusScheme, scored: ScoreResult, method: ScoringMethod) -> Status:
    """The scheme's status for a score, unless the method names one itself: what a KPI's status is.

    Rules always name their status. Breakpoints carry a status each; it is used when the scheme knows
    it (so a range KPI's explanation and status agree), else the score decides. Public so that a page can
    ask what status another value would get (the KPI chart's status bands).
    """
    if isinstance(method, Rules) and scored.status_hint is not None:
        return _status_named(scheme, scored.status_hint)
    if isinstance(method, Breakpoints) and scored.status_hint is not None:
        named = _status_named(scheme, scored.status_hint)
        if named in (*scheme.levels, scheme.no_data):
            return named
    return scheme.status_for(scored.score)


def _status_named(scheme: StatusScheme, name: str) -> Status:
    """The scheme's status whose key or name matches a rule's status; otherwise a neutral ad-hoc one."""
    for status in (*scheme.levels, scheme.no_data):
        if name.strip().lower() in {status.key.lower(), status.name.lower()}:
            return status
    return Status(name.strip().lower().replace(" ", "_"), name, "#57606a")


def evaluate_scorecard(root: ScorecardModel, values: ValueStore, view: View, *, today: date) -> ScorecardResult:
    """Evaluate ``root`` and its cascaded children for ``view``: the one call pages and commands make."""
    return Evaluator(root, values, view, today=today).run()
