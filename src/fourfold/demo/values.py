"""Two years of plausible KPI values from a :class:`~fourfold.demo.spec.Series`, without the database.

Kept apart from the builder so that the arithmetic (trend, season, noise, late and corrected entries) can be
read and tested on its own. Every random number comes from the :class:`random.Random` passed in, never from
the global generator, so a load is reproducible and does not disturb (or depend on) anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from django.utils import timezone

from fourfold.demo.spec import KpiSpec, Series
from fourfold.engine.periods import FiscalCalendar, Frequency, Period
from fourfold.measures.models import Kpi

WINDOW_MONTHS = 24
FIRST_TARGET_CHANGE_AFTER_MONTHS = 6
DENOMINATOR_NOISE = 0.02


@dataclass(frozen=True)
class Window:
    """The 24 complete calendar months before ``today`` and the periods of each frequency inside them."""

    calendar: FiscalCalendar
    months: tuple[Period, ...]
    target_change: date
    """Start of the first fiscal year beginning at least six months into the window: targets move there."""

    @property
    def start(self) -> date:
        return self.months[0].start

    @property
    def end(self) -> date:
        return self.months[-1].end

    def periods(self, frequency: Frequency) -> list[Period]:
        """Every period of ``frequency`` lying wholly inside the window, oldest first."""
        first = self.calendar.period_containing(self.start, frequency)
        if first.start < self.start:
            first = self.calendar.next(first)
        last = self.calendar.period_containing(self.end, frequency)
        if last.end > self.end:
            last = self.calendar.previous(last)
        return self.calendar.span(first, last)

    def month_start(self, offset: int) -> date:
        """First day of the month ``offset`` months after the window's first month."""
        return self.calendar.shift(self.months[0], offset).start

    def month_end(self, offset: int) -> date:
        """Last day of the month ``offset`` months after the window's first month."""
        return self.calendar.shift(self.months[0], offset).end


def window_before(today: date, calendar: FiscalCalendar) -> Window:
    """The window of the 24 complete months before ``today``, in the organisation's calendar."""
    last = calendar.period_containing(today.replace(day=1) - timedelta(days=1), Frequency.MONTHLY)
    months = calendar.span(calendar.shift(last, 1 - WINDOW_MONTHS), last)
    earliest_change = calendar.shift(months[0], FIRST_TARGET_CHANGE_AFTER_MONTHS).start
    fiscal_year = calendar.period_containing(earliest_change, Frequency.YEARLY)
    if fiscal_year.start < earliest_change:
        fiscal_year = calendar.next(fiscal_year)
    return Window(calendar=calendar, months=tuple(months), target_change=fiscal_year.start)


@dataclass(frozen=True)
class Entry:
    """One call to ``actual_record``: a value (or numerator and denominator) as entered at a moment."""

    period: Period
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    note: str
    entered_at: datetime


def quantize(number: float, decimals: int) -> Decimal:
    """``number`` rounded half-up to ``decimals`` places, as the Decimal the KPI stores."""
    return Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _is_ratio(spec: KpiSpec) -> bool:
    return spec.series.denominator is not None


def _indexes(positions: tuple[int, ...], count: int) -> set[int]:
    """Period indexes (negative ones counted from the end) that exist in a list of ``count`` periods."""
    return {position % count for position in positions if -count <= position < count}


def _middle_month(period: Period) -> int:
    """The calendar month that represents a period for seasonality (its middle day's month)."""
    return (period.start + (period.end - period.start) / 2).month


def _level(series: Series, index: int, count: int, period: Period, rng: Random, shift: float) -> float:
    """The series' value for one period before rounding: trend, season, noise and event shift."""
    progress = index / (count - 1) if count > 1 else 1.0
    level = series.start + (series.end - series.start) * progress
    if series.season is not None:
        level += series.amplitude * series.season[_middle_month(period) - 1]
    level += rng.gauss(0, series.noise) + shift
    if series.low is not None:
        level = max(series.low, level)
    if series.high is not None:
        level = min(series.high, level)
    return level


