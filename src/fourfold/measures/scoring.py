"""Scores for the pages: the database read into the engine's model, evaluated, and cached until data change.

One selector, :func:`scorecard_evaluation`, gives every KPI, objective, perspective and scorecard score,
status and explanation of a scorecard tree for one view (:func:`scorecard_evaluations` for several views
at once, such as a period and the one it is compared with). It reads the tree in a fixed number of queries
whatever its size, and caches the result under a key that includes the newest audit entry of the tree
and its organisation: every write to anything a score depends on is audited, so a value, target,
threshold, weight or structure change makes a new key, and a stale score cannot be served.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from threading import Lock

from django.db.models import FloatField, Q
from django.db.models.functions import Cast

from fourfold.engine.aggregation import Aggregation, PeriodValue
from fourfold.engine.evaluate import Evaluator, KpiResult, ScorecardResult, kpi_series, scored_status
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
from fourfold.engine.status import Status, StatusScheme
from fourfold.measures.models import Actual, Kpi, KpiTarget, WeightChange
from fourfold.strategy.models import Objective, Perspective, Scorecard
from fourfold.strategy.selectors import tree_of

HISTORY_YEARS_READ = 2
"""Values older than this before the view are not read: the longest view (a rolling year) needs one year."""

CACHE_SIZE = 64

TREND_PERIODS = 12
"""How many of a KPI's own periods its trend on the scorecard page shows, at most (those read: see
:data:`HISTORY_YEARS_READ`)."""


@dataclass(frozen=True)
class LoadedTree:
    """A scorecard tree in the engine's terms, with its values, and the rows it was read from for display."""

    model: ScorecardModel
    values: dict[str, dict[str, PeriodValue]]
    kpis: dict[str, Kpi]
    objectives: dict[str, Objective]
    last_updates: dict[str, Actual]
    """Each KPI's latest value up to the view's end: what "last updated" shows next to it."""
    since: date
    until: date
    """The days whose values were read: from ``since`` to ``until``, both included."""
    entries: dict[str, list[Entry]]
    """When each value read was entered, by KPI, so that a narrower window can be cut out without a query."""

    def within(self, since: date, until: date) -> LoadedTree:
        """The same tree with only the values of periods starting from ``since`` to ``until``: what
        :func:`load_tree` would have read for that window, so that one read serves several views."""
        if (since, until) == (self.since, self.until):
            return self
        entries = {
            kpi_id: [entry for entry in rows if since <= entry.period_start <= until]
            for kpi_id, rows in self.entries.items()
        }
        values = {
            kpi_id: {key: value for key, value in by_key.items() if since <= value.period.start <= until}
            for kpi_id, by_key in self.values.items()
        }
        return replace(
            self, values=values, last_updates=latest_actuals(entries), since=since, until=until, entries=entries
        )


@dataclass(frozen=True)
class Entry:
    """When one stored value was entered, for what period: what "last updated" is made of."""

    period_start: date
    period_key: str
    entered_at: datetime


@dataclass(frozen=True)
class KpiTrend:
    """A KPI's values and per-period targets over its last periods, oldest first, for a sparkline."""

    periods: tuple[Period, ...]
    values: tuple[float | None, ...]
    targets: tuple[float | None, ...]


@dataclass(frozen=True)
class ScorecardEvaluation:
    """The evaluated tree with the rows needed to show it, cached together so a page needs no more queries."""

    result: ScorecardResult
    kpis: dict[str, Kpi]
    objectives: dict[str, Objective]
    last_updates: dict[str, Actual]
    statuses: StatusScheme
    """The organisation's status scheme, for choosing statuses (a filter) without reading it again."""
    trends: dict[str, KpiTrend]
    """The trend of each KPI of the scorecard itself (not of its cascaded children), by KPI id."""
    drawn: dict[tuple[str, str], object] = field(default_factory=dict, compare=False, repr=False)
    """What a page draws from the evaluation, kept with it in the cache: (what, language) → drawing."""


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


