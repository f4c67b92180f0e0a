"""Reads of initiatives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from django.db.models import Count, Q, QuerySet

from fourfold.initiatives.models import Initiative, Milestone
from fourfold.measures.models import Kpi
from fourfold.strategy.models import Objective, Scorecard


def with_milestone_counts(initiatives: QuerySet[Initiative], *, today: date) -> QuerySet[Initiative]:
    """Initiatives with their owner and how many milestones are done and late (as of ``today``), in one query."""
    return initiatives.select_related("owner").annotate(
        milestone_count=Count("milestones"),
        milestones_done=Count("milestones", filter=Q(milestones__completed_on__isnull=False)),
        milestones_late=Count(
            "milestones", filter=Q(milestones__completed_on__isnull=True, milestones__due_date__lt=today)
        ),
    )


def initiatives_for_scorecard(scorecard: Scorecard, *, today: date) -> QuerySet[Initiative]:
    """A scorecard's initiatives with their owner and how many milestones are done and late, in one query."""
    return with_milestone_counts(scorecard.initiatives.all(), today=today).order_by("start_date", "name")


def initiatives_supporting(target: Objective | Kpi, *, today: date) -> QuerySet[Initiative]:
    """The initiatives that support an objective or a KPI, with their milestone counts, in one query."""
    return with_milestone_counts(target.initiatives.all(), today=today).order_by("start_date", "name")


def initiative_for_page(initiative_id: int) -> Initiative:
    """One initiative with its scorecard, organisation and owner; :class:`Initiative.DoesNotExist` if none."""
    return Initiative.objects.select_related("scorecard__organisation", "scorecard__org_unit", "owner").get(
        pk=initiative_id
    )


def objectives_supported(initiative: Initiative) -> QuerySet[Objective]:
    """The objectives an initiative supports, with their perspective, in the scorecard's order."""
    return initiative.objectives.select_related("perspective").order_by("perspective__position", "position", "id")


def kpis_supported(initiative: Initiative) -> QuerySet[Kpi]:
    """The KPIs an initiative supports, with their objective, in the scorecard's order."""
    return initiative.kpis.select_related("objective__perspective").order_by(
        "objective__perspective__position", "objective__position", "position", "id"
    )


MilestoneState = Literal["done", "late", "due"]
MAX_MONTH_TICKS = 18


@dataclass(frozen=True)
class TimelineMilestone:
    """A milestone on the initiative's timeline: where it sits (percent of the span) and whether it is done."""

    milestone: Milestone
    at: float
    state: MilestoneState
    days_late: int | None
    """Days past its due date: still open (late), or by when it was done (done late); else ``None``."""


@dataclass(frozen=True)
class Tick:
    """The first day of a month on the timeline's scale, and where it sits (percent of the span)."""

    at: float
    day: date

    @property
    def starts_quarter(self) -> bool:
        """January, April, July, October: the ticks still labelled when the timeline is narrow."""
        return self.day.month % 3 == 1


@dataclass(frozen=True)
class Timeline:
    """The initiative's span from its start (or first milestone) to its end (or last milestone)."""

    start: date
    end: date
    milestones: list[TimelineMilestone]
    today_at: float | None
    """Where today sits, in percent of the span; ``None`` outside it."""
    time_elapsed: int
    """How much of the initiative's own time (start to end date) has gone, in percent."""
    initiative_from: float
    initiative_to: float
    """Where the initiative's own dates lie in the span (a milestone may fall outside them)."""
    ticks: list[Tick]
    """Month starts (quarter starts for spans over 18 months), for the scale."""

    @property
    def done(self) -> int:
        return sum(item.state == "done" for item in self.milestones)

    @property
    def late(self) -> int:
        return sum(item.state == "late" for item in self.milestones)


def _share(day: date, start: date, end: date) -> float:
    total = (end - start).days
    return 0.0 if total <= 0 else min(100.0, max(0.0, 100 * (day - start).days / total))


def _days_late(milestone: Milestone, state: MilestoneState, today: date) -> int | None:
    if state == "late":
        return (today - milestone.due_date).days
    if milestone.completed_on is not None and milestone.completed_on > milestone.due_date:
        return (milestone.completed_on - milestone.due_date).days
    return None


def initiative_timeline(initiative: Initiative, *, today: date) -> Timeline:
    """The milestones of an initiative placed on its timeline, each done, late or still due, in one query."""
    milestones = list(initiative.milestones.order_by("due_date", "id"))
    start = min([initiative.start_date, *(item.due_date for item in milestones)])
    end = max([initiative.end_date, *(item.due_date for item in milestones)])
    placed = []
    for milestone in milestones:
        if milestone.completed_on is not None:
            state: MilestoneState = "done"
        elif milestone.due_date < today:
            state = "late"
        else:
            state = "due"
        placed.append(
            TimelineMilestone(
                milestone,
                _share(milestone.due_date, start, end),
                state,
                _days_late(milestone, state, today),
            )
        )
    return Timeline(
        start=start,
        end=end,
        milestones=placed,
        today_at=_share(today, start, end) if start <= today <= end else None,
        time_elapsed=round(_share(today, initiative.start_date, initiative.end_date)),
        initiative_from=_share(initiative.start_date, start, end),
        initiative_to=_share(initiative.end_date, start, end),
        ticks=[Tick(_share(tick, start, end), tick) for tick in _month_starts(start, end)],
    )


def _month_starts(start: date, end: date) -> list[date]:
    """The first days of the months after ``start`` up to ``end``; every third one when there are many."""
    months = []
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        tick = date(year, month, 1)
        if tick > end:
            break
        months.append(tick)
    if len(months) > MAX_MONTH_TICKS:
        months = [tick for tick in months if tick.month % 3 == 1]
    return months


@dataclass(frozen=True)
class Budget:
    """Planned against spent, for the budget bar: the spent share of the plan, and any overspend."""

    planned: Decimal | None
    spent: Decimal

    @property
    def spent_percent(self) -> int | None:
        """Spent as a whole percentage of planned (may pass 100), or ``None`` without a positive plan."""
        if not self.planned:
            return None
        return round(100 * self.spent / self.planned)

    @property
    def planned_bar(self) -> float:
        """The planned bar's width in percent of the longer bar (shorter than spent when overspent)."""
        if not self.planned:
            return 0.0
        return 100.0 if self.spent <= self.planned else float(100 * self.planned / self.spent)

    @property
    def spent_bar(self) -> float:
        """The spent bar's width in percent of the longer bar."""
        if not self.planned:
            return 100.0 if self.spent else 0.0
        return float(100 * self.spent / self.planned) if self.spent <= self.planned else 100.0

    @property
    def over(self) -> Decimal | None:
        """How much more than planned has been spent, or ``None`` when within the plan."""
        if self.planned is None or self.spent <= self.planned:
            return None
        return self.spent - self.planned


def budget_of(initiative: Initiative) -> Budget:
    """The initiative's budget, shaped for its page."""
    return Budget(initiative.budget_planned, initiative.budget_spent)
