"""A realistic, seeded data set of every canonical table, for demos, tests and benchmarks.

A fictitious company sells subscriptions and orders to five customer segments through six acquisition
channels. Its numbers behave the way real ones do, so that every KPI computed from them is plausible and
moves over time: signups grow month on month with a peak before the year's end and quiet weekends,
subscriptions churn at a rate that depends on the segment, marketing spend follows the customers each
channel brings in, NPS and ratings improve slowly, tickets get faster answers by chat than by email, and
staff are hired, leave and go on courses. That company is :data:`DEFAULT_PROFILE`; a :class:`DatasetProfile`
describes another business (its segments, channels, departments and courses) and how its numbers drift over the
window, so that the KPIs computed from its data tell that business's story.

Everything is drawn from one seed, table by table from independent streams, so that the same arguments
give the same files on any machine. Every column is drawn as a NumPy array at once, never row by row,
and only one row group at a time becomes Arrow while it is written: a million customers and ten million
orders take seconds, not minutes.

``bad_rows=True`` spoils a few rows of several tables in known ways (a repeated id, a negative amount, an
NPS score of 11, a ticket resolved before it was opened…) and says which, so that a test can check that
validation finds exactly those.
"""

from __future__ import annotations

import functools
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

DAY_MICROSECONDS = 86_400_000_000

Array = npt.NDArray[Any]
"""Any NumPy array: the columns are of many dtypes, and NumPy's own hints lose them in arithmetic anyway."""

COMMENTS = (
    "Too expensive for what it does.",
    "Support took far too long.",
    "It works, nothing special.",
    "Good, but the app is slow.",
    "Great service, I recommend it.",
    "Easy to use and reliable.",
)
"""Comments by band: two for detractors, two for passives, two for promoters."""

TEXT = pa.string()


# -- Profiles -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """A number that moves in a straight line across the data set's window: ``start`` on its first day, ``end``
    on its last, and stays at those before and after it.

    It is how a profile tells a story (satisfaction rising, acquisition getting dearer) while every row is still
    drawn at random around it. A steady drift (``start == end``) changes nothing the generator draws, so that a
    knob added as a drift keeps the data of earlier versions.
    """

    start: float
    end: float

    def at(self, progress: Array) -> Array:
        """The value at each ``progress`` through the window, from 0 on its first day to 1 on its last."""
        return np.asarray(self.start + (self.end - self.start) * progress)


def _check_lengths(group: str, names: tuple[str, ...], **values: tuple[Any, ...]) -> None:
    """Every per-name tuple of a profile group has one value per name, or the group is refused."""
    wrong = [field for field, value in values.items() if len(value) != len(names)]
    if wrong:
        raise ValueError(f"{group}: {', '.join(wrong)} must have one value for each of the {len(names)} names")


@dataclass(frozen=True)
class ActivityProfile:
    """How busy the business is from day to day: every dated row (signups, orders, tickets, reviews) is drawn in
    proportion to it."""

    monthly_growth: Drift = Drift(0.015, 0.015)
    """Month-on-month growth of activity, at the window's start and at its end; the history before the window
    grows at the start rate. Revenue growth follows it, together with the growth of the subscriber base."""
    season_amplitude: float = 0.2
    """How far activity rises above (and falls below) its trend at the peak of the year (and half a year later)."""
    peak_month: float = 10.5
    """When in the year activity peaks, as a month from 0 (January) to 11 (December): 10.5 makes November and
    December the peak alike."""
    weekend: tuple[float, float] = (0.7, 0.55)
    """Activity on Saturdays and on Sundays, relative to a weekday: a shop is quieter then, a monthly bill not.
    Months differ by their weekends, so a deep dip makes monthly figures (and their growth) jump."""
    history_days: int = 730
    """Days before the window in which the customers of :attr:`SegmentProfile.signed_up_before` signed up and
    some products were launched: a long history gives a mature customer base."""


@dataclass(frozen=True)
class SegmentProfile:
    """The customer segments, what sets them apart, and how long their subscriptions last.

    The tuples have one value per segment, in the order of :attr:`names`.
    """

    names: tuple[str, ...] = ("Enterprise", "Mid-market", "Small business", "Consumer", "Public sector")
    """Segment names, as written in customers.segment and market_totals.segment."""
    share: tuple[float, ...] = (0.05, 0.15, 0.30, 0.40, 0.10)
    """Share of the customers in each segment."""
    order_value: tuple[float, ...] = (2400.0, 800.0, 250.0, 60.0, 1200.0)
    """Median order amount by segment (amounts are lognormal around it): revenue per active customer."""
    order_frequency: tuple[float, ...] = (3.0, 2.0, 1.2, 1.0, 1.5)
    """How much more often a customer of the segment orders than one of weight 1, for the same days subscribed."""
    monthly_fee: tuple[float, ...] = (1500.0, 400.0, 90.0, 15.0, 700.0)
    """Median subscription fee per month (subscriptions.recurring_amount), before the plan's factor."""
    monthly_churn: tuple[float, ...] = (0.008, 0.015, 0.03, 0.045, 0.01)
    """Share of a segment's subscribers leaving each month at the start of the window: retention and churn, and
    with the margin, customer lifetime value."""
    churn_trend: Drift = Drift(1.0, 1.0)
    """Factor on every segment's churn rate across the window, at any tenure: below 1 at the end, retention
    improves through the window."""
    lifetime_shape: float = 1.0
    """Weibull shape of subscription lifetimes: 1 is a churn rate that is the same at any tenure; below 1 new
    subscribers leave far more often than those who stayed, as trial sign-ups do, so that the churn over a
    quarter is lower than three months of the monthly rate. The segment's churn then sets the scale: 1 / churn
    months is when 63 % of a cohort has left."""
    signed_up_before: float = 0.2
    """Share of the customers who signed up in the history before the window rather than in it: the higher, the
    larger and steadier the subscriber base the window starts with."""
    market_share: tuple[float, ...] = (0.03, 0.05, 0.04, 0.02, 0.06)
    """Our share of each segment's market at the start of the window; it grows by a tenth a year."""
    loyalty: tuple[float, ...] = (0.10, 0.20, 0.25, 0.40, 0.05)
    """Share of the segment's customers in the loyalty programme."""
    promoters: tuple[float, ...] = (0.45, 0.42, 0.40, 0.36, 0.44)
    """Share of promoters (9–10) among the segment's NPS answers at the start of the window."""
    detractors: tuple[float, ...] = (0.16, 0.19, 0.22, 0.27, 0.18)
    """Share of detractors (0–6) among the segment's NPS answers at the start of the window."""
    promoters_shift: float = 0.08
    """Change of every segment's share of promoters from the window's first day to its last."""
    detractors_shift: float = -0.05
    """Change of every segment's share of detractors from the window's first day to its last."""
    nps_answers_per_customer: float = 0.3
    """NPS answers per customer over the whole data set (unless ``survey_responses`` sets the total)."""
    plans: tuple[str, ...] = ("Basic", "Standard", "Premium")
    """Plan names, as written in customers.plan."""
    plan_fee_factor: tuple[float, ...] = (1.0, 1.8, 3.2)
    """Factor on the segment's monthly fee for each plan."""
    plan_share_by_segment: tuple[tuple[float, ...], ...] = (
        (0.2, 0.4, 0.4),
        (0.3, 0.45, 0.25),
        (0.5, 0.4, 0.1),
        (0.65, 0.3, 0.05),
        (0.25, 0.5, 0.25),
    )
    """For each segment, the share of its customers on each plan."""
    regions: tuple[str, ...] = ("North", "South", "East", "West", "International")
    """Region names, as written in customers.region."""
    region_share: tuple[float, ...] = (0.25, 0.20, 0.20, 0.20, 0.15)
    """Share of the customers in each region."""

    def __post_init__(self) -> None:
        _check_lengths(
            "segments",
            self.names,
            share=self.share,
            order_value=self.order_value,
            order_frequency=self.order_frequency,
            monthly_fee=self.monthly_fee,
            monthly_churn=self.monthly_churn,
            market_share=self.market_share,
            loyalty=self.loyalty,
            promoters=self.promoters,
            detractors=self.detractors,
            plan_share_by_segment=self.plan_share_by_segment,
        )
        for shares in self.plan_share_by_segment:
            _check_lengths("segments", self.plans, plan_fee_factor=self.plan_fee_factor, plan_share_by_segment=shares)
        _check_lengths("segments", self.regions, region_share=self.region_share)
        if self.lifetime_shape <= 0 or min(self.churn_trend.start, self.churn_trend.end) <= 0:
            raise ValueError("segments: the lifetime shape and the churn trend must be above 0")


