"""The initiative page: who sees it, its budget, its milestones on a timeline, and what it supports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.initiatives.selectors import Budget, initiative_timeline
from fourfold.initiatives.services import initiative_create, milestone_complete, milestone_create
from fourfold.strategy.services import objective_create

VIEWERS = ["viewer", "updater", "editor", "admin", "org_admin", "superuser"]
TODAY = date(2026, 6, 15)
INITIATIVE_PAGE_QUERIES = 8
"""Session, user, initiative, role, milestones, objectives, KPIs, the navigation."""


@pytest.fixture
def initiative(world):
    """A callback service for C1, half done, with a milestone done on time, one done late, one late, one due."""
    made = initiative_create(
        by=world.editor,
        scorecard=world.scorecard,
        name="Introduce a callback service",
        description="Call learners back instead of keeping them waiting.",
        owner=world.updater,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        budget_planned=Decimal(60000),
        budget_spent=Decimal(42000),
        percent_complete=45,
        status="in_progress",
        objectives=[world.objective],
        kpis=[world.kpi],
    )
    for name, due, done in (
        ("Pilot with one team", date(2026, 2, 28), date(2026, 2, 20)),
        ("Telephony contract signed", date(2026, 3, 31), date(2026, 4, 10)),
        ("Rolled out to all teams", date(2026, 5, 31), None),
        ("Impact review", date(2026, 11, 30), None),
    ):
        milestone = milestone_create(by=world.editor, initiative=made, name=name, due_date=due)
        if done:
            milestone_complete(by=world.editor, milestone=milestone, completed_on=done)
    return made


def url(initiative) -> str:
    return reverse("initiatives:initiative_detail", args=[initiative.pk])


@pytest.mark.parametrize("role", VIEWERS)
def test_everyone_with_a_role_sees_the_initiative(world, initiative, client, role):
    client.force_login(world.user(role))
    response = client.get(url(initiative))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Introduce a callback service" in page
    assert "Call learners back instead of keeping them waiting." in page
    assert "In progress" in page


def test_outsiders_are_refused_visitors_sent_to_sign_in_and_unknown_ids_not_found(world, initiative, client):
    client.force_login(world.outsider)
    assert client.get(url(initiative)).status_code == 403
    assert client.get(reverse("initiatives:initiative_detail", args=[initiative.pk + 999])).status_code == 404
    client.logout()
    response = client.get(url(initiative))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_page_shows_budget_progress_and_milestones_late_in_words(world, initiative, client, monkeypatch):
    monkeypatch.setattr("fourfold.initiatives.views.timezone.localdate", lambda: TODAY)
    client.force_login(world.viewer)
    page = client.get(url(initiative), HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()  # dates as 10 Apr 2026
    assert "USD 60,000" in page
    assert "USD 42,000" in page
    assert "70 % of the plan spent; USD 18,000 remaining." in page
    assert "45 %" in page
    assert "2 of 4 done" in page
    assert "Late by 15 days" in page  # "Rolled out to all teams", due 31 May
    assert "Done on 10 Apr 2026, 10 days late" in page
    assert "Done on 20 Feb 2026</span>" in page
    assert "Not due yet" in page
    assert "1 Jan 2026 – 31 Dec 2026" in page
    assert 'class="timeline-today"' in page


def test_the_page_links_the_objectives_and_kpis_it_supports(world, initiative, client):
    client.force_login(world.viewer)
    page = client.get(url(initiative)).content.decode()
    assert reverse("strategy:objective_detail", args=[world.objective.pk]) in page
    assert reverse("measures:kpi_detail", args=[world.kpi.pk]) in page


def test_an_overspent_budget_is_said_in_words(world, initiative, client):
    initiative.budget_spent = Decimal(66000)
    initiative.save()
    client.force_login(world.viewer)
    page = client.get(url(initiative)).content.decode()
    assert "Over budget by USD 6,000: 110 % of the plan spent." in page


def test_the_scorecard_objective_and_kpi_pages_link_to_the_initiative(world, initiative, client):
    client.force_login(world.viewer)
    for page_url in (
        reverse("strategy:scorecard_detail", args=[world.scorecard.pk]),
        reverse("strategy:objective_detail", args=[world.objective.pk]),
        reverse("measures:kpi_detail", args=[world.kpi.pk]),
    ):
        assert url(initiative) in client.get(page_url).content.decode()


def test_a_kpi_no_initiative_supports_shows_no_initiatives(world, client):
    client.force_login(world.viewer)
    page = client.get(reverse("measures:kpi_detail", args=[world.kpi.pk])).content.decode()
    assert "Initiatives supporting this KPI" not in page


def test_the_page_makes_the_same_number_of_queries_whatever_the_number_of_milestones(
    world, initiative, client, django_assert_max_num_queries
):
    client.force_login(world.viewer)
    client.get(url(initiative))
    with django_assert_max_num_queries(INITIATIVE_PAGE_QUERIES) as few:
        client.get(url(initiative))
    for index in range(10):
        milestone_create(by=world.editor, initiative=initiative, name=f"Step {index}", due_date=date(2026, 7, 1))
        initiative.objectives.add(
            objective_create(by=world.editor, perspective=world.objective.perspective, name=f"Aim {index}")
        )
    with django_assert_max_num_queries(INITIATIVE_PAGE_QUERIES) as many:
        client.get(url(initiative))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_timeline_spans_the_initiative_and_any_milestone_outside_it(world, initiative):
    timeline = initiative_timeline(initiative, today=TODAY)
    assert (timeline.start, timeline.end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert [item.state for item in timeline.milestones] == ["done", "done", "late", "due"]
    assert [item.days_late for item in timeline.milestones] == [None, 10, 15, None]
    assert timeline.time_elapsed == 45  # 165 of 364 days
    assert [tick.day.month for tick in timeline.ticks] == list(range(2, 13))
    milestone_create(by=world.editor, initiative=initiative, name="Late report", due_date=date(2027, 2, 15))
    later = initiative_timeline(initiative, today=TODAY)
    assert later.end == date(2027, 2, 15)
    assert later.initiative_to < 100 == later.milestones[-1].at


@pytest.mark.parametrize(
    ("planned", "spent", "planned_bar", "spent_bar", "over"),
    [
        (Decimal(100), Decimal(25), 100.0, 25.0, None),
        (Decimal(100), Decimal(125), 80.0, 100.0, Decimal(25)),
        (None, Decimal(10), 0.0, 100.0, None),
        (Decimal(0), Decimal(0), 0.0, 0.0, None),
    ],
)
def test_the_budget_bars_share_one_scale(planned, spent, planned_bar, spent_bar, over):
    budget = Budget(planned, spent)
    assert (budget.planned_bar, budget.spent_bar, budget.over) == (planned_bar, spent_bar, over)
