"""Reads of KPI data, each in a fixed number of queries whatever the number of KPIs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, prefetch_related_objects

from fourfold.accounts.models import Role, User
from fourfold.engine.aggregation import PeriodValue
from fourfold.engine.evaluate import Evaluator, KpiResult
from fourfold.engine.model import ObjectiveModel, PerspectiveModel, ScorecardModel, View
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.engine.status import StatusScheme, is_overdue
from fourfold.measures.models import Actual, ActualRevision, Kpi, KpiTarget
from fourfold.measures.scoring import HISTORY_YEARS_READ, PERIOD_VALUE_FIELDS, kpi_model, period_value
from fourfold.strategy.models import Scorecard

if TYPE_CHECKING:
    from fourfold.computed.models import ComputedKpi


def target_in_effect(settings_oldest_first: Sequence[KpiTarget], period_start: date) -> KpiTarget | None:
    """The setting that holds for a period: the latest one that starts on or before it.

    >>> from datetime import date
    >>> first, later = KpiTarget(period_start=date(2026, 1, 1)), KpiTarget(period_start=date(2026, 7, 1))
    >>> target_in_effect([first, later], date(2026, 3, 1)) is first
    True
    >>> target_in_effect([first, later], date(2025, 12, 1)) is None
    True
    """
    in_effect = None
    for setting in settings_oldest_first:
        if setting.period_start > period_start:
            break
        in_effect = setting
    return in_effect


def target_settings_by_kpi(kpi_ids: Iterable[int]) -> dict[int, list[KpiTarget]]:
    """All target settings of the given KPIs, oldest first, in one query."""
    grouped: dict[int, list[KpiTarget]] = defaultdict(list)
    for setting in KpiTarget.objects.filter(kpi_id__in=list(kpi_ids)).order_by("kpi_id", "period_start"):
        grouped[setting.kpi_id].append(setting)
    return grouped


def latest_actuals_by_kpi(kpi_ids: Iterable[int]) -> dict[int, Actual]:
    """Each KPI's most recent value, in one query (a correlated subquery picks the latest period)."""
    latest = Actual.objects.filter(kpi_id=OuterRef("kpi_id")).order_by("-period_start").values("pk")[:1]
    rows = Actual.objects.filter(kpi_id__in=list(kpi_ids), pk=Subquery(latest)).select_related("entered_by")
    return {actual.kpi_id: actual for actual in rows}


def actuals_for_kpi(kpi: Kpi) -> QuerySet[Actual]:
    """A KPI's values, newest period first, with who entered them and, for computed ones, their lineage."""
    return kpi.actuals.select_related("entered_by", "lineage__run").order_by("-period_start")


def value_history_for_kpi(kpi: Kpi) -> QuerySet[ActualRevision]:
    """Values that were replaced or withdrawn, newest change first."""
    return kpi.actual_revisions.select_related("entered_by", "replaced_by").order_by("-replaced_at")


def kpis_updated_by(user: User | AnonymousUser) -> QuerySet[Kpi]:
    """KPIs the user reports on (as owner, named updater or through a group), on scorecards they can see."""
    if not user.is_authenticated:
        return Kpi.objects.none()
    from fourfold.accounts.permissions import scorecards_visible_to

    assigned = Q(owner=user) | Q(updaters=user) | Q(updater_groups__user=user)
    return (
        Kpi.objects.filter(assigned, scorecard__in=scorecards_visible_to(user))
        .select_related("scorecard")
        .distinct()
        .order_by("scorecard__name", "name")
    )


def computation_of(kpi: Kpi) -> ComputedKpi | None:
    """How a computed KPI is computed (metric, segment, source), or ``None`` for a KPI entered otherwise."""
    from fourfold.computed.models import ComputedKpi

    return ComputedKpi.objects.select_related("source").filter(kpi=kpi).first()


ENTRY_PERIODS = {Frequency.WEEKLY: 8, Frequency.MONTHLY: 6, Frequency.QUARTERLY: 4, Frequency.YEARLY: 3}
"""How many recent periods of each frequency the data-entry grid shows at a time."""

HISTORY_DAYS_READ = 366 * HISTORY_YEARS_READ + 7
"""Values this far before the first period shown are read too: a target reached over a span sums them."""


def _without_entered_values() -> Q:
    """KPIs whose values nobody types: formulas, roll-ups of cascaded KPIs, and values computed from data."""
    rolled_up = Kpi.rollup_sources.through.objects.filter(from_kpi_id=OuterRef("pk"))
    return Q(source_kind__in=[Kpi.SourceKind.FORMULA, Kpi.SourceKind.COMPUTED]) | Q(Exists(rolled_up))