@dataclass(frozen=True)
class SalesProfile:
    """What orders are worth, and what is sold."""

    order_value_trend: Drift = Drift(1.0, 1.0)
    """Factor on every order amount across the window: price rises, or a richer product mix, lift revenue per
    active customer."""
    margin_rate: Drift = Drift(0.36, 0.36)
    """Mean gross margin as a share of the order amount (orders vary around it), across the window."""
    margin_range: tuple[float, float] = (-0.2, 0.8)
    """The lowest and the highest margin rate an order can have: a few are sold at a loss."""
    order_propensity: float = 0.7
    """Gamma shape of how keen customers are to order: below 1 a few keen customers order far more often than the
    rest; large, every subscriber orders about as often, as with monthly bills."""
    product_kinds: tuple[str, ...] = ("Software", "Hardware", "Services", "Add-on")
    """Product lines, as written in products.kind."""
    product_kind_share: tuple[float, ...] = (0.4, 0.2, 0.25, 0.15)
    """Share of the products of each kind."""

    def __post_init__(self) -> None:
        _check_lengths("sales", self.product_kinds, product_kind_share=self.product_kind_share)


@dataclass(frozen=True)
class AcquisitionProfile:
    """Where customers come from and what winning them costs: CAC, CAC by channel, leads and conversion."""

    channels: tuple[str, ...] = ("Organic search", "Paid search", "Social", "Referral", "Partner", "Events")
    """Acquisition channels, as written in customers.channel, marketing_spend.channel and leads.channel."""
    share: tuple[float, ...] = (0.25, 0.25, 0.15, 0.15, 0.12, 0.08)
    """Share of the customers (and of the leads that come to nothing) brought in by each channel."""
    cost: tuple[float, ...] = (40.0, 320.0, 210.0, 90.0, 450.0, 1100.0)
    """What a customer won through the channel costs in marketing spend, at the start of the window."""
    cost_trend: Drift = Drift(1.0, 1.0)
    """Factor on every channel's cost across the window: above 1 at the end, acquisition gets dearer."""
    lead_conversion: float = 0.25
    """Share of the leads that become customers; the others come to nothing."""

    def __post_init__(self) -> None:
        _check_lengths("acquisition", self.channels, share=self.share, cost=self.cost)


