"""Creating and editing initiatives and their milestones: editors plan them; an owner who is an updater may
mark milestones done; everyone else is refused with 403. Refusals keep what was typed, next to the fields."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.initiatives.models import Initiative, Milestone
from fourfold.initiatives.services import initiative_create, milestone_create

REFUSED = ["viewer", "updater", "outsider"]


def plan(world, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Onboarding revamp",
        "owner": world.updater.pk,
        "start_date": "2026-02-01",
        "end_date": "2026-09-30",
        "status": "in_progress",
        "percent_complete": "25",
        "budget_planned": "12000",
        "budget_spent": "3000",
        "currency_code": "EUR",
        "objectives": [world.objective.pk],
        "kpis": [world.kpi.pk],
    }
    return {**data, **changes}


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="id_{field}_error" role="alert">(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def initiative(world) -> Initiative:
    return initiative_create(
        by=world.editor,
        scorecard=world.scorecard,
        name="Tutor training",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 6, 30),
        owner=world.updater,
    )


@pytest.mark.parametrize("role", REFUSED)
def test_who_may_not_edit_is_refused(world, client, initiative, role):
    milestone = milestone_create(by=world.editor, initiative=initiative, name="Pilot", due_date=date(2026, 3, 1))
    client.force_login(world.user(role))
    for url in (
        reverse("initiatives:initiative_create", args=[world.scorecard.pk]),
        reverse("initiatives:initiative_edit", args=[initiative.pk]),
        reverse("initiatives:initiative_delete", args=[initiative.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, plan(world)).status_code == 403, url
    add = reverse("initiatives:milestone_add", args=[initiative.pk])
    assert client.post(add, {"milestone-name": "x", "milestone-due_date": "2026-04-01"}).status_code == 403
    done = client.post(reverse("initiatives:milestone_complete", args=[milestone.pk]))
    # The owner (an updater) reports progress; other updaters and viewers may not.
    assert done.status_code == (302 if world.user(role) == initiative.owner else 403)
    assert Initiative.objects.get().name == "Tutor training"
    detail = client.get(reverse("initiatives:initiative_detail", args=[initiative.pk])).content.decode()
    assert reverse("initiatives:initiative_edit", args=[initiative.pk]) not in detail


def test_an_editor_creates_an_initiative_supporting_an_objective_and_a_kpi(world, client):
    client.force_login(world.editor)
    url = reverse("initiatives:initiative_create", args=[world.scorecard.pk])
    assert 'value="USD"' in client.get(url).content.decode()  # the organisation's currency to start with
    response = client.post(url, plan(world))
    initiative = Initiative.objects.get()
    assert response["Location"] == reverse("initiatives:initiative_edit", args=[initiative.pk])
    assert (initiative.owner, initiative.budget_planned, initiative.percent_complete) == (
        world.updater,
        Decimal(12000),
        25,
    )
    assert list(initiative.objectives.all()) == [world.objective]
    assert list(initiative.kpis.all()) == [world.kpi]


def test_an_end_before_the_start_is_refused_next_to_the_end_date(world, client):
    client.force_login(world.editor)
    response = client.post(
        reverse("initiatives:initiative_create", args=[world.scorecard.pk]),
        plan(world, end_date="2026-01-15", description="Typed with care"),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "must not be before the start date" in field_error(page, "end_date")
    assert "Typed with care" in page
    assert 'value="2026-01-15"' in page
    assert not Initiative.objects.exists()


def test_a_completed_initiative_must_be_complete(world, client, initiative):
    client.force_login(world.editor)
    response = client.post(
        reverse("initiatives:initiative_edit", args=[initiative.pk]),
        plan(world, status="completed", percent_complete="90"),
    )
    assert "100 % complete" in field_error(response.content.decode(), "percent_complete")


def test_an_editor_changes_the_plan_and_what_it_supports(world, client, initiative):
    client.force_login(world.editor)
    response = client.post(reverse("initiatives:initiative_edit", args=[initiative.pk]), plan(world, kpis=[]))
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert (initiative.name, initiative.status, initiative.currency_code) == ("Onboarding revamp", "in_progress", "EUR")
    assert list(initiative.objectives.all()) == [world.objective]
    assert not initiative.kpis.exists()


def test_an_editor_adds_milestones_and_marks_one_done(world, client, initiative):
    client.force_login(world.editor)
    add = reverse("initiatives:milestone_add", args=[initiative.pk])
    refused = client.post(add, {"milestone-name": "Pilot", "milestone-due_date": "not a date"})
    assert refused.status_code == 400
    assert 'id="id_milestone-due_date_error"' in refused.content.decode()
    assert 'value="Pilot"' in refused.content.decode()
    assert client.post(add, {"milestone-name": "Pilot", "milestone-due_date": "2026-03-01"}).status_code == 302
    milestone = Milestone.objects.get()
    client.post(reverse("initiatives:milestone_complete", args=[milestone.pk]))
    milestone.refresh_from_db()
    assert milestone.completed_on is not None
    client.post(reverse("initiatives:milestone_complete", args=[milestone.pk]), {"reopen": "1"})
    milestone.refresh_from_db()
    assert milestone.completed_on is None


def test_an_editor_deletes_an_initiative(world, client, initiative):
    client.force_login(world.editor)
    url = reverse("initiatives:initiative_delete", args=[initiative.pk])
    assert "Delete “Tutor training”?" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not Initiative.objects.exists()


INITIATIVE_FORM_QUERIES = {"create": 8, "edit": 11}
"""Session, user, the scorecard or initiative, the role, the navigation (5), then the people, objectives and
KPIs to choose from; editing also reads what it supports now and its milestones. The same however many
objectives, KPIs and milestones there are."""


def test_the_initiative_forms_queries_are_pinned(world, client, initiative, django_assert_num_queries):
    client.force_login(world.editor)
    urls = {
        "create": reverse("initiatives:initiative_create", args=[world.scorecard.pk]),
        "edit": reverse("initiatives:initiative_edit", args=[initiative.pk]),
    }
    for url in urls.values():
        client.get(url)
    for more in range(2):
        for index in range(3):
            milestone_create(
                by=world.editor, initiative=initiative, name=f"Step {more}{index}", due_date=date(2026, 2, 1)
            )
        for name, url in urls.items():
            with django_assert_num_queries(INITIATIVE_FORM_QUERIES[name]):
                assert client.get(url).status_code == 200


# Milestones marked done from the initiative page -------------------------------------------------------------

PROGRESS_REPORTERS = {"updater", "editor", "admin", "org_admin"}
"""Who gets "Mark done" on the initiative page: the owner (the updater here) and editors upwards."""


@pytest.mark.parametrize("role", ["viewer", "other_updater", "updater", "editor", "admin", "org_admin"])
def test_the_initiative_page_offers_mark_done_to_those_who_report_progress(world, client, initiative, role):
    milestone_create(by=world.editor, initiative=initiative, name="Pilot", due_date=date(2026, 3, 1))
    client.force_login(world.user(role))
    page = client.get(reverse("initiatives:initiative_detail", args=[initiative.pk])).content.decode()
    action = reverse("initiatives:milestone_complete", args=[Milestone.objects.get().pk])
    shown = role in PROGRESS_REPORTERS
    assert (f'action="{action}"' in page) is shown
    assert ('Mark done<span class="visually-hidden"> Pilot</span>' in page) is shown


def test_the_owner_marks_a_milestone_done_and_reopens_it_from_the_initiative_page(world, client, initiative):
    milestone = milestone_create(by=world.editor, initiative=initiative, name="Pilot", due_date=date(2026, 3, 1))
    client.force_login(world.updater)  # the initiative's owner, an updater
    detail = reverse("initiatives:initiative_detail", args=[initiative.pk])
    action = reverse("initiatives:milestone_complete", args=[milestone.pk])
    done = client.post(action, {"from": "page"})
    assert done["Location"] == detail + "#milestones"
    milestone.refresh_from_db()
    assert milestone.completed_on is not None
    page = client.get(detail).content.decode()
    assert "Milestone “Pilot” done." in page
    assert 'name="reopen" value="1"' in page
    assert 'Reopen<span class="visually-hidden"> Pilot</span>' in page

    reopened = client.post(action, {"from": "page", "reopen": "1"})
    assert reopened["Location"] == detail + "#milestones"
    milestone.refresh_from_db()
    assert milestone.completed_on is None


def test_an_editor_goes_back_to_the_page_the_button_was_on(world, client, initiative):
    milestone = milestone_create(by=world.editor, initiative=initiative, name="Pilot", due_date=date(2026, 3, 1))
    client.force_login(world.editor)
    action = reverse("initiatives:milestone_complete", args=[milestone.pk])
    from_page = client.post(action, {"from": "page"})
    assert from_page["Location"] == reverse("initiatives:initiative_detail", args=[initiative.pk]) + "#milestones"
    from_edit_page = client.post(action, {"reopen": "1"})
    assert from_edit_page["Location"] == reverse("initiatives:initiative_edit", args=[initiative.pk])


@pytest.mark.parametrize("role", ["viewer", "other_updater", "outsider"])
def test_those_who_do_not_report_progress_are_refused_from_the_initiative_page_too(world, client, initiative, role):
    milestone = milestone_create(by=world.editor, initiative=initiative, name="Pilot", due_date=date(2026, 3, 1))
    client.force_login(world.user(role))
    action = reverse("initiatives:milestone_complete", args=[milestone.pk])
    assert client.post(action, {"from": "page"}).status_code == 403
    milestone.refresh_from_db()
    assert milestone.completed_on is None
