"""The pages of computed KPIs: who sees runs and lineage, who may start a computation, and the KPI page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fourfold.computed.models import ComputationRun
from fourfold.computed.tests.rawdata import TODAY, run


@pytest.fixture
def computed(setup):
    world, _, kpis, _ = setup
    return world, kpis, run(world)


def page(client, user, url, method="get", **data):
    client.force_login(user)
    return getattr(client, method)(url, data)


def test_a_viewer_reads_the_run_and_the_values_it_wrote(client, computed):
    world, kpis, result = computed
    response = page(client, world.viewer, reverse("computed:run_detail", args=[result.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "8 values created, 0 changed, 0 unchanged, 0 withdrawn." in text
    assert "divides by zero: 200 over a denominator of 0" in text
    assert reverse("measures:kpi_detail", args=[kpis["revenue"].pk]) in text
    assert '<code>orders</code></td><td class="num">6</td>' in text


def test_values_on_scorecards_a_user_cannot_see_are_left_out_of_the_run(client, computed):
    world, kpis, result = computed
    from fourfold.accounts.services import scorecard_member_set

    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=world.outsider, role="viewer")
    response = page(client, world.outsider, reverse("computed:run_detail", args=[result.pk]))
    assert response.status_code == 200
    assert reverse("measures:kpi_detail", args=[kpis["revenue"].pk]) not in response.content.decode()


def test_people_without_a_role_in_the_organisation_cannot_read_its_runs(client, computed):
    world, _, result = computed
    assert page(client, world.outsider, reverse("computed:run_detail", args=[result.pk])).status_code == 403
    url = reverse("computed:organisation_data", args=["acme"])
    assert page(client, world.outsider, url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_the_kpi_page_shows_the_margin_of_error_the_thin_sample_and_the_lineage(client, computed):
    world, kpis, result = computed
    response = page(client, world.viewer, reverse("measures:kpi_detail", args=[kpis["nps"].pk]) + "?period=2026-01")
    text = response.content.decode()
    assert "± 48.4" in text
    assert "only 10 responses" in text
    assert reverse("computed:run_detail", args=[result.pk]) in text
    assert "Caution: this value rests on only 10 responses" in text


@pytest.mark.parametrize(("role", "status"), [("org_admin", 302), ("admin", 403), ("editor", 403), ("viewer", 403)])
def test_only_organisation_admins_queue_a_computation(client, computed, role, status):
    world, _, _ = computed
    url = reverse("computed:organisation_compute", args=["acme"])
    response = page(client, world.user(role), url, method="post")
    assert response.status_code == status
    assert DBTaskResult.objects.count() == (1 if status == 302 else 0)


def test_the_data_page_lists_sources_bindings_and_runs(client, computed):
    world, _, result = computed
    response = page(client, world.org_admin, reverse("computed:organisation_data", args=["acme"]))
    text = response.content.decode()
    assert "Warehouse" in text
    assert '<code>cac_by_channel</code> <span class="muted">(channel = Paid search)</span>' in text
    assert reverse("computed:run_detail", args=[result.pk]) in text
    assert "Compute what changed" in text
    viewer = page(client, world.viewer, reverse("computed:organisation_data", args=["acme"]))
    assert "Compute what changed" not in viewer.content.decode()


def test_a_failed_run_says_why(client, computed):
    world, _, _ = computed
    failed = ComputationRun.objects.create(
        organisation=world.organisation,
        source_name="Warehouse",
        backend="duckdb",
        trigger="cli",
        started_at=timezone.make_aware(dt.datetime.combine(TODAY, dt.time(9))),
        status="failed",
        message="The data has 1 problem; nothing was loaded.",
    )
    response = page(client, world.viewer, reverse("computed:run_detail", args=[failed.pk]))
    assert "The data has 1 problem; nothing was loaded." in response.content.decode()
