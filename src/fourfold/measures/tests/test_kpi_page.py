"""The KPI page: its chart (actuals against targets on status bands), the commentary thread, the preview of how
a threshold change rescores history, the note rule on the single-value form, and its number of queries."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from fourfold.audit.models import AuditEntry
from fourfold.engine.periods import Frequency
from fourfold.measures.models import Actual, KpiComment, KpiTarget
from fourfold.measures.scoring import forget_cached_evaluations
from fourfold.measures.services import (
    Reading,
    actual_record,
    actual_store,
    kpi_comment_add,
    kpi_create,
    kpi_target_set,
)
from fourfold.strategy.services import objective_create, organisation_update

HTMX = {"HX-Request": "true"}
VALUES = {"2026-01": 85, "2026-02": 70, "2026-03": 40}
"""Against a target of 80 % and a red flag of 60 %: on target, watch, off target."""
KPI_PAGE_QUERIES = 23


@pytest.fixture
def csat(world):
    """Customer satisfaction aims for 80 % from 2026-01 with a red flag at 60 %, and has three months of values."""
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    for key, value in VALUES.items():
        actual_record(by=world.updater, kpi=world.kpi, period_key=key, value=Decimal(value), note=f"Note {key}")
    return world.kpi


def page_url(kpi, **query: str) -> str:
    address = reverse("measures:kpi_detail", args=[kpi.pk])
    return address + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def chart(client, kpi, period="2026-03"):
    response = client.get(reverse("measures:kpi_chart", args=[kpi.pk]), {"period": period})
    assert response.status_code == 200, response.content
    return response.json()


def series_named(option, name):
    return next(series for series in option["series"] if series["name"] == name)


# The chart -----------------------------------------------------------------------------------------------


def test_the_chart_shows_two_years_of_months_up_to_the_chosen_one(world, csat, client):
    client.force_login(world.viewer)
    option = chart(client, csat)
    periods = option["xAxis"][0]["data"]
    assert len(periods) == 24
    assert periods[0] == "2024-04"
    assert periods[-1] == "2026-03"
    actual = series_named(option, "Actual")["data"]
    assert actual[:-3] == ["-"] * 21
    assert [point["value"] for point in actual[-3:]] == [85, 70, 40]
    assert series_named(option, "Target")["data"][-4:] == ["-", 80, 80, 80]
    assert option["yAxis"]["axisLabel"]["formatter"] == "{value} %"
    assert option["yAxis"]["min"] <= 40
    assert option["yAxis"]["max"] >= 85


def test_the_value_axis_is_labelled_in_the_reader_s_number_format_with_the_unit(world, csat, client):
    client.force_login(world.viewer)
    assert chart(client, csat)["numberFormat"] == {"decimal": ".", "thousands": ",", "grouping": 3}
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    option = chart(client, csat)
    # charts.js writes each tick with these, as the tooltips are written: 1.234,5 for German readers.
    assert option["numberFormat"] == {"decimal": ",", "thousands": ".", "grouping": 3}
    assert option["yAxis"]["axisLabel"]["formatter"] == "{value} %"
    assert "Actual: 40,0 %" in series_named(option, "Actual")["data"][-1]["tooltip"]["formatter"]


def test_each_point_tells_its_status_by_colour_shape_and_words(world, csat, client):
    client.force_login(world.viewer)
    on_target, watch, off_target = series_named(chart(client, csat), "Actual")["data"][-3:]
    assert [point["itemStyle"]["color"] for point in (on_target, watch, off_target)] == [
        "#1a7f37",
        "#bf8700",
        "#cf222e",
    ]
    assert len({point["symbol"] for point in (on_target, watch, off_target)}) == 3
    tooltip = off_target["tooltip"]["formatter"]
    assert "Actual: 40.0 %" in tooltip
    assert "Target: 80.0 %" in tooltip
    assert "Off target" in tooltip


def edge(value):
    """A band's edge lies where the status changes as scores are shown (two decimals): within a hundredth."""
    return pytest.approx(value, abs=0.05)


