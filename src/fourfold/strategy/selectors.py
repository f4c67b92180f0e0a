"""Reads of the strategy model, shaped for pages and commands, with a fixed number of queries."""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext

from fourfold.accounts.models import ScorecardFollow, User
from fourfold.accounts.permissions import scorecards_visible_to
from fourfold.audit.models import AuditEntry
from fourfold.engine.evaluate import KpiResult, ObjectiveResult, PerspectiveResult, ScorecardResult
from fourfold.engine.periods import Period
from fourfold.engine.status import Status
from fourfold.measures.models import Actual, Kpi
from fourfold.measures.templatetags.kpi_format import format_kpi_value
from fourfold.strategy.models import Objective, ObjectiveLink, Organisation, Scorecard
from fourfold.ui.icons import ICONS, status_icon_name

if TYPE_CHECKING:
    from fourfold.initiatives.models import Initiative
    from fourfold.measures.scoring import KpiTrend, ScorecardEvaluation
    from fourfold.measures.selectors import EntryRow


def scorecard_list_for_user(user: User | AnonymousUser) -> QuerySet[Scorecard]:
    """The scorecards a user may see, with their organisation and unit, ordered for a listing."""
    return (
        scorecards_visible_to(user)
        .select_related("organisation", "org_unit", "owner", "parent")
        .order_by("organisation__name", "parent_id", "name")
    )


def visible_scorecard_ids(user: User | AnonymousUser, organisation_id: int) -> frozenset[int]:
    """The ids of the organisation's scorecards the user may see, in one query: what a page passes to the
    scores so that their explanations do not name what is on the others."""
    return frozenset(scorecards_visible_to(user).filter(organisation_id=organisation_id).values_list("pk", flat=True))


OVERDUE = "overdue"
"""The status filter's choice for KPIs whose value is late, whatever their status."""


@dataclass(frozen=True)
class TreeFilter:
    """Which rows the scorecard page shows: KPIs and aligned objectives of a status, an owner, a perspective.

    Filters choose rows and never change a score: an objective keeps the score of all its children. An
    objective is shown when one of its rows matches, or when it matches itself (an objective can be off
    target through the objectives aligned to it while its own KPIs are on target).
    """

    status: str | None = None
    """A status key, or :data:`OVERDUE`."""
    owner: int | None = None
    perspective: int | None = None

    @property
    def active(self) -> bool:
        return self.status is not None or self.owner is not None or self.perspective is not None

    def matches(self, status: Status, owner_id: int | None, *, overdue: bool = False) -> bool:
        if self.status == OVERDUE and not overdue:
            return False
        if self.status not in {None, OVERDUE} and status.key != self.status:
            return False
        return self.owner is None or owner_id == self.owner


SPARKLINE_WIDTH = 96
SPARKLINE_HEIGHT = 28
SPARKLINE_PAD = 3


@dataclass(frozen=True)
class Sparkline:
    """A KPI's trend as the scorecard page draws it, inline, without a script: SVG paths in a
    ``SPARKLINE_WIDTH`` × ``SPARKLINE_HEIGHT`` box, and the same trend in words for screen readers."""

    path: str
    """The values: a line through the periods with a value, broken where a period has none."""
    target_path: str
    """Each period's own target, where one is set."""
    last: tuple[float, float] | None
    """Where the latest period's value sits, when it has one (the dot at the end of the line)."""
    label: str
    width: int = SPARKLINE_WIDTH
    height: int = SPARKLINE_HEIGHT


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """An SVG path through the points, lifting the pen at each gap; a lone point is a dot (round caps)."""
    commands, drawing = [], False
    for point in points:
        if point is None:
            drawing = False
            continue
        commands.append(f"{'L' if drawing else 'M'}{point[0]:.1f},{point[1]:.1f}")
        drawing = True
    return " ".join(command if command.startswith("L") else f"{command} l0,0" for command in commands)


def sparkline(trend: KpiTrend, kpi: Kpi) -> Sparkline | None:
    """The sparkline of a KPI's trend, or ``None`` when none of its periods has a value.

    Values and targets share one vertical scale, so a line above the dashed target is above target.
    """
    known = [value for value in trend.values if value is not None]
    if not known:
        return None
    scale = known + [target for target in trend.targets if target is not None]
    low, high = min(scale), max(scale)
    count = len(trend.periods)
    inner_width, inner_height = SPARKLINE_WIDTH - 2 * SPARKLINE_PAD, SPARKLINE_HEIGHT - 2 * SPARKLINE_PAD

    def place(index: int, value: float | None) -> tuple[float, float] | None:
        if value is None:
            return None
        x = SPARKLINE_PAD + (inner_width * index / (count - 1) if count > 1 else inner_width / 2)
        y = SPARKLINE_PAD + (inner_height * (high - value) / (high - low) if high > low else inner_height / 2)
        return x, y

    points = [place(index, value) for index, value in enumerate(trend.values)]
    words = {
        "first": trend.periods[0].label,
        "last": trend.periods[-1].label,
        "start": format_kpi_value(Decimal(str(known[0])), kpi),
        "end": format_kpi_value(Decimal(str(known[-1])), kpi),
        "low": format_kpi_value(Decimal(str(min(known))), kpi),
        "high": format_kpi_value(Decimal(str(max(known))), kpi),
    }
    label = gettext("Trend from %(first)s to %(last)s: %(start)s, then %(end)s; lowest %(low)s, highest %(high)s.")
    missing = count - len(known)
    if missing:
        label += " " + ngettext("%(count)d period has no value.", "%(count)d periods have no value.", missing) % {
            "count": missing
        }
    return Sparkline(
        path=_path(points),
        target_path=_path([place(index, target) for index, target in enumerate(trend.targets)]),
        last=points[-1],
        label=label % words,
    )