def _reported_on_by(user: User) -> Q:
    """KPIs naming the user as owner, updater or through a group, on scorecards where they are updaters or more."""
    from fourfold.accounts.permissions import scorecards_with_role

    assigned = Q(owner=user) | Q(updaters=user) | Q(updater_groups__user=user)
    return assigned & Q(scorecard__in=scorecards_with_role(user, Role.UPDATER))


def kpis_for_entry(user: User | AnonymousUser, *, everything: bool = False) -> QuerySet[Kpi]:
    """The KPIs whose values the user may type in: the data-entry grid's rows.

    By default the KPIs they report on (owner, named updater or through a group) on scorecards where they
    are at least updaters; with ``everything``, also every KPI of the scorecards where they are editors or
    admins (organisation admins: all of their organisation's). Formula, roll-up and computed KPIs are left
    out, since their values are not typed. The service checks each value again when it is saved.
    """
    if not user.is_authenticated:
        return Kpi.objects.none()
    from fourfold.accounts.permissions import scorecards_with_role

    scope = _reported_on_by(user)
    if everything:
        scope |= Q(scorecard__in=scorecards_with_role(user, Role.EDITOR))
    return Kpi.objects.filter(scope).exclude(_without_entered_values()).distinct()


def kpis_reported_elsewhere(user: User | AnonymousUser) -> QuerySet[Kpi]:
    """KPIs the user reports on whose values come from elsewhere (formulas, roll-ups, computations)."""
    if not user.is_authenticated:
        return Kpi.objects.none()
    return Kpi.objects.filter(_reported_on_by(user)).filter(_without_entered_values()).distinct().order_by("name")


@dataclass(frozen=True)
class PeriodScore:
    """A KPI's result for one of its own periods, and whether it lands in the organisation's worst status."""

    result: KpiResult
    off_target: bool
    """In the last (red) level of the status scheme: what the organisation's note rule is about."""


def period_scores(
    kpis: Sequence[Kpi],
    cells: Iterable[tuple[int, Period]],
    *,
    settings: Mapping[int, Sequence[KpiTarget]],
    values: Mapping[int, Mapping[str, PeriodValue]],
    today: date,
) -> dict[tuple[int, str], PeriodScore]:
    """Each cell's KPI scored for that period alone (as the KPI page scores it), keyed by (KPI id, period key).

    For KPIs that have values of their own (not formulas or roll-ups): such a KPI's score reads only its own
    values, target settings and its scorecard's rules, so each scorecard is modelled with just these KPIs
    instead of reading whole trees, and many scorecards cost no more queries than one. ``kpis`` come with
    ``scorecard__organisation__status_levels`` prefetched; ``values`` are PeriodValues by KPI id and period.
    """
    by_id = {kpi.pk: kpi for kpi in kpis}
    wanted: dict[tuple[int, Period], list[Kpi]] = defaultdict(list)
    for kpi_id, period in cells:
        kpi = by_id[kpi_id]
        wanted[kpi.scorecard_id, period].append(kpi)
    models: dict[int, ScorecardModel] = {}
    schemes: dict[int, StatusScheme] = {}
    store = {str(kpi_id): dict(readings) for kpi_id, readings in values.items()}
    scores: dict[tuple[int, str], PeriodScore] = {}
    for (card_id, period), cell_kpis in wanted.items():
        if card_id not in models:
            card = cell_kpis[0].scorecard
            calendar = card.organisation.calendar
            schemes[card_id] = card.organisation.status_scheme()
            own = tuple(
                kpi_model(kpi, list(settings.get(kpi.pk, ())), [], calendar)
                for kpi in kpis
                if kpi.scorecard_id == card_id
            )
            objective = ObjectiveModel(id=f"entry-{card_id}", name=card.name, kpis=own)
            models[card_id] = ScorecardModel(
                id=str(card_id),
                name=card.name,
                perspectives=(PerspectiveModel(id=f"entry-{card_id}", name=card.name, objectives=(objective,)),),
                calendar=calendar,
                statuses=schemes[card_id],
                due_days=card.due_days_after_period_end,
                grace_days=card.grace_days,
            )
        evaluator = Evaluator(models[card_id], store, View(period), today=today)
        worst = schemes[card_id].levels[-1].key
        for kpi in cell_kpis:
            result = evaluator.kpi_result(evaluator.kpis[str(kpi.pk)], models[card_id])
            scores[kpi.pk, period.key] = PeriodScore(result, result.status.key == worst)
    return scores


