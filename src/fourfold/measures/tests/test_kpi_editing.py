"""Creating, editing and deleting KPIs: editors only; a new KPI comes with its first target and thresholds,
so it is scored from its first value; a refused save keeps what was typed, with messages next to the fields."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.accounts.models import Role
from fourfold.accounts.services import scorecard_member_set
from fourfold.conftest import make_user
from fourfold.measures.models import Kpi, KpiTarget
from fourfold.measures.scoring import kpi_history
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set
from fourfold.strategy.services import objective_create, organisation_member_set

REFUSED = ["viewer", "updater", "other_updater", "outsider"]


def new_kpi(world, **changes: object) -> dict[str, object]:
    """What an editor types for a monthly percentage KPI with a goal of 80 and a red flag at 60."""
    data: dict[str, object] = {
        "objective": world.objective.pk,
        "key": "renewal_rate",
        "name": "Renewal rate",
        "unit": "percent",
        "direction": "higher",
        "frequency": "monthly",
        "aggregation": "average",
        "decimals": "1",
        "weight": "1",
        "owner": world.editor.pk,
        "updaters": [world.updater.pk],
        "period_key": "2026-01",
        "target": "80",
        "red_flag": "60",
    }
    return {**data, **changes}


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="id_{field}_error" role="alert">(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


def create_url(world) -> str:
    return reverse("measures:kpi_create", args=[world.objective.pk])


@pytest.mark.parametrize("role", REFUSED)
def test_who_may_not_edit_is_refused(world, client, role):
    client.force_login(world.user(role))
    for url in (
        create_url(world),
        reverse("measures:kpi_edit", args=[world.kpi.pk]),
        reverse("measures:kpi_delete", args=[world.kpi.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, new_kpi(world)).status_code == 403, url
    assert Kpi.objects.count() == 1
    assert (
        not client.get(reverse("measures:kpi_detail", args=[world.kpi.pk]))
        .content.decode()
        .count(reverse("measures:kpi_edit", args=[world.kpi.pk]))
    )


def test_an_editor_of_another_scorecard_is_refused(world, client):
    stranger = make_user("child_editor")
    organisation_member_set(by=world.superuser, organisation=world.organisation, user=stranger, is_admin=False)
    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=stranger, role=Role.EDITOR)
    client.force_login(stranger)
    assert client.get(create_url(world)).status_code == 403
    assert client.post(reverse("measures:kpi_edit", args=[world.kpi.pk]), {"name": "x"}).status_code == 403


def test_an_editor_creates_a_kpi_that_is_scored_from_its_first_value(world, client):
    client.force_login(world.editor)
    form = client.get(create_url(world)).content.decode()
    assert "First target and thresholds" in form
    response = client.post(create_url(world), new_kpi(world))
    kpi = Kpi.objects.get(key="renewal_rate")
    assert response.status_code == 302
    assert response["Location"] == reverse("measures:kpi_detail", args=[kpi.pk])
    assert (kpi.objective, kpi.unit, kpi.owner) == (world.objective, "percent", world.editor)
    assert list(kpi.updaters.all()) == [world.updater]
    setting = KpiTarget.objects.get(kpi=kpi)
    assert (setting.period_key, setting.target, setting.red_flag) == ("2026-01", Decimal(80), Decimal(60))
    # 70 lies halfway between the red flag (60) and the goal (80): on the goal/red-flag scale that is 5.
    actual_record(by=world.updater, kpi=kpi, period_key="2026-03", value=Decimal(70))
    calendar = world.organisation.calendar
    result = kpi_history(kpi, [calendar.parse("2026-03")], today=date(2026, 4, 20))["2026-03"]
    assert result.score == pytest.approx(5.0)


def test_a_red_flag_on_the_wrong_side_is_refused_next_to_it_and_no_kpi_is_left(world, client):
    client.force_login(world.editor)
    response = client.post(create_url(world), new_kpi(world, red_flag="90", description="Typed with care"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "must not be above" in field_error(page, "red_flag")
    red_flag_input = re.search(r'<input[^>]*id="id_red_flag"[^>]*>', page)
    assert red_flag_input is not None
    assert "id_red_flag_error" in red_flag_input.group(0)
    assert 'value="renewal_rate"' in page
    assert "Typed with care" in page
    assert not Kpi.objects.filter(key="renewal_rate").exists()  # the target's refusal undid the KPI too


def test_kpi_definition_errors_land_next_to_their_fields(world, client):
    client.force_login(world.editor)
    response = client.post(create_url(world), new_kpi(world, key="csat", unit="currency"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "already uses this key" in page
    assert "three-letter ISO 4217 code" in field_error(page, "currency_code")
    response = client.post(create_url(world), new_kpi(world, key="Renewal Rate"))
    assert "lower-case letters" in field_error(response.content.decode(), "key")


def test_a_range_kpi_asks_for_its_good_range(world, client):
    client.force_login(world.editor)
    response = client.post(create_url(world), new_kpi(world, direction="range", target="", red_flag=""))
    assert "lowest and highest good values" in field_error(response.content.decode(), "range_low")
    client.post(
        create_url(world), new_kpi(world, direction="range", target="", red_flag="", range_low="20", range_high="30")
    )
    setting = KpiTarget.objects.get(kpi__key="renewal_rate")
    assert (setting.range_low, setting.range_high) == (Decimal(20), Decimal(30))


def test_an_editor_changes_a_kpi_and_its_updaters(world, client):
    client.force_login(world.editor)
    url = reverse("measures:kpi_edit", args=[world.kpi.pk])
    page = client.get(url).content.decode()
    assert "First target and thresholds" not in page  # later targets are set on the KPI's page
    other = objective_create(by=world.editor, perspective=world.objective.perspective, name="Keep learners")
    data = new_kpi(
        world, objective=other.pk, key="csat", name="Learner satisfaction", updaters=[world.other_updater.pk]
    )
    response = client.post(url, data)
    assert response.status_code == 302
    world.kpi.refresh_from_db()
    assert (world.kpi.name, world.kpi.objective) == ("Learner satisfaction", other)
    assert list(world.kpi.updaters.all()) == [world.other_updater]


def test_the_frequency_cannot_change_once_there_are_targets(world, client):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80))
    client.force_login(world.editor)
    response = client.post(
        reverse("measures:kpi_edit", args=[world.kpi.pk]),
        new_kpi(world, key="csat", name="Customer satisfaction", frequency="quarterly"),
    )
    assert response.status_code == 400
    assert "cannot change once the KPI has values or targets" in field_error(response.content.decode(), "frequency")


def test_a_kpi_used_in_a_formula_is_not_deleted(world, client):
    kpi_create(
        by=world.editor,
        objective=world.objective,
        key="csat_doubled",
        name="Doubled",
        unit="percent",
        source_kind="formula",
        formula="csat * 2",
    )
    client.force_login(world.editor)
    url = reverse("measures:kpi_delete", args=[world.kpi.pk])
    response = client.post(url)
    assert response.status_code == 400
    assert "csat" in response.content.decode()
    assert Kpi.objects.filter(pk=world.kpi.pk).exists()
    Kpi.objects.filter(key="csat_doubled").delete()
    assert client.post(url).status_code == 302
    assert not Kpi.objects.filter(pk=world.kpi.pk).exists()


def test_the_edit_button_shows_to_editors_only(world, client):
    edit = reverse("measures:kpi_edit", args=[world.kpi.pk])
    client.force_login(world.editor)
    assert edit in client.get(reverse("measures:kpi_detail", args=[world.kpi.pk])).content.decode()


KPI_FORM_QUERIES = {"create": 9, "edit": 10}
"""Session, user, the objective or KPI, the role, the navigation (5), then its choices: the objectives (2,
a select without an empty choice reads its first option), the people for owner and for updaters; editing
also reads the current updaters. The same however many KPIs the scorecard has."""


def test_the_kpi_form_s_queries_are_pinned(world, client, django_assert_num_queries):
    client.force_login(world.editor)
    urls = {"create": create_url(world), "edit": reverse("measures:kpi_edit", args=[world.kpi.pk])}
    for url in urls.values():
        client.get(url)
    for more in range(2):
        for index in range(3):
            kpi_create(by=world.editor, objective=world.objective, key=f"kpi_{more}_{index}", name=f"KPI {index}")
        for name, url in urls.items():
            with django_assert_num_queries(KPI_FORM_QUERIES[name]):
                assert client.get(url).status_code == 200