@dataclass(frozen=True)
class SupportProfile:
    """Support tickets by channel and kind, how fast and how well they are handled, and the surveys after them.

    Per-channel tuples follow :attr:`channels`; per-kind ones follow :data:`~fourfold.metrics.tables.TICKET_KINDS`
    (complaint, question, feedback).
    """

    tickets_per_customer: float = 0.5
    """Tickets per customer over the whole data set (unless ``tickets`` sets the number)."""
    channels: tuple[str, ...] = ("email", "phone", "chat", "web form")
    """Support channels, as written in support_tickets.channel."""
    channel_share: tuple[float, ...] = (0.40, 0.25, 0.25, 0.10)
    """Share of the tickets coming in through each channel."""
    first_response_minutes: tuple[float, ...] = (240.0, 1.5, 3.0, 300.0)
    """Median wait for a first answer by channel: a phone is answered at once, an email in hours."""
    response_trend_by_kind: tuple[Drift, Drift, Drift] = (Drift(1.0, 1.0), Drift(1.0, 1.0), Drift(1.0, 1.0))
    """Factor on the wait for a first answer by ticket kind, across the window: feedback handled by a team of
    its own waits longer, and a falling factor is a team getting faster (feedback response time)."""
    first_contact_resolution: tuple[float, ...] = (0.62, 0.78, 0.74, 0.58)
    """Share of each channel's tickets resolved at the first contact at the start of the window; the others take
    more contacts, each as likely to be the last."""
    first_contact_resolution_shift: float = 0.0
    """Change of every channel's first-contact resolution from the window's first day to its last."""
    kind_share: tuple[float, float, float] = (0.2, 0.65, 0.15)
    """Shares of complaints, questions and feedback."""
    resolution_minutes: tuple[float, float, float] = (1440.0, 240.0, 2880.0)
    """Median time from the first answer to resolution by kind, for a ticket resolved in one contact."""
    surveyed_share: float = 0.45
    """Share of the resolved tickets whose customer answers a CSAT (two in three) or CES question afterwards."""
    csat_after_first_contact: tuple[float, float, float, float, float] = (0.03, 0.04, 0.10, 0.35, 0.48)
    """Shares of the CSAT scores 1 to 5 after a ticket resolved at the first contact."""
    csat_after_more_contacts: tuple[float, float, float, float, float] = (0.10, 0.12, 0.23, 0.33, 0.22)
    """Shares of the CSAT scores 1 to 5 after a ticket that took more contacts."""
    ces_after_first_contact: tuple[float, ...] = (0.02, 0.03, 0.05, 0.10, 0.20, 0.30, 0.30)
    """Shares of the CES scores 1 to 7 (7 the easiest) after a ticket resolved at the first contact."""
    ces_after_more_contacts: tuple[float, ...] = (0.08, 0.10, 0.14, 0.18, 0.20, 0.18, 0.12)
    """Shares of the CES scores 1 to 7 after a ticket that took more contacts."""
    satisfaction_lift: float = 0.0
    """Share of the CSAT and CES answers moved one score up by the end of the window (none at its start), beside
    what better first-contact resolution brings: the top-two-box CSAT rises by as much."""

    def __post_init__(self) -> None:
        _check_lengths(
            "support",
            self.channels,
            channel_share=self.channel_share,
            first_response_minutes=self.first_response_minutes,
            first_contact_resolution=self.first_contact_resolution,
        )
        if len(self.ces_after_first_contact) != 7 or len(self.ces_after_more_contacts) != 7:
            raise ValueError("support: the CES shares must have one value for each score from 1 to 7")


@dataclass(frozen=True)
class StaffProfile:
    """The workforce: headcount, departments, turnover, and the employee NPS pulse.

    Per-department tuples follow :attr:`departments`.
    """

    headcount: int | None = None
    """Employees on the books, leavers included; ``None`` for one per 200 customers (at least 40)."""
    departments: tuple[str, ...] = ("Sales", "Marketing", "Customer support", "Engineering", "Finance", "Operations")
    """Department names, as written in employees.department (and survey_responses.segment of employee answers)."""
    department_share: tuple[float, ...] = (0.20, 0.08, 0.25, 0.25, 0.07, 0.15)
    """Share of the employees in each department."""
    attrition: tuple[float, ...] = (0.22, 0.15, 0.25, 0.10, 0.08, 0.12)
    """Share of a department's staff leaving in a year: employee turnover."""
    hired_before: float = 0.7
    """Share of the employees hired in the eight years before the window rather than in it."""
    promoters: float = 0.30
    """Share of promoters among the employee NPS answers at the start of the window."""
    detractors: float = 0.30
    """Share of detractors among the employee NPS answers at the start of the window."""
    promoters_shift: float = 0.06
    """Change of the share of promoters among employees from the window's first day to its last."""
    detractors_shift: float = -0.05
    """Change of the share of detractors among employees from the window's first day to its last."""

    def __post_init__(self) -> None:
        _check_lengths("staff", self.departments, department_share=self.department_share, attrition=self.attrition)


@dataclass(frozen=True)
class TrainingProfile:
    """The courses staff take, and what comes of them: training hours, completion, objectives met, training ROI."""

    courses: int = 25
    """Courses in the catalogue, each of one of the :attr:`course_hours`."""
    course_hours: tuple[float, ...] = (4, 8, 16, 24, 40)
    """The lengths a course can have, in hours, equally likely."""
    course_length_trend: Drift = Drift(1.0, 1.0)
    """Factor on every course's hours across the window (rounded to half hours): below 1, courses are reworked
    into shorter modules."""
    enrolments_per_year: Drift = Drift(2.5, 2.5)
    """Courses an employee enrols in per year, across the window: the number of enrolments and completions."""
    completion: Drift = Drift(0.82, 0.82)
    """Share of the enrolments completed (before the employee leaves), across the window."""
    days_to_complete: float = 20.0
    """Mean days from enrolment to completion beyond the course's own length (three days and a day per four
    hours); recent enrolments are not completed yet, so the last months' completion rate is lower."""
    objectives_met: Drift = Drift(0.75, 0.75)
    """Share of the completed courses whose learning objectives were met, across the window."""
    cost_per_hour: float = 75.0
    """Cost of an hour of training (each enrolment varies by a tenth around it)."""
    benefit_multiple: Drift = Drift(1.8, 1.8)
    """Median benefit attributed to a course whose objectives were met, as a multiple of its cost, across the
    window: with :attr:`objectives_met`, the training ROI."""
    benefit_multiple_unmet: float = 0.3
    """Benefit attributed to a course whose objectives were not met, as a multiple of its cost."""

    def __post_init__(self) -> None:
        if min(self.enrolments_per_year.start, self.enrolments_per_year.end) <= 0:
            raise ValueError("training: the enrolments per year must be above 0")


@dataclass(frozen=True)
class SocialProfile:
    """Social media reach and public reviews."""

    platforms: tuple[str, ...] = ("LinkedIn", "Instagram", "Facebook", "X", "YouTube")
    """Social platforms, as written in social_engagement.platform."""
    platform_reach: tuple[float, ...] = (0.5, 0.9, 0.7, 0.4, 0.3)
    """Daily impressions per customer, by platform."""
    platform_engagement: tuple[float, ...] = (0.030, 0.045, 0.020, 0.015, 0.050)
    """Share of the impressions engaged with, by platform."""
    review_platforms: tuple[str, ...] = ("Google", "Trustpilot", "G2", "App Store")
    """Review sites, as written in reviews.platform."""
    review_platform_share: tuple[float, ...] = (0.4, 0.3, 0.15, 0.15)
    """Share of the reviews posted on each site."""
    review_stars: tuple[float, float, float, float, float] = (0.07, 0.06, 0.12, 0.30, 0.45)
    """Shares of the ratings 1 to 5 stars at the start of the window; a few more are better by its end."""

    def __post_init__(self) -> None:
        _check_lengths(
            "social", self.platforms, platform_reach=self.platform_reach, platform_engagement=self.platform_engagement
        )
        _check_lengths("social", self.review_platforms, review_platform_share=self.review_platform_share)