def difference(now: float | None, before: float | None) -> float | None:
    """How much a score or value moved since the view compared with; ``None`` when either has none."""
    return None if now is None or before is None else now - before


@dataclass(frozen=True)
class KpiRow:
    """One KPI on the scorecard page: its evaluation, its definition (for units) and when it was last updated,
    with its trend and, when the page compares, its result for the period compared with."""

    result: KpiResult
    kpi: Kpi
    last_update: Actual | None
    trend: KpiTrend | None = None
    previous: KpiResult | None = None
    drawn: dict[str, Sparkline | None] = field(default_factory=dict, compare=False, repr=False)
    """The sparklines already drawn for the evaluation, in the page's language, by KPI id."""

    @property
    def sparkline(self) -> Sparkline | None:
        """The trend drawn, once per evaluation and language, and only for rows that are shown."""
        key = self.result.kpi.id
        if key not in self.drawn:
            self.drawn[key] = None if self.trend is None else sparkline(self.trend, self.kpi)
        return self.drawn[key]

    @property
    def score_change(self) -> float | None:
        return difference(self.result.score, None if self.previous is None else self.previous.score)

    @property
    def actual_change(self) -> float | None:
        return difference(self.result.actual.value, None if self.previous is None else self.previous.actual.value)


@dataclass(frozen=True)
class AlignedRow:
    """An objective of a cascaded scorecard aligned to an objective shown: a child of its roll-up, like a KPI."""

    result: ObjectiveResult
    objective: Objective
    scorecard: Scorecard
    previous: ObjectiveResult | None = None

    @property
    def score_change(self) -> float | None:
        return difference(self.result.score, None if self.previous is None else self.previous.score)


@dataclass(frozen=True)
class ObjectiveRow:
    result: ObjectiveResult
    objective: Objective
    kpis: list[KpiRow]
    aligned: list[AlignedRow] = field(default_factory=list)
    hidden_aligned: int = 0
    """Aligned objectives on scorecards the user may not see: counted, not named."""
    filtered_out: int = 0
    """KPIs and aligned objectives the filters leave out."""
    previous: ObjectiveResult | None = None

    @property
    def score_change(self) -> float | None:
        return difference(self.result.score, None if self.previous is None else self.previous.score)


@dataclass(frozen=True)
class PerspectiveRow:
    result: PerspectiveResult
    objectives: list[ObjectiveRow]
    previous: PerspectiveResult | None = None
    shown: bool = True
    """False when the filters leave nothing of the perspective (the page still names it in its summary)."""

    @property
    def score_change(self) -> float | None:
        return difference(self.result.score, None if self.previous is None else self.previous.score)


@dataclass(frozen=True)
class Counterparts:
    """The results of the view compared with, by id, to find each row's counterpart there."""

    perspectives: dict[str, PerspectiveResult] = field(default_factory=dict)
    objectives: dict[str, ObjectiveResult] = field(default_factory=dict)
    """Of the whole tree: those of cascaded scorecards too."""
    kpis: dict[str, KpiResult] = field(default_factory=dict)

    @classmethod
    def of(cls, evaluation: ScorecardEvaluation | None) -> Counterparts:
        if evaluation is None:
            return cls()
        objectives = [objective for objective, _card_id in _objective_results(evaluation.result)]
        return cls(
            {perspective.id: perspective for perspective in evaluation.result.perspectives},
            {objective.id: objective for objective in objectives},
            {kpi.kpi.id: kpi for objective in objectives for kpi in objective.kpis},
        )


