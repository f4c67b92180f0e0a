"""Status schemes: how a 0-10 score becomes a named, coloured status, and when a missing value is overdue.

A scheme is an ordered list of up to seven statuses, best first, each with the lowest score that earns it;
the last one catches every lower score. "No data" is separate from the list, because it is not a level of
performance. The default cuts the scale where the goal/red-flag method puts its anchors, so that a value at
the goal is "on target" and a value at the red flag is still "watch".

Overdue is deliberately not a colour: a KPI can be green from last month's value and overdue for this month's.
``is_overdue`` answers that question alone, from dates the caller supplies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

from fourfold.engine.explain import format_number
from fourfold.engine.scoring import (
    GOAL_SCORE,
    RED_FLAG_SCORE,
    SCORE_MIN,
    ScoringConfigError,
    is_close,
    require_hex_colour,
    require_score,
    require_text,
)

MAX_STATUSES = 7
"""More levels than this stop being readable as colours on a strategy map."""


@dataclass(frozen=True)
class Status:
    """A named, coloured status; ``min_score`` is the lowest score that earns it.

    ``min_score`` is ``None`` for the last (catch-all) level of a scheme and for the "no data" status.
    """

    key: str
    name: str
    colour: str
    min_score: float | None = None

    def __post_init__(self) -> None:
        require_text("key", self.key)
        require_text("name", self.name)
        require_hex_colour("colour", self.colour)
        if self.min_score is not None:
            require_score(f"min_score of {self.key}", self.min_score)


DEFAULT_LEVELS = (
    Status("on_target", "On target", "#1a7f37", GOAL_SCORE),
    Status("watch", "Watch", "#bf8700", RED_FLAG_SCORE),
    Status("off_target", "Off target", "#cf222e"),
)
"""On target from 6.67 (the goal score, exact), watch from 3.33 (the red-flag score), off target below."""

NO_DATA = Status("no_data", "No data", "#8c959f")


@dataclass(frozen=True)
class StatusScheme:
    """Up to seven statuses, best first with descending ``min_score``, plus the "no data" status.

    Schemes are frozen: ``relabelled`` returns an edited copy, so a scheme shared by many scorecards cannot
    change under one of them by accident.
    """

    levels: tuple[Status, ...] = DEFAULT_LEVELS
    no_data: Status = NO_DATA

    def __post_init__(self) -> None:
        if not 1 <= len(self.levels) <= MAX_STATUSES:
            raise ScoringConfigError(f"a status scheme needs 1 to {MAX_STATUSES} statuses, got {len(self.levels)}")
        seen: set[str] = set()
        for status in (*self.levels, self.no_data):
            if status.key in seen:
                raise ScoringConfigError(f"status keys must be unique: {status.key!r} appears twice")
            seen.add(status.key)
        if self.no_data.min_score is not None:
            raise ScoringConfigError(f"the no-data status {self.no_data.key} must not have a min_score")
        *ranked, last = self.levels
        if last.min_score is not None and last.min_score > SCORE_MIN:
            raise ScoringConfigError(
                f"the last status {last.key} catches every lower score; its min_score must be empty or 0, "
                f"got {format_number(last.min_score)}"
            )
        previous: Status | None = None
        for status in ranked:
            if status.min_score is None:
                raise ScoringConfigError(
                    f"min_score is required for {status.key}; only the last status may leave it empty"
                )
            if previous is not None and previous.min_score is not None and status.min_score >= previous.min_score:
                raise ScoringConfigError(
                    f"min_score must descend: {status.key} ({format_number(status.min_score)}) is not below "
                    f"{previous.key} ({format_number(previous.min_score)})"
                )
            previous = status

    def status_for(self, score: float | None) -> Status:
        """The best status whose ``min_score`` the score reaches; ``no_data`` for ``None``.

        A score earns a status when the score as shown (two decimals) reaches its threshold, so what people
        read and the colour they see agree; 6.67 typed as a threshold is met by the goal score 6.666…

        >>> scheme = StatusScheme()
        >>> [scheme.status_for(score).key for score in (20 / 3, 5.0, 0.0, None)]
        ['on_target', 'watch', 'off_target', 'no_data']
        """
        if score is None:
            return self.no_data
        # Compared as shown (two decimals), so a status threshold typed as 6.67 is met by the goal's 6.666…
        shown = round(score, 2)
        for status in self.levels:
            if status.min_score is None or shown >= status.min_score or is_close(score, status.min_score):
                return status
        return self.levels[-1]

    def get(self, key: str) -> Status:
        """The status with this key, including the no-data status; ``KeyError`` if there is none."""
        for status in (*self.levels, self.no_data):
            if status.key == key:
                return status
        raise KeyError(key)

    def relabelled(self, key: str, *, name: str | None = None, colour: str | None = None) -> StatusScheme:
        """A copy with one status renamed or recoloured; thresholds are changed by building a new scheme."""
        target = self.get(key)
        edited = dataclasses.replace(
            target,
            name=target.name if name is None else name,
            colour=target.colour if colour is None else colour,
        )
        if target is self.no_data:
            return dataclasses.replace(self, no_data=edited)
        return dataclasses.replace(self, levels=tuple(edited if status is target else status for status in self.levels))


def is_overdue(*, period_end: date, due_days: int, grace_days: int, today: date, has_value: bool) -> bool:
    """Whether a period's value is overdue: still missing after the due date and the grace days have passed.

    The value is due ``due_days`` after the period ends; ``grace_days`` more are tolerated before it is
    called overdue, so the last grace day itself is not yet overdue.

    >>> end = date(2026, 3, 31)
    >>> is_overdue(period_end=end, due_days=10, grace_days=5, today=date(2026, 4, 15), has_value=False)
    False
    >>> is_overdue(period_end=end, due_days=10, grace_days=5, today=date(2026, 4, 16), has_value=False)
    True
    """
    if due_days < 0 or grace_days < 0:
        raise ScoringConfigError(f"due_days and grace_days must be 0 or more, got {due_days} and {grace_days}")
    if has_value:
        return False
    return today > period_end + timedelta(days=due_days + grace_days)