@dataclass
class EntryCell:
    """One KPI × period of the grid: the stored value and its score, and what the form shows in it."""

    kpi: Kpi
    period: Period
    actual: Actual | None
    stored: PeriodScore | None
    """The score of the stored value, for that period alone; ``None`` without a value."""
    text: str = ""
    note: str = ""
    original_text: str = ""
    """What the cell showed when the page was drawn: the stored value in the grid's notation."""
    original_note: str = ""
    changed: bool = False
    error: str = ""
    preview: PeriodScore | None = None
    """What a changed, readable value would score."""
    note_missing: bool = False
    """A changed value that would be off target, without the note the organisation asks for."""

    @property
    def id(self) -> str:
        """The cell's name in the form and the page: ``<KPI id>_<period key>``."""
        return f"{self.kpi.pk}_{self.period.key}"

    @property
    def shown(self) -> PeriodScore | None:
        """The score to show: the preview of a changed value, else the stored one."""
        return self.preview if self.changed else self.stored


@dataclass(frozen=True)
class EntryRow:
    """A KPI's row: its cells, the target in force for the latest period shown, and its next value's due date."""

    kpi: Kpi
    cells: list[EntryCell]
    target: KpiTarget | None
    next_period: Period
    due: date
    overdue: bool


@dataclass(frozen=True)
class EntryTable:
    """The KPIs of one scorecard reported at one frequency, under the periods they share."""

    frequency: Frequency
    periods: list[Period]
    rows: list[EntryRow]


@dataclass(frozen=True)
class EntryGroup:
    """One scorecard's part of the grid: a table per frequency, the more frequent first."""

    scorecard: Scorecard
    tables: list[EntryTable]


@dataclass(frozen=True)
class EntryGrid:
    """The data-entry grid of one user: their KPIs by scorecard, over recent periods (``back`` windows ago)."""

    groups: list[EntryGroup]
    back: int
    everything: bool
    elsewhere: list[Kpi]

    @property
    def rows(self) -> list[EntryRow]:
        """Every row, in the order shown: what keyboard navigation and pasting move through."""
        return [row for group in self.groups for table in group.tables for row in table.rows]

    @property
    def cells(self) -> dict[str, EntryCell]:
        return {cell.id: cell for row in self.rows for cell in row.cells}

    @property
    def query(self) -> str:
        """This window and scope as an address's query ("back=2&scope=all"); empty for the default."""
        params: dict[str, object] = {}
        if self.back:
            params["back"] = self.back
        if self.everything:
            params["scope"] = "all"
        return urlencode(params)


def entry_window(calendar: FiscalCalendar, frequency: Frequency, today: date, back: int) -> list[Period]:
    """The periods shown for a frequency: the latest ones that have ended, ``back`` windows earlier."""
    count = ENTRY_PERIODS[frequency]
    last_ended = calendar.previous(calendar.period_containing(today, frequency))
    return calendar.trailing(calendar.shift(last_ended, -back * count), count)