@dataclass(frozen=True)
class DatasetProfile:
    """What kind of business the data set describes, and how its numbers move over the window.

    The sizes (customers, orders, months) and the seed are arguments of :func:`generate_dataset`; a profile is
    everything else, so that one business can be generated at any size. The default is a company selling
    subscriptions and orders to five segments, from enterprises to consumers; a profile for another business
    replaces the groups that differ, e.g. ``replace(DEFAULT_PROFILE, staff=StaffProfile(headcount=1200))``.
    """

    activity: ActivityProfile = ActivityProfile()
    """Growth, seasonality and history of the business's activity."""
    segments: SegmentProfile = SegmentProfile()
    """Customer segments, plans and regions, subscriptions and churn, NPS."""
    sales: SalesProfile = SalesProfile()
    """Order value and margin over time, product lines."""
    acquisition: AcquisitionProfile = AcquisitionProfile()
    """Acquisition channels and their cost."""
    support: SupportProfile = SupportProfile()
    """Support tickets, their handling and the CSAT and CES answers after them."""
    staff: StaffProfile = StaffProfile()
    """Headcount, departments, turnover and employee NPS."""
    training: TrainingProfile = TrainingProfile()
    """Courses, completion, objectives met and the benefit of training."""
    social: SocialProfile = SocialProfile()
    """Social media and review sites."""


DEFAULT_PROFILE = DatasetProfile()
"""The fictitious company of ``fourfold demo-data``: the same files for the same seed as before profiles existed."""

SEGMENTS = DEFAULT_PROFILE.segments.names
"""The default profile's segments."""
CHANNELS = DEFAULT_PROFILE.acquisition.channels
"""The default profile's acquisition channels."""


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

    Activity grows month on month at the profile's rate, peaks once a year, and drops at the weekend. Dates of
    signups, orders, tickets and reviews are drawn in proportion to it, by inverting its cumulative sum.
    """

    first_day: int
    window_start: int
    window_end: int
    cumulative_activity: Array

    @classmethod
    def ending(cls, end: date, months: int, activity: ActivityProfile) -> _Calendar:
        end_month = end.year * 12 + end.month - 1
        start_month = end_month - months + 1
        window_start = _day_number(date(start_month // 12, start_month % 12 + 1, 1))
        next_month = end_month + 1
        window_end = _day_number(date(next_month // 12, next_month % 12 + 1, 1)) - 1
        first_day = window_start - activity.history_days
        days = np.arange(first_day, window_end + 1)
        month_of_year = _month_numbers(days) % 12
        start_rate, end_rate = 1 + activity.monthly_growth.start, 1 + activity.monthly_growth.end
        # Every day grows at the start rate, and by the share of the window gone at the end rate instead: the
        # exponent of the end rate's excess is the months of the window weighted by how far into it they are.
        ramp_months = np.cumsum(_progress(days, window_start, window_end)) / 30.44
        growth = start_rate ** ((days - first_day) / 30.44) * (end_rate / start_rate) ** ramp_months
        season = 1 + activity.season_amplitude * np.cos(2 * np.pi * (month_of_year - activity.peak_month) / 12)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
        weekend = np.select([weekday == 5, weekday == 6], activity.weekend, 1.0)
        activity_by_day = growth * season * weekend
        return cls(first_day, window_start, window_end, np.concatenate([[0.0], np.cumsum(activity_by_day)]))

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
        return _progress(days, self.window_start, self.window_end)

    def month_index(self, days: Array) -> Array:
        """The month of each day, counted from 0 for the data set's first month."""
        return np.asarray(_month_numbers(days) - _month_numbers(np.asarray([self.window_start]))[0])


def _progress(days: Array, window_start: int, window_end: int) -> Array:
    """How far into the window from ``window_start`` to ``window_end`` each day is, from 0 to 1."""
    return np.clip((days - window_start) / (window_end - window_start + 1), 0.0, 1.0)


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
    rng: np.random.Generator,
    calendar: _Calendar,
    ids: _Column,
    segments: SegmentProfile,
    acquisition: AcquisitionProfile,
) -> tuple[_Table, _Table, _Customers]:
    """Customers, some of whom signed up before the window, each with one subscription that may end."""
    count = len(ids.values)
    before = round(count * segments.signed_up_before)
    signup = np.sort(
        np.concatenate(
            [
                calendar.draw(rng, calendar.first_day, calendar.window_start - 1, before),
                calendar.draw(rng, calendar.window_start, calendar.window_end, count - before),
            ]
        )
    )
    segment = _choose(rng, segments.share, count)
    channel = _choose(rng, acquisition.share, count)
    plan_thresholds = np.cumsum(segments.plan_share_by_segment, axis=1)[segment]
    plan = (rng.random(count)[:, None] > plan_thresholds).sum(axis=1)
    customers: _Table = {
        "id": ids,
        "signup_date": _plain(signup),
        "segment": _labelled(segment, segments.names),
        "channel": _labelled(channel, acquisition.channels),
        "region": _labelled(_choose(rng, segments.region_share, count), segments.regions),
        "plan": _labelled(plan, segments.plans),
        "loyalty_member": _plain(rng.random(count) < np.asarray(segments.loyalty)[segment]),
    }
    # A Weibull lifetime (memoryless for a shape of 1) at the segment's churn rate, run on the churn trend's clock.
    scale = 30.44 / np.asarray(segments.monthly_churn)[segment]
    lifetime = scale * rng.standard_exponential(count) ** (1 / segments.lifetime_shape)
    end = signup + np.ceil(_days_to_churn(calendar, signup, lifetime, segments.churn_trend)).astype(np.int64)
    running = end > calendar.window_end
    fee = np.asarray(segments.monthly_fee)[segment] * np.asarray(segments.plan_fee_factor)[plan]
    subscriptions: _Table = {
        "customer_id": ids,
        "start_date": _plain(signup),
        "end_date": _plain(end, nulls=running),
        "recurring_amount": _plain(_money(fee * rng.lognormal(0, 0.15, count))),
    }
    active_from = np.maximum(signup, calendar.window_start)
    active_to = np.minimum(end, calendar.window_end)
    return customers, subscriptions, _Customers(signup, segment, channel, active_from, active_to)


