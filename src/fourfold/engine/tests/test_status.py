"""Status schemes and overdue checks, with thresholds and dates worked out by hand."""

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.scoring import GoalRedFlag, ScoringConfigError
from fourfold.engine.status import NO_DATA, Status, StatusScheme, is_overdue

GREEN, AMBER, RED, GREY = "#1a7f37", "#bf8700", "#cf222e", "#8c959f"
DEFAULT = StatusScheme()


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10.0, "on_target"),
        (20 / 3, "on_target"),
        (6.66, "watch"),
        (10 / 3, "watch"),
        (3.33, "off_target"),
        (0.0, "off_target"),
        (None, "no_data"),
    ],
)
def test_default_scheme(score, expected):
    assert DEFAULT.status_for(score).key == expected


def test_meeting_the_goal_exactly_is_on_target_and_the_red_flag_is_watch():
    method = GoalRedFlag(goal=700, red_flag=500)
    assert DEFAULT.status_for(method.score(700).score).key == "on_target"
    assert DEFAULT.status_for(method.score(500).score).key == "watch"
    assert DEFAULT.status_for(method.score(499).score).key == "off_target"


def test_a_threshold_reached_on_paper_is_reached_despite_rounding():
    assert DEFAULT.status_for(20 / 3 - 1e-15).key == "on_target"


def test_default_scheme_names_and_colours():
    assert [(status.name, status.colour) for status in (*DEFAULT.levels, DEFAULT.no_data)] == [
        ("On target", GREEN),
        ("Watch", AMBER),
        ("Off target", RED),
        ("No data", GREY),
    ]


def seven_levels() -> tuple[Status, ...]:
    ranked = (Status(f"level{rank}", f"Level {rank}", GREEN, float(6 - rank)) for rank in range(6))
    return (*ranked, Status("bottom", "Bottom", RED))


def test_seven_statuses_are_allowed():
    scheme = StatusScheme(seven_levels())
    assert scheme.status_for(5.5).key == "level1"
    assert scheme.status_for(0.5).key == "bottom"


def test_one_status_catches_everything():
    scheme = StatusScheme((Status("all", "All", GREEN),))
    assert scheme.status_for(0.0).key == "all"
    assert scheme.status_for(10.0).key == "all"


@pytest.mark.parametrize(
    ("levels", "no_data", "message"),
    [
        ((), NO_DATA, "a status scheme needs 1 to 7 statuses, got 0"),
        (
            (*seven_levels()[:-1], Status("extra", "Extra", GREEN, 0.5), Status("bottom", "Bottom", RED)),
            NO_DATA,
            "a status scheme needs 1 to 7 statuses, got 8",
        ),
        (
            (Status("good", "Good", GREEN, 5.0), Status("good", "Bad", RED)),
            NO_DATA,
            "status keys must be unique: 'good' appears twice",
        ),
        (
            (Status("good", "Good", GREEN, 5.0), Status("no_data", "Bad", RED)),
            NO_DATA,
            "status keys must be unique: 'no_data' appears twice",
        ),
        (
            (Status("good", "Good", GREEN, 3.0), Status("ok", "OK", AMBER, 7.0), Status("bad", "Bad", RED)),
            NO_DATA,
            "min_score must descend: ok (7) is not below good (3)",
        ),
        (
            (Status("good", "Good", GREEN, 5.0), Status("ok", "OK", AMBER, 5.0), Status("bad", "Bad", RED)),
            NO_DATA,
            "min_score must descend: ok (5) is not below good (5)",
        ),
        (
            (Status("good", "Good", GREEN), Status("bad", "Bad", RED)),
            NO_DATA,
            "min_score is required for good; only the last status may leave it empty",
        ),
        (
            (Status("good", "Good", GREEN, 5.0), Status("bad", "Bad", RED, 2.0)),
            NO_DATA,
            "the last status bad catches every lower score; its min_score must be empty or 0, got 2",
        ),
        (
            DEFAULT.levels,
            Status("none", "None", GREY, 0.0),
            "the no-data status none must not have a min_score",
        ),
    ],
)
def test_scheme_validation(levels, no_data, message):
    with pytest.raises(ScoringConfigError) as error:
        StatusScheme(levels, no_data)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"colour": "green"}, "colour must be a colour like #1a7f37, got 'green'"),
        ({"min_score": 11.0}, "min_score of good must be a score between 0 and 10, got 11"),
        ({"name": " "}, "name must not be empty"),
    ],
)
def test_status_validation(kwargs, message):
    fields = {"key": "good", "name": "Good", "colour": GREEN, "min_score": 5.0} | kwargs
    with pytest.raises(ScoringConfigError) as error:
        Status(**fields)
    assert str(error.value) == message


