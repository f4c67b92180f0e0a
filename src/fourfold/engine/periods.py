"""Reporting periods and period keys: the one place where they are defined, parsed and related.

Every KPI value, target and score in a Balanced Scorecard is attached to a reporting period, and
organisations disagree about what "Q1" or "2026" means as soon as their fiscal year does not start in
January. If each caller sliced dates on its own, a quarterly score and the monthly values it rolls up could
silently cover different days. Instead, a :class:`FiscalCalendar` turns short keys that people can type and
that the database can store ('2026-03', '2026-Q1', '2026', '2026-W07') into :class:`Period` objects with
exact first and last days, and answers every question about how periods relate (next, parent,
sub-periods, year to date, rolling windows).

Conventions:

* Month keys ``YYYY-MM`` are calendar months; they mean the same days in every fiscal calendar.
* Year keys ``YYYY`` and quarter keys ``YYYY-Qn`` are fiscal: the fiscal year starts on the first day of
  ``fiscal_year_start_month`` and is named after the calendar year it starts in (the default) or ends in.
* Week keys ``YYYY-Wnn`` are ISO 8601 weeks, Monday to Sunday, numbered within the year of their Thursday.
  A week belongs to the month, quarter and fiscal year that contain its Thursday (the ISO rule), so a week
  is never split between two parents and no week is counted twice in a roll-up.
* Key years run from 1900 to 9999, which keeps every key four digits long and every day representable.

Standard library only, no Django: the scoring engine must run, and be tested, without the web app.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

MIN_YEAR = 1900
MAX_YEAR = 9999

_MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ALL_KEY_FORMATS = "YYYY-MM, YYYY-Qn, YYYY or YYYY-Wnn"
_THURSDAY = 3
_KEY_PATTERN = re.compile(
    r"(?P<year>\d{4})(?:-(?:(?P<month>\d{1,2})|Q(?P<quarter>\d{1,2})|W(?P<week>\d{1,2})))?",
    re.ASCII,
)


class Frequency(StrEnum):
    """How often a KPI is reported, which decides the kind of period its values belong to.

    Members are declared from finest to coarsest so that :attr:`rank` can tell which of two frequencies is
    finer: roll-ups only ever go from a finer frequency to a coarser one.
    """

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"

    @property
    def rank(self) -> int:
        """Granularity, 0 for the finest frequency and growing with the length of the period.

        >>> Frequency.WEEKLY.rank < Frequency.MONTHLY.rank < Frequency.QUARTERLY.rank < Frequency.YEARLY.rank
        True
        """
        return list(Frequency).index(self)

    @property
    def key_format(self) -> str:
        """The shape of this frequency's keys, for error messages and form help texts.

        >>> Frequency.QUARTERLY.key_format
        'YYYY-Qn'
        """
        return _KEY_FORMATS[self]


_KEY_FORMATS = {
    Frequency.WEEKLY: "YYYY-Wnn",
    Frequency.MONTHLY: "YYYY-MM",
    Frequency.QUARTERLY: "YYYY-Qn",
    Frequency.YEARLY: "YYYY",
}
_EXAMPLE_KEYS = {
    Frequency.WEEKLY: "2026-W07",
    Frequency.MONTHLY: "2026-03",
    Frequency.QUARTERLY: "2026-Q1",
    Frequency.YEARLY: "2026",
}


class FiscalYearNaming(StrEnum):
    """Which calendar year gives a fiscal year its name.

    Organisations differ: a fiscal year running from April 2025 to March 2026 is "FY2025" for some (named
    after the year it starts in, :attr:`START`) and "FY2026" for others (the year it ends in, :attr:`END`).
    The choice changes which days the keys ``2026`` and ``2026-Q1`` cover, so it is part of the calendar.
    """

    START = "start"
    END = "end"


class PeriodKeyError(ValueError):
    """A period key that cannot be used, with a message meant for the person who typed it.

    It is a distinct subclass so that forms and importers can catch bad user input and show the message
    as is, without also swallowing programming errors that raise a plain :class:`ValueError`.
    """


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: an inclusive range of days, its frequency and its canonical key.

    The key is what gets stored and shown; the dates are what values are compared against. Build periods
    with a :class:`FiscalCalendar` rather than by hand: the calendar is what guarantees that key and dates
    agree. Periods sort chronologically, by first day and then by last day.
    """

    start: date
    end: date
    frequency: Frequency
    key: str

    def __str__(self) -> str:
        return self.key

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls within the period, both ends included."""
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        """Human-readable name for screens and reports.

        Fiscal quarters and years are prefixed with "FY" only when the fiscal year is not the calendar
        year, which the period's own dates reveal (a calendar quarter n starts in month 3n - 2).

        >>> calendar_year, from_april = FiscalCalendar(), FiscalCalendar(fiscal_year_start_month=4)
        >>> [calendar_year.parse(key).label for key in ("2026-03", "2026-Q1", "2026", "2026-W07")]
        ['Mar 2026', 'Q1 2026', '2026', 'Week 7, 2026']
        >>> [from_april.parse(key).label for key in ("2026-Q1", "2026")]
        ['Q1 FY2026', 'FY2026']
        """
        if self.frequency is Frequency.WEEKLY:
            iso_year, week, _ = self.start.isocalendar()
            return f"Week {week}, {iso_year}"
        if self.frequency is Frequency.MONTHLY:
            return f"{_MONTH_ABBREVIATIONS[self.start.month - 1]} {self.start.year}"
        if self.frequency is Frequency.QUARTERLY:
            fiscal_year, quarter = self.key.split("-Q")
            is_calendar_quarter = self.start.month == 3 * int(quarter) - 2
            return f"Q{quarter} {fiscal_year}" if is_calendar_quarter else f"Q{quarter} FY{fiscal_year}"
        return self.key if self.start.month == 1 else f"FY{self.key}"


@dataclass(frozen=True)
class FiscalCalendar:
    """An organisation's fiscal year, and everything that follows from it for periods.

    All period arithmetic goes through a calendar because quarter and year keys only mean something once
    the fiscal year is known. Periods made by one calendar are rejected (``ValueError``) by a calendar with
    a different fiscal year, rather than silently misread.
    """

    fiscal_year_start_month: int = 1
    naming: FiscalYearNaming = FiscalYearNaming.START

    def __post_init__(self) -> None:
        month = self.fiscal_year_start_month
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValueError(
                f"fiscal_year_start_month must be a whole number from 1 (January) to 12 (December), got {month!r}"
            )
        try:
            naming = FiscalYearNaming(self.naming)
        except ValueError:
            raise ValueError(f"naming must be 'start' or 'end', got {self.naming!r}") from None
        object.__setattr__(self, "naming", naming)

    def parse(self, key: str, expected: Frequency | None = None) -> Period:
        """The period a key stands for; the returned period carries the canonical key.

        Input is forgiving because keys are typed by people: surrounding whitespace and letter case are
        ignored and one-digit months and weeks are accepted. ``expected`` is the frequency the caller can
        use (typically the KPI's own), so that a well-formed key of the wrong kind is refused with a
        message that says which kind is wanted.

        >>> FiscalCalendar().parse(" 2026-q1 ").key
        '2026-Q1'
        >>> period = FiscalCalendar(fiscal_year_start_month=4).parse("2026-Q1")
        >>> period.start, period.end
        (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))
        >>> try:
        ...     FiscalCalendar().parse("2026-Q5")
        ... except PeriodKeyError as error:
        ...     print(error)
        '2026-Q5' is not a period key: the quarter must be Q1-Q4 (expected YYYY-MM, YYYY-Qn, YYYY or YYYY-Wnn)
        """
        hint = f"expected {expected.key_format}" if expected is not None else f"expected {_ALL_KEY_FORMATS}"
        frequency, ordinal = self._read_key(key, hint)
        try:
            period = self._from_ordinal(frequency, ordinal)
        except ValueError as error:
            raise PeriodKeyError(f"{key!r} is not a period key: {error} ({hint})") from None
        if expected is not None and frequency != expected:
            raise PeriodKeyError(
                f"{key!r} is a {frequency} period but a {expected} period is required here "
                f"(expected a key like {self._example_key(period, expected)})"
            )
        return period

    def frequency_of(self, key: str) -> Frequency:
        """The frequency of a key, after full validation (raises :class:`PeriodKeyError`)."""
        return self.parse(key).frequency

    def period_containing(self, day: date, frequency: Frequency) -> Period:
        """The period of the given frequency in which ``day`` falls, e.g. to file a dated measurement.

        >>> from_april = FiscalCalendar(fiscal_year_start_month=4)
        >>> from_april.period_containing(date(2026, 2, 10), Frequency.QUARTERLY).key
        '2025-Q4'
        """
        return self._from_ordinal(frequency, self._ordinal_containing(day, frequency))

    def fiscal_year_of(self, day: date) -> int:
        """The name (a year number) of the fiscal year that contains ``day``.

        >>> FiscalCalendar(fiscal_year_start_month=4).fiscal_year_of(date(2026, 3, 31))
        2025
        >>> named_by_end = FiscalCalendar(fiscal_year_start_month=4, naming=FiscalYearNaming.END)
        >>> named_by_end.fiscal_year_of(date(2026, 3, 31))
        2026
        """
        start_year = day.year if day.month >= self.fiscal_year_start_month else day.year - 1
        return start_year + self._naming_offset

    def shift(self, period: Period, steps: int) -> Period:
        """The period ``steps`` periods later (earlier when negative), with the same frequency.

        >>> fiscal_calendar = FiscalCalendar()
        >>> fiscal_calendar.shift(fiscal_calendar.parse("2026-11"), 3).key
        '2027-02'
        >>> fiscal_calendar.shift(fiscal_calendar.parse("2026-Q1"), -1).key
        '2025-Q4'
        """
        return self._from_ordinal(period.frequency, self._ordinal(period) + steps)

    def next(self, period: Period) -> Period:
        """The period right after ``period``, with the same frequency."""
        return self.shift(period, 1)

    def previous(self, period: Period) -> Period:
        """The period right before ``period``, with the same frequency."""
        return self.shift(period, -1)

    def span(self, first: Period, last: Period) -> list[Period]:
        """All periods from ``first`` to ``last`` inclusive, oldest first; empty when ``last`` is earlier.

        Both ends must have the same frequency: a range from a month to a quarter has no meaning.

        >>> fiscal_calendar = FiscalCalendar()
        >>> november, january = fiscal_calendar.parse("2026-11"), fiscal_calendar.parse("2027-01")
        >>> [period.key for period in fiscal_calendar.span(november, january)]
        ['2026-11', '2026-12', '2027-01']
        """
        if first.frequency != last.frequency:
            raise ValueError(
                f"cannot span from {first.key} ({first.frequency}) to {last.key} ({last.frequency}): "
                f"both ends must have the same frequency"
            )
        return [
            self._from_ordinal(first.frequency, ordinal)
            for ordinal in range(self._ordinal(first), self._ordinal(last) + 1)
        ]

    def subperiods(self, period: Period, frequency: Frequency) -> list[Period]:
        """The periods of a finer frequency that make up ``period``, oldest first (what a roll-up sums).

        Months, quarters and years nest exactly. Weeks are the ones whose Thursday falls in ``period``, so
        they may start before it or end after it, and each week belongs to exactly one parent.
        """
        if frequency.rank >= period.frequency.rank:
            raise ValueError(
                f"cannot split {period.key} into {frequency} periods: sub-periods must be finer than {period.frequency}"
            )
        self._require_own(period)
        return self.span(self._first_within(period, frequency), self._last_within(period, frequency))

    def parent(self, period: Period, frequency: Frequency) -> Period:
        """The period of a coarser frequency that ``period`` rolls up into (a week's is that of its Thursday).

        >>> fiscal_calendar = FiscalCalendar()
        >>> fiscal_calendar.parent(fiscal_calendar.parse("2026-W01"), Frequency.MONTHLY).key
        '2026-01'
        """
        if frequency.rank <= period.frequency.rank:
            raise ValueError(
                f"cannot find the {frequency} period of {period.key}: "
                f"the parent must be coarser than {period.frequency}"
            )
        self._require_own(period)
        anchor = _thursday_of(period.start) if period.frequency is Frequency.WEEKLY else period.start
        return self.period_containing(anchor, frequency)

    def year_to_date(self, period: Period) -> list[Period]:
        """Periods of ``period``'s frequency from the start of its fiscal year up to and including it.

        This is what year-to-date figures aggregate; for a yearly period it is the period alone.
        """
        if period.frequency is Frequency.YEARLY:
            self._require_own(period)
            return [period]
        fiscal_year = self.parent(period, Frequency.YEARLY)
        return self.span(self._first_within(fiscal_year, period.frequency), period)

    def trailing(self, period: Period, count: int) -> list[Period]:
        """The ``count`` periods ending with ``period``, oldest first, e.g. a rolling twelve months."""
        if count < 1:
            raise ValueError(f"a trailing window needs at least one period, got count={count}")
        return self.span(self.shift(period, 1 - count), period)

    @property
    def _naming_offset(self) -> int:
        """How much to add to the calendar year a fiscal year starts in to get its name."""
        starts_in_january = self.fiscal_year_start_month == 1
        return 1 if self.naming is FiscalYearNaming.END and not starts_in_january else 0

    def _fiscal_year_first_month(self, fiscal_year: int) -> int:
        """Month index (year * 12 + month - 1) of the first month of a fiscal year."""
        return (fiscal_year - self._naming_offset) * 12 + self.fiscal_year_start_month - 1

    def _read_key(self, key: str, hint: str) -> tuple[Frequency, int]:
        """Check a key's syntax and numbers; return its frequency and the period's ordinal."""
        if not isinstance(key, str):
            raise PeriodKeyError(f"{key!r} is not a period key: keys are text, such as '2026-03' ({hint})")
        text = key.strip().upper()
        if not text:
            raise PeriodKeyError(f"{key!r} is not a period key: it is empty ({hint})")
        match = _KEY_PATTERN.fullmatch(text)
        if match is None:
            raise PeriodKeyError(f"{key!r} is not a period key ({hint})")
        year = int(match["year"])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodKeyError(
                f"{key!r} is not a period key: the year must be between {MIN_YEAR} and {MAX_YEAR} ({hint})"
            )
        if match["month"] is not None:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise PeriodKeyError(f"{key!r} is not a period key: the month must be 01-12 ({hint})")
            return Frequency.MONTHLY, year * 12 + month - 1
        if match["quarter"] is not None:
            quarter = int(match["quarter"])
            if not 1 <= quarter <= 4:
                raise PeriodKeyError(f"{key!r} is not a period key: the quarter must be Q1-Q4 ({hint})")
            return Frequency.QUARTERLY, year * 4 + quarter - 1
        if match["week"] is not None:
            week = int(match["week"])
            weeks_in_year = date(year, 12, 28).isocalendar().week
            if not 1 <= week <= weeks_in_year:
                raise PeriodKeyError(
                    f"{key!r} is not a period key: the week must be W01-W{weeks_in_year:02d}, "
                    f"as ISO year {year} has {weeks_in_year} weeks ({hint})"
                )
            return Frequency.WEEKLY, _week_ordinal(date.fromisocalendar(year, week, 1))
        return Frequency.YEARLY, year

    def _example_key(self, period: Period, frequency: Frequency) -> str:
        """A key of ``frequency`` close to ``period``, to show the expected format with familiar numbers."""
        try:
            return self.period_containing(period.end, frequency).key
        except ValueError:
            return _EXAMPLE_KEYS[frequency]

    def _ordinal_containing(self, day: date, frequency: Frequency) -> int:
        """Ordinal of the period containing ``day``: consecutive periods have consecutive ordinals."""
        if frequency is Frequency.WEEKLY:
            return _week_ordinal(day)
        if frequency is Frequency.MONTHLY:
            return day.year * 12 + day.month - 1
        fiscal_year = self.fiscal_year_of(day)
        if frequency is Frequency.QUARTERLY:
            return fiscal_year * 4 + (day.month - self.fiscal_year_start_month) % 12 // 3
        return fiscal_year

    def _from_ordinal(self, frequency: Frequency, ordinal: int) -> Period:
        """The period with the given ordinal; ``ValueError`` when it falls outside the supported years."""
        if frequency is Frequency.WEEKLY:
            return _week_from_ordinal(ordinal)
        if frequency is Frequency.MONTHLY:
            year, month_index = divmod(ordinal, 12)
            _check_year(year, "year")
            return _period_of_months(frequency, f"{year:04d}-{month_index + 1:02d}", ordinal, ordinal)
        if frequency is Frequency.QUARTERLY:
            fiscal_year, quarter_index = divmod(ordinal, 4)
            _check_year(fiscal_year, "fiscal year")
            first = self._fiscal_year_first_month(fiscal_year) + 3 * quarter_index
            return _period_of_months(frequency, f"{fiscal_year:04d}-Q{quarter_index + 1}", first, first + 2)
        _check_year(ordinal, "fiscal year")
        first = self._fiscal_year_first_month(ordinal)
        return _period_of_months(frequency, f"{ordinal:04d}", first, first + 11)

    def _ordinal(self, period: Period) -> int:
        """The period's ordinal, refusing periods that this calendar would not have made."""
        ordinal = self._ordinal_containing(period.start, period.frequency)
        if self._from_ordinal(period.frequency, ordinal) != period:
            raise ValueError(
                f"{period.key} ({period.start} to {period.end}) is not a {period.frequency} period of this "
                f"fiscal calendar (fiscal year starting in month {self.fiscal_year_start_month}, "
                f"named after the year it {self.naming}s in)"
            )
        return ordinal

    def _require_own(self, period: Period) -> None:
        """Refuse a period that this calendar would not have made (e.g. a quarter of another fiscal year)."""
        self._ordinal(period)

    def _first_within(self, period: Period, frequency: Frequency) -> Period:
        """The first period of a finer ``frequency`` that belongs to ``period``."""
        anchor = period.start
        if frequency is Frequency.WEEKLY:
            anchor += timedelta(days=(_THURSDAY - anchor.weekday()) % 7)
        return self.period_containing(anchor, frequency)

    def _last_within(self, period: Period, frequency: Frequency) -> Period:
        """The last period of a finer ``frequency`` that belongs to ``period``."""
        anchor = period.end
        if frequency is Frequency.WEEKLY:
            anchor -= timedelta(days=(anchor.weekday() - _THURSDAY) % 7)
        return self.period_containing(anchor, frequency)


def _check_year(year: int, what: str) -> None:
    """Refuse years whose keys would not have four digits."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{what} {year} is outside the supported years {MIN_YEAR}-{MAX_YEAR}")


def _thursday_of(monday: date) -> date:
    """The Thursday of the ISO week starting on ``monday``: it decides the week's year and parents."""
    return monday + timedelta(days=_THURSDAY)


def _week_ordinal(day: date) -> int:
    """Ordinal of the ISO week containing ``day``; weeks are counted from 0001-01-01, a Monday."""
    return (day.toordinal() - 1) // 7


def _week_from_ordinal(ordinal: int) -> Period:
    """The ISO week with the given ordinal (see :func:`_week_ordinal`)."""
    monday_ordinal = ordinal * 7 + 1
    if not 1 <= monday_ordinal <= date.max.toordinal():
        raise ValueError(f"that week is outside the supported years {MIN_YEAR}-{MAX_YEAR}")
    monday = date.fromordinal(monday_ordinal)
    iso_year, week, _ = monday.isocalendar()
    _check_year(iso_year, "ISO week year")
    try:
        sunday = monday + timedelta(days=6)
    except OverflowError:
        raise ValueError(
            f"week {week} of {iso_year} would end after {date.max.isoformat()}, the last representable day"
        ) from None
    return Period(monday, sunday, Frequency.WEEKLY, f"{iso_year:04d}-W{week:02d}")


def _period_of_months(frequency: Frequency, key: str, first_month: int, last_month: int) -> Period:
    """The period made of whole calendar months, given as month indexes (year * 12 + month - 1)."""
    first_year, first_month_index = divmod(first_month, 12)
    last_year, last_month_index = divmod(last_month, 12)
    if last_year > MAX_YEAR:
        raise ValueError(f"{key} would end after {date.max.isoformat()}, the last representable day")
    last_day = calendar.monthrange(last_year, last_month_index + 1)[1]
    return Period(
        start=date(first_year, first_month_index + 1, 1),
        end=date(last_year, last_month_index + 1, last_day),
        frequency=frequency,
        key=key,
    )