def _days_to_churn(calendar: _Calendar, signup: Array, lifetime: Array, trend: Drift) -> Array:
    """Days from each signup to the end of the subscription, for a ``lifetime`` in days at the segment's own
    churn rate, when the churn trend makes customers leave faster or slower.

    The churn rate is ``trend.start`` times the segment's before the window, ``trend.end`` times after it, and
    moves in a straight line in between, so a subscription uses up its lifetime at a constant, then a linear, then
    a constant pace; each piece is inverted in closed form. A steady trend of 1 gives the lifetime itself, exactly.
    """
    low, high, window = trend.start, trend.end, calendar.window_days
    slope = (high - low) / window
    before = np.maximum(calendar.window_start - signup, 0)  # days subscribed before the window
    entered = np.maximum(signup - calendar.window_start, 0)  # the day of the window the subscription enters it
    left = lifetime - low * before  # lifetime left on entering the window
    pace = low + slope * entered
    rest = window - entered
    in_window = pace * rest + slope / 2 * rest**2  # lifetime the rest of the window uses up
    # The root of pace·t + slope·t²/2 = left, written so that a slope of 0 gives left / pace without cancellation.
    within = 2 * left / (pace + np.sqrt(np.maximum(pace**2 + 2 * slope * left, 0)))
    after = before + rest + (left - in_window) / high
    return np.select([left <= 0, left <= in_window], [lifetime / low, before + within], after)


def _products(rng: np.random.Generator, calendar: _Calendar, count: int, sales: SalesProfile) -> tuple[_Table, Array]:
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
        "kind": _labelled(_choose(rng, sales.product_kind_share, count), sales.product_kinds),
    }
    return table, launch


def _orders(
    rng: np.random.Generator,
    calendar: _Calendar,
    customers: _Customers,
    customer_ids: _Column,
    product_launch: Array,
    count: int,
    segments: SegmentProfile,
    sales: SalesProfile,
) -> tuple[_Table, Array, Array, Array]:
    """Orders by subscribed customers, the keen ones far more often, of products already launched."""
    propensity = rng.gamma(sales.order_propensity, 1.0, customers.count)
    weights = propensity * np.asarray(segments.order_frequency)[customers.segment] * customers.active_days
    buyer = _weighted_rows(rng, weights, count)
    day = calendar.draw(rng, customers.active_from[buyer], customers.active_to[buyer], count)
    by_date = np.argsort(day, kind="stable")
    buyer, day = buyer[by_date], day[by_date]
    segment = customers.segment[buyer]
    progress = calendar.elapsed(day)
    median = np.asarray(segments.order_value)[segment]
    amount = _money(rng.lognormal(np.log(median), 0.55) * sales.order_value_trend.at(progress))
    margin_rate = np.clip(rng.normal(sales.margin_rate.at(progress), 0.12), *sales.margin_range)
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


def _leads(
    rng: np.random.Generator,
    calendar: _Calendar,
    customers: _Customers,
    customer_ids: _Column,
    acquisition: AcquisitionProfile,
) -> _Table:
    """A lead behind every customer won in the window, a few weeks before, and three that came to nothing."""
    won = np.flatnonzero(customers.signup >= calendar.window_start)
    converted = customers.signup[won]
    created_won = converted - (rng.geometric(1 / 21, len(won)) - 1)
    conversion = acquisition.lead_conversion
    lost = round(len(won) * (1 - conversion) / conversion)
    created = np.concatenate([created_won, calendar.draw(rng, calendar.window_start, calendar.window_end, lost)])
    channel = np.concatenate([customers.channel[won], _choose(rng, acquisition.share, lost)])
    customer = np.concatenate([won, np.zeros(lost, np.int64)])
    not_converted = np.arange(len(created)) >= len(won)
    by_date = np.argsort(created, kind="stable")
    not_converted = not_converted[by_date]
    count = len(created)
    return {
        "id": _ids("L", np.arange(1, count + 1), count),
        "created_date": _plain(created[by_date]),
        "channel": _labelled(channel[by_date], acquisition.channels),
        "converted_date": _plain(np.concatenate([converted, np.zeros(lost, np.int64)])[by_date], nulls=not_converted),
        "customer_id": replace(customer_ids, values=customer_ids.values[customer[by_date]], nulls=not_converted),
    }


def _marketing_spend(
    rng: np.random.Generator, calendar: _Calendar, customers: _Customers, acquisition: AcquisitionProfile
) -> _Table:
    """Daily spend per channel: what each channel's customers of the month cost, spread over its days."""
    months = int(calendar.month_index(np.asarray([calendar.window_end]))[0]) + 1
    channels = len(acquisition.channels)
    won = customers.signup >= calendar.window_start
    month = calendar.month_index(customers.signup[won])
    new_customers = np.bincount(month * channels + customers.channel[won], minlength=months * channels)
    cost = np.asarray(acquisition.cost)
    # A floor of two customers' worth keeps a channel that brought nobody in a month from costing nothing.
    monthly = (np.maximum(new_customers.reshape(months, channels), 2) * cost) * rng.lognormal(
        0, 0.12, (months, channels)
    )
    days = np.arange(calendar.window_start, calendar.window_end + 1)
    day_month = calendar.month_index(days)
    weekday_weight = np.where((days + 3) % 7 >= 5, 0.4, 1.0)
    share_of_month = weekday_weight / np.bincount(day_month, weights=weekday_weight)[day_month]
    amount = monthly[day_month] * share_of_month[:, None] * rng.lognormal(0, 0.05, (len(days), channels))
    amount *= acquisition.cost_trend.at(calendar.elapsed(days))[:, None]
    return {
        "spend_date": _plain(np.repeat(days, channels)),
        "channel": _labelled(np.tile(np.arange(channels), len(days)), acquisition.channels),
        "amount": _plain(_money(amount.ravel())),
    }


