"""Scores for the pages: the database read into the engine's model, evaluated, and cached until data change.

One selector, :func:`scorecard_evaluation`, gives every KPI, objective, perspective and scorecard score,
status and explanation of a scorecard tree for one view. It reads the tree in a fixed number of queries
whatever its size, and caches the result under a key that includes the newest audit entry of the tree
and its organisation: every write to anything a score depends on is audited, so a value, target,
threshold, weight or structure change makes a new key, and a stale score cannot be served.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from threading import Lock

from django.db.models import Q

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.evaluate import Evaluator, KpiResult, ScorecardResult
from fourfold.engine.formulas import MissingPolicy, UnitKind, parse_formula
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
from fourfold.engine.model import WeightChange as EngineWeightChange
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.rollup import RollupMethod, ValueRollupMethod
from fourfold.measures.models import Actual, Kpi, KpiTarget, WeightChange
from fourfold.strategy.models import Objective, Perspective, Scorecard
from fourfold.strategy.selectors import tree_of

HISTORY_YEARS_READ = 2
"""Values older than this before the view are not read: the longest view (a rolling year) needs one year."""

CACHE_SIZE = 64


@dataclass(frozen=True)
class LoadedTree:
    """A scorecard tree in the engine's terms, with its values, and the rows it was read from for display."""

    model: ScorecardModel
    values: dict[str, dict[str, PeriodValue]]
    kpis: dict[str, Kpi]
    objectives: dict[str, Objective]
    last_updates: dict[str, Actual]
    """Each KPI's latest value up to the view's end: what "last updated" shows next to it."""


@dataclass(frozen=True)
class ScorecardEvaluation:
    """The evaluated tree with the rows needed to show it, cached together so a page needs no more queries."""

    result: ScorecardResult
    kpis: dict[str, Kpi]
    objectives: dict[str, Objective]
    last_updates: dict[str, Actual]


def default_period(scorecard: Scorecard, today: date) -> Period:
    """The period a scorecard opens on: the last one of its reporting rhythm that has ended."""
    calendar = scorecard.organisation.calendar
    current = calendar.period_containing(today, Frequency(scorecard.reporting_frequency))
    return calendar.previous(current)


def parse_view(scorecard: Scorecard, period_key: str | None, span: str | None, today: date) -> View:
    """Read a view from user input (``?period=2026-Q1&span=ytd``); without a period, the default one.

    Raises :class:`ValueError` with a readable message for an unknown span or a malformed period key
    (:class:`~fourfold.engine.periods.PeriodKeyError`), so the page can show what was wrong.
    """
    chosen_span = Span(span) if span else Span.PERIOD
    if not period_key:
        return View(default_period(scorecard, today), chosen_span)
    return View(scorecard.organisation.calendar.parse(period_key), chosen_span)


def tree_version(cards: list[Scorecard]) -> tuple[int, str]:
    """The newest audit entry touching the tree or its organisation's settings: changes whenever data do.

    Read from the annotations of :func:`~fourfold.strategy.selectors.tree_of`. Its time is part of the
    version too: after a rolled-back transaction a database may hand out the same id again, for another change.
    """
    # Attribute errors here mean the cards did not come from tree_of: better to fail than to serve stale scores.
    marks = [(card.newest_change_id, card.newest_change_at) for card in cards]  # type: ignore[attr-defined]
    if cards:
        marks.append((cards[0].organisation_change_id, cards[0].organisation_change_at))  # type: ignore[attr-defined]
    newest_id, newest_at = max(((change_id or 0, str(at)) for change_id, at in marks), default=(0, "None"))
    return newest_id, newest_at