def test_a_last_status_with_min_score_0_is_accepted():
    scheme = StatusScheme((Status("good", "Good", GREEN, 5.0), Status("bad", "Bad", RED, 0.0)))
    assert scheme.status_for(0.0).key == "bad"


def test_names_and_colours_are_editable_without_touching_the_original():
    edited = DEFAULT.relabelled("watch", name="Needs attention", colour="#ff8800").relabelled(
        "no_data", name="Not reported"
    )
    assert edited.get("watch") == Status("watch", "Needs attention", "#ff8800", 10 / 3)
    assert edited.no_data.name == "Not reported"
    assert edited.status_for(5.0).name == "Needs attention"
    assert DEFAULT.get("watch").name == "Watch"


def test_relabelling_is_validated():
    with pytest.raises(ScoringConfigError, match="colour must be a colour"):
        DEFAULT.relabelled("watch", colour="orange")
    with pytest.raises(KeyError):
        DEFAULT.relabelled("missing", name="Missing")


def test_schemes_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.levels = ()  # type: ignore[misc]


# Overdue: due 10 days after a period ending 31 March, with 5 grace days, is overdue from 16 April.

END = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("today", "has_value", "expected"),
    [
        (date(2026, 4, 10), False, False),
        (date(2026, 4, 15), False, False),
        (date(2026, 4, 16), False, True),
        (date(2026, 6, 1), False, True),
        (date(2026, 6, 1), True, False),
    ],
)
def test_overdue_after_due_date_and_grace(today, has_value, expected):
    assert is_overdue(period_end=END, due_days=10, grace_days=5, today=today, has_value=has_value) is expected


def test_without_due_or_grace_days_overdue_starts_the_day_after_the_period():
    assert not is_overdue(period_end=END, due_days=0, grace_days=0, today=END, has_value=False)
    assert is_overdue(period_end=END, due_days=0, grace_days=0, today=date(2026, 4, 1), has_value=False)


def test_negative_days_are_rejected():
    with pytest.raises(ScoringConfigError, match="due_days and grace_days must be 0 or more, got -1 and 0"):
        is_overdue(period_end=END, due_days=-1, grace_days=0, today=END, has_value=False)


@given(
    due_days=st.integers(0, 60),
    grace_days=st.integers(0, 30),
    offset=st.integers(-100, 200),
    later=st.integers(0, 100),
)
def test_once_overdue_always_overdue_until_a_value_arrives(due_days, grace_days, offset, later):
    today = END + timedelta(days=offset)
    check = {"period_end": END, "due_days": due_days, "grace_days": grace_days, "has_value": False}
    if is_overdue(today=today, **check):
        assert is_overdue(today=today + timedelta(days=later), **check)


def test_a_threshold_typed_with_two_decimals_is_met_by_the_goal_score():
    scheme = StatusScheme(
        (Status("good", "Good", "#1a7f37", 6.67), Status("bad", "Bad", "#cf222e")),
    )
    assert scheme.status_for(20 / 3).key == "good"  # the goal scores 6.666…, shown as 6.67
    assert scheme.status_for(6.66).key == "bad"