def scorecard_rows(
    evaluation: ScorecardEvaluation,
    *,
    compare: ScorecardEvaluation | None = None,
    filters: TreeFilter | None = None,
    cards: Sequence[Scorecard] = (),
    visible_ids: Set[int] = frozenset(),
) -> list[PerspectiveRow]:
    """The evaluated tree shaped for the scorecard page, with each KPI's and objective's stored row.

    With ``compare`` (the evaluation of the period compared with) each row carries its counterpart there;
    ``filters`` chooses the rows shown (:class:`TreeFilter`). ``cards`` is the tree evaluated and
    ``visible_ids`` the scorecards the user may see: the objectives of those aligned to the objectives shown
    are listed under them, the others only counted. No query is made.
    """
    filters = filters or TreeFilter()
    before = Counterparts.of(compare)
    drawn = cast("dict[str, Sparkline | None]", evaluation.drawn.setdefault(("sparklines", get_language()), {}))
    cards_by_id = {str(card.pk): card for card in cards}
    aligned: dict[int | None, list[AlignedRow]] = defaultdict(list)
    hidden: dict[int | None, int] = defaultdict(int)
    for child in evaluation.result.children:
        for result, card_id in _objective_results(child):
            objective = evaluation.objectives[result.id]
            card = cards_by_id.get(card_id)
            if card is not None and card.pk in visible_ids:
                previous = before.objectives.get(result.id)
                aligned[objective.parent_id].append(AlignedRow(result, objective, card, previous))
            else:
                hidden[objective.parent_id] += 1
    rows = []
    for perspective in evaluation.result.perspectives:
        chosen = filters.perspective is None or int(perspective.id) == filters.perspective
        objectives = []
        for objective_result in perspective.objectives:
            objective = evaluation.objectives[objective_result.id]
            kpis = [
                KpiRow(
                    result,
                    evaluation.kpis[result.kpi.id],
                    evaluation.last_updates.get(result.kpi.id),
                    evaluation.trends.get(result.kpi.id),
                    before.kpis.get(result.kpi.id),
                    drawn,
                )
                for result in objective_result.kpis
            ]
            shown_kpis = [
                row for row in kpis if filters.matches(row.result.status, row.kpi.owner_id, overdue=row.result.overdue)
            ]
            shown_aligned = [
                row for row in aligned[objective.pk] if filters.matches(row.result.status, row.objective.owner_id)
            ]
            itself = filters.matches(objective_result.status, objective.owner_id)
            if chosen and (shown_kpis or shown_aligned or itself or not filters.active):
                objectives.append(
                    ObjectiveRow(
                        objective_result,
                        objective,
                        shown_kpis,
                        shown_aligned,
                        hidden[objective.pk],
                        len(kpis) + len(aligned[objective.pk]) - len(shown_kpis) - len(shown_aligned),
                        before.objectives.get(objective_result.id),
                    )
                )
        rows.append(
            PerspectiveRow(
                perspective,
                objectives,
                before.perspectives.get(perspective.id),
                chosen and (bool(objectives) or not filters.active),
            )
        )
    return rows


def owners_of(evaluation: ScorecardEvaluation) -> list[User]:
    """The people who own a KPI or an objective of the evaluated scorecard itself, by name: the owner filter's
    choices."""
    perspectives = {int(perspective.id) for perspective in evaluation.result.perspectives}
    scorecard_id = int(evaluation.result.id)
    owners = {kpi.owner for kpi in evaluation.kpis.values() if kpi.scorecard_id == scorecard_id and kpi.owner}
    owners |= {
        objective.owner
        for objective in evaluation.objectives.values()
        if objective.perspective_id in perspectives and objective.owner
    }
    return sorted(owners, key=lambda user: (str(user).lower(), user.pk))


def descendants(root: Scorecard, all_cards: list[Scorecard]) -> list[Scorecard]:
    """``root`` and every scorecard cascading from it, parents first."""
    children: dict[int | None, list[Scorecard]] = defaultdict(list)
    for card in all_cards:
        children[card.parent_id].append(card)
    # The root as read with the others (it carries their annotations), unless it was not among them.
    ordered, queue = [], [next((card for card in all_cards if card.pk == root.pk), root)]
    while queue:
        card = queue.pop(0)
        ordered.append(card)
        queue.extend(children[card.pk])
    return ordered


def _with_changes(cards: QuerySet[Scorecard]) -> QuerySet[Scorecard]:
    """``cards`` annotated with their newest changes, as :func:`tree_of` describes."""
    newest = AuditEntry.objects.filter(scorecard_id=OuterRef("pk")).order_by("-id")
    organisation_newest = AuditEntry.objects.filter(
        organisation_id=OuterRef("organisation_id"), scorecard_id__isnull=True
    ).order_by("-id")
    return cards.annotate(
        newest_change_id=Subquery(newest.values("id")[:1]),
        newest_change_at=Subquery(newest.values("timestamp")[:1]),
        organisation_change_id=Subquery(organisation_newest.values("id")[:1]),
        organisation_change_at=Subquery(organisation_newest.values("timestamp")[:1]),
    ).order_by("name")


def tree_of(root: Scorecard) -> list[Scorecard]:
    """``root`` and its descendants, read in one query, each with its newest change.

    Every scorecard comes annotated with the id and time of the newest audit entry on it
    (``newest_change_id``, ``newest_change_at``) and on its organisation's own settings
    (``organisation_change_id``, ``organisation_change_at``), so that cached scores can be checked for
    staleness without another query.
    """
    cards = _with_changes(Scorecard.objects.filter(organisation_id=root.organisation_id).select_related("org_unit"))
    return descendants(root, list(cards))


@dataclass(frozen=True)
class PageTree:
    """A scorecard as its page shows it, with its tree (as :func:`tree_of` gives it) and the scorecards of its
    organisation the user may see."""

    scorecard: Scorecard
    """With ``followed``: whether the user follows it."""
    cards: list[Scorecard]
    visible_ids: set[int]


def scorecard_page_tree(scorecard_id: int, user: User | AnonymousUser) -> PageTree | None:
    """The scorecard with id ``scorecard_id``, its tree and what of its organisation ``user`` may see, in one
    query (the page's others are the permission check and the scores); ``None`` if there is no such scorecard.

    It does not check that the user may see the scorecard: the caller does, with the permission rules.
    """
    follows = ScorecardFollow.objects.filter(user_id=user.pk or 0, scorecard_id=OuterRef("pk"))
    cards = list(
        _with_changes(
            Scorecard.objects.filter(organisation__scorecards=scorecard_id)
            .select_related("organisation", "org_unit", "owner", "parent")
            .annotate(visible=Exists(scorecards_visible_to(user).filter(pk=OuterRef("pk"))), followed=Exists(follows))
        )
    )
    root = next((card for card in cards if card.pk == scorecard_id), None)
    if root is None:
        return None
    return PageTree(root, descendants(root, cards), {card.pk for card in cards if card.visible})  # type: ignore[attr-defined]