def load_tree(
    root: Scorecard, *, until: date, since: date | None = None, cards: list[Scorecard] | None = None
) -> LoadedTree:
    """Read ``root`` and its descendants into the engine's model, in a fixed number of queries.

    Values from ``since`` (default: two years before ``until``, enough for a rolling year) to ``until`` are
    read. ``cards`` is the tree from :func:`tree_of` when the caller has it already. Cascaded roll-up
    sources outside the tree (a child moved elsewhere) are left out, so the tree stays self-contained.
    """
    organisation = root.organisation
    cards = tree_of(root) if cards is None else cards
    card_ids = [card.pk for card in cards]
    statuses = organisation.status_scheme()
    perspectives = list(Perspective.objects.filter(scorecard_id__in=card_ids).order_by("position", "id"))
    objectives = list(
        Objective.objects.filter(perspective__scorecard_id__in=card_ids)
        .select_related("owner", "parent")
        .order_by("position", "id")
    )
    kpis = list(Kpi.objects.filter(scorecard_id__in=card_ids).select_related("owner").order_by("position", "id"))
    sources: dict[int, list[int]] = defaultdict(list)
    kpi_ids = [kpi.pk for kpi in kpis]
    for link in Kpi.rollup_sources.through.objects.filter(from_kpi_id__in=kpi_ids, to_kpi_id__in=kpi_ids):
        sources[link.from_kpi_id].append(link.to_kpi_id)
    changes: dict[tuple[str, int], list[WeightChange]] = defaultdict(list)
    for change in WeightChange.objects.filter(
        Q(kpi__scorecard_id__in=card_ids)
        | Q(objective__perspective__scorecard_id__in=card_ids)
        | Q(perspective__scorecard_id__in=card_ids)
    ).order_by("starts"):
        if change.kpi_id is not None:
            changes["kpi", change.kpi_id].append(change)
        elif change.objective_id is not None:
            changes["objective", change.objective_id].append(change)
        elif change.perspective_id is not None:
            changes["perspective", change.perspective_id].append(change)
    settings: dict[int, list[KpiTarget]] = defaultdict(list)
    for setting in KpiTarget.objects.filter(kpi__scorecard_id__in=card_ids).order_by("period_start"):
        settings[setting.kpi_id].append(setting)
    earliest = since if since is not None else until - timedelta(days=366 * HISTORY_YEARS_READ + 7)
    values: dict[str, dict[str, PeriodValue]] = defaultdict(dict)
    last_updates: dict[str, Actual] = {}
    calendar = organisation.calendar
    for actual in Actual.objects.filter(
        kpi__scorecard_id__in=card_ids, period_start__gte=earliest, period_start__lte=until
    ).only(*PERIOD_VALUE_FIELDS, "period_start", "entered_at"):
        kpi_id = str(actual.kpi_id)
        if kpi_id not in last_updates or actual.period_start > last_updates[kpi_id].period_start:
            last_updates[kpi_id] = actual
        values[kpi_id][actual.period_key] = period_value(actual, calendar)

    kpis_by_objective: dict[int, list[KpiModel]] = defaultdict(list)
    for kpi in kpis:
        kpis_by_objective[kpi.objective_id].append(
            kpi_model(kpi, settings[kpi.pk], sources[kpi.pk], calendar, weight_changes(changes["kpi", kpi.pk]))
        )
    aligned: dict[int, list[str]] = defaultdict(list)
    for objective in objectives:
        if objective.parent_id is not None:
            aligned[objective.parent_id].append(str(objective.pk))
    objectives_by_perspective: dict[int, list[ObjectiveModel]] = defaultdict(list)
    for objective in objectives:
        own = kpis_by_objective[objective.pk]
        objectives_by_perspective[objective.perspective_id].append(
            ObjectiveModel(
                id=str(objective.pk),
                code=objective.code,
                name=objective.name,
                weight=float(objective.weight),
                weight_changes=weight_changes(changes["objective", objective.pk]),
                kpis=tuple(own),
                aligned_children=tuple(aligned[objective.pk]),
                rollup=RollupMethod(objective.rollup_method),
                own_kpi=own[0].id if own else None,
            )
        )
    perspectives_by_card: dict[int, list[PerspectiveModel]] = defaultdict(list)
    for perspective in perspectives:
        perspectives_by_card[perspective.scorecard_id].append(
            PerspectiveModel(
                id=str(perspective.pk),
                name=perspective.name,
                weight=float(perspective.weight),
                weight_changes=weight_changes(changes["perspective", perspective.pk]),
                objectives=tuple(objectives_by_perspective[perspective.pk]),
                rollup=RollupMethod(perspective.rollup_method),
            )
        )
    built: dict[int, ScorecardModel] = {}
    for card in reversed(cards):  # children first, so each parent can hold its built children
        built[card.pk] = ScorecardModel(
            id=str(card.pk),
            name=card.name,
            perspectives=tuple(perspectives_by_card[card.pk]),
            children=tuple(built[child.pk] for child in cards if child.parent_id == card.pk),
            calendar=calendar,
            statuses=statuses,
            rollup=RollupMethod(card.rollup_method),
            due_days=card.due_days_after_period_end,
            grace_days=card.grace_days,
            overdue_as_no_data=card.overdue_as_no_data,
        )
    return LoadedTree(
        built[root.pk],
        dict(values),
        {str(kpi.pk): kpi for kpi in kpis},
        {str(objective.pk): objective for objective in objectives},
        last_updates,
    )


def weight_changes(changes: list[WeightChange]) -> tuple[EngineWeightChange, ...]:
    """Stored weight changes in the engine's terms, oldest first."""
    return tuple(EngineWeightChange(change.starts, float(change.weight)) for change in changes)


