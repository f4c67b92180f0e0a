"""Home and KPI pages: what each user sees (the scorecard page has test_scorecard_page.py)."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from fourfold.measures.services import actual_record


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