def history_start(until: date) -> date:
    """The first day whose values a view ending on ``until`` reads (see :data:`HISTORY_YEARS_READ`)."""
    return until - timedelta(days=366 * HISTORY_YEARS_READ + 7)


def latest_actuals(entries: dict[str, list[Entry]]) -> dict[str, Actual]:
    """Each KPI's value of the latest period among ``entries``, with its period and time of entry: what
    "last updated" shows."""
    latest = {kpi_id: max(rows, key=lambda entry: entry.period_start) for kpi_id, rows in entries.items() if rows}
    return {
        kpi_id: Actual(
            kpi_id=int(kpi_id),
            period_key=entry.period_key,
            period_start=entry.period_start,
            entered_at=entry.entered_at,
        )
        for kpi_id, entry in latest.items()
    }


HIDDEN_SCORECARD = "a scorecard you cannot open"
HIDDEN_OBJECTIVE = "an objective of a scorecard you cannot open"
HIDDEN_KPI = "a KPI of a scorecard you cannot open"
"""What explanations call the scorecards, objectives and KPIs of a tree that the reader may not see: a
company scorecard's score counts the objectives of its teams' scorecards aligned to it, and its "why?" must
not tell a viewer of the company scorecard what a team's own objectives are called."""


def load_tree(
    root: Scorecard,
    *,
    until: date,
    since: date | None = None,
    cards: list[Scorecard] | None = None,
    visible_ids: AbstractSet[int] | None = None,
) -> LoadedTree:
    """Read ``root`` and its descendants into the engine's model, in a fixed number of queries.

    Values from ``since`` (default: :func:`history_start`, two years before ``until``, enough for a
    rolling year) to ``until`` are read. ``cards`` is the tree from :func:`tree_of` when the caller has it
    already. Cascaded roll-up sources outside the tree (a child moved elsewhere) are left out, so the tree
    stays self-contained. With ``visible_ids`` (the scorecards the reader may see), the scorecards, objectives
    and KPIs of the others are named :data:`HIDDEN_SCORECARD`, :data:`HIDDEN_OBJECTIVE` and :data:`HIDDEN_KPI`
    in the model, so no explanation made from it can give their names away; they still count in the scores.
    """
    organisation = root.organisation
    cards = tree_of(root) if cards is None else cards
    card_ids = [card.pk for card in cards]
    hidden = set() if visible_ids is None else {pk for pk in card_ids if pk not in visible_ids}
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
    earliest = since if since is not None else history_start(until)
    values: dict[str, dict[str, PeriodValue]] = defaultdict(dict)
    entries: dict[str, list[Entry]] = defaultdict(list)
    calendar = organisation.calendar
    # Tuples rather than model instances, and numbers as the floats the engine computes with: a tree's
    # thousands of values are read three times as fast.
    as_floats = {f"{name}_float": Cast(name, FloatField()) for name in FLOAT_FIELDS}
    fields_read = [f"{name}_float" if name in FLOAT_FIELDS else name for name in PERIOD_VALUE_FIELDS]
    for kpi_pk, *fields, entered_at in (
        Actual.objects.filter(kpi__scorecard_id__in=card_ids, period_start__gte=earliest, period_start__lte=until)
        .annotate(**as_floats)
        .values_list(*fields_read, "entered_at")
    ):
        kpi_id = str(kpi_pk)
        value = values[kpi_id][fields[0]] = stored_value(calendar, *fields)
        entries[kpi_id].append(Entry(value.period.start, fields[0], entered_at))

    kpis_by_objective: dict[int, list[KpiModel]] = defaultdict(list)
    for kpi in kpis:
        model = kpi_model(kpi, settings[kpi.pk], sources[kpi.pk], calendar, weight_changes(changes["kpi", kpi.pk]))
        kpis_by_objective[kpi.objective_id].append(
            replace(model, name=HIDDEN_KPI) if kpi.scorecard_id in hidden else model
        )
    card_of_perspective = {perspective.pk: perspective.scorecard_id for perspective in perspectives}
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
                name=HIDDEN_OBJECTIVE if card_of_perspective[objective.perspective_id] in hidden else objective.name,
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
            name=HIDDEN_SCORECARD if card.pk in hidden else card.name,
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
        latest_actuals(entries),
        earliest,
        until,
        dict(entries),
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