def _market_totals(
    rng: np.random.Generator,
    calendar: _Calendar,
    segment: Array,
    order_day: Array,
    amount: Array,
    profile: SegmentProfile,
) -> _Table:
    """Monthly market revenue of the whole market and of each segment: our revenue over a share that grows slowly.

    The whole market, the row without a segment that market share divides by, is the sum of the segments' rows.
    """
    months = int(calendar.month_index(np.asarray([calendar.window_end]))[0]) + 1
    segments = len(profile.names)
    ours = np.bincount(
        calendar.month_index(order_day) * segments + segment, weights=amount, minlength=months * segments
    ).reshape(months, segments)
    share = np.asarray(profile.market_share) * (1 + 0.1 * np.arange(months) / 12)[:, None]
    # A market is never smaller than a month of a few median orders, even when a tiny data set sold nothing.
    market = np.maximum(ours, 10 * np.asarray(profile.order_value)) / share * rng.lognormal(0, 0.04, ours.shape)
    by_segment = _money(market)
    revenue = np.column_stack([_money(by_segment.sum(axis=1)), by_segment])
    month_starts = np.arange(months) + _month_numbers(np.asarray([calendar.window_start]))[0]
    period_start = month_starts.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    position = np.tile(np.arange(-1, segments), months)  # -1 for the whole market, first in every month
    return {
        "period_start": _plain(np.repeat(period_start, segments + 1)),
        "segment": _labelled(np.maximum(position, 0), profile.names, nulls=position < 0),
        "market_revenue": _plain(revenue.ravel()),
    }


@dataclass(frozen=True)
class _Tickets:
    """What the CSAT and CES surveys need of the tickets: who, when resolved, in how many contacts."""

    customer: Array
    resolved_at: Array
    resolved: Array
    contacts: Array


