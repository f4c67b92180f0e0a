"""The objective page: who sees it, its score and why, its KPIs, links, alignment and initiatives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.initiatives.services import initiative_create
from fourfold.measures.scoring import forget_cached_evaluations
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set
from fourfold.strategy.models import ObjectiveLink
from fourfold.strategy.services import objective_create, objective_link_create

VIEWERS = ["viewer", "updater", "editor", "admin", "org_admin", "superuser"]
OBJECTIVE_PAGE_QUERIES = 17
"""Session, user, objective, role, the tree (1), its evaluation (8), the visible scorecards, the links, the
initiatives, the navigation (1)."""


def url(objective, **query: str) -> str:
    address = reverse("strategy:objective_detail", args=[objective.pk])
    return address + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


@pytest.fixture
def neighbours(world):
    """C1 between a cause (P1) and an effect (F1), aligned below by an objective of Sales 2026."""
    cause = objective_create(
        by=world.editor, perspective=world.scorecard.perspectives.get(kind="internal"), name="Answer fast", code="P1"
    )
    effect = objective_create(
        by=world.editor, perspective=world.scorecard.perspectives.get(kind="financial"), name="Grow revenue", code="F1"
    )
    objective_link_create(
        by=world.editor, cause=cause, effect=world.objective, rationale="Quick answers delight learners."
    )
    objective_link_create(
        by=world.editor,
        cause=world.objective,
        effect=effect,
        sign=ObjectiveLink.Sign.TRADES_OFF,
        strength=ObjectiveLink.Strength.STRONG,
        rationale="Generous refunds cost revenue.",
    )
    aligned = objective_create(
        by=world.org_admin,
        perspective=world.child_scorecard.perspectives.get(kind="customer"),
        name="Happy sales customers",
        code="SC1",
        parent=world.objective,
    )
    return {"cause": cause, "effect": effect, "aligned": aligned}


@pytest.mark.parametrize("role", VIEWERS)
def test_everyone_with_a_role_sees_the_objective(world, neighbours, client, role):
    client.force_login(world.user(role))
    response = client.get(url(world.objective))
    assert response.status_code == 200
    assert "Delight learners" in response.content.decode()


def test_outsiders_are_refused_visitors_sent_to_sign_in_and_unknown_ids_not_found(world, client):
    client.force_login(world.outsider)
    assert client.get(url(world.objective)).status_code == 403
    assert client.get(reverse("strategy:objective_detail", args=[world.objective.pk + 999])).status_code == 404
    client.logout()
    response = client.get(url(world.objective))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_page_scores_the_objective_for_the_period_and_says_why_with_its_kpis(world, client):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal("74.5"))
    client.force_login(world.viewer)
    page = client.get(url(world.objective, period="2026-03")).content.decode()
    assert "5.8" in page
    assert "Watch" in page
    assert "weighted average of the 1 of 1 children with data" in page
    assert "74.5 %" in page  # the KPI's actual with its unit
    assert "80.0 %" in page  # and its target
    assert reverse("measures:kpi_detail", args=[world.kpi.pk]) + "?period=2026-03" in page


def test_the_page_lists_links_in_and_out_with_their_rationale(world, neighbours, client):
    client.force_login(world.viewer)
    page = client.get(url(world.objective)).content.decode()
    driven_by, drives = page.split("Driven by")[1].split("Drives")
    assert "P1 Answer fast" in driven_by
    assert "Quick answers delight learners." in driven_by
    assert "F1 Grow revenue" in drives
    assert "Generous refunds cost revenue." in drives
    assert "Trades off" in drives
    assert "Strong" in drives


def test_aligned_objectives_are_named_only_where_the_user_may_see_them(world, neighbours, client):
    client.force_login(world.org_admin)  # sees Sales 2026
    page = client.get(url(world.objective)).content.decode()
    assert "SC1 Happy sales customers" in page
    assert url(neighbours["aligned"]) in page
    client.force_login(world.viewer)  # has no role on Sales 2026
    page = client.get(url(world.objective)).content.decode()
    alignment = page.split('id="alignment-title"')[1].split("</section>")[0]
    assert "Happy sales customers" not in alignment
    assert url(neighbours["aligned"]) not in page
    assert "1 more aligned objective is on a scorecard you cannot see." in page


def test_the_aligned_objective_links_up_to_the_one_it_supports(world, neighbours, client):
    client.force_login(world.org_admin)
    page = client.get(url(neighbours["aligned"])).content.decode()
    assert url(world.objective) in page
    assert "Company 2026" in page


def test_the_page_lists_the_initiatives_that_support_the_objective(world, client):
    initiative_create(
        by=world.editor,
        scorecard=world.scorecard,
        name="Callback service",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 6, 30),
        objectives=[world.objective],
    )
    initiative_create(
        by=world.editor,
        scorecard=world.scorecard,
        name="Unrelated",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 2, 1),
    )
    client.force_login(world.viewer)
    page = client.get(url(world.objective)).content.decode()
    assert "Callback service" in page
    assert "Unrelated" not in page


def test_the_scorecard_page_links_to_the_objective_and_the_map(world, client):
    client.force_login(world.viewer)
    page = client.get(reverse("strategy:scorecard_detail", args=[world.scorecard.pk])).content.decode()
    assert reverse("strategy:objective_detail", args=[world.objective.pk]) in page
    assert reverse("strategy:strategy_map", args=[world.scorecard.pk]) in page


def test_the_page_makes_the_same_number_of_queries_whatever_the_number_of_kpis_and_links(
    world, neighbours, client, django_assert_max_num_queries
):
    client.force_login(world.org_admin)
    client.get(url(world.objective))
    forget_cached_evaluations()  # both measured pages evaluate the tree afresh
    with django_assert_max_num_queries(OBJECTIVE_PAGE_QUERIES) as few:
        client.get(url(world.objective))
    for index in range(8):
        kpi_create(by=world.editor, objective=world.objective, key=f"extra_{index}", name=f"Extra {index}")
        other = objective_create(by=world.editor, perspective=world.objective.perspective, name=f"Other {index}")
        objective_link_create(by=world.editor, cause=other, effect=world.objective)
        objective_create(
            by=world.org_admin,
            perspective=world.child_scorecard.perspectives.get(kind="customer"),
            name=f"Aligned {index}",
            parent=world.objective,
        )
    forget_cached_evaluations()
    with django_assert_max_num_queries(OBJECTIVE_PAGE_QUERIES) as many:
        client.get(url(world.objective))
    assert len(many.captured_queries) == len(few.captured_queries), len(few.captured_queries)