FLOAT_FIELDS = ("value", "numerator", "denominator", "margin_of_error")
"""Those of them that are decimals in the database and floats in the engine."""


@lru_cache(maxsize=4096)
def stored_period(calendar: FiscalCalendar, key: str) -> Period:
    """The period of a stored key, remembered: the thousands of values of a tree share a few dozen periods,
    and reading a key again is most of the time of reading a value."""
    return calendar.parse(key)


def period_value(actual: Actual, calendar: FiscalCalendar) -> PeriodValue:
    """A stored value in the engine's terms, with the evidence behind it (sample size, margin of error)."""
    return stored_value(calendar, *(getattr(actual, field) for field in PERIOD_VALUE_FIELDS[1:]))


def stored_value(
    calendar: FiscalCalendar,
    period_key: str,
    value: Decimal | float | None,
    numerator: Decimal | float | None,
    denominator: Decimal | float | None,
    sample_size: int | None,
    margin_of_error: Decimal | float | None,
    small_sample: bool,
) -> PeriodValue:
    """:func:`period_value` from the fields of :data:`PERIOD_VALUE_FIELDS` after ``kpi_id``, as read."""
    return PeriodValue(
        stored_period(calendar, period_key),
        _float(value),
        _float(numerator),
        _float(denominator),
        sample_size=sample_size,
        margin_of_error=_float(margin_of_error),
        small_sample=small_sample,
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
    scorecard: Scorecard,
    view: View,
    *,
    today: date,
    cards: list[Scorecard] | None = None,
    visible_ids: AbstractSet[int] | None = None,
) -> ScorecardEvaluation:
    """Scores, statuses and explanations of ``scorecard`` and its cascaded children for ``view``.

    Served from the cache when nothing in the tree or its organisation changed since it was computed.
    ``cards`` is the tree from :func:`tree_of` when the caller has it already. Pages pass ``visible_ids``,
    the scorecards the reader may see, so that explanations do not name what is on the others
    (:func:`load_tree`); ``None`` names everything.
    """
    return scorecard_evaluations(scorecard, [view], today=today, cards=cards, visible_ids=visible_ids)[0]


def scorecard_evaluations(
    scorecard: Scorecard,
    views: Sequence[View],
    *,
    today: date,
    cards: list[Scorecard] | None = None,
    visible_ids: AbstractSet[int] | None = None,
) -> list[ScorecardEvaluation]:
    """:func:`scorecard_evaluation` for each of ``views``, in the same number of queries as for one.

    The views not in the cache are evaluated from one read of the tree covering all their windows; each is
    given exactly the values a read for it alone would give, so its cached evaluation is the same whichever
    page computed it.
    """
    cards = tree_of(scorecard) if cards is None else cards
    card_ids = tuple(card.pk for card in cards)
    # The tree's members are part of the key: removing a child leaves no newer audit entry in the others.
    version = tree_version(cards)
    # So are the scorecards of the tree the reader may not see, which the evaluation does not name: readers
    # who see the same part of the tree share one evaluation.
    hidden = None if visible_ids is None else tuple(pk for pk in card_ids if pk not in visible_ids)
    keys = [(scorecard.pk, view.period.key, view.span.value, today, card_ids, version, hidden) for view in views]
    found = {key: hit for key in keys if (hit := _cache.get(key)) is not None}
    missing = [(key, view) for key, view in zip(keys, views, strict=True) if key not in found]
    if missing:
        since = min(history_start(view.period.end) for _key, view in missing)
        tree = load_tree(
            scorecard,
            until=max(view.period.end for _key, view in missing),
            since=since,
            cards=cards,
            visible_ids=visible_ids,
        )
        for key, view in missing:
            found[key] = _evaluate(tree.within(history_start(view.period.end), view.period.end), view, today)
            _cache.put(key, found[key])
    return [found[key] for key in keys]