def kpi_model(
    kpi: Kpi,
    settings: list[KpiTarget],
    sources: list[int],
    calendar: FiscalCalendar,
    changes: tuple[EngineWeightChange, ...] = (),
) -> KpiModel:
    """One KPI in the engine's terms; formulas were validated when saved, so they parse here."""
    baseline = _float(kpi.baseline)
    return KpiModel(
        id=str(kpi.pk),
        key=kpi.key,
        name=kpi.name,
        unit=UnitKind(kpi.unit),
        direction=Direction(kpi.direction),
        frequency=Frequency(kpi.frequency),
        aggregation=Aggregation(kpi.aggregation),
        weight=float(kpi.weight),
        weight_changes=changes,
        baseline=baseline,
        targets=tuple(
            TargetSetting(
                starts=setting.period_start,
                target=_float(setting.target),
                red_flag=_float(setting.red_flag),
                range_low=_float(setting.range_low),
                range_high=_float(setting.range_high),
                method=setting.scoring_method or None,
                parameters=setting.scoring_parameters or {},
                reach_by=calendar.parse(setting.reach_by) if setting.reach_by else None,
                progress_curve=tuple(setting.progress_curve) if setting.progress_curve else None,
            )
            for setting in settings
        ),
        formula=parse_formula(kpi.formula) if kpi.source_kind == Kpi.SourceKind.FORMULA and kpi.formula else None,
        missing_policy=_missing_policy(kpi.missing_policy),
        rollup_sources=tuple(str(source) for source in sources),
        value_rollup=ValueRollupMethod(kpi.value_rollup),
        decimals=kpi.decimals,
    )


def _missing_policy(value: str) -> MissingPolicy:
    if value == "zero":
        return "zero"
    if value == "last_known":
        return "last_known"
    return "no_data"


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


PERIOD_VALUE_FIELDS = (
    "kpi_id",
    "period_key",
    "value",
    "numerator",
    "denominator",
    "sample_size",
    "margin_of_error",
    "small_sample",
)
"""The fields of a stored value that the engine reads (see :func:`period_value`)."""


def period_value(actual: Actual, calendar: FiscalCalendar) -> PeriodValue:
    """A stored value in the engine's terms, with the evidence behind it (sample size, margin of error)."""
    return PeriodValue(
        calendar.parse(actual.period_key),
        _float(actual.value),
        _float(actual.numerator),
        _float(actual.denominator),
        sample_size=actual.sample_size,
        margin_of_error=_float(actual.margin_of_error),
        small_sample=actual.small_sample,
    )


class _ResultCache:
    """A small per-process LRU of evaluations; the key carries the data version, so entries never go stale."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[object, ...], ScorecardEvaluation] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[object, ...]) -> ScorecardEvaluation | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], evaluation: ScorecardEvaluation) -> None:
        with self.lock:
            self.entries[key] = evaluation
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_cache = _ResultCache(CACHE_SIZE)


def forget_cached_evaluations() -> None:
    """Empty the cache (tests, and operators after restoring a backup into a running server)."""
    with _cache.lock:
        _cache.entries.clear()


def scorecard_evaluation(
    scorecard: Scorecard, view: View, *, today: date, cards: list[Scorecard] | None = None
) -> ScorecardEvaluation:
    """Scores, statuses and explanations of ``scorecard`` and its cascaded children for ``view``.

    Served from the cache when nothing in the tree or its organisation changed since it was computed.
    ``cards`` is the tree from :func:`tree_of` when the caller has it already.
    """
    cards = tree_of(scorecard) if cards is None else cards
    card_ids = [card.pk for card in cards]
    # The tree's members are part of the key: removing a child leaves no newer audit entry in the others.
    version = tree_version(cards)
    key = (scorecard.pk, view.period.key, view.span.value, today, tuple(card_ids), version)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    tree = load_tree(scorecard, until=view.period.end, cards=cards)
    result = Evaluator(tree.model, tree.values, view, today=today).run()
    evaluation = ScorecardEvaluation(result, tree.kpis, tree.objectives, tree.last_updates)
    _cache.put(key, evaluation)
    return evaluation


def kpi_history(kpi: Kpi, periods: list[Period], *, today: date) -> dict[str, KpiResult]:
    """One KPI's result for each of ``periods`` (its own frequency), for the KPI page's table."""
    if not periods:
        return {}
    tree = load_tree(kpi.scorecard, until=periods[-1].end, since=periods[0].start - timedelta(days=366 + 7))
    results = {}
    for period in periods:
        evaluator = Evaluator(tree.model, tree.values, View(period), today=today)
        model = evaluator.kpis[str(kpi.pk)]
        results[period.key] = evaluator.kpi_result(model, evaluator.owner[model.id])
    return results
