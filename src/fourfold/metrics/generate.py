"""A realistic, seeded data set of every canonical table, for demos, tests and benchmarks.

A fictitious company sells subscriptions and orders to five customer segments through six acquisition
channels. Its numbers behave the way real ones do, so that every KPI computed from them is plausible and
moves over time: signups grow month on month with a peak before the year's end and quiet weekends,
subscriptions churn at a rate that depends on the segment, marketing spend follows the customers each
channel brings in, NPS and ratings improve slowly, tickets get faster answers by chat than by email, and
staff are hired, leave and go on courses.

Everything is drawn from one seed, table by table from independent streams, so that the same arguments
give the same files on any machine. Every column is drawn as a NumPy array at once, never row by row,
and only one row group at a time becomes Arrow while it is written: a million customers and ten million
orders take seconds, not minutes.

``bad_rows=True`` spoils a few rows of several tables in known ways (a repeated id, a negative amount, an
NPS score of 11, a ticket resolved before it was opened…) and says which, so that a test can check that
validation finds exactly those.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from fourfold.metrics.tables import SURVEY_KINDS, TABLES, TICKET_KINDS, ProblemKind

ROW_GROUP_ROWS = 1_000_000
"""Rows per Parquet row group: large enough to scan fast, small enough to write with little memory."""

HISTORY_DAYS = 730
"""Some customers signed up, and the products were launched, in the two years before the data starts."""

DAY_MICROSECONDS = 86_400_000_000

SEGMENTS = ("Enterprise", "Mid-market", "Small business", "Consumer", "Public sector")
SEGMENT_SHARE = (0.05, 0.15, 0.30, 0.40, 0.10)
SEGMENT_ORDER_VALUE = (2400.0, 800.0, 250.0, 60.0, 1200.0)
"""Median order amount by segment."""
SEGMENT_ORDER_FREQUENCY = (3.0, 2.0, 1.2, 1.0, 1.5)
"""How much more often a customer of the segment orders than a consumer."""
SEGMENT_MONTHLY_FEE = (1500.0, 400.0, 90.0, 15.0, 700.0)
SEGMENT_MONTHLY_CHURN = (0.008, 0.015, 0.03, 0.045, 0.01)
SEGMENT_MARKET_SHARE = (0.03, 0.05, 0.04, 0.02, 0.06)
SEGMENT_LOYALTY = (0.10, 0.20, 0.25, 0.40, 0.05)
SEGMENT_PROMOTERS = (0.45, 0.42, 0.40, 0.36, 0.44)
SEGMENT_DETRACTORS = (0.16, 0.19, 0.22, 0.27, 0.18)

CHANNELS = ("Organic search", "Paid search", "Social", "Referral", "Partner", "Events")
CHANNEL_SHARE = (0.25, 0.25, 0.15, 0.15, 0.12, 0.08)
CHANNEL_ACQUISITION_COST = (40.0, 320.0, 210.0, 90.0, 450.0, 1100.0)
LEAD_CONVERSION = 0.25

REGIONS = ("North", "South", "East", "West", "International")
REGION_SHARE = (0.25, 0.20, 0.20, 0.20, 0.15)
PLANS = ("Basic", "Standard", "Premium")
PLAN_FEE_FACTOR = (1.0, 1.8, 3.2)
PLAN_SHARE_BY_SEGMENT = ((0.2, 0.4, 0.4), (0.3, 0.45, 0.25), (0.5, 0.4, 0.1), (0.65, 0.3, 0.05), (0.25, 0.5, 0.25))

PRODUCT_KINDS = ("Software", "Hardware", "Services", "Add-on")

SUPPORT_CHANNELS = ("email", "phone", "chat", "web form")
SUPPORT_CHANNEL_SHARE = (0.40, 0.25, 0.25, 0.10)
FIRST_RESPONSE_MINUTES = (240.0, 1.5, 3.0, 300.0)
"""Median wait for a first answer by support channel: a phone is answered at once, an email in hours."""
FIRST_CONTACT_RESOLUTION = (0.62, 0.78, 0.74, 0.58)
TICKET_KIND_SHARE = (0.2, 0.65, 0.15)
"""Shares of complaints, questions and feedback, in the order of TICKET_KINDS."""
RESOLUTION_MINUTES = (1440.0, 240.0, 2880.0)
"""Median time from first answer to resolution by kind: complaint, question, feedback."""

DEPARTMENTS = ("Sales", "Marketing", "Customer support", "Engineering", "Finance", "Operations")
DEPARTMENT_SHARE = (0.20, 0.08, 0.25, 0.25, 0.07, 0.15)
DEPARTMENT_ATTRITION = (0.22, 0.15, 0.25, 0.10, 0.08, 0.12)
"""Share of a department's staff leaving in a year."""
COURSES = 25

TICKETS_PER_CUSTOMER = 0.5
NPS_ANSWERS_PER_CUSTOMER = 0.3
"""Unless the sizes are given: half a ticket and three tenths of an NPS answer per customer (at least 20 each)."""

PLATFORMS = ("LinkedIn", "Instagram", "Facebook", "X", "YouTube")
PLATFORM_REACH = (0.5, 0.9, 0.7, 0.4, 0.3)
"""Daily impressions per customer, by platform."""
PLATFORM_ENGAGEMENT = (0.030, 0.045, 0.020, 0.015, 0.050)
REVIEW_PLATFORMS = ("Google", "Trustpilot", "G2", "App Store")
REVIEW_PLATFORM_SHARE = (0.4, 0.3, 0.15, 0.15)
REVIEW_STARS = (0.07, 0.06, 0.12, 0.30, 0.45)

COMMENTS = (
    "Too expensive for what it does.",
    "Support took far too long.",
    "It works, nothing special.",
    "Good, but the app is slow.",
    "Great service, I recommend it.",
    "Easy to use and reliable.",
)
"""Comments by band: two for detractors, two for passives, two for promoters."""