def _support_tickets(
    rng: np.random.Generator,
    calendar: _Calendar,
    customers: _Customers,
    customer_ids: _Column,
    count: int,
    support: SupportProfile,
) -> tuple[_Table, _Tickets]:
    """Tickets answered fast by phone and chat, slowly by email, resolved at once more often by phone."""
    customer = _weighted_rows(rng, customers.active_days.astype(np.float64), count)
    day = calendar.draw(rng, customers.active_from[customer], customers.active_to[customer], count)
    opened = np.sort(_timestamps(day, _seconds_into_day(rng, count)))
    progress = calendar.elapsed(opened // DAY_MICROSECONDS)
    kind = _choose(rng, support.kind_share, count)
    channel = _choose(rng, support.channel_share, count)
    minute = 60_000_000
    wait = np.asarray(support.first_response_minutes)[channel] * np.choose(
        kind, [trend.at(progress) for trend in support.response_trend_by_kind]
    )
    first_response = opened + (rng.lognormal(np.log(wait), 0.9) * minute).astype(np.int64)
    first_contact = np.asarray(support.first_contact_resolution)[channel]
    first_contact = np.clip(first_contact + support.first_contact_resolution_shift * progress, 0.01, 1.0)
    contacts = rng.geometric(first_contact).astype(np.int64)
    working = rng.lognormal(np.log(np.asarray(support.resolution_minutes)[kind]), 1.0) * np.sqrt(contacts)
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
        "channel": _labelled(channel, support.channels),
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


def _employees(
    rng: np.random.Generator, calendar: _Calendar, ids: _Column, staff: StaffProfile
) -> tuple[_Table, _Staff]:
    """Staff: most hired in the eight years before the window, the rest in it; some leave every year."""
    count = len(ids.values)
    before = round(count * staff.hired_before)
    hire = np.sort(
        np.concatenate(
            [
                rng.integers(calendar.window_start - 8 * 365, calendar.window_start, before),
                calendar.draw(rng, calendar.window_start, calendar.window_end, count - before),
            ]
        )
    )
    department = _choose(rng, staff.department_share, count)
    # Staff present when the window starts stay on it for a memoryless tenure, as in the window itself.
    tenure = rng.exponential(365.25 / np.asarray(staff.attrition)[department])
    leave = np.maximum(hire, calendar.window_start) + np.ceil(tenure).astype(np.int64)
    staying = leave > calendar.window_end
    fte = np.asarray((1.0, 0.8, 0.5))[_choose(rng, (0.85, 0.07, 0.08), count)]
    table: _Table = {
        "id": ids,
        "hire_date": _plain(hire),
        "leave_date": _plain(leave, nulls=staying),
        "department": _labelled(department, staff.departments),
        "fte": _plain(fte),
    }
    return table, _Staff(hire, np.where(staying, calendar.window_end, leave), department)


def _training_enrollments(
    rng: np.random.Generator, calendar: _Calendar, staff: _Staff, employee_ids: _Column, training: TrainingProfile
) -> _Table:
    """A few courses a year per employee; most are completed, and some pay for themselves."""
    active_from = np.maximum(staff.hire, calendar.window_start)
    active_days = np.maximum(staff.leave - active_from + 1, 0)
    # Enrolments come at a rate moving in a straight line from an employee's first day in the window to the last.
    first_rate = training.enrolments_per_year.at(calendar.elapsed(active_from))
    last_rate = training.enrolments_per_year.at(calendar.elapsed(active_from + active_days))
    per_employee = rng.poisson((first_rate + last_rate) / 2 * active_days / 365.25)
    employee = np.repeat(np.arange(staff.count), per_employee)
    count = len(employee)
    # A day drawn in proportion to that rate, by inverting its quadratic cumulative sum: ``skew`` is 1 for a
    # steady rate, below 1 early on for a rising one.
    first_rate, last_rate = first_rate[employee], last_rate[employee]
    draw = rng.random(count)
    skew = (first_rate + last_rate) / (first_rate + np.sqrt(first_rate**2 + draw * (last_rate**2 - first_rate**2)))
    enrolled = active_from[employee] + (draw * active_days[employee] * skew).astype(np.int64)
    by_date = np.argsort(enrolled, kind="stable")
    employee, enrolled = employee[by_date], enrolled[by_date]
    lengths = np.asarray(training.course_hours, np.float64)
    course_hours = lengths[rng.integers(0, len(lengths), training.courses)]
    course = rng.integers(0, training.courses, count)
    hours = np.round(course_hours[course] * training.course_length_trend.at(calendar.elapsed(enrolled)) * 2) / 2
    cost = _money(hours * training.cost_per_hour * rng.uniform(0.9, 1.1, count))
    delay = rng.exponential(training.days_to_complete, count).astype(np.int64)
    completed = enrolled + 3 + (hours / 4).astype(np.int64) + delay
    dropped = rng.random(count) > training.completion.at(calendar.elapsed(enrolled))
    not_completed = dropped | (completed > staff.leave[employee])
    progress = calendar.elapsed(completed)
    objectives_met = rng.random(count) < training.objectives_met.at(progress)
    pre_score = np.round(np.clip(rng.normal(55, 12, count), 0, 100), 1)
    post_score = np.round(np.clip(pre_score + rng.normal(12, 6, count), 0, 100), 1)
    multiple = rng.lognormal(np.log(training.benefit_multiple.at(progress)), 0.5)
    benefit = cost * np.where(objectives_met, multiple, training.benefit_multiple_unmet)
    return {
        "employee_id": replace(employee_ids, values=employee_ids.values[employee]),
        "course_id": _ids("COURSE-", course + 1, training.courses),
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


def _nps_answers(
    rng: np.random.Generator, calendar: _Calendar, customers: _Customers, count: int, segments: SegmentProfile
) -> _Answers:
    """NPS answers from subscribed customers, the longer subscribed the likelier (and a customer may answer more
    than once); scores move with the profile's shifts over the window."""
    customer = _weighted_rows(rng, customers.active_days.astype(np.float64), count)
    day = calendar.draw(rng, customers.active_from[customer], customers.active_to[customer], count)
    segment = customers.segment[customer]
    progress = calendar.elapsed(day)
    score = _zero_to_ten(
        rng,
        np.asarray(segments.promoters)[segment] + segments.promoters_shift * progress,
        np.asarray(segments.detractors)[segment] + segments.detractors_shift * progress,
    )
    submitted_at = _timestamps(day, _seconds_into_day(rng, count))
    return _Answers(np.full(count, SURVEY_KINDS.index("nps")), score, submitted_at, customer, segment)


def _scores(rng: np.random.Generator, shares: tuple[float, ...], lift: Array) -> Array:
    """Scores from 1 up in proportion to ``shares``, each answer's draw raised by its ``lift`` (so that the top
    two boxes gain that share of the answers).

    The draw is ``Generator.choice``'s own (a uniform number looked up in the cumulative shares), so that
    without a lift the scores are those ``choice`` gives for the same stream.
    """
    cumulative = np.cumsum(shares)
    cumulative /= cumulative[-1]
    drawn = np.searchsorted(cumulative, rng.random(len(lift)) + lift, side="right")
    return 1 + np.minimum(drawn, len(shares) - 1)


def _ticket_answers(
    rng: np.random.Generator, calendar: _Calendar, customers: _Customers, tickets: _Tickets, support: SupportProfile
) -> _Answers:
    """CSAT (1–5) and CES (1–7, 7 the easiest) after resolved tickets; one contact pleases more than three."""
    resolved = np.flatnonzero(tickets.resolved)
    asked = resolved[rng.random(len(resolved)) < support.surveyed_share]
    submitted_at = tickets.resolved_at[asked] + (rng.exponential(8, len(asked)) * 3_600_000_000).astype(np.int64)
    in_window = submitted_at < (calendar.window_end + 1) * DAY_MICROSECONDS
    asked, submitted_at = asked[in_window], submitted_at[in_window]
    size = len(asked)
    first_contact = tickets.contacts[asked] == 1
    lift = support.satisfaction_lift * calendar.elapsed(submitted_at // DAY_MICROSECONDS)
    csat = np.where(
        first_contact,
        _scores(rng, support.csat_after_first_contact, lift),
        _scores(rng, support.csat_after_more_contacts, lift),
    )
    ces = np.where(
        first_contact,
        _scores(rng, support.ces_after_first_contact, lift),
        _scores(rng, support.ces_after_more_contacts, lift),
    )
    is_csat = rng.random(size) < 2 / 3
    kind = np.where(is_csat, SURVEY_KINDS.index("csat"), SURVEY_KINDS.index("ces"))
    customer = tickets.customer[asked]
    return _Answers(kind, np.where(is_csat, csat, ces), submitted_at, customer, customers.segment[customer])


def _employee_answers(
    rng: np.random.Generator, calendar: _Calendar, staff: _Staff, customer_count: int, profile: DatasetProfile
) -> _Answers:
    """Employee NPS: a pulse survey in the middle of each quarter, answered by about half the staff."""
    quarter_middles = np.arange(calendar.window_start + 45, calendar.window_end + 1, 91)
    present = (staff.hire[:, None] <= quarter_middles) & (staff.leave[:, None] >= quarter_middles)
    employee, quarter = np.nonzero(present & (rng.random(present.shape) < 0.55))
    day = quarter_middles[quarter] + rng.integers(-7, 8, len(employee))
    progress = calendar.elapsed(day)
    pulse = profile.staff
    score = _zero_to_ten(
        rng, pulse.promoters + pulse.promoters_shift * progress, pulse.detractors + pulse.detractors_shift * progress
    )
    submitted_at = _timestamps(day, _seconds_into_day(rng, len(employee), 8, 18))
    kind = np.full(len(employee), SURVEY_KINDS.index("employee"))
    group = len(profile.segments.names) + staff.department[employee]
    return _Answers(kind, score, submitted_at, customer_count + employee, group)


def _survey_responses(
    rng: np.random.Generator,
    calendar: _Calendar,
    customers: _Customers,
    customer_ids: _Column,
    tickets: _Tickets,
    staff: _Staff,
    employee_ids: _Column,
    total: int | None,
    profile: DatasetProfile,
) -> _Table:
    """Every survey's answers in the order they were given, a tenth of them with a comment.

    CSAT and CES answers follow resolved tickets and employee NPS the quarterly pulse, so their numbers come
    from the tickets and the staff. NPS answers are the profile's share of the customers unless ``total`` sets
    the total: then they make up what the others leave (customers answering more often), and never fall below
    their usual share of the answers (nor below 20), the others being thinned at random when the total is small.
    """
    usual_nps = max(20, round(customers.count * profile.segments.nps_answers_per_customer))
    after_tickets = functools.partial(_ticket_answers, rng, calendar, customers, tickets, profile.support)
    pulse = functools.partial(_employee_answers, rng, calendar, staff, customers.count, profile)
    if total is None:
        answers = _Answers.joined(
            (_nps_answers(rng, calendar, customers, usual_nps, profile.segments), after_tickets(), pulse())
        )
    else:
        others = _Answers.joined((after_tickets(), pulse()))
        usual_share = usual_nps / (usual_nps + len(others))
        nps_count = max(total - len(others), round(total * usual_share), min(total, 20))
        kept = np.sort(rng.choice(len(others), total - nps_count, replace=False))
        nps = _nps_answers(rng, calendar, customers, nps_count, profile.segments)
        answers = _Answers.joined((nps, others.take(kept)))
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
        "segment": _labelled(group[by_time], profile.segments.names + profile.staff.departments),
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


def _social_engagement(rng: np.random.Generator, calendar: _Calendar, customers: int, social: SocialProfile) -> _Table:
    """Daily impressions and engagements per platform, growing with the calendar's activity."""
    days = np.arange(calendar.window_start, calendar.window_end + 1)
    platforms = len(social.platforms)
    activity = np.diff(calendar.cumulative_activity)[days - calendar.first_day]
    expected = activity[:, None] * np.asarray(social.platform_reach) * customers
    impressions = np.round(expected * rng.lognormal(0, 0.25, expected.shape)).astype(np.int64)
    rate = np.clip(np.asarray(social.platform_engagement) * rng.lognormal(0, 0.15, expected.shape), 0, 1)
    engagements = rng.binomial(impressions, rate).astype(np.int64)
    return {
        "activity_date": _plain(np.repeat(days, platforms)),
        "platform": _labelled(np.tile(np.arange(platforms), len(days)), social.platforms),
        "impressions": _plain(impressions.ravel()),
        "engagements": _plain(engagements.ravel()),
    }


def _reviews(rng: np.random.Generator, calendar: _Calendar, count: int, social: SocialProfile) -> _Table:
    """Public reviews, mostly four and five stars, a little better towards the end."""
    day = np.sort(calendar.draw(rng, calendar.window_start, calendar.window_end, count))
    stars = np.asarray(social.review_stars)
    draw = rng.random(count) - 0.04 * calendar.elapsed(day)  # a lower draw is a better review
    rating = 5 - np.searchsorted(np.cumsum(stars[::-1]), draw, side="right")
    return {
        "review_date": _plain(day),
        "platform": _labelled(_choose(rng, social.review_platform_share, count), social.review_platforms),
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
    profile: DatasetProfile = DEFAULT_PROFILE,
) -> GeneratedDataset:
    """Write every canonical table as ``<table>.parquet`` in ``directory``, for ``months`` months to ``end``.

    ``end`` is any day of the last month. ``profile`` says what business the data describes and how its
    numbers move (:class:`DatasetProfile`); the other tables grow with the number of customers as it says (by
    default half a ticket, three tenths of an NPS answer and a twentieth of a review per customer, an employee
    per 200 customers, at least 40, and so on; a fifth of the customers signed up before the first month).
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
    calendar = _Calendar.ending(end, months, profile.activity)
    # One random stream per table, so that changing how one table is drawn leaves the others as they were.
    seeds = np.random.SeedSequence(seed).spawn(len(TABLES))
    rng = {name: np.random.default_rng(stream) for name, stream in zip(TABLES, seeds, strict=True)}
    customer_ids = _ids("C", np.arange(1, customers + 1), customers)
    customer_table, subscriptions, base = _customers_and_subscriptions(
        rng["customers"], calendar, customer_ids, profile.segments, profile.acquisition
    )
    products, launch = _products(rng["products"], calendar, 30 + customers // 10_000, profile.sales)
    order_table, buyer, order_day, amount = _orders(
        rng["orders"], calendar, base, customer_ids, launch, orders, profile.segments, profile.sales
    )
    if tickets is None:
        tickets = max(20, round(customers * profile.support.tickets_per_customer))
    ticket_table, ticket_facts = _support_tickets(
        rng["support_tickets"], calendar, base, customer_ids, tickets, profile.support
    )
    staff_count = max(40, customers // 200) if profile.staff.headcount is None else profile.staff.headcount
    employee_ids = _ids("E", np.arange(1, staff_count + 1), staff_count)
    employee_table, staff = _employees(rng["employees"], calendar, employee_ids, profile.staff)
    tables: dict[str, _Table] = {
        "customers": customer_table,
        "orders": order_table,
        "subscriptions": subscriptions,
        "marketing_spend": _marketing_spend(rng["marketing_spend"], calendar, base, profile.acquisition),
        "leads": _leads(rng["leads"], calendar, base, customer_ids, profile.acquisition),
        "market_totals": _market_totals(
            rng["market_totals"], calendar, base.segment[buyer], order_day, amount, profile.segments
        ),
        "survey_responses": _survey_responses(
            rng["survey_responses"],
            calendar,
            base,
            customer_ids,
            ticket_facts,
            staff,
            employee_ids,
            survey_responses,
            profile,
        ),
        "support_tickets": ticket_table,
        "employees": employee_table,
        "training_enrollments": _training_enrollments(
            rng["training_enrollments"], calendar, staff, employee_ids, profile.training
        ),
        "projects": _projects(rng["projects"], calendar, max(12, staff_count // 8)),
        "products": products,
        "social_engagement": _social_engagement(rng["social_engagement"], calendar, customers, profile.social),
        "reviews": _reviews(rng["reviews"], calendar, max(20, round(customers * 0.05)), profile.social),
    }
    injected = _inject_bad_rows(tables) if bad_rows else ()
    written = tuple(_write(directory, name, tables[name]) for name in TABLES)
    return GeneratedDataset(directory, written, injected, time.perf_counter() - started)