def _evaluate(tree: LoadedTree, view: View, today: date) -> ScorecardEvaluation:
    evaluator = Evaluator(tree.model, tree.values, view, today=today)
    result = evaluator.run()
    return ScorecardEvaluation(
        result,
        tree.kpis,
        tree.objectives,
        tree.last_updates,
        tree.model.statuses,
        kpi_trends(tree, evaluator, today=today),
    )


def kpi_trends(tree: LoadedTree, evaluator: Evaluator, *, today: date) -> dict[str, KpiTrend]:
    """The trend of each KPI of the tree's root: up to :data:`TREND_PERIODS` of its own periods ending with
    the last one the view reads, within the values read.

    Stored values are taken as entered; formula and roll-up KPIs, which have none, are evaluated for each
    period, and only they, so that the trends cost little next to the evaluation itself.
    """
    calendar = tree.model.calendar
    evaluators: dict[str, Evaluator] = {}
    windows: dict[Frequency, tuple[Period, ...]] = {}  # the periods read depend on the KPI's frequency alone
    trends = {}
    for perspective in tree.model.perspectives:
        for objective in perspective.objectives:
            for kpi in objective.kpis:
                if kpi.frequency not in windows:
                    last = evaluator.periods_read(kpi)[-1]
                    windows[kpi.frequency] = tuple(
                        period for period in calendar.trailing(last, TREND_PERIODS) if period.start >= tree.since
                    )
                periods = windows[kpi.frequency]
                if kpi.formula is not None or kpi.rollup_sources:
                    values = []
                    for period in periods:
                        if period.key not in evaluators:
                            evaluators[period.key] = Evaluator(tree.model, tree.values, View(period), today=today)
                        values.append(evaluators[period.key].value(kpi).value)
                else:
                    stored = tree.values.get(kpi.id, {})
                    values = [stored[period.key].value if period.key in stored else None for period in periods]
                targets = []
                for period in periods:
                    setting = kpi.setting_at(period.start)
                    targets.append(None if setting is None else setting.target)
                trends[kpi.id] = KpiTrend(periods, tuple(values), tuple(targets))
    return trends


def kpi_history(
    kpi: Kpi, periods: list[Period], *, today: date, visible_ids: AbstractSet[int] | None = None
) -> dict[str, KpiResult]:
    """One KPI's result for each of ``periods`` (its own frequency), for the KPI page's table and chart;
    ``visible_ids`` as for :func:`load_tree` (a KPI rolled up from its teams' names their KPIs)."""
    if not periods:
        return {}
    return _history(_history_tree(kpi, periods, visible_ids=visible_ids), kpi, periods, today=today)


def _history_tree(kpi: Kpi, periods: Sequence[Period], *, visible_ids: AbstractSet[int] | None = None) -> LoadedTree:
    """The KPI's scorecard with the values its ``periods`` (oldest first) are scored from."""
    return load_tree(
        kpi.scorecard,
        until=periods[-1].end,
        since=periods[0].start - timedelta(days=366 + 7),
        visible_ids=visible_ids,
    )


def _history(
    tree: LoadedTree, kpi: Kpi, periods: Sequence[Period], *, today: date, model: ScorecardModel | None = None
) -> dict[str, KpiResult]:
    """:func:`kpi_history` from a tree already read, scored with ``model`` in place of the tree's own."""
    results = {}
    for period in periods:
        evaluator = Evaluator(model or tree.model, tree.values, View(period), today=today)
        engine_kpi = evaluator.kpis[str(kpi.pk)]
        results[period.key] = evaluator.kpi_result(engine_kpi, evaluator.owner[engine_kpi.id])
    return results


@dataclass(frozen=True)
class Rescored:
    """One past period of a KPI scored with its stored target settings and with a proposed change."""

    period: Period
    before: KpiResult
    after: KpiResult

    @property
    def status_changes(self) -> bool:
        return self.before.status.key != self.after.status.key


