"""Home and scorecard pages: what each user sees, and a fixed number of queries whatever the size."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from fourfold.measures.services import actual_record, kpi_create, kpi_target_set
from fourfold.strategy.services import objective_create


def test_home_lists_only_the_scorecards_the_user_may_see(world, client):
    client.force_login(world.viewer)
    page = client.get(reverse("strategy:home")).content.decode()
    assert "Company 2026" in page
    assert "Sales 2026" not in page


def test_home_explains_an_empty_list(world, client):
    client.force_login(world.outsider)
    page = client.get(reverse("strategy:home")).content.decode()
    assert "You have no role on any scorecard" in page


def test_home_lists_the_kpis_the_user_reports_on(world, client):
    client.force_login(world.updater)
    page = client.get(reverse("strategy:home")).content.decode()
    assert reverse("measures:kpi_detail", args=[world.kpi.pk]) in page


def test_scorecard_page_scores_the_chosen_period_and_says_why(world, client):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-04", target=Decimal(85), red_flag=Decimal(70))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-02", value=Decimal("71.25"))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-03", value=Decimal("74.5"))
    client.force_login(world.viewer)
    url = reverse("strategy:scorecard_detail", args=[world.scorecard.pk])
    page = client.get(url, {"period": "2026-03"}).content.decode()
    assert "Delight learners" in page
    assert "74.5 %" in page
    assert "80.0 %" in page  # the March target; the April change does not apply yet
    # goal/red flag: 10/3 * (1 + (74.5 - 60) / (80 - 60)) = 10/3 * 1.725 = 5.75 -> shown 5.8, status Watch
    assert "5.8" in page
    assert "Watch" in page
    assert "74.5 lies 72.5 % of the way from the red flag 60 to the goal 80" in page


def test_scorecard_page_explains_a_bad_period_key(world, client):
    client.force_login(world.viewer)
    response = client.get(reverse("strategy:scorecard_detail", args=[world.scorecard.pk]), {"period": "2026-13"})
    assert response.status_code == 200
    assert "the month must be 01-12" in response.content.decode()


def test_scorecard_page_query_count_does_not_grow_with_kpis(world, client, django_assert_max_num_queries):
    client.force_login(world.viewer)
    url = reverse("strategy:scorecard_detail", args=[world.scorecard.pk])
    client.get(url)  # warm the session and content-type caches

    def add_kpis(count: int) -> None:
        for perspective in world.scorecard.perspectives.all():
            objective = objective_create(
                by=world.editor, perspective=perspective, name=f"Objective {perspective.pk}-{count}"
            )
            for index in range(count):
                kpi = kpi_create(
                    by=world.editor, objective=objective, key=f"k{perspective.pk}_{count}_{index}", name=f"KPI {index}"
                )
                kpi_target_set(by=world.editor, kpi=kpi, period_key="2026-01", target=Decimal(10))
                actual_record(by=world.editor, kpi=kpi, period_key="2026-01", value=Decimal(9))

    add_kpis(1)
    with django_assert_max_num_queries(15) as small:
        client.get(url)
    add_kpis(10)
    with django_assert_max_num_queries(15) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries), len(small.captured_queries)


def test_kpi_page_shows_values_notes_and_history(world, client):
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal(70), note="Survey tool outage")
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal(72), note="Corrected")
    client.force_login(world.viewer)
    page = client.get(reverse("measures:kpi_detail", args=[world.kpi.pk])).content.decode()
    assert "Corrected" in page
    assert "Replaced values" in page
    assert "Enter a value" not in page  # viewers get no form


def test_form_errors_appear_next_to_the_field(world, client):
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:actual_record", args=[world.kpi.pk]), {"period_key": "2026-Q1", "value": "70"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_period_key_error"' in page  # the id Django's aria-describedby names
    assert "quarterly period but a monthly period" in page