def test_the_bands_behind_a_period_are_where_its_status_changes(world, csat, client):
    client.force_login(world.viewer)
    bands = series_named(chart(client, csat), "Status bands")["markArea"]["data"]
    march = [band for band in bands if band[0]["xAxis"] == 23 - 0.5]
    assert [band[0]["itemStyle"]["color"] for band in march] == ["#cf222e", "#bf8700", "#1a7f37"]
    (low_start, low_end), (watch_start, watch_end), (high_start, high_end) = march
    assert "yAxis" not in low_start  # the worst band has no lower end
    assert low_end["yAxis"] == edge(60)
    assert (watch_start["yAxis"], watch_end["yAxis"]) == (edge(60), edge(80))
    assert high_start["yAxis"] == edge(80)
    assert "yAxis" not in high_end
    assert all(band[0]["xAxis"] >= 21 - 0.5 for band in bands)  # no target before 2026-01: no bands


def test_a_later_threshold_change_moves_the_bands_from_its_period_on(world, csat, client):
    kpi_target_set(by=world.editor, kpi=csat, period_key="2026-03", target=Decimal(90), red_flag=Decimal(70))
    client.force_login(world.viewer)
    bands = series_named(chart(client, csat), "Status bands")["markArea"]["data"]
    edges = {
        band[0]["xAxis"] + 0.5: band[1].get("yAxis") for band in bands if band[0]["itemStyle"]["color"] == "#bf8700"
    }
    assert edges == {21: edge(80), 22: edge(80), 23: edge(90)}


def test_a_good_range_narrower_than_the_chart_gets_its_band(world, client):
    """Class size is best between 40 and 45 learners; values far outside make the range a sliver of the axis."""
    size = kpi_create(by=world.editor, objective=world.objective, key="size", name="Class size", direction="range")
    kpi_target_set(by=world.editor, kpi=size, period_key="2026-01", range_low=Decimal(40), range_high=Decimal(45))
    for key, value in (("2026-01", 0), ("2026-02", 200)):
        actual_record(by=world.editor, kpi=size, period_key=key, value=Decimal(value))
    client.force_login(world.viewer)
    bands = series_named(chart(client, size, "2026-02"), "Status bands")["markArea"]["data"]
    february = [band for band in bands if band[0]["xAxis"] == 23 - 0.5]
    good = [band for band in february if band[0]["itemStyle"]["color"] == "#1a7f37"]
    assert len(good) == 1
    assert good[0][0]["yAxis"] <= 40
    assert good[0][1]["yAxis"] >= 45
    assert february[0][0]["itemStyle"]["color"] == february[-1][0]["itemStyle"]["color"] == "#cf222e"


def test_computed_values_show_their_margin_of_error(world, csat, client):
    actual_store(
        kpi=csat,
        period_key="2026-04",
        reading=Reading(Decimal(75), sample_size=40, margin_of_error=Decimal(6)),
        by=None,
        source=Actual.Source.COMPUTED,
    )
    client.force_login(world.viewer)
    option = chart(client, csat, "2026-04")
    assert "Margin of error" in option["legend"]["data"]
    assert series_named(option, "Margin of error (low)")["data"][-1] == 69
    assert series_named(option, "Margin of error")["data"][-1] == 12
    assert "Actual: 75.0 % ± 6.0 %" in series_named(option, "Actual")["data"][-1]["tooltip"]["formatter"]


def test_without_margins_the_chart_has_no_margin_band(world, csat, client):
    client.force_login(world.viewer)
    assert "Margin of error" not in chart(client, csat)["legend"]["data"]


def test_a_wrong_period_is_refused_and_the_chart_says_so(world, csat, client):
    client.force_login(world.viewer)
    response = client.get(reverse("measures:kpi_chart", args=[csat.pk]), {"period": "2026-Q1"})
    assert response.status_code == 400
    assert "quarterly" in response.json()["error"]


@pytest.mark.parametrize("role", ["outsider", "viewer"])
def test_the_chart_of_a_scorecard_one_may_not_see_is_refused(world, client, role):
    sales = objective_create(
        by=world.superuser, perspective=world.child_scorecard.perspectives.get(kind="customer"), name="Sell"
    )
    hidden = kpi_create(by=world.superuser, objective=sales, key="deals", name="Deals won")
    client.force_login(world.user(role))  # the viewer sees the company scorecard, not Sales 2026
    assert client.get(reverse("measures:kpi_chart", args=[hidden.pk])).status_code == 403