Array = npt.NDArray[Any]
"""Any NumPy array: the columns are of many dtypes, and NumPy's own hints lose them in arithmetic anyway."""

TEXT = pa.string()


# -- Results --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenTable:
    name: str
    path: Path
    rows: int
    size_bytes: int


@dataclass(frozen=True)
class InjectedProblem:
    """A problem ``bad_rows`` put in the data on purpose: validation must report exactly these rows."""

    table: str
    column: str
    kind: ProblemKind
    rows: tuple[int, ...]


@dataclass(frozen=True)
class GeneratedDataset:
    directory: Path
    tables: tuple[WrittenTable, ...]
    injected: tuple[InjectedProblem, ...]
    seconds: float

    @property
    def size_bytes(self) -> int:
        return sum(table.size_bytes for table in self.tables)


# -- Columns --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """A column kept as NumPy until it is written, so that only one row group at a time becomes Arrow.

    ``values`` holds the data in its plainest form: day numbers since 1970 for dates, microseconds for
    timestamps, numbers for ids (written as ``prefix`` and ``width`` digits), or positions in ``labels``
    for text from a short list. ``nulls`` marks the missing values.
    """

    values: Array
    labels: tuple[str, ...] = ()
    prefix: str = ""
    width: int = 0
    nulls: Array | None = None

    def arrow(self, rows: slice, type: pa.DataType = TEXT) -> pa.Array:
        """Rows ``rows`` of the column as an Arrow array of the canonical ``type`` (ids and labels are text)."""
        values = self.values[rows]
        nulls = None if self.nulls is None else self.nulls[rows]
        if self.prefix:
            return _fixed_width_ids(self.prefix, values, self.width, nulls)
        if self.labels:
            codes = pa.array(values.astype(np.int32), mask=nulls)
            return pa.DictionaryArray.from_arrays(codes, pa.array(self.labels)).cast(pa.string())
        if pa.types.is_date32(type):
            values = values.astype(np.int32)  # Arrow turns 32-bit day numbers into dates, not 64-bit ones
        return pa.array(values, mask=nulls).cast(type)

    def with_nulls(self, rows: Array) -> _Column:
        """The column with no value at ``rows``."""
        nulls = np.zeros(len(self.values), bool) if self.nulls is None else self.nulls.copy()
        nulls[rows] = True
        return replace(self, nulls=nulls)

    def with_values(self, rows: Array, values: Array) -> _Column:
        """The column with ``values`` at ``rows``, no longer null there."""
        changed = self.values.copy()
        changed[rows] = values
        nulls = None if self.nulls is None else self.nulls.copy()
        if nulls is not None:
            nulls[rows] = False
        return replace(self, values=changed, nulls=nulls)


def _fixed_width_ids(prefix: str, numbers: Array, width: int, nulls: Array | None) -> pa.Array:
    """Ids such as C0000042, built as bytes: Arrow's own number-to-text functions are four times slower."""
    head = np.frombuffer(prefix.encode(), np.uint8)
    size = len(head) + width
    characters = np.empty((size, len(numbers)), np.uint8)
    characters[: len(head)] = head[:, None]
    remaining = numbers.astype(np.uint64)
    for position in range(size - 1, len(head) - 1, -1):
        remaining, digit = np.divmod(remaining, np.uint64(10))
        characters[position] = digit + ord("0")
    offsets = np.arange(0, (len(numbers) + 1) * size, size, dtype=np.int32)
    validity = None if nulls is None else pa.array(~nulls).buffers()[1]
    data = np.ascontiguousarray(characters.T)
    return pa.StringArray.from_buffers(len(numbers), pa.py_buffer(offsets), pa.py_buffer(data), validity)


def _ids(prefix: str, numbers: Array, count: int, nulls: Array | None = None) -> _Column:
    """An id column wide enough for ``count`` ids, at least four digits."""
    return _Column(numbers, prefix=prefix, width=max(4, len(str(count))), nulls=nulls)


def _plain(values: Array, nulls: Array | None = None) -> _Column:
    return _Column(values, nulls=nulls)


def _labelled(codes: Array, labels: tuple[str, ...], nulls: Array | None = None) -> _Column:
    return _Column(codes, labels=labels, nulls=nulls)


@dataclass(frozen=True)
class _Text:
    """A text column that is Arrow already: respondent ids, which mix customer and employee ids."""

    values: pa.Array

    def arrow(self, rows: slice, type: pa.DataType = TEXT) -> pa.Array:
        return self.values[rows]


_Table = dict[str, _Column | _Text]


# -- The calendar ---------------------------------------------------------------------------------------------


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