def _entry_moment(day: date, rng: Random, as_of: datetime) -> datetime:
    """A working-hours moment on ``day``, never later than ``as_of`` (nothing is entered in the future)."""
    moment = timezone.make_aware(datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59))))
    return min(moment, as_of)


@dataclass(frozen=True)
class _Numbers:
    """Either a value or a numerator and denominator, as ``actual_record`` takes them."""

    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None


def _numbers(spec: KpiSpec, level: float, denominator: float, scale: float) -> _Numbers:
    """What to pass to ``actual_record`` for a generated level: a value, or numerator and denominator."""
    if not _is_ratio(spec):
        return _Numbers(quantize(level, spec.decimals), None, None)
    whole_denominator = max(1, round(denominator))
    numerator = round(level / scale * whole_denominator)
    numerator = max(0, min(numerator, whole_denominator)) if spec.unit == Kpi.Unit.PERCENT else max(0, numerator)
    return _Numbers(None, Decimal(numerator), Decimal(whole_denominator))


def plan_entries(spec: KpiSpec, periods: list[Period], *, due_days: int, rng: Random, as_of: datetime) -> list[Entry]:
    """The ``actual_record`` calls that give ``spec`` its history over ``periods``, in the order to make them.

    Values are entered one to ``due_days - 1`` days after their period ends, except the late ones (three
    days to three weeks past the due date); a corrected period gets two entries, the wrong one first. Missing
    periods get none. The generator is consumed the same way for every period, missing or not, so removing
    a gap does not change the other values.
    """
    series = spec.series
    count = len(periods)
    missing = _indexes(series.missing, count)
    late = _indexes(series.late, count)
    events = {index: event for event in series.events for index in _indexes((event.at,), count)}
    corrections = {index: fix for fix in series.corrections for index in _indexes((fix.at,), count)}
    scale = 100.0 if spec.unit == Kpi.Unit.PERCENT else 1.0
    entries: list[Entry] = []
    for index, period in enumerate(periods):
        event = events.get(index)
        level = _level(series, index, count, period, rng, event.shift if event else 0.0)
        denominator = 0.0
        if series.denominator is not None:
            first, last = series.denominator
            denominator = (first + (last - first) * index / max(1, count - 1)) * (1 + rng.gauss(0, DENOMINATOR_NOISE))
        draw = rng.random()
        if index in late:
            day = period.end + timedelta(days=due_days + rng.randint(3, 21))
        else:
            day = period.end + timedelta(days=rng.randint(1, max(1, due_days - 1)))
        moment = _entry_moment(day, rng, as_of)
        correction_delay = timedelta(days=rng.randint(2, 9), hours=rng.randint(1, 6))
        if index in missing:
            continue
        note = event.note if event else ""
        if spec.unit == Kpi.Unit.YES_NO:
            entries.append(Entry(period, Decimal(1 if draw < level else 0), None, None, note, moment))
            continue
        numbers = _numbers(spec, level, denominator, scale)
        fix = corrections.get(index)
        if fix is not None:
            wrong = _numbers(spec, level * fix.wrong_by, denominator, scale)  # same population, miscounted
            entries.append(Entry(period, wrong.value, wrong.numerator, wrong.denominator, note, moment))
            moment = min(moment + correction_delay, as_of)
            note = f"{note} {fix.note}".strip()
        entries.append(Entry(period, numbers.value, numbers.numerator, numbers.denominator, note, moment))
    return entries


def baseline(spec: KpiSpec) -> Decimal:
    """The KPI's starting point, taken from where its series starts (yes or no for yes/no KPIs)."""
    if spec.unit == Kpi.Unit.YES_NO:
        return Decimal(1 if spec.series.start >= 0.5 else 0)
    return quantize(spec.series.start, spec.decimals)
