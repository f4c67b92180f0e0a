"""The vocabulary the demo organisations are written in: frozen dataclasses, no database access.

Each demo organisation is one :class:`OrganisationSpec` value and :mod:`fourfold.demo.builder` turns any
such value into rows. Keeping the content apart from the code is what lets three quite different
organisations share one builder, and lets a reader review (or extend) the demo without reading loops.

Times inside the two-year window are written as offsets, never as dates, so the same description works
whatever day the demo is loaded: a *period index* counts a KPI's reporting periods from the oldest (0) or,
when negative, from the newest (-1); a *month offset* counts calendar months from the first month of the
window (0 to 23 lie inside it, 24 is the current month, larger values lie in the future).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fourfold.accounts.models import Role
from fourfold.engine.periods import FiscalYearNaming, Frequency
from fourfold.initiatives.models import Initiative
from fourfold.measures.models import Kpi
from fourfold.strategy.models import ObjectiveLink, OrgUnit, Perspective

if TYPE_CHECKING:
    from fourfold.demo.datasets import DemoDataset

Season = tuple[float, float, float, float, float, float, float, float, float, float, float, float]
"""Twelve factors, January first, roughly from -1 to 1; multiplied by a series' ``amplitude``."""

SCHOOL_YEAR: Season = (0.6, 0.3, 0.2, 0.0, -0.1, -0.4, -0.8, -1.0, 0.5, 0.4, 0.2, -0.5)
"""Online learning: a new-year surge, a back-to-school surge, and a summer (and Christmas) lull."""

HOLIDAY_PEAK: Season = (0.4, 0.0, -0.1, -0.2, -0.3, -0.2, 0.0, 0.0, -0.1, 0.1, 0.5, 1.0)
"""Customer service: contact volumes and waiting times peak with December bills and returns."""

SUMMER_LULL: Season = (0.3, 0.4, 0.4, 0.3, 0.2, -0.2, -0.6, -1.0, 0.3, 0.4, 0.3, -0.7)
"""Corporate training: classes pause for the summer holidays and the last weeks of December."""


@dataclass(frozen=True)
class Person:
    """A demo user; the username is ``<organisation prefix>.<handle>``, the password ``demo-<word>``."""

    handle: str
    first_name: str
    last_name: str
    password_word: str
    title: str


@dataclass(frozen=True)
class GroupSpec:
    """A Django group of demo users, used to hand a role or KPI updates to a whole team at once."""

    key: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class UnitSpec:
    """A node of the organisation tree; ``parent`` is another unit's key, or "" for the company unit."""

    key: str
    name: str
    kind: OrgUnit.Kind
    parent: str = ""


@dataclass(frozen=True)
class Target:
    """A target setting. The first of a KPI's targets holds from the first period of the window, the
    second from the start of the first fiscal year that begins at least six months into it."""

    target: float | None = None
    red: float | None = None
    note: str = ""
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Event:
    """Something that moved one period's value (by ``shift``, in KPI units) and the note that explains it.

    A shift of 0 just attaches the note. For yes/no KPIs the shift moves the chance of a "yes".
    """

    at: int
    shift: float
    note: str


@dataclass(frozen=True)
class Correction:
    """A value first entered wrong (the true value times ``wrong_by``) and replaced some days later."""

    at: int
    wrong_by: float
    note: str


@dataclass(frozen=True)
class Series:
    """How a KPI's values are generated: a linear trend from ``start`` to ``end`` over the window, plus
    seasonality, Gaussian noise (standard deviation ``noise``, in KPI units) and events, clamped to
    ``[low, high]``. For yes/no KPIs ``start`` and ``end`` are the chances of a "yes".

    ``denominator`` makes the KPI a ratio: the value is recorded as numerator and denominator, the
    denominator moving linearly between the two numbers given (with 2 % noise).
    """

    start: float
    end: float
    noise: float = 0.0
    season: Season | None = None
    amplitude: float = 0.0
    low: float | None = None
    high: float | None = None
    denominator: tuple[float, float] | None = None
    missing: tuple[int, ...] = ()
    late: tuple[int, ...] = ()
    events: tuple[Event, ...] = ()
    corrections: tuple[Correction, ...] = ()


@dataclass(frozen=True)
class Computed:
    """A KPI computed from the organisation's generated raw data: a metric of the library (or of the
    organisation's own definitions), optionally of one segment. Its values come from a computation run,
    not from its :class:`Series`, which then only gives the baseline."""

    metric: str
    segment_by: str = ""
    segment: str = ""