@dataclass(frozen=True)
class _Calendar:
    """The days of the data set, and how busy each one is.

    Activity grows 1.5 % a month, peaks in November and December, and drops at the weekend. Dates of
    signups, orders, tickets and reviews are drawn in proportion to it, by inverting its cumulative sum.
    """

    first_day: int
    window_start: int
    window_end: int
    cumulative_activity: Array

    @classmethod
    def ending(cls, end: date, months: int) -> _Calendar:
        end_month = end.year * 12 + end.month - 1
        start_month = end_month - months + 1
        window_start = _day_number(date(start_month // 12, start_month % 12 + 1, 1))
        next_month = end_month + 1
        window_end = _day_number(date(next_month // 12, next_month % 12 + 1, 1)) - 1
        first_day = window_start - HISTORY_DAYS
        days = np.arange(first_day, window_end + 1)
        month_of_year = _month_numbers(days) % 12
        growth = 1.015 ** ((days - first_day) / 30.44)
        season = 1 + 0.2 * np.cos(2 * np.pi * (month_of_year - 10.5) / 12)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
        weekend = np.select([weekday == 5, weekday == 6], [0.7, 0.55], 1.0)
        activity = growth * season * weekend
        return cls(first_day, window_start, window_end, np.concatenate([[0.0], np.cumsum(activity)]))

    @property
    def window_days(self) -> int:
        return self.window_end - self.window_start + 1

    def draw(self, rng: np.random.Generator, first: Array | int, last: Array | int, size: int) -> Array:
        """``size`` days, each between its ``first`` and ``last`` (inclusive), as busy days are more likely."""
        low = np.broadcast_to(np.asarray(first) - self.first_day, size)
        high = np.broadcast_to(np.asarray(last) - self.first_day, size)
        cumulative = self.cumulative_activity
        targets = cumulative[low] + rng.random(size) * (cumulative[high + 1] - cumulative[low])
        drawn = np.searchsorted(cumulative, targets, side="right") - 1
        return np.asarray(np.clip(drawn, low, high).astype(np.int64) + self.first_day)

    def elapsed(self, days: Array) -> Array:
        """How far into the data set each day is, from 0 at its first day to 1 at its last."""
        return np.clip((days - self.window_start) / self.window_days, 0.0, 1.0)

    def month_index(self, days: Array) -> Array:
        """The month of each day, counted from 0 for the data set's first month."""
        return np.asarray(_month_numbers(days) - _month_numbers(np.asarray([self.window_start]))[0])


def _month_numbers(days: Array) -> Array:
    """Months since January 1970 of day numbers since 1970-01-01."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _choose(rng: np.random.Generator, shares: tuple[float, ...], size: int) -> Array:
    """Positions in ``shares``, drawn in proportion to them."""
    weights = np.asarray(shares)
    return rng.choice(len(shares), size=size, p=weights / weights.sum())


def _weighted_rows(rng: np.random.Generator, weights: Array, size: int) -> Array:
    """Rows drawn with replacement in proportion to ``weights``, by inverting their cumulative sum."""
    cumulative = np.cumsum(weights)
    return np.asarray(np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right"), np.int64)


def _seconds_into_day(rng: np.random.Generator, size: int, opens: float = 7.0, closes: float = 22.0) -> Array:
    return (rng.uniform(opens, closes, size) * 3600).astype(np.int64)


def _timestamps(days: Array, seconds: Array) -> Array:
    return days.astype(np.int64) * DAY_MICROSECONDS + seconds.astype(np.int64) * 1_000_000


def _money(values: Array) -> Array:
    return np.round(values, 2)


# -- The tables -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Customers:
    """What the other tables need to know of the customers: when each was a paying subscriber, and who."""

    signup: Array
    segment: Array
    channel: Array
    active_from: Array
    active_to: Array

    @property
    def count(self) -> int:
        return len(self.signup)

    @property
    def active_days(self) -> Array:
        """Days each customer was subscribed within the data set's window; 0 for those gone before it."""
        return np.asarray(np.maximum(self.active_to - self.active_from + 1, 0))


def _customers_and_subscriptions(
    rng: np.random.Generator, calendar: _Calendar, ids: _Column
) -> tuple[_Table, _Table, _Customers]:
    """Customers, a fifth of whom signed up before the window, each with one subscription that may end."""
    count = len(ids.values)
    before = round(count * 0.2)
    signup = np.sort(
        np.concatenate(
            [
                calendar.draw(rng, calendar.first_day, calendar.window_start - 1, before),
                calendar.draw(rng, calendar.window_start, calendar.window_end, count - before),
            ]
        )
    )
    segment = _choose(rng, SEGMENT_SHARE, count)
    channel = _choose(rng, CHANNEL_SHARE, count)
    plan_thresholds = np.cumsum(PLAN_SHARE_BY_SEGMENT, axis=1)[segment]
    plan = (rng.random(count)[:, None] > plan_thresholds).sum(axis=1)
    customers: _Table = {
        "id": ids,
        "signup_date": _plain(signup),
        "segment": _labelled(segment, SEGMENTS),
        "channel": _labelled(channel, CHANNELS),
        "region": _labelled(_choose(rng, REGION_SHARE, count), REGIONS),
        "plan": _labelled(plan, PLANS),
        "loyalty_member": _plain(rng.random(count) < np.asarray(SEGMENT_LOYALTY)[segment]),
    }
    # Churn is memoryless: each month a segment loses the same share of its remaining subscribers.
    lifetime = rng.exponential(30.44 / np.asarray(SEGMENT_MONTHLY_CHURN)[segment])
    end = signup + np.ceil(lifetime).astype(np.int64)
    running = end > calendar.window_end
    fee = np.asarray(SEGMENT_MONTHLY_FEE)[segment] * np.asarray(PLAN_FEE_FACTOR)[plan]
    subscriptions: _Table = {
        "customer_id": ids,
        "start_date": _plain(signup),
        "end_date": _plain(end, nulls=running),
        "recurring_amount": _plain(_money(fee * rng.lognormal(0, 0.15, count))),
    }
    active_from = np.maximum(signup, calendar.window_start)
    active_to = np.minimum(end, calendar.window_end)
    return customers, subscriptions, _Customers(signup, segment, channel, active_from, active_to)


def _products(rng: np.random.Generator, calendar: _Calendar, count: int) -> tuple[_Table, Array]:
    """Products: three in five launched long ago, the others through the history and the window."""
    core = round(count * 0.6)
    launch = np.sort(
        np.concatenate(
            [
                rng.integers(calendar.first_day - 5 * 365, calendar.first_day, core),
                rng.integers(calendar.first_day, calendar.window_end - 60, count - core),
            ]
        )
    )
    table: _Table = {
        "id": _ids("PRD-", np.arange(1, count + 1), count),
        "launch_date": _plain(launch),
        "kind": _labelled(_choose(rng, (0.4, 0.2, 0.25, 0.15), count), PRODUCT_KINDS),
    }
    return table, launch


def _orders(
    rng: np.random.Generator,
    calendar: _Calendar,
    customers: _Customers,
    customer_ids: _Column,
    product_launch: Array,
    count: int,
) -> tuple[_Table, Array, Array, Array]:
    """Orders by subscribed customers, the keen ones far more often, of products already launched."""
    propensity = rng.gamma(0.7, 1.0, customers.count)
    weights = propensity * np.asarray(SEGMENT_ORDER_FREQUENCY)[customers.segment] * customers.active_days
    buyer = _weighted_rows(rng, weights, count)
    day = calendar.draw(rng, customers.active_from[buyer], customers.active_to[buyer], count)
    by_date = np.argsort(day, kind="stable")
    buyer, day = buyer[by_date], day[by_date]
    segment = customers.segment[buyer]
    amount = _money(rng.lognormal(np.log(np.asarray(SEGMENT_ORDER_VALUE)[segment]), 0.55))
    margin_rate = np.clip(rng.normal(0.36, 0.12, count), -0.2, 0.8)
    popularity = 1 / (rng.permutation(len(product_launch)) + 1.0) ** 0.8
    product = _weighted_rows(rng, popularity, count)
    not_yet_launched = product_launch[product] > day
    established = np.flatnonzero(product_launch < calendar.window_start)
    product[not_yet_launched] = rng.choice(established, int(not_yet_launched.sum()))
    table: _Table = {
        "id": _ids("O", np.arange(1, count + 1), count),
        "customer_id": replace(customer_ids, values=customer_ids.values[buyer]),
        "order_date": _plain(day),
        "amount": _plain(amount),
        "gross_margin": _plain(_money(amount * margin_rate)),
        "product_id": _ids("PRD-", product + 1, len(product_launch)),
    }
    return table, buyer, day, amount


def _leads(rng: np.random.Generator, calendar: _Calendar, customers: _Customers, customer_ids: _Column) -> _Table:
    """A lead behind every customer won in the window, a few weeks before, and three that came to nothing."""
    won = np.flatnonzero(customers.signup >= calendar.window_start)
    converted = customers.signup[won]
    created_won = converted - (rng.geometric(1 / 21, len(won)) - 1)
    lost = round(len(won) * (1 - LEAD_CONVERSION) / LEAD_CONVERSION)
    created = np.concatenate([created_won, calendar.draw(rng, calendar.window_start, calendar.window_end, lost)])
    channel = np.concatenate([customers.channel[won], _choose(rng, CHANNEL_SHARE, lost)])
    customer = np.concatenate([won, np.zeros(lost, np.int64)])
    not_converted = np.arange(len(created)) >= len(won)
    by_date = np.argsort(created, kind="stable")
    not_converted = not_converted[by_date]
    count = len(created)
    return {
        "id": _ids("L", np.arange(1, count + 1), count),
        "created_date": _plain(created[by_date]),
        "channel": _labelled(channel[by_date], CHANNELS),
        "converted_date": _plain(np.concatenate([converted, np.zeros(lost, np.int64)])[by_date], nulls=not_converted),
        "customer_id": replace(customer_ids, values=customer_ids.values[customer[by_date]], nulls=not_converted),
    }


def _marketing_spend(rng: np.random.Generator, calendar: _Calendar, customers: _Customers) -> _Table:
    """Daily spend per channel: what each channel's customers of the month cost, spread over its days."""
    months = int(calendar.month_index(np.asarray([calendar.window_end]))[0]) + 1
    channels = len(CHANNELS)
    won = customers.signup >= calendar.window_start
    month = calendar.month_index(customers.signup[won])
    new_customers = np.bincount(month * channels + customers.channel[won], minlength=months * channels)
    cost = np.asarray(CHANNEL_ACQUISITION_COST)
    # A floor of two customers' worth keeps a channel that brought nobody in a month from costing nothing.
    monthly = (np.maximum(new_customers.reshape(months, channels), 2) * cost) * rng.lognormal(
        0, 0.12, (months, channels)
    )
    days = np.arange(calendar.window_start, calendar.window_end + 1)
    day_month = calendar.month_index(days)
    weekday_weight = np.where((days + 3) % 7 >= 5, 0.4, 1.0)
    share_of_month = weekday_weight / np.bincount(day_month, weights=weekday_weight)[day_month]
    amount = monthly[day_month] * share_of_month[:, None] * rng.lognormal(0, 0.05, (len(days), channels))
    return {
        "spend_date": _plain(np.repeat(days, channels)),
        "channel": _labelled(np.tile(np.arange(channels), len(days)), CHANNELS),
        "amount": _plain(_money(amount.ravel())),
    }


def _market_totals(
    rng: np.random.Generator, calendar: _Calendar, segment: Array, order_day: Array, amount: Array
) -> _Table:
    """Monthly market revenue per segment: our revenue over a share that grows slowly."""
    months = int(calendar.month_index(np.asarray([calendar.window_end]))[0]) + 1
    segments = len(SEGMENTS)
    ours = np.bincount(
        calendar.month_index(order_day) * segments + segment, weights=amount, minlength=months * segments
    ).reshape(months, segments)
    share = np.asarray(SEGMENT_MARKET_SHARE) * (1 + 0.1 * np.arange(months) / 12)[:, None]
    # A market is never smaller than a month of a few median orders, even when a tiny data set sold nothing.
    market = np.maximum(ours, 10 * np.asarray(SEGMENT_ORDER_VALUE)) / share * rng.lognormal(0, 0.04, ours.shape)
    month_starts = np.arange(months) + _month_numbers(np.asarray([calendar.window_start]))[0]
    period_start = month_starts.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return {
        "period_start": _plain(np.repeat(period_start, segments)),
        "segment": _labelled(np.tile(np.arange(segments), months), SEGMENTS),
        "market_revenue": _plain(_money(market.ravel())),
    }


@dataclass(frozen=True)
class _Tickets:
    """What the CSAT and CES surveys need of the tickets: who, when resolved, in how many contacts."""

    customer: Array
    resolved_at: Array
    resolved: Array
    contacts: Array


def _support_tickets(
    rng: np.random.Generator, calendar: _Calendar, customers: _Customers, customer_ids: _Column, count: int
) -> tuple[_Table, _Tickets]:
    """Tickets answered fast by phone and chat, slowly by email, resolved at once more often by phone."""
    customer = _weighted_rows(rng, customers.active_days.astype(np.float64), count)
    day = calendar.draw(rng, customers.active_from[customer], customers.active_to[customer], count)
    opened = np.sort(_timestamps(day, _seconds_into_day(rng, count)))
    kind = _choose(rng, TICKET_KIND_SHARE, count)
    channel = _choose(rng, SUPPORT_CHANNEL_SHARE, count)
    minute = 60_000_000
    first_response = opened + (rng.lognormal(np.log(np.asarray(FIRST_RESPONSE_MINUTES)[channel]), 0.9) * minute).astype(
        np.int64
    )
    contacts = rng.geometric(np.asarray(FIRST_CONTACT_RESOLUTION)[channel]).astype(np.int64)
    working = rng.lognormal(np.log(np.asarray(RESOLUTION_MINUTES)[kind]), 1.0) * np.sqrt(contacts)
    resolved_at = first_response + (working * minute).astype(np.int64)
    data_ends = (calendar.window_end + 1) * DAY_MICROSECONDS
    unresolved = (resolved_at >= data_ends) | (rng.random(count) < 0.01)
    table: _Table = {
        "id": _ids("T", np.arange(1, count + 1), count),
        "customer_id": replace(customer_ids, values=customer_ids.values[customer]),
        "kind": _labelled(kind, TICKET_KINDS),
        "opened_at": _plain(opened),
        "first_response_at": _plain(first_response, nulls=first_response >= data_ends),
        "resolved_at": _plain(resolved_at, nulls=unresolved),
        "contacts_to_resolve": _plain(contacts, nulls=unresolved),
        "channel": _labelled(channel, SUPPORT_CHANNELS),
    }
    return table, _Tickets(customer, resolved_at, ~unresolved, contacts)


@dataclass(frozen=True)
class _Staff:
    hire: Array
    leave: Array
    department: Array

    @property
    def count(self) -> int:
        return len(self.hire)


def _employees(rng: np.random.Generator, calendar: _Calendar, ids: _Column) -> tuple[_Table, _Staff]:
    """Staff: most hired in the eight years before the window, the rest in it; some leave every year."""
    count = len(ids.values)
    before = round(count * 0.7)
    hire = np.sort(
        np.concatenate(
            [
                rng.integers(calendar.window_start - 8 * 365, calendar.window_start, before),
                calendar.draw(rng, calendar.window_start, calendar.window_end, count - before),
            ]
        )
    )
    department = _choose(rng, DEPARTMENT_SHARE, count)
    # Staff present when the window starts stay on it for a memoryless tenure, as in the window itself.
    tenure = rng.exponential(365.25 / np.asarray(DEPARTMENT_ATTRITION)[department])
    leave = np.maximum(hire, calendar.window_start) + np.ceil(tenure).astype(np.int64)
    staying = leave > calendar.window_end
    fte = np.asarray((1.0, 0.8, 0.5))[_choose(rng, (0.85, 0.07, 0.08), count)]
    table: _Table = {
        "id": ids,
        "hire_date": _plain(hire),
        "leave_date": _plain(leave, nulls=staying),
        "department": _labelled(department, DEPARTMENTS),
        "fte": _plain(fte),
    }
    return table, _Staff(hire, np.where(staying, calendar.window_end, leave), department)


def _training_enrollments(
    rng: np.random.Generator, calendar: _Calendar, staff: _Staff, employee_ids: _Column
) -> _Table:
    """Two or three courses a year per employee; most are completed, and some pay for themselves."""
    active_from = np.maximum(staff.hire, calendar.window_start)
    active_days = np.maximum(staff.leave - active_from + 1, 0)
    per_employee = rng.poisson(2.5 * active_days / 365.25)
    employee = np.repeat(np.arange(staff.count), per_employee)
    count = len(employee)
    enrolled = active_from[employee] + (rng.random(count) * active_days[employee]).astype(np.int64)
    by_date = np.argsort(enrolled, kind="stable")
    employee, enrolled = employee[by_date], enrolled[by_date]
    course_hours = np.asarray((4, 8, 16, 24, 40))[rng.integers(0, 5, COURSES)]
    course = rng.integers(0, COURSES, count)
    hours = course_hours[course].astype(np.float64)
    cost = _money(hours * 75 * rng.uniform(0.9, 1.1, count))
    completed = enrolled + 3 + (hours / 4).astype(np.int64) + rng.exponential(20, count).astype(np.int64)
    not_completed = (rng.random(count) > 0.82) | (completed > staff.leave[employee])
    objectives_met = rng.random(count) < 0.75
    pre_score = np.round(np.clip(rng.normal(55, 12, count), 0, 100), 1)
    post_score = np.round(np.clip(pre_score + rng.normal(12, 6, count), 0, 100), 1)
    benefit = cost * np.where(objectives_met, rng.lognormal(np.log(1.8), 0.5, count), 0.3)
    return {
        "employee_id": replace(employee_ids, values=employee_ids.values[employee]),
        "course_id": _ids("COURSE-", course + 1, COURSES),
        "enrolled_date": _plain(enrolled),
        "completed_date": _plain(completed, nulls=not_completed),
        "hours": _plain(hours),
        "cost": _plain(cost),
        "objectives_met": _plain(objectives_met, nulls=not_completed),
        "pre_score": _plain(pre_score),
        "post_score": _plain(post_score, nulls=not_completed),
        "attributed_benefit": _plain(_money(benefit), nulls=not_completed),
    }


def _zero_to_ten(rng: np.random.Generator, promoters: Array, detractors: Array) -> Array:
    """Scores 0–10 with these shares of promoters (9–10) and detractors (0–6); detractors lean to 5 and 6."""
    size = len(promoters)
    draw = rng.random(size)
    detractor_score = rng.choice(7, size, p=np.asarray((1, 1, 1, 2, 3, 5, 7)) / 20)
    passive_score = 7 + rng.integers(0, 2, size)
    promoter_score = 9 + (rng.random(size) < 0.55)
    return np.select(
        [draw < detractors, draw < 1 - promoters], [detractor_score, passive_score], promoter_score
    ).astype(np.int64)


@dataclass(frozen=True)
class _Answers:
    """Survey answers of one kind, before they are put together: respondents are positions among the
    customers followed by the employees, groups among the segments followed by the departments."""

    kind: Array
    score: Array
    submitted_at: Array
    respondent: Array
    group: Array

    def __len__(self) -> int:
        return len(self.kind)

    @classmethod
    def joined(cls, parts: tuple[_Answers, ...]) -> _Answers:
        """The answers of several parts, one after the other."""
        return cls(*(np.concatenate([getattr(part, field.name) for part in parts]) for field in fields(cls)))

    def take(self, rows: Array) -> _Answers:
        """The answers at ``rows``."""
        return _Answers(*(getattr(self, field.name)[rows] for field in fields(self)))


def _nps_answers(rng: np.random.Generator, calendar: _Calendar, customers: _Customers, count: int) -> _Answers:
    """NPS answers from subscribed customers, the longer subscribed the likelier (and a customer may answer more
    than once); scores improve a little over the window."""
    customer = _weighted_rows(rng, customers.active_days.astype(np.float64), count)
    day = calendar.draw(rng, customers.active_from[customer], customers.active_to[customer], count)
    segment = customers.segment[customer]
    progress = calendar.elapsed(day)
    score = _zero_to_ten(
        rng,
        np.asarray(SEGMENT_PROMOTERS)[segment] + 0.08 * progress,
        np.asarray(SEGMENT_DETRACTORS)[segment] - 0.05 * progress,
    )
    submitted_at = _timestamps(day, _seconds_into_day(rng, count))
    return _Answers(np.full(count, SURVEY_KINDS.index("nps")), score, submitted_at, customer, segment)


def _ticket_answers(
    rng: np.random.Generator, calendar: _Calendar, customers: _Customers, tickets: _Tickets
) -> _Answers:
    """CSAT (1–5) and CES (1–7, 7 the easiest) after resolved tickets; one contact pleases more than three."""
    resolved = np.flatnonzero(tickets.resolved)
    asked = resolved[rng.random(len(resolved)) < 0.45]
    submitted_at = tickets.resolved_at[asked] + (rng.exponential(8, len(asked)) * 3_600_000_000).astype(np.int64)
    in_window = submitted_at < (calendar.window_end + 1) * DAY_MICROSECONDS
    asked, submitted_at = asked[in_window], submitted_at[in_window]
    size = len(asked)
    first_contact = tickets.contacts[asked] == 1
    csat = 1 + np.where(
        first_contact,
        rng.choice(5, size, p=(0.03, 0.04, 0.10, 0.35, 0.48)),
        rng.choice(5, size, p=(0.10, 0.12, 0.23, 0.33, 0.22)),
    )
    ces = 1 + np.where(
        first_contact,
        rng.choice(7, size, p=(0.02, 0.03, 0.05, 0.10, 0.20, 0.30, 0.30)),
        rng.choice(7, size, p=(0.08, 0.10, 0.14, 0.18, 0.20, 0.18, 0.12)),
    )
    is_csat = rng.random(size) < 2 / 3
    kind = np.where(is_csat, SURVEY_KINDS.index("csat"), SURVEY_KINDS.index("ces"))
    customer = tickets.customer[asked]
    return _Answers(kind, np.where(is_csat, csat, ces), submitted_at, customer, customers.segment[customer])


def _employee_answers(rng: np.random.Generator, calendar: _Calendar, staff: _Staff, customer_count: int) -> _Answers:
    """Employee NPS: a pulse survey in the middle of each quarter, answered by about half the staff."""
    quarter_middles = np.arange(calendar.window_start + 45, calendar.window_end + 1, 91)
    present = (staff.hire[:, None] <= quarter_middles) & (staff.leave[:, None] >= quarter_middles)
    employee, quarter = np.nonzero(present & (rng.random(present.shape) < 0.55))
    day = quarter_middles[quarter] + rng.integers(-7, 8, len(employee))
    progress = calendar.elapsed(day)
    score = _zero_to_ten(rng, 0.30 + 0.06 * progress, 0.30 - 0.05 * progress)
    submitted_at = _timestamps(day, _seconds_into_day(rng, len(employee), 8, 18))
    kind = np.full(len(employee), SURVEY_KINDS.index("employee"))
    return _Answers(kind, score, submitted_at, customer_count + employee, len(SEGMENTS) + staff.department[employee])


def _survey_responses(
    rng: np.random.Generator,
    calendar: _Calendar,
    customers: _Customers,
    customer_ids: _Column,
    tickets: _Tickets,
    staff: _Staff,
    employee_ids: _Column,
    total: int | None,
) -> _Table:
    """Every survey's answers in the order they were given, a tenth of them with a comment.

    CSAT and CES answers follow resolved tickets and employee NPS the quarterly pulse, so their numbers come
    from the tickets and the staff. NPS answers are three tenths of the customers unless ``total`` sets the
    total: then they make up what the others leave (customers answering more often), and never fall below
    their usual share of the answers (nor below 20), the others being thinned at random when the total is small.
    """
    usual_nps = max(20, round(customers.count * NPS_ANSWERS_PER_CUSTOMER))
    if total is None:
        answers = _Answers.joined(
            (
                _nps_answers(rng, calendar, customers, usual_nps),
                _ticket_answers(rng, calendar, customers, tickets),
                _employee_answers(rng, calendar, staff, customers.count),
            )
        )
    else:
        others = _Answers.joined(
            (
                _ticket_answers(rng, calendar, customers, tickets),
                _employee_answers(rng, calendar, staff, customers.count),
            )
        )
        usual_share = usual_nps / (usual_nps + len(others))
        nps_count = max(total - len(others), round(total * usual_share), min(total, 20))
        kept = np.sort(rng.choice(len(others), total - nps_count, replace=False))
        answers = _Answers.joined((_nps_answers(rng, calendar, customers, nps_count), others.take(kept)))
    kind, score, submitted_at, respondent, group = (getattr(answers, field.name) for field in fields(_Answers))
    scale_max = np.asarray((10, 5, 7, 10))[kind]  # in the order of SURVEY_KINDS
    everyone = slice(None)
    respondent_ids = pa.concat_arrays([customer_ids.arrow(everyone), employee_ids.arrow(everyone)])
    # A detractor's complaint, a passive's shrug or a promoter's praise, by the score's place on its scale.
    band = np.digitize(score / scale_max, (0.65, 0.85))
    comment = 2 * band + rng.integers(0, 2, len(score))
    by_time = np.argsort(submitted_at, kind="stable")
    count = len(score)
    return {
        "id": _ids("S", np.arange(1, count + 1), count),
        "respondent_id": _Text(respondent_ids.take(pa.array(respondent[by_time]))),
        "survey_kind": _labelled(kind[by_time], SURVEY_KINDS),
        "score": _plain(score[by_time]),
        "scale_max": _plain(scale_max[by_time]),
        "submitted_at": _plain(submitted_at[by_time]),
        "segment": _labelled(group[by_time], SEGMENTS + DEPARTMENTS),
        "comment": _labelled(comment[by_time], COMMENTS, nulls=rng.random(count) > 0.1),
    }


def _projects(rng: np.random.Generator, calendar: _Calendar, count: int) -> _Table:
    """Projects ending through the window, more of them successful as it goes; some still running."""
    end = np.sort(rng.integers(calendar.window_start, calendar.window_end + 1, count))
    running = rng.random(count) < 0.12
    successful = rng.random(count) < 0.65 + 0.12 * calendar.elapsed(end)
    return {
        "id": _ids("PRJ-", np.arange(1, count + 1), count),
        "end_date": _plain(end, nulls=running),
        "successful": _plain(successful, nulls=running),
    }


def _social_engagement(rng: np.random.Generator, calendar: _Calendar, customers: int) -> _Table:
    """Daily impressions and engagements per platform, growing with the calendar's activity."""
    days = np.arange(calendar.window_start, calendar.window_end + 1)
    platforms = len(PLATFORMS)
    activity = np.diff(calendar.cumulative_activity)[days - calendar.first_day]
    expected = activity[:, None] * np.asarray(PLATFORM_REACH) * customers
    impressions = np.round(expected * rng.lognormal(0, 0.25, expected.shape)).astype(np.int64)
    rate = np.clip(np.asarray(PLATFORM_ENGAGEMENT) * rng.lognormal(0, 0.15, expected.shape), 0, 1)
    engagements = rng.binomial(impressions, rate).astype(np.int64)
    return {
        "activity_date": _plain(np.repeat(days, platforms)),
        "platform": _labelled(np.tile(np.arange(platforms), len(days)), PLATFORMS),
        "impressions": _plain(impressions.ravel()),
        "engagements": _plain(engagements.ravel()),
    }


def _reviews(rng: np.random.Generator, calendar: _Calendar, count: int) -> _Table:
    """Public reviews, mostly four and five stars, a little better towards the end."""
    day = np.sort(calendar.draw(rng, calendar.window_start, calendar.window_end, count))
    stars = np.asarray(REVIEW_STARS)
    draw = rng.random(count) - 0.04 * calendar.elapsed(day)  # a lower draw is a better review
    rating = 5 - np.searchsorted(np.cumsum(stars[::-1]), draw, side="right")
    return {
        "review_date": _plain(day),
        "platform": _labelled(_choose(rng, REVIEW_PLATFORM_SHARE, count), REVIEW_PLATFORMS),
        "rating": _plain(np.clip(rating, 1, 5).astype(np.float64)),
    }


# -- Bad rows -------------------------------------------------------------------------------------------------


def _inject_bad_rows(tables: dict[str, _Table]) -> tuple[InjectedProblem, ...]:
    """Spoil two rows of each kind in known places, and say which (as 1-based row numbers).

    Rows 2 and 4 are spoilt where the kind allows any row, so that the problems of one table never
    share a row; the NPS score goes on the first two NPS responses.
    """
    spoilt = np.asarray([1, 3])
    injected: list[InjectedProblem] = []

    def spoil(table: str, column: str, kind: ProblemKind, rows: Array, changed: _Column) -> None:
        tables[table][column] = changed
        injected.append(InjectedProblem(table, column, kind, tuple(int(row) + 1 for row in rows)))

    customer_id = _column(tables, "customers", "id")
    spoil(
        "customers", "id", ProblemKind.DUPLICATE_ID, spoilt, customer_id.with_values(spoilt, customer_id.values[[0, 2]])
    )
    amount = _column(tables, "orders", "amount")
    spoil("orders", "amount", ProblemKind.NEGATIVE, spoilt, amount.with_values(spoilt, -amount.values[spoilt]))
    missing = spoilt + 4
    spoil(
        "orders",
        "order_date",
        ProblemKind.MISSING_VALUE,
        missing,
        _column(tables, "orders", "order_date").with_nulls(missing),
    )
    survey_kind = _column(tables, "survey_responses", "survey_kind")
    nps_rows = np.flatnonzero(survey_kind.values == SURVEY_KINDS.index("nps"))[:2]
    score = _column(tables, "survey_responses", "score")
    spoil(
        "survey_responses",
        "score",
        ProblemKind.OUT_OF_RANGE,
        nps_rows,
        score.with_values(nps_rows, np.asarray([11, 12])),
    )
    opened = _column(tables, "support_tickets", "opened_at").values[spoilt]
    resolved = _column(tables, "support_tickets", "resolved_at")
    spoil(
        "support_tickets",
        "resolved_at",
        ProblemKind.OUT_OF_ORDER,
        spoilt,
        resolved.with_values(spoilt, opened - 3_600_000_000),
    )
    enrolled = _column(tables, "training_enrollments", "enrolled_date").values[spoilt]
    completed = _column(tables, "training_enrollments", "completed_date")
    spoil(
        "training_enrollments",
        "completed_date",
        ProblemKind.OUT_OF_ORDER,
        spoilt,
        completed.with_values(spoilt, enrolled - 3),
    )
    hired = _column(tables, "employees", "hire_date").values[spoilt]
    leave = _column(tables, "employees", "leave_date")
    spoil("employees", "leave_date", ProblemKind.OUT_OF_ORDER, spoilt, leave.with_values(spoilt, hired - 10))
    return tuple(injected)


def _column(tables: dict[str, _Table], table: str, column: str) -> _Column:
    found = tables[table][column]
    assert isinstance(found, _Column), f"{table}.{column} is not drawn as NumPy"
    return found


# -- Writing --------------------------------------------------------------------------------------------------


def _write(directory: Path, name: str, columns: _Table) -> WrittenTable:
    """One Parquet file per table, with exactly the canonical schema, a row group at a time."""
    schema = TABLES[name].schema.to_pyarrow()
    path = directory / f"{name}.parquet"
    first = next(iter(columns.values()))
    rows = len(first.values)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, max(rows, 1), ROW_GROUP_ROWS):
            group = slice(start, min(start + ROW_GROUP_ROWS, rows))
            arrays = [columns[field.name].arrow(group, field.type) for field in schema]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    return WrittenTable(name, path, rows, path.stat().st_size)


def generate_dataset(
    directory: Path,
    *,
    end: date,
    customers: int = 10_000,
    orders: int = 100_000,
    months: int = 36,
    seed: int = 0,
    bad_rows: bool = False,
    survey_responses: int | None = None,
    tickets: int | None = None,
) -> GeneratedDataset:
    """Write every canonical table as ``<table>.parquet`` in ``directory``, for ``months`` months to ``end``.

    ``end`` is any day of the last month. The other tables grow with the number of customers: half a
    ticket, three tenths of an NPS answer and a twentieth of a review per customer, an employee per 200
    customers (at least 40), and so on; a fifth of the customers signed up before the first month.
    ``tickets`` and ``survey_responses`` set those two tables' rows instead, for a data set as busy as a
    given company's; the survey answers keep following the tickets and the staff, NPS answers making up the
    rest. ``bad_rows`` spoils a few rows in known ways; :attr:`GeneratedDataset.injected` lists them.
    """
    if customers < 1 or orders < 0 or months < 1:
        raise ValueError("a data set needs at least one customer and one month, and no negative count of orders")
    if (survey_responses is not None and survey_responses < 0) or (tickets is not None and tickets < 0):
        raise ValueError("a data set cannot have a negative count of survey responses or tickets")
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    calendar = _Calendar.ending(end, months)
    # One random stream per table, so that changing how one table is drawn leaves the others as they were.
    seeds = np.random.SeedSequence(seed).spawn(len(TABLES))
    rng = {name: np.random.default_rng(stream) for name, stream in zip(TABLES, seeds, strict=True)}
    customer_ids = _ids("C", np.arange(1, customers + 1), customers)
    customer_table, subscriptions, base = _customers_and_subscriptions(rng["customers"], calendar, customer_ids)
    products, launch = _products(rng["products"], calendar, 30 + customers // 10_000)
    order_table, buyer, order_day, amount = _orders(rng["orders"], calendar, base, customer_ids, launch, orders)
    ticket_count = max(20, round(customers * TICKETS_PER_CUSTOMER)) if tickets is None else tickets
    ticket_table, ticket_facts = _support_tickets(rng["support_tickets"], calendar, base, customer_ids, ticket_count)
    staff_count = max(40, customers // 200)
    employee_ids = _ids("E", np.arange(1, staff_count + 1), staff_count)
    employee_table, staff = _employees(rng["employees"], calendar, employee_ids)
    tables: dict[str, _Table] = {
        "customers": customer_table,
        "orders": order_table,
        "subscriptions": subscriptions,
        "marketing_spend": _marketing_spend(rng["marketing_spend"], calendar, base),
        "leads": _leads(rng["leads"], calendar, base, customer_ids),
        "market_totals": _market_totals(rng["market_totals"], calendar, base.segment[buyer], order_day, amount),
        "survey_responses": _survey_responses(
            rng["survey_responses"], calendar, base, customer_ids, ticket_facts, staff, employee_ids, survey_responses
        ),
        "support_tickets": ticket_table,
        "employees": employee_table,
        "training_enrollments": _training_enrollments(rng["training_enrollments"], calendar, staff, employee_ids),
        "projects": _projects(rng["projects"], calendar, max(12, staff_count // 8)),
        "products": products,
        "social_engagement": _social_engagement(rng["social_engagement"], calendar, customers),
        "reviews": _reviews(rng["reviews"], calendar, max(20, round(customers * 0.05))),
    }
    injected = _inject_bad_rows(tables) if bad_rows else ()
    written = tuple(_write(directory, name, tables[name]) for name in TABLES)
    return GeneratedDataset(directory, written, injected, time.perf_counter() - started)