def test_the_chart_needs_a_sign_in(world, csat, client):
    response = client.get(reverse("measures:kpi_chart", args=[csat.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_points_its_chart_at_the_chosen_period_and_steps_between_periods(world, csat, client):
    client.force_login(world.viewer)
    page = client.get(page_url(csat, period="2026-02")).content.decode()
    assert f'data-chart-src="{reverse("measures:kpi_chart", args=[csat.pk])}?period=2026-02"' in page
    assert 'href="?period=2026-01"' in page
    assert 'href="?period=2026-03"' in page
    assert "charts.js" in page


def test_a_formula_kpi_opens_on_the_last_ended_period_with_its_chart(world, csat, client):
    half = kpi_create(
        by=world.editor,
        objective=world.objective,
        key="half",
        name="Half satisfaction",
        unit="percent",
        source_kind="formula",
        formula="csat / 2",
    )
    client.force_login(world.viewer)
    page = client.get(page_url(half)).content.decode()
    last_ended = world.organisation.calendar.previous(
        world.organisation.calendar.period_containing(timezone.localdate(), Frequency.MONTHLY)
    )
    assert f"?period={last_ended.key}" in page
    option = chart(client, half, "2026-03")
    assert [point["value"] for point in series_named(option, "Actual")["data"][-3:]] == [42.5, 35, 20]


# Commentary ------------------------------------------------------------------------------------------------


def add_comment(client, kpi, **data):
    return client.post(reverse("measures:kpi_comment_add", args=[kpi.pk]), data, headers=HTMX)


@pytest.mark.parametrize("role", ["viewer", "updater", "editor", "admin", "org_admin"])
def test_everyone_who_sees_the_kpi_may_comment(world, csat, client, role):
    client.force_login(world.user(role))
    response = add_comment(client, csat, body="March dipped: the survey went to the wrong list.", period_key="2026-03")
    assert response.status_code == 200
    comment = KpiComment.objects.get()
    assert (comment.author, comment.period_key) == (world.user(role), "2026-03")
    fragment = response.content.decode()
    assert fragment.startswith('<section class="card comments" id="comments"')
    assert "March dipped: the survey went to the wrong list." in fragment
    assert "about 2026-03" in fragment
    assert json.loads(response["HX-Trigger"])["fourfold:message"]["text"] == "Comment added."


def test_someone_without_a_role_may_not_comment(world, csat, client):
    client.force_login(world.outsider)
    assert add_comment(client, csat, body="Hello").status_code == 403
    assert not KpiComment.objects.exists()


def test_an_empty_comment_or_an_unknown_period_is_refused_next_to_its_field(world, csat, client):
    client.force_login(world.viewer)
    response = add_comment(client, csat, body="  ")
    assert response.status_code == 400
    assert 'id="comment_body_error"' in response.content.decode()
    response = add_comment(client, csat, body="About a month without a value", period_key="2025-07")
    assert response.status_code == 400
    assert 'id="comment_period_key_error"' in response.content.decode()
    assert not KpiComment.objects.exists()


def test_without_javascript_a_comment_brings_back_the_page_at_the_thread(world, csat, client):
    client.force_login(world.viewer)
    response = client.post(reverse("measures:kpi_comment_add", args=[csat.pk]), {"body": "Good month"})
    assert response.status_code == 302
    assert response["Location"] == page_url(csat) + "#comments"


def test_the_thread_reads_oldest_first_with_author_time_and_period(world, csat, client):
    kpi_comment_add(by=world.updater, kpi=csat, body="First: survey tool changed", period_key="2026-02")
    kpi_comment_add(by=world.editor, kpi=csat, body="Second: fixed in March")
    client.force_login(world.viewer)
    page = client.get(page_url(csat)).content.decode()
    assert page.index("First: survey tool changed") < page.index("Second: fixed in March")
    assert "updater" in page[page.index('id="comments"') :]
    assert '<time datetime="' in page


def delete_comment(client, comment):
    return client.post(reverse("measures:kpi_comment_delete", args=[comment.kpi_id, comment.pk]), headers=HTMX)


def test_authors_remove_their_own_comments(world, csat, client):
    comment = kpi_comment_add(by=world.viewer, kpi=csat, body="Typo")
    client.force_login(world.viewer)
    page = client.get(page_url(csat)).content.decode()
    assert reverse("measures:kpi_comment_delete", args=[csat.pk, comment.pk]) in page
    assert delete_comment(client, comment).status_code == 200
    assert not KpiComment.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "updater"])
def test_others_may_not_remove_someone_elses_comment(world, csat, client, role):
    comment = kpi_comment_add(by=world.other_updater, kpi=csat, body="Mine")
    client.force_login(world.user(role))
    page = client.get(page_url(csat)).content.decode()
    assert reverse("measures:kpi_comment_delete", args=[csat.pk, comment.pk]) not in page
    assert delete_comment(client, comment).status_code == 403
    assert KpiComment.objects.exists()


@pytest.mark.parametrize("role", ["editor", "admin", "org_admin"])
def test_editors_remove_any_comment(world, csat, client, role):
    comment = kpi_comment_add(by=world.viewer, kpi=csat, body="Off topic")
    client.force_login(world.user(role))
    assert delete_comment(client, comment).status_code == 200
    assert not KpiComment.objects.exists()


def test_a_comment_is_removed_only_through_its_own_kpi(world, csat, client):
    other = kpi_create(by=world.editor, objective=world.objective, key="nps", name="Net Promoter Score")
    comment = kpi_comment_add(by=world.viewer, kpi=csat, body="Mine")
    client.force_login(world.viewer)
    response = client.post(reverse("measures:kpi_comment_delete", args=[other.pk, comment.pk]), headers=HTMX)
    assert response.status_code == 404


# Rescoring preview -------------------------------------------------------------------------------------------


def preview(client, kpi, headers=HTMX, **data):
    fields = {"period_key": "2026-01", "target": "90", "red_flag": "75", **data}
    return client.post(reverse("measures:kpi_target_preview", args=[kpi.pk]), fields, headers=headers)


def test_a_preview_shows_each_period_before_and_after_and_how_many_change(world, csat, client):
    client.force_login(world.editor)
    response = preview(client, csat)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.startswith('<form id="target-form"')
    assert "2 of the 3 periods from 2026-01 on would change status." in fragment
    rows = fragment[fragment.index("<tbody>") : fragment.index("</tbody>")].split("</tr>")[:-1]
    # 85 falls from on target to watch, 70 from watch to off target; 40 stays off target
    assert [re.findall(r'class="status status-([a-z_]+)', row) for row in rows] == [
        ["on_target", "watch"],
        ["watch", "off_target"],
        ["off_target", "off_target"],
    ]
    assert ['class="changes"' in row for row in rows] == [True, True, False]


def test_a_preview_writes_nothing(world, csat, client):
    client.force_login(world.editor)
    before = (AuditEntry.objects.count(), list(KpiTarget.objects.values_list("period_key", "target", "red_flag")))
    assert preview(client, csat).status_code == 200
    assert preview(client, csat, period_key="2026-02").status_code == 200
    after = (AuditEntry.objects.count(), list(KpiTarget.objects.values_list("period_key", "target", "red_flag")))
    assert after == before == (before[0], [("2026-01", Decimal(80), Decimal(60))])


def test_a_setting_from_a_later_period_only_rescores_from_there(world, csat, client):
    client.force_login(world.editor)
    fragment = preview(client, csat, period_key="2026-03", target="30", red_flag="20").content.decode()
    assert "1 of the 1 periods from 2026-03 on would change status." in fragment
    assert "2026-02" not in fragment[fragment.index("<tbody>") :]


def test_a_wrong_setting_is_shown_next_to_its_field_and_not_previewed(world, csat, client):
    client.force_login(world.editor)
    response = preview(client, csat, red_flag="95")  # above the target, where higher is better
    assert response.status_code == 400
    fragment = response.content.decode()
    assert 'id="target_red_flag_error"' in fragment
    assert "rescoring-table" not in fragment


def test_without_javascript_the_preview_comes_back_on_the_whole_page(world, csat, client):
    client.force_login(world.editor)
    response = preview(client, csat, headers={})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>" in page
    assert "2 of the 3 periods from 2026-01 on would change status." in page
    assert 'value="90"' in page  # the form keeps what was typed


@pytest.mark.parametrize("role", ["viewer", "updater", "outsider"])
def test_only_those_who_set_targets_may_preview(world, csat, client, role):
    client.force_login(world.user(role))
    assert preview(client, csat).status_code == 403
    page = client.get(page_url(csat))
    assert "Preview rescoring" not in page.content.decode()


# The note rule on the single-value form --------------------------------------------------------------------


@pytest.fixture
def notes_required(world, csat):
    organisation_update(by=world.org_admin, organisation=world.organisation, changes={"note_required_off_target": True})
    csat.refresh_from_db()
    return csat


def test_an_off_target_value_typed_on_the_page_needs_a_note(world, notes_required, client):
    client.force_login(world.updater)
    address = reverse("measures:actual_record", args=[notes_required.pk])
    response = client.post(address, {"period_key": "2026-04", "value": "41"})
    assert response.status_code == 400
    page = response.content.decode()
    error = page[page.index('id="id_note_error"') :]
    assert error.split("</p>")[0].endswith(
        "Off target: a note is required. Say what happened, so the review can act on it."
    )
    assert not Actual.objects.filter(period_key="2026-04").exists()
    response = client.post(address, {"period_key": "2026-04", "value": "41", "note": "Survey sent to leavers"})
    assert response.status_code == 302
    assert Actual.objects.get(period_key="2026-04").note == "Survey sent to leavers"


def test_the_service_asks_the_note_of_typed_values_only_when_off_target(world, notes_required):
    with pytest.raises(ValidationError) as error:
        actual_record(by=world.updater, kpi=notes_required, period_key="2026-04", value=Decimal(41))
    assert list(error.value.message_dict) == ["note"]
    actual_record(by=world.updater, kpi=notes_required, period_key="2026-04", value=Decimal(70))  # watch
    imported = actual_record(
        by=world.updater, kpi=notes_required, period_key="2026-05", value=Decimal(41), source=Actual.Source.IMPORT
    )
    assert imported.note == ""


def test_the_note_rule_is_checked_after_permission(world, notes_required):
    with pytest.raises(PermissionDenied):
        actual_record(by=world.viewer, kpi=notes_required, period_key="2026-04", value=Decimal(41))


# Queries ---------------------------------------------------------------------------------------------------


def test_the_page_makes_the_same_number_of_queries_whatever_the_number_of_values_and_comments(
    world, csat, client, django_assert_num_queries
):
    """Pinned at 23: session, user, the KPI, the role; targets, values; the scorecards the user may see; the
    tree read for the scores (9);
    the computation, the status levels for the chart's legend, the thread, the navigation's link to the grid,
    replaced values, initiatives, the audit history."""
    client.force_login(world.editor)
    client.get(page_url(csat))
    forget_cached_evaluations()
    with django_assert_num_queries(KPI_PAGE_QUERIES):
        client.get(page_url(csat))
    for month in range(4, 13):
        actual_record(by=world.updater, kpi=csat, period_key=f"2026-{month:02}", value=Decimal(70), note="ok")
        actual_record(by=world.updater, kpi=csat, period_key=f"2026-{month:02}", value=Decimal(71), note="fixed")
        kpi_comment_add(by=world.viewer, kpi=csat, body=f"Comment {month}", period_key=f"2026-{month:02}")
    forget_cached_evaluations()
    with django_assert_num_queries(KPI_PAGE_QUERIES):
        response = client.get(page_url(csat))
    assert response.content.decode().count('class="comment"') == 9


CHART_QUERIES = 15


def test_the_chart_makes_the_same_number_of_queries_whatever_the_number_of_values(
    world, csat, client, django_assert_num_queries
):
    """Pinned at 15: session, user, the KPI, the role, the periods with values; the tree read for the scores
    (9); the status levels."""
    client.force_login(world.viewer)
    with django_assert_num_queries(CHART_QUERIES):
        chart(client, csat, "2026-12")
    for month in range(4, 13):
        actual_record(by=world.updater, kpi=csat, period_key=f"2026-{month:02}", value=Decimal(70), note="ok")
    with django_assert_num_queries(CHART_QUERIES):
        option = chart(client, csat, "2026-12")
    assert series_named(option, "Actual")["data"][-1]["value"] == 70