def organisations_for_user(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The organisations whose pages a user may open: those with a scorecard they see, and those they
    administer (an organisation admin may have no scorecard yet), in one query."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.order_by("name")
    return (
        Organisation.objects.filter(
            Q(scorecards__in=scorecards_visible_to(user)) | Q(memberships__user=user, memberships__is_admin=True)
        )
        .distinct()
        .order_by("name")
    )


def organisations_administered_by(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The organisations in which a user may create scorecards (``Action.MANAGE_ORGANISATION``): those they
    administer, every one for a superuser, in one query; the home page offers "New scorecard" in these."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.order_by("name")
    return Organisation.objects.filter(memberships__user=user, memberships__is_admin=True).order_by("name")


# The strategy map --------------------------------------------------------------------------------------------
#
# The map is drawn on the server as SVG, in a coordinate space of MAP_WIDTH units across: a label column for
# each perspective's band on the left, objectives as boxes in the band's area to its right. A place on the map
# is stored as two fractions (Objective.map_x, map_y): x across the area every band shares, y within the range
# the objective's own band leaves for its centre, so that places survive bands growing or shrinking.

MAP_WIDTH = 1280
MAP_LABEL_WIDTH = 184
MAP_MARGIN = 20
NODE_WIDTH = 200
NODE_HEIGHT = 92
NODE_GAP = 16
BAND_PADDING = 34
ROW_GAP = 28
BAND_EDGE = 8
"""How close to its band's edge a dragged objective may come."""
ARROW_GAP = 5
"""Room between an objective's box and the tip of an arrow pointing at it."""
LINK_BEND = 24
"""How far a link curves aside when the pair is linked both ways, so the two arrows do not overlap."""
LINK_DETOUR = 60
"""How much further an arrow curves, step by step, to pass the boxes between its ends."""
LINK_SAMPLES = 24
NAME_LINE_CHARACTERS = 25
NAME_LINES = 3
NAME_LINE_HEIGHT = 16
NAME_CAP_HEIGHT = 10
NAME_BLOCK_MIDDLE = -16.5
"""Where the name's lines centre, in a box's own units: between its top and the line above its status."""
BAND_NAME_CHARACTERS = 18
STRENGTH_WIDTHS = {
    ObjectiveLink.Strength.WEAK: 1.25,
    ObjectiveLink.Strength.MEDIUM: 2.5,
    ObjectiveLink.Strength.STRONG: 4.0,
}
AREA_LEFT = MAP_LABEL_WIDTH + MAP_MARGIN + NODE_WIDTH / 2
AREA_RIGHT = MAP_WIDTH - MAP_MARGIN - NODE_WIDTH / 2
ROW_CAPACITY = max(1, int((AREA_RIGHT - AREA_LEFT) // (NODE_WIDTH + NODE_GAP)))
"""How many objectives an automatic row holds before the band takes another row."""
LAYOUT_SWEEPS = 3
MAP_HEADER_HEIGHT = 84
BAND_LINE_HEIGHT = 15


@dataclass(frozen=True)
class MapNode:
    """One objective on the map: its place (as stored fractions and in map units) and what its box says."""

    objective: Objective
    result: ObjectiveResult
    x: float
    y: float
    cx: float
    cy: float
    centre_top: float
    centre_bottom: float
    saved: bool
    name_lines: tuple[tuple[str, float], ...]
    """The name in up to three lines, each with its baseline (the first line follows the code)."""
    label: str
    fill: str
    stroke: str
    icon: SafeString


@dataclass(frozen=True)
class MapBand:
    """One perspective's band, top to bottom in the scorecard's order, with where its label's lines go."""

    result: PerspectiveResult
    top: float
    height: float
    name_lines: tuple[tuple[str, float], ...]
    """The perspective's name in one or two lines, each with its baseline."""
    score_y: float
    status_y: float
    label: str
    icon: SafeString
    nodes: list[MapNode]
    shaded: bool

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


@dataclass(frozen=True)
class MapLink:
    """A cause-and-effect arrow, with the SVG path between the two boxes and where its sign marker sits."""

    link: ObjectiveLink
    path: str
    bend: float
    mid_x: float
    mid_y: float
    width: float
    label: str

    @property
    def trades_off(self) -> bool:
        return self.link.sign == ObjectiveLink.Sign.TRADES_OFF


@dataclass(frozen=True)
class StrategyMap:
    """Everything the SVG template draws; the sizes are passed on so the page's script drags in the same units."""

    bands: list[MapBand]
    links: list[MapLink]
    width: int = MAP_WIDTH
    label_width: int = MAP_LABEL_WIDTH
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT
    node_left: float = -NODE_WIDTH / 2
    node_top: float = -NODE_HEIGHT / 2
    text_left: float = -NODE_WIDTH / 2 + 14
    text_right: float = NODE_WIDTH / 2 - 14
    area_left: float = AREA_LEFT
    area_right: float = AREA_RIGHT
    area_middle: float = (AREA_LEFT + AREA_RIGHT) / 2
    arrow_gap: int = ARROW_GAP
    header_height: int = MAP_HEADER_HEIGHT
    """The title and legend above the map in a downloaded file."""

    @property
    def height(self) -> float:
        return sum(band.height for band in self.bands) or NODE_HEIGHT

    @property
    def file_height(self) -> float:
        return self.height + self.header_height

    @property
    def nodes(self) -> list[MapNode]:
        return [node for band in self.bands for node in band.nodes]


def _slot(index: int, count: int) -> tuple[int, float]:
    """The automatic row and x fraction of the ``index``-th of ``count`` objectives in a band."""
    row, column = divmod(index, ROW_CAPACITY)
    in_row = min(ROW_CAPACITY, count - row * ROW_CAPACITY)
    return row, (column + 0.5) / in_row


def order_bands(bands: Sequence[Sequence[int]], neighbours: Mapping[int, set[int]]) -> list[list[int]]:
    """Order each band's objectives so that arrows between bands cross less: a barycentre heuristic.

    Sweeping down and then up the bands a few times, each objective is placed at the mean x of the objectives
    it is linked to in other bands; ties and unlinked objectives keep their current order, so the result
    depends only on the objectives, their positions and their links (the same map every time).
    """
    order = [list(band) for band in bands]

    def x_of() -> dict[int, float]:
        return {member: _slot(index, len(band))[1] for band in order for index, member in enumerate(band)}

    band_of = {member: number for number, band in enumerate(order) for member in band}
    for _ in range(LAYOUT_SWEEPS):
        for numbers in (range(1, len(order)), range(len(order) - 2, -1, -1)):
            for number in numbers:
                xs = x_of()

                def barycentre(member: int, xs: dict[int, float] = xs, number: int = number) -> tuple[float, float]:
                    linked = [xs[other] for other in neighbours.get(member, ()) if band_of.get(other, number) != number]
                    return (sum(linked) / len(linked) if linked else xs[member], xs[member])

                order[number].sort(key=barycentre)
    return order


def _band_height(count: int) -> float:
    rows = max(1, -(-count // ROW_CAPACITY))
    return 2 * BAND_PADDING + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP


def _boundary(centre: tuple[float, float], toward: tuple[float, float]) -> tuple[float, float]:
    """Where a line from a box's centre toward a point leaves the box (with room for an arrowhead)."""
    (x, y), (tx, ty) = centre, toward
    dx, dy = tx - x, ty - y
    half_width, half_height = NODE_WIDTH / 2 + ARROW_GAP, NODE_HEIGHT / 2 + ARROW_GAP
    if dx == 0 and dy == 0:
        return x, y
    scale = min(half_width / abs(dx) if dx else math.inf, half_height / abs(dy) if dy else math.inf)
    return x + dx * scale, y + dy * scale


Point = tuple[float, float]


def _curve(cause: Point, effect: Point, bend: float) -> tuple[Point, Point, Point]:
    """Start, control point and end of the arrow from box to box, curved ``bend`` units to its left."""
    (ax, ay), (bx, by) = cause, effect
    length = math.hypot(bx - ax, by - ay) or 1.0
    control = ((ax + bx) / 2 - (by - ay) / length * bend, (ay + by) / 2 + (bx - ax) / length * bend)
    return _boundary(cause, control), control, _boundary(effect, control)


def _at(curve: tuple[Point, Point, Point], t: float) -> Point:
    (sx, sy), (cx, cy), (ex, ey) = curve
    return (
        (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t**2 * ex,
        (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t**2 * ey,
    )


def link_geometry(cause: Point, effect: Point, bend: float) -> tuple[str, Point]:
    """The SVG path of an arrow from box to box, curved ``bend`` units to its left, and its midpoint.

    assets/js/strategy-map.js redraws arrows the same way while an objective is dragged.
    """
    curve = _curve(cause, effect, bend)
    (sx, sy), (cx, cy), (ex, ey) = curve
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}", _at(curve, 0.5)


def _boxes_crossed(curve: tuple[Point, Point, Point], others: Sequence[Point]) -> int:
    """How many of the other objectives' boxes (centred at ``others``) the arrow would run through."""
    samples = [_at(curve, step / LINK_SAMPLES) for step in range(1, LINK_SAMPLES)]
    half_width, half_height = NODE_WIDTH / 2 + ARROW_GAP, NODE_HEIGHT / 2 + ARROW_GAP
    return sum(any(abs(x - ox) < half_width and abs(y - oy) < half_height for x, y in samples) for ox, oy in others)


def _bend_around(cause: Point, effect: Point, base: float, others: Sequence[Point]) -> float:
    """The bend that takes an arrow past the boxes between its ends: the least curved that crosses none, or
    else the one that crosses fewest (an arrow between bands that are not neighbours may pass an objective)."""
    best, fewest = base, math.inf
    for step in (0, 1, -1, 2, -2, 3, -3):
        bend = base + LINK_DETOUR * step
        crossed = _boxes_crossed(_curve(cause, effect, bend), others)
        if crossed == 0:
            return bend
        if crossed < fewest:
            best, fewest = bend, crossed
    return best


def tint(colour: str, share: float) -> str:
    """``colour`` (#rrggbb) mixed with white, ``share`` of it kept: box fills that keep dark text readable."""
    channels = [int(colour[index : index + 2], 16) for index in (1, 3, 5)]
    return "#" + "".join(f"{round(channel * share + 255 * (1 - share)):02x}" for channel in channels)


def _score_words(score: float | None) -> str:
    if score is None:
        return gettext("no score")
    return gettext("score %(score)s of 10") % {"score": floatformat(score, 1)}


def _status_icon(key: str) -> SafeString:
    return SafeString(ICONS[status_icon_name(key)])


def _wrap(text: str, width: int, lines: int, indent: int = 0) -> tuple[str, ...]:
    """``text`` in at most ``lines`` lines of ``width`` characters (the first ``indent`` shorter), "…" when cut.

    SVG text does not wrap by itself; character counts are close enough for a name in a box.
    """
    wrapped = textwrap.wrap(text, width, initial_indent=" " * indent, max_lines=lines, placeholder=" …")
    return tuple(line.strip() for line in wrapped) or ("",)


def _name_lines(code: str, name: str) -> tuple[tuple[str, float], ...]:
    """An objective's name in three lines at most, the first after its code, each with its baseline: the
    lines are centred in the box above its status row."""
    lines = _wrap(name, NAME_LINE_CHARACTERS, NAME_LINES, indent=len(code) + 1 if code else 0)
    first = NAME_BLOCK_MIDDLE - (NAME_LINE_HEIGHT * (len(lines) - 1) + NAME_CAP_HEIGHT) / 2 + NAME_CAP_HEIGHT
    return tuple((line, first + index * NAME_LINE_HEIGHT) for index, line in enumerate(lines))


def _node_label(objective: Objective, shown: Sequence[str], result: ObjectiveResult) -> str:
    """What an objective's link is called: the words its box shows, in their order, so that what is seen is
    what is heard ("C1 Delight learners, Watch, 5.8/10"); a name cut short to fit is added in full between
    parentheses, and so is a missing score."""
    name = " ".join([objective.code, *shown]).strip()
    if result.score is None:
        label = gettext("%(name)s, %(status)s (no score)") % {"name": name, "status": result.status.name}
    else:
        label = gettext("%(name)s, %(status)s, %(score)s/10") % {
            "name": name,
            "status": result.status.name,
            "score": floatformat(result.score, 1),
        }
    if " ".join(shown) != objective.name:
        label += f" ({objective})"
    return label


def strategy_map(evaluation: ScorecardEvaluation, links: Iterable[ObjectiveLink]) -> StrategyMap:
    """The scorecard's strategy map for the evaluated view: bands, objectives in their places, arrows.

    Objectives with a saved place sit there; the others are laid out automatically (spread evenly in their
    band, in rows of at most ``ROW_CAPACITY``, ordered by :func:`order_bands`). No query is made: the
    objectives and their statuses come with the evaluation, and ``links`` are the scorecard's links.
    """
    perspectives = evaluation.result.perspectives
    links = list(links)
    neighbours: dict[int, set[int]] = defaultdict(set)
    for link in links:
        neighbours[link.cause_id].add(link.effect_id)
        neighbours[link.effect_id].add(link.cause_id)
    ordered = order_bands([[int(result.id) for result in band.objectives] for band in perspectives], neighbours)
    results = {int(result.id): result for band in perspectives for result in band.objectives}
    bands: list[MapBand] = []
    top = 0.0
    for number, (perspective, members) in enumerate(zip(perspectives, ordered, strict=True)):
        height = _band_height(len(members))
        centre_top, centre_bottom = top + BAND_EDGE + NODE_HEIGHT / 2, top + height - BAND_EDGE - NODE_HEIGHT / 2
        nodes = []
        for index, objective_id in enumerate(members):
            objective, result = evaluation.objectives[str(objective_id)], results[objective_id]
            row, x = _slot(index, len(members))
            row_centre = top + BAND_PADDING + NODE_HEIGHT / 2 + row * (NODE_HEIGHT + ROW_GAP)
            y = (row_centre - centre_top) / (centre_bottom - centre_top)
            saved = objective.map_x is not None and objective.map_y is not None
            if saved:
                x, y = objective.map_x, objective.map_y  # type: ignore[assignment]
            name_lines = _name_lines(objective.code, objective.name)
            nodes.append(
                MapNode(
                    objective=objective,
                    result=result,
                    x=x,
                    y=y,
                    cx=round(AREA_LEFT + x * (AREA_RIGHT - AREA_LEFT), 1),
                    cy=round(centre_top + y * (centre_bottom - centre_top), 1),
                    centre_top=centre_top,
                    centre_bottom=centre_bottom,
                    saved=saved,
                    name_lines=name_lines,
                    label=_node_label(objective, [line for line, _ in name_lines], result),
                    fill=tint(result.status.colour, 0.1),
                    stroke=tint(result.status.colour, 0.7),
                    icon=_status_icon(result.status.key),
                )
            )
        nodes.sort(key=lambda node: (round(node.cy), node.cx))  # reading and tab order follow the picture
        name_lines = tuple(
            (line, top + 30 + index * BAND_LINE_HEIGHT)
            for index, line in enumerate(_wrap(perspective.name, BAND_NAME_CHARACTERS, 2))
        )
        score_y = name_lines[-1][1] + 31
        bands.append(
            MapBand(
                result=perspective,
                top=top,
                height=height,
                name_lines=name_lines,
                score_y=score_y,
                status_y=score_y + 25,
                label=f"{perspective.name}: {_score_words(perspective.score)}, {perspective.status.name}",
                icon=_status_icon(perspective.status.key),
                nodes=nodes,
                shaded=number % 2 == 0,
            )
        )
        top += height
    return StrategyMap(
        bands=bands, links=_map_links(links, {node.objective.pk: node for band in bands for node in band.nodes})
    )


def _map_links(links: list[ObjectiveLink], nodes: Mapping[int, MapNode]) -> list[MapLink]:
    pairs = {(link.cause_id, link.effect_id) for link in links}
    drawn = []
    for link in links:
        cause, effect = nodes.get(link.cause_id), nodes.get(link.effect_id)
        if cause is None or effect is None:
            continue
        ends = (cause.cx, cause.cy), (effect.cx, effect.cy)
        others = [(node.cx, node.cy) for pk, node in nodes.items() if pk not in {link.cause_id, link.effect_id}]
        bend = _bend_around(*ends, LINK_BEND if (link.effect_id, link.cause_id) in pairs else 0.0, others)
        path, (mid_x, mid_y) = link_geometry(*ends, bend)
        drawn.append(
            MapLink(
                link=link,
                path=path,
                bend=bend,
                mid_x=mid_x,
                mid_y=mid_y,
                width=STRENGTH_WIDTHS[ObjectiveLink.Strength(link.strength)],
                label=link_label(link),
            )
        )
    return drawn


def link_label(link: ObjectiveLink) -> str:
    """A link in words, for its accessible name: "C1 Delight learners reinforces F1 Grow revenue (strong link)"."""
    return gettext("%(cause)s %(sign)s %(effect)s (%(strength)s link)") % {
        "cause": str(link.cause),
        "sign": link.get_sign_display().lower(),
        "effect": str(link.effect),
        "strength": link.get_strength_display().lower(),
    }


def links_of_scorecard(scorecard: Scorecard) -> QuerySet[ObjectiveLink]:
    """The scorecard's cause-and-effect links with both objectives, in one query."""
    return (
        ObjectiveLink.objects.filter(cause__perspective__scorecard=scorecard)
        .select_related("cause", "effect")
        .order_by("cause__perspective__position", "cause__position", "effect__perspective__position", "id")
    )


@dataclass(frozen=True)
class AlignedObjective:
    """An objective of a cascaded scorecard that supports the one shown, with its score for the same view."""

    objective: Objective
    result: ObjectiveResult
    scorecard: Scorecard


@dataclass(frozen=True)
class ObjectiveDetail:
    """The objective page: the objective's row (score, status, KPIs), its links and what is aligned to it."""

    row: ObjectiveRow
    causes: list[ObjectiveLink]
    """Links into this objective: what drives it."""
    effects: list[ObjectiveLink]
    """Links out of it: what it drives."""
    aligned: list[AlignedObjective]
    hidden_aligned: int
    """Aligned objectives on scorecards the user may not see: counted, not named."""


def _objective_results(result: ScorecardResult) -> Iterator[tuple[ObjectiveResult, str]]:
    """Every objective result of a scorecard tree, with the id of the scorecard it is on."""
    for perspective in result.perspectives:
        for objective in perspective.objectives:
            yield objective, result.id
    for child in result.children:
        yield from _objective_results(child)


def objective_detail(
    objective: Objective, evaluation: ScorecardEvaluation, cards: Sequence[Scorecard], visible_ids: Set[int]
) -> ObjectiveDetail:
    """What the objective page shows, from the evaluation of its scorecard's tree and two queries (its links).

    ``cards`` is the tree the evaluation was made from, ``visible_ids`` the scorecards the user may see.
    """
    row = next(
        row
        for perspective in scorecard_rows(evaluation)
        for row in perspective.objectives
        if row.objective.pk == objective.pk
    )
    links = list(
        ObjectiveLink.objects.filter(Q(cause=objective) | Q(effect=objective)).select_related("cause", "effect")
    )
    cards_by_id = {str(card.pk): card for card in cards}
    aligned, hidden = [], 0
    for result, card_id in _objective_results(evaluation.result):
        candidate = evaluation.objectives[result.id]
        if candidate.parent_id != objective.pk:
            continue
        card = cards_by_id[card_id]
        if card.pk in visible_ids:
            aligned.append(AlignedObjective(candidate, result, card))
        else:
            hidden += 1
    return ObjectiveDetail(
        row=row,
        causes=[link for link in links if link.effect_id == objective.pk],
        effects=[link for link in links if link.cause_id == objective.pk],
        aligned=aligned,
        hidden_aligned=hidden,
    )


HOME_LIST_LENGTH = 8
"""How many KPIs to update, red KPIs and late initiatives the home page lists before pointing further."""

HOME_CHANGES = 8
"""How many recent changes on followed scorecards the home page lists."""


@dataclass(frozen=True)
class RedKpi:
    """A KPI the user owns whose latest value lands in the organisation's worst status, and that value."""

    kpi: Kpi
    period: Period
    actual: Actual
    result: KpiResult


@dataclass(frozen=True)
class LateInitiative:
    """An initiative the user owns that is late: past its end date unfinished, or with milestones overdue."""

    initiative: Initiative
    days_past_end: int
    """Days since its end date; 0 when only milestones are late."""
    milestones_late: int


@dataclass(frozen=True)
class FollowedChange:
    """One audit entry on a followed scorecard, with the scorecard it belongs to (for the links)."""

    entry: AuditEntry
    scorecard: Scorecard


@dataclass(frozen=True)
class HomePage:
    """What the signed-in user's home page shows, read in a fixed number of queries (:func:`home_for_user`)."""

    to_update: list[EntryRow]
    """The KPIs whose values the user types, overdue first, then by due date (the first :data:`HOME_LIST_LENGTH`)."""
    to_update_count: int
    red_kpis: list[RedKpi]
    red_kpi_count: int
    late_initiatives: list[LateInitiative]
    late_initiative_count: int
    followed: list[Scorecard]
    changes: list[FollowedChange]


def red_kpis_owned_by(user: User | AnonymousUser, *, today: date) -> list[RedKpi]:
    """The KPIs the user owns whose latest value is in the worst status of their organisation's scheme.

    Each KPI is scored for the period of its latest value alone, as the data-entry grid scores a cell, so the
    cost is a fixed number of queries whatever the number of KPIs and scorecards. KPIs without values of their
    own (formulas, roll-ups of cascaded KPIs) are not listed: their status is on the scorecard page. Worst
    first (lowest score), then by name.
    """
    from fourfold.measures.scoring import period_value, stored_period
    from fourfold.measures.selectors import candidate_scores, latest_actuals_by_kpi

    if not user.is_authenticated:
        return []
    owned = list(
        Kpi.objects.filter(owner=user, scorecard__in=scorecards_visible_to(user))
        .select_related("scorecard__organisation")
        .prefetch_related("scorecard__organisation__status_levels")
    )
    latest = latest_actuals_by_kpi(kpi.pk for kpi in owned)
    scored = []
    for kpi in owned:
        if (actual := latest.get(kpi.pk)) is not None:
            calendar = kpi.scorecard.organisation.calendar
            scored.append((kpi, stored_period(calendar, actual.period_key), actual))
    # Scoring the stored value as a "candidate" gives exactly its stored score: the candidate replaces itself.
    scores = candidate_scores(
        [(kpi, period, period_value(actual, kpi.scorecard.organisation.calendar)) for kpi, period, actual in scored],
        today=today,
    )
    red = [
        RedKpi(kpi, period, actual, score.result)
        for (kpi, period, actual), score in zip(scored, scores, strict=True)
        if score.off_target
    ]
    return sorted(red, key=lambda item: (item.result.score if item.result.score is not None else -1.0, item.kpi.name))


def late_initiatives_owned_by(user: User | AnonymousUser, *, today: date) -> list[LateInitiative]:
    """The initiatives the user owns that are late, in one query: unfinished past their end date, or with a
    milestone past its due date and not done. Completed and cancelled initiatives are never late; the longest
    overdue come first."""
    from fourfold.initiatives.models import Initiative
    from fourfold.initiatives.selectors import with_milestone_counts

    if not user.is_authenticated:
        return []
    finished = [Initiative.Status.COMPLETED, Initiative.Status.CANCELLED]
    owned = Initiative.objects.filter(owner=user, scorecard__in=scorecards_visible_to(user)).exclude(
        status__in=finished
    )
    late = (
        with_milestone_counts(owned, today=today)
        .filter(Q(end_date__lt=today) | Q(milestones_late__gt=0))
        .select_related("scorecard")
        .order_by("end_date", "name")
    )
    return [
        LateInitiative(
            initiative,
            max((today - initiative.end_date).days, 0),
            initiative.milestones_late,  # type: ignore[attr-defined]  # annotated by with_milestone_counts
        )
        for initiative in late
    ]


def changes_on_followed(
    user: User | AnonymousUser, *, limit: int = HOME_CHANGES
) -> tuple[list[Scorecard], list[FollowedChange]]:
    """The scorecards the user follows and may still see, by name, and their latest changes, newest first.

    Two queries: the followed scorecards, then the newest audit entries of any of them.
    """
    if not user.is_authenticated:
        return [], []
    followed = list(
        scorecards_visible_to(user)
        .filter(Exists(ScorecardFollow.objects.filter(user=user, scorecard=OuterRef("pk"))))
        .select_related("organisation")
        .order_by("name", "pk")
    )
    by_id = {card.pk: card for card in followed}
    entries = AuditEntry.objects.filter(scorecard_id__in=list(by_id)).select_related("content_type")[:limit]
    return followed, [FollowedChange(entry, by_id[cast("int", entry.scorecard_id)]) for entry in entries]


def home_for_user(user: User | AnonymousUser, *, today: date) -> HomePage:
    """Everything the home page shows beside the scorecards, in a fixed number of queries whatever the number
    of KPIs, initiatives and followed scorecards.

    The KPIs to update are the data-entry grid's rows (same due dates and overdue rule, see
    :func:`fourfold.measures.selectors.entry_grid`), across scorecards and frequencies.
    """
    from fourfold.measures.selectors import entry_grid

    rows = sorted(entry_grid(user, today=today).rows, key=lambda row: (not row.overdue, row.due, row.kpi.name))
    red = red_kpis_owned_by(user, today=today)
    late = late_initiatives_owned_by(user, today=today)
    followed, changes = changes_on_followed(user)
    return HomePage(
        to_update=rows[:HOME_LIST_LENGTH],
        to_update_count=len(rows),
        red_kpis=red[:HOME_LIST_LENGTH],
        red_kpi_count=len(red),
        late_initiatives=late[:HOME_LIST_LENGTH],
        late_initiative_count=len(late),
        followed=followed,
        changes=changes,
    )