def kpi_rescoring(kpi: Kpi, proposed: KpiTarget, periods: Sequence[Period], *, today: date) -> list[Rescored]:
    """How a target setting not saved yet (``proposed``, checked by the service) would rescore ``periods``.

    Only the periods from the setting's first one on can change, since a setting holds from its period
    until a later one; those are scored twice, by the same engine, from one read of the scorecard: once as
    stored and once with ``proposed`` in place of the setting of its period (or added). Nothing is written.
    """
    affected = sorted(period for period in periods if period.start >= proposed.period_start)
    if not affected:
        return []
    stored = [setting for setting in kpi.targets.order_by("period_start") if setting.period_key != proposed.period_key]
    settings = sorted([*stored, proposed], key=lambda setting: setting.period_start)
    tree = _history_tree(kpi, affected)
    targets = kpi_model(kpi, settings, [], tree.model.calendar).targets
    before = _history(tree, kpi, affected, today=today)
    after = _history(tree, kpi, affected, today=today, model=_with_targets(tree.model, str(kpi.pk), targets))
    return [Rescored(period, before[period.key], after[period.key]) for period in affected]


def _with_targets(card: ScorecardModel, kpi_id: str, targets: tuple[TargetSetting, ...]) -> ScorecardModel:
    """The scorecard model with one of its own KPIs given other target settings (models are frozen)."""
    return replace(
        card,
        perspectives=tuple(
            replace(
                perspective,
                objectives=tuple(
                    replace(
                        objective,
                        kpis=tuple(
                            replace(kpi, targets=targets) if kpi.id == kpi_id else kpi for kpi in objective.kpis
                        ),
                    )
                    for objective in perspective.objectives
                ),
            )
            for perspective in card.perspectives
        ),
    )


@dataclass(frozen=True)
class StatusBand:
    """The values between ``low`` and ``high`` (``None``: without end) that would get ``status``."""

    low: float | None
    high: float | None
    status: Status


BAND_SAMPLES = 40
"""Values tried across a chart's range to find where the status changes; each change is then narrowed down."""


def status_bands(result: KpiResult, scheme: StatusScheme, low: float, high: float) -> tuple[StatusBand, ...]:
    """Which status each value from ``low`` to ``high`` would have got in ``result``'s period, as bands.

    Asks the period's own scoring method and the status scheme, so the bands agree with the scores
    whatever the method (goal and red flag, a range, breakpoints, rules): values are tried across the
    range and at the thresholds, and every change of status is narrowed down by bisection. The lowest and highest bands have no
    end. Nothing for a period that was not scored by a method (no target, a target over a span).
    """
    method = result.method
    if method is None or result.kpi.unit is UnitKind.YES_NO or high <= low:
        return ()
    series = kpi_series(result.target, result.red_flag, result.kpi.baseline)

    def status_at(value: float) -> Status:
        return scored_status(scheme, method.score(value, series), method)

    step = (high - low) / BAND_SAMPLES
    # The thresholds are tried too, so that a band narrower than a step (a tight good range) is not missed.
    setting = result.kpi.setting_at(result.actual.periods[-1].start) if result.actual.periods else None
    thresholds = [result.target, result.red_flag, *((setting.range_low, setting.range_high) if setting else ())]
    anchors = {number for number in thresholds if number is not None and low < number < high}
    values = sorted({low + index * step for index in range(BAND_SAMPLES + 1)} | anchors)
    statuses = [status_at(value) for value in values]
    bands: list[StatusBand] = []
    start: float | None = None
    for index in range(1, len(values)):
        if statuses[index].key == statuses[index - 1].key:
            continue
        below, above = values[index - 1], values[index]
        for _step in range(24):  # a 2²⁴th of a step: far finer than a chart or a KPI's decimals show
            middle = (below + above) / 2
            below, above = (middle, above) if status_at(middle).key == statuses[index - 1].key else (below, middle)
        edge = round(above, 9)
        bands.append(StatusBand(start, edge, statuses[index - 1]))
        start = edge
    bands.append(StatusBand(start, None, statuses[-1]))
    return tuple(band for band in bands if band.status.key != scheme.no_data.key)