def entry_grid(user: User | AnonymousUser, *, today: date, back: int = 0, everything: bool = False) -> EntryGrid:
    """The user's data-entry grid, in a fixed number of queries whatever the number of KPIs and scorecards.

    Rows are grouped by scorecard, then by frequency; within a table the overdue KPIs come first, then by
    the due date of their next value (the latest ended period's when it has none yet, else the current
    period's), then by name.
    """
    kpis = list(
        kpis_for_entry(user, everything=everything)
        .select_related("scorecard__organisation")
        .prefetch_related("scorecard__organisation__status_levels")
        .order_by("scorecard__name", "scorecard_id", "name")
    )
    windows: dict[int, list[Period]] = {}
    for kpi in kpis:
        calendar = kpi.scorecard.organisation.calendar
        windows[kpi.pk] = entry_window(calendar, Frequency(kpi.frequency), today, back)
    settings = target_settings_by_kpi(windows)
    calendars = _calendars(kpis)
    actuals: dict[tuple[int, str], Actual] = {}
    values: dict[int, dict[str, PeriodValue]] = defaultdict(dict)
    if kpis:
        first = min(window[0].start for window in windows.values()) - timedelta(days=HISTORY_DAYS_READ)
        last = max(max(window[-1].end, today) for window in windows.values())
        for actual in Actual.objects.filter(kpi_id__in=windows, period_start__gte=first, period_start__lte=last):
            actuals[actual.kpi_id, actual.period_key] = actual
            values[actual.kpi_id][actual.period_key] = period_value(actual, calendars[actual.kpi_id])
    shown = [(kpi.pk, period) for kpi in kpis for period in windows[kpi.pk] if (kpi.pk, period.key) in actuals]
    scores = period_scores(kpis, shown, settings=settings, values=values, today=today)
    tables: dict[tuple[int, Frequency], list[EntryRow]] = defaultdict(list)
    for kpi in kpis:
        cells = [
            EntryCell(kpi, period, actuals.get((kpi.pk, period.key)), scores.get((kpi.pk, period.key)))
            for period in windows[kpi.pk]
        ]
        tables[kpi.scorecard_id, Frequency(kpi.frequency)].append(
            _entry_row(kpi, cells, settings.get(kpi.pk, []), actuals, today)
        )
    groups = []
    for card_id, card_kpis in groupby(kpis, key=lambda kpi: kpi.scorecard_id):
        card = next(card_kpis).scorecard
        card_tables = []
        for frequency in sorted(Frequency, key=lambda frequency: frequency.rank):
            rows = tables.get((card_id, frequency))
            if rows:
                rows.sort(key=lambda row: (not row.overdue, row.due, row.kpi.name))
                card_tables.append(EntryTable(frequency, [cell.period for cell in rows[0].cells], rows))
        groups.append(EntryGroup(card, card_tables))
    elsewhere = list(kpis_reported_elsewhere(user).select_related("scorecard")) if not everything else []
    return EntryGrid(groups, back, everything, elsewhere)


def _calendars(kpis: Iterable[Kpi]) -> dict[int, FiscalCalendar]:
    """Each KPI's fiscal calendar (its organisation's), by KPI id, from organisations already loaded."""
    return {kpi.pk: kpi.scorecard.organisation.calendar for kpi in kpis}


def _entry_row(
    kpi: Kpi, cells: list[EntryCell], settings: list[KpiTarget], actuals: Mapping[tuple[int, str], Actual], today: date
) -> EntryRow:
    card = kpi.scorecard
    calendar = card.organisation.calendar
    current = calendar.period_containing(today, Frequency(kpi.frequency))
    last_ended = calendar.previous(current)
    reported = (kpi.pk, last_ended.key) in actuals
    due_period = current if reported else last_ended
    overdue = is_overdue(
        period_end=last_ended.end,
        due_days=card.due_days_after_period_end,
        grace_days=card.grace_days,
        today=today,
        has_value=reported,
    )
    return EntryRow(
        kpi,
        cells,
        target_in_effect(settings, cells[-1].period.start),
        due_period,
        due_period.end + timedelta(days=card.due_days_after_period_end),
        overdue,
    )


def candidate_scores(candidates: Sequence[tuple[Kpi, Period, PeriodValue]], *, today: date) -> list[PeriodScore]:
    """What each candidate value would score once stored, with the KPIs' other stored values around it.

    Used when values are saved (an organisation may require a note for off-target ones) and while they are
    typed (the grid's preview). Candidates for the same KPI all count, as they would once saved together.
    Three queries whatever their number: the organisations' status schemes, the target settings and the
    stored values.
    """
    if not candidates:
        return []
    kpis = list({kpi.pk: kpi for kpi, _period, _reading in candidates}.values())
    prefetch_related_objects(kpis, "scorecard__organisation__status_levels")
    settings = target_settings_by_kpi(kpi.pk for kpi in kpis)
    first = min(period.start for _kpi, period, _reading in candidates) - timedelta(days=HISTORY_DAYS_READ)
    last = max(period.end for _kpi, period, _reading in candidates)
    calendars = _calendars(kpis)
    values: dict[int, dict[str, PeriodValue]] = defaultdict(dict)
    for actual in Actual.objects.filter(
        kpi_id__in=[kpi.pk for kpi in kpis], period_start__gte=first, period_start__lte=last
    ).only(*PERIOD_VALUE_FIELDS, "period_start"):
        values[actual.kpi_id][actual.period_key] = period_value(actual, calendars[actual.kpi_id])
    for kpi, period, reading in candidates:
        values[kpi.pk][period.key] = reading
    scores = period_scores(
        kpis, [(kpi.pk, period) for kpi, period, _reading in candidates], settings=settings, values=values, today=today
    )
    return [scores[kpi.pk, period.key] for kpi, period, _reading in candidates]