@dataclass(frozen=True)
class KpiSpec:
    """A KPI with its definition, its targets and the recipe for two years of values.

    Currency KPIs use the organisation's currency. ``owner`` and ``updaters`` are person handles,
    ``groups`` are group keys.
    """

    key: str
    name: str
    definition: str
    unit: Kpi.Unit
    series: Series
    targets: tuple[Target, ...]
    direction: Kpi.Direction = Kpi.Direction.HIGHER
    frequency: Frequency = Frequency.MONTHLY
    aggregation: Kpi.Aggregation = Kpi.Aggregation.AVERAGE
    decimals: int = 1
    duration_unit: Kpi.DurationUnit | None = None
    source_kind: Kpi.SourceKind = Kpi.SourceKind.MANUAL
    owner: str = ""
    updaters: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    weight: float = 1.0
    description: str = ""
    computed: Computed | None = None


@dataclass(frozen=True)
class ObjectiveSpec:
    """An objective with its KPIs; ``aligns_to`` is the code of the objective it supports on the parent
    scorecard."""

    code: str
    name: str
    perspective: Perspective.Kind
    owner: str
    description: str
    weight: float = 1.0
    aligns_to: str = ""
    kpis: tuple[KpiSpec, ...] = ()


@dataclass(frozen=True)
class LinkSpec:
    """A cause-and-effect arrow between two objective codes of the same scorecard."""

    cause: str
    effect: str
    rationale: str
    strength: ObjectiveLink.Strength = ObjectiveLink.Strength.MEDIUM
    sign: ObjectiveLink.Sign = ObjectiveLink.Sign.REINFORCES


@dataclass(frozen=True)
class MilestoneSpec:
    """A milestone due at the end of month ``due_month``; ``done_after`` is how many days after the due
    date it was completed (negative: early), or ``None`` while it is open (late once the date passed)."""

    name: str
    due_month: int
    done_after: int | None = None


@dataclass(frozen=True)
class InitiativeSpec:
    """A project on a scorecard, running from the start of ``start_month`` to the end of ``end_month``."""

    name: str
    description: str
    owner: str
    start_month: int
    end_month: int
    budget_planned: int
    budget_spent: int
    status: Initiative.Status
    percent_complete: int
    objectives: tuple[str, ...] = ()
    kpis: tuple[str, ...] = ()
    milestones: tuple[MilestoneSpec, ...] = ()


@dataclass(frozen=True)
class PerspectiveSpec:
    """A perspective as the scorecard should show it: order is the tuple's order."""

    kind: Perspective.Kind
    name: str
    weight: float
    description: str


@dataclass(frozen=True)
class Grant:
    """A role on a scorecard for one person (``person`` handle) or one group (``group`` key)."""

    role: Role
    person: str = ""
    group: str = ""


@dataclass(frozen=True)
class ScorecardSpec:
    """A scorecard of a unit; ``parent`` is the key of the scorecard it cascades from ("" for the top)."""

    key: str
    name: str
    unit: str
    owner: str
    description: str
    perspectives: tuple[PerspectiveSpec, ...]
    objectives: tuple[ObjectiveSpec, ...]
    parent: str = ""
    links: tuple[LinkSpec, ...] = ()
    initiatives: tuple[InitiativeSpec, ...] = ()
    grants: tuple[Grant, ...] = ()
    reporting_frequency: Frequency = Frequency.MONTHLY
    due_days: int | None = None


@dataclass(frozen=True)
class OrganisationSpec:
    """Everything about one demo organisation. ``seed`` fixes its random numbers, so every load of the
    demo (for the same day) produces the same values."""

    slug: str
    name: str
    prefix: str
    seed: int
    currency: str
    people: tuple[Person, ...]
    admins: tuple[str, ...]
    units: tuple[UnitSpec, ...]
    scorecards: tuple[ScorecardSpec, ...]
    groups: tuple[GroupSpec, ...] = ()
    fiscal_year_start_month: int = 1
    fiscal_year_naming: FiscalYearNaming = FiscalYearNaming.START
    email_domain: str = field(default="example.org")
    dataset: DemoDataset | None = None
    """The raw data generated for the organisation, from which its computed KPIs get their values."""


def classic_perspectives(
    financial: tuple[float, str], customer: tuple[float, str], internal: tuple[float, str], learning: tuple[float, str]
) -> tuple[PerspectiveSpec, ...]:
    """The four Kaplan-Norton perspectives in the usual order, each with a weight and a description."""
    return (
        PerspectiveSpec(Perspective.Kind.FINANCIAL, "Financial", *financial),
        PerspectiveSpec(Perspective.Kind.CUSTOMER, "Customer", *customer),
        PerspectiveSpec(Perspective.Kind.INTERNAL, "Internal process", *internal),
        PerspectiveSpec(Perspective.Kind.LEARNING, "Learning & growth", *learning),
    )


PLAIN_PERSPECTIVES = classic_perspectives((1.0, ""), (1.0, ""), (1.0, ""), (1.0, ""))
"""Equal weights and no descriptions: what department and team scorecards start with."""
