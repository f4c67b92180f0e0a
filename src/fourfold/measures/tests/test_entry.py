"""The data-entry grid: the batch service (all or nothing, per-entry permission, notes for off-target values),
reading numbers in the user's language, and the grid's pages for every role, in a fixed number of queries."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation

from fourfold.accounts.models import Role
from fourfold.accounts.services import scorecard_member_set
from fourfold.engine.periods import Frequency
from fourfold.measures.forms import cell_text, parse_cell, parse_number
from fourfold.measures.models import Actual, ActualRevision
from fourfold.measures.selectors import entry_grid, entry_window
from fourfold.measures.services import (
    BatchError,
    Entry,
    actual_record,
    actuals_record_batch,
    kpi_create,
    kpi_target_set,
    kpi_updaters_set,
)
from fourfold.strategy.services import objective_create, organisation_update

NOTE_REQUIRED = "Off target: a note is required."


def recent(world, count=1, frequency=Frequency.MONTHLY):
    """The keys of the latest ``count`` periods the grid shows today (newest last)."""
    periods = entry_window(world.organisation.calendar, frequency, timezone.localdate(), 0)
    return [period.key for period in periods[-count:]]


@pytest.fixture
def targets(world):
    """csat aims for 80 % with a red flag at 60 %: 40 is off target, 70 watch, 85 on target."""
    first = entry_window(world.organisation.calendar, Frequency.MONTHLY, timezone.localdate(), 3)[0]
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key=first.key, target=Decimal(80), red_flag=Decimal(60))
    return world.kpi


@pytest.fixture
def ratio_kpi(world):
    """First-contact resolution, a percentage recomputed from resolved / contacts, updated by the updater."""
    kpi = kpi_create(
        by=world.editor,
        objective=world.objective,
        key="fcr",
        name="First-contact resolution",
        unit="percent",
        aggregation="ratio",
    )
    kpi_updaters_set(by=world.editor, kpi=kpi, users=[world.updater])
    return kpi


@pytest.fixture
def other_kpi(world):
    """A KPI of the same scorecard that the updater does not update."""
    return kpi_create(by=world.editor, objective=world.objective, key="nps", name="Net Promoter Score")


def require_notes(world):
    organisation_update(by=world.org_admin, organisation=world.organisation, changes={"note_required_off_target": True})
    world.kpi.refresh_from_db()


# The batch service -------------------------------------------------------------------------------------


def test_a_batch_records_every_value(world, targets, ratio_kpi):
    older, newer = recent(world, 2)
    saved = actuals_record_batch(
        by=world.updater,
        entries=[
            Entry(world.kpi, older, Decimal("70.5")),
            Entry(world.kpi, newer, Decimal(85), note="New survey tool"),
            Entry(ratio_kpi, newer, numerator=Decimal(45), denominator=Decimal(60)),
        ],
    )
    assert [(actual.kpi_id, actual.period_key, actual.value) for actual in saved] == [
        (world.kpi.pk, older, Decimal("70.5")),
        (world.kpi.pk, newer, Decimal(85)),
        (ratio_kpi.pk, newer, Decimal(75)),
    ]
    assert Actual.objects.get(kpi=world.kpi, period_key=newer).note == "New survey tool"
    assert Actual.objects.get(kpi=world.kpi, period_key=newer).entered_by == world.updater


def test_a_batch_with_one_bad_value_writes_none_and_says_which(world, ratio_kpi):
    (period,) = recent(world)
    actual_record(by=world.updater, kpi=world.kpi, period_key=period, value=Decimal(50))
    with pytest.raises(BatchError) as error:
        actuals_record_batch(
            by=world.updater,
            entries=[
                Entry(world.kpi, period, Decimal(90)),
                Entry(ratio_kpi, period, Decimal(75)),
                Entry(world.kpi, "2026-13", Decimal(1)),
            ],
        )
    assert set(error.value.errors) == {1, 2}
    assert "numerator" in error.value.errors[1]
    assert "the month must be 01-12" in error.value.errors[2]["period_key"][0]
    assert error.value.messages == ["Nothing was saved: 2 values need attention."]
    assert Actual.objects.get(kpi=world.kpi, period_key=period).value == Decimal(50)
    assert not ActualRevision.objects.exists()
    assert not Actual.objects.filter(kpi=ratio_kpi).exists()


def test_a_batch_refuses_the_same_period_twice(world):
    (period,) = recent(world)
    with pytest.raises(BatchError) as error:
        actuals_record_batch(
            by=world.updater, entries=[Entry(world.kpi, period, Decimal(1)), Entry(world.kpi, period, Decimal(2))]
        )
    assert error.value.errors == {1: {"period_key": ["This period appears twice in the batch."]}}
    assert not Actual.objects.exists()


def test_every_entry_is_permission_checked_and_a_refusal_writes_nothing(world, other_kpi):
    (period,) = recent(world)
    with pytest.raises(PermissionDenied, match="owner or updater"):
        actuals_record_batch(
            by=world.updater, entries=[Entry(world.kpi, period, Decimal(70)), Entry(other_kpi, period, Decimal(20))]
        )
    assert not Actual.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_people_who_may_not_enter_values_are_refused(world, role):
    (period,) = recent(world)
    with pytest.raises(PermissionDenied):
        actuals_record_batch(by=world.user(role), entries=[Entry(world.kpi, period, Decimal(70))])
    assert not Actual.objects.exists()


def test_an_off_target_value_needs_a_note_when_the_organisation_asks(world, targets):
    require_notes(world)
    older, newer = recent(world, 2)
    entries = [Entry(world.kpi, older, Decimal(70)), Entry(world.kpi, newer, Decimal(40))]
    with pytest.raises(BatchError) as error:
        actuals_record_batch(by=world.updater, entries=entries)
    assert list(error.value.errors) == [1]
    assert error.value.errors[1]["note"][0].startswith(NOTE_REQUIRED)
    assert not Actual.objects.exists()
    entries[1] = Entry(world.kpi, newer, Decimal(40), note="  Survey sent to the wrong list  ")
    actuals_record_batch(by=world.updater, entries=entries)
    assert Actual.objects.get(period_key=newer).note == "Survey sent to the wrong list"


def test_no_note_is_needed_without_the_rule_or_on_target(world, targets):
    older, newer = recent(world, 2)
    actuals_record_batch(by=world.updater, entries=[Entry(world.kpi, older, Decimal(40))])
    require_notes(world)
    actuals_record_batch(by=world.updater, entries=[Entry(world.kpi, newer, Decimal(70))])  # watch, not off target
    assert Actual.objects.count() == 2


def test_a_ratio_is_judged_by_the_value_its_parts_make(world, targets, ratio_kpi):
    kpi_target_set(
        by=world.editor, kpi=ratio_kpi, period_key=recent(world)[0], target=Decimal(80), red_flag=Decimal(60)
    )
    require_notes(world)
    (period,) = recent(world)
    with pytest.raises(BatchError) as error:
        actuals_record_batch(
            by=world.updater, entries=[Entry(ratio_kpi, period, numerator=Decimal(30), denominator=Decimal(60))]
        )
    assert "note" in error.value.errors[0]
    saved = actuals_record_batch(
        by=world.updater, entries=[Entry(ratio_kpi, period, numerator=Decimal(54), denominator=Decimal(60))]
    )
    assert saved[0].value == Decimal(90)


def test_an_organisations_own_worst_status_is_off_target(world, targets):
    from fourfold.strategy.services import StatusLevelInput, status_scheme_set

    status_scheme_set(
        by=world.org_admin,
        organisation=world.organisation,
        levels=[
            StatusLevelInput("great", "Great", "#1a7f37", Decimal(8)),
            StatusLevelInput("fine", "Fine", "#bf8700", Decimal(5)),
            StatusLevelInput("poor", "Poor", "#cf222e"),
        ],
    )
    require_notes(world)
    (period,) = recent(world)
    with pytest.raises(BatchError):  # 62 scores 3.67 against the goal 80 and red flag 60: "Poor"
        actuals_record_batch(by=world.updater, entries=[Entry(world.kpi, period, Decimal(62))])
    actuals_record_batch(by=world.updater, entries=[Entry(world.kpi, period, Decimal(70))])  # 5.0: "Fine"


# Cells in the user's language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "number"),
    [
        ("en", "1,234.5", "1234.5"),
        ("en", "1 234.5", "1234.5"),
        ("en", "-0.25", "-0.25"),
        ("en", "\u221212", "-12"),
        ("en", "1234567", "1234567"),
        ("de", "1.234,5", "1234.5"),
        ("de", "12,5", "12.5"),
        ("fr", "1\u00a0234,5", "1234.5"),
        ("fr", "1 234,5", "1234.5"),
    ],
)
def test_numbers_are_read_with_the_languages_separators(language, text, number):
    with translation.override(language):
        assert parse_number(text) == Decimal(number)


@pytest.mark.parametrize(
    ("language", "text", "example"),
    [("en", "12,5", "1,234.5"), ("en", "1.2.3", "1,234.5"), ("de", "12.5", "1.234,5"), ("en", "abc", "1,234.5")],
)
def test_a_number_in_another_notation_is_refused_with_an_example(language, text, example):
    with translation.override(language), pytest.raises(ValueError, match="is not a number") as error:
        parse_number(text)
    assert str(error.value) == f"“{text}” is not a number. Write numbers like {example}."


def test_cells_read_ratios_yes_no_and_units(world, ratio_kpi):
    assert parse_cell(ratio_kpi, "45 / 60").numerator == Decimal(45)
    assert parse_cell(ratio_kpi, "45 / 60").denominator == Decimal(60)
    with pytest.raises(ValueError, match=r"as numerator/denominator, e\.g\. 45/60"):
        parse_cell(ratio_kpi, "75")
    assert parse_cell(world.kpi, "78 %").value == Decimal(78)
    yes_no = kpi_create(by=world.editor, objective=world.objective, key="audit", name="Audit passed", unit="yes_no")
    assert [parse_cell(yes_no, text).value for text in ("Yes", "no", "1", "0")] == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="yes or no"):
        parse_cell(yes_no, "maybe")


def test_a_stored_value_reads_back_as_itself(world, ratio_kpi):
    (period,) = recent(world)
    value = actual_record(by=world.updater, kpi=world.kpi, period_key=period, value=Decimal("71.25"))
    ratio = actual_record(
        by=world.updater, kpi=ratio_kpi, period_key=period, numerator=Decimal(780), denominator=Decimal(1000)
    )
    assert cell_text(world.kpi, value) == "71.2"  # the KPI's one decimal, as the pages show it
    assert cell_text(ratio_kpi, ratio) == "780/1000"
    with translation.override("de"):
        assert cell_text(world.kpi, value) == "71,2"
        assert parse_cell(world.kpi, cell_text(world.kpi, value)).value == Decimal("71.2")


# The grid's rows ----------------------------------------------------------------------------------------


def test_the_grid_holds_the_kpis_a_person_enters_grouped_by_scorecard(world, ratio_kpi, other_kpi):
    grid = entry_grid(world.updater, today=timezone.localdate())
    assert [[row.kpi.key for row in table.rows] for group in grid.groups for table in group.tables] == [["csat", "fcr"]]
    assert [period.key for period in grid.groups[0].tables[0].periods] == recent(world, 6)
    assert entry_grid(world.editor, today=timezone.localdate()).groups == []
    everything = entry_grid(world.editor, today=timezone.localdate(), everything=True)
    assert sorted(row.kpi.key for row in everything.rows) == ["csat", "fcr", "nps"]


def test_an_assigned_viewer_and_computed_kpis_get_no_rows(world):
    kpi_updaters_set(by=world.editor, kpi=world.kpi, users=[world.viewer, world.updater])
    assert entry_grid(world.viewer, today=timezone.localdate()).rows == []
    formula = kpi_create(
        by=world.editor,
        objective=world.objective,
        key="twice",
        name="Twice CSAT",
        source_kind="formula",
        formula="csat * 2",
        unit="percent",
    )
    kpi_updaters_set(by=world.editor, kpi=formula, users=[world.updater])
    grid = entry_grid(world.updater, today=timezone.localdate())
    assert [row.kpi.key for row in grid.rows] == ["csat"]
    assert [kpi.key for kpi in grid.elsewhere] == ["twice"]


def test_overdue_kpis_come_first_and_say_when_the_next_value_is_due(world, ratio_kpi):
    (last,) = recent(world)
    actual_record(by=world.updater, kpi=world.kpi, period_key=last, value=Decimal(70))
    world.scorecard.due_days_after_period_end = 0
    world.scorecard.save()
    rows = entry_grid(world.updater, today=timezone.localdate()).rows
    assert [(row.kpi.key, row.overdue, row.next_period.key) for row in rows] == [
        ("fcr", True, last),
        ("csat", False, world.organisation.calendar.next(world.organisation.calendar.parse(last)).key),
    ]


# The pages ----------------------------------------------------------------------------------------------


def grid_url(**query):
    url = reverse("measures:entry_grid")
    return f"{url}?{'&'.join(f'{key}={value}' for key, value in query.items())}" if query else url


def field(world, kpi=None, period=None):
    return f"{(kpi or world.kpi).pk}_{period or recent(world)[0]}"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get(grid_url()), client.post(reverse("measures:entry_save"))):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["outsider", "viewer"])
def test_people_without_values_to_enter_see_an_empty_grid_and_no_link(world, client, role):
    client.force_login(world.user(role))
    page = client.get(grid_url()).content.decode()
    assert "No values to enter here" in page
    assert f'id="v_{field(world)}"' not in page
    assert reverse("measures:entry_grid") not in client.get(reverse("strategy:home")).content.decode()


def test_an_updater_sees_their_kpis_with_the_link_in_the_navigation(world, client, targets, other_kpi):
    (period,) = recent(world)
    actual_record(by=world.updater, kpi=world.kpi, period_key=period, value=Decimal(40), note="Outage")
    client.force_login(world.updater)
    page = client.get(grid_url()).content.decode()
    assert f'href="{reverse("measures:entry_grid")}" aria-current="page"' in page
    assert f'name="v_{field(world)}" value="40.0"' in page
    assert "Outage</textarea>" in page
    assert "Off target" in page
    assert f"v_{field(world, other_kpi)}" not in page


@pytest.mark.parametrize("role", ["editor", "admin", "org_admin", "superuser"])
def test_editors_and_admins_may_show_every_kpi_they_may_enter(world, client, other_kpi, role):
    client.force_login(world.user(role))
    assert f"v_{field(world, other_kpi)}" not in client.get(grid_url()).content.decode()
    page = client.get(grid_url(scope="all")).content.decode()
    assert f"v_{field(world, other_kpi)}" in page
    response = client.post(f"{reverse('measures:entry_save')}?scope=all", {f"v_{field(world, other_kpi)}": "12"})
    assert response.status_code == 302
    assert Actual.objects.get(kpi=other_kpi).value == Decimal(12)


def test_saving_writes_only_the_changed_cells(world, client, ratio_kpi):
    older, newer = recent(world, 2)
    actual_record(by=world.updater, kpi=world.kpi, period_key=older, value=Decimal("71.25"))
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:entry_save"),
        {
            f"v_{field(world, period=older)}": "71.2",  # as shown: unchanged, so not written again
            f"v_{field(world, period=newer)}": "1,066.5",
            f"n_{field(world, period=newer)}": "Typo fixed later",
            f"v_{field(world, ratio_kpi, newer)}": "45/60",
        },
    )
    assert response.status_code == 302
    assert Actual.objects.get(kpi=world.kpi, period_key=older).value == Decimal("71.25")
    assert Actual.objects.get(kpi=world.kpi, period_key=newer).value == Decimal("1066.5")
    assert Actual.objects.get(kpi=ratio_kpi).value == Decimal(75)
    assert not ActualRevision.objects.exists()
    assert "Saved 2 values." in client.get(response["Location"]).content.decode()


def test_saving_through_htmx_swaps_in_the_grid_with_the_new_scores(world, client, targets):
    client.force_login(world.updater)
    response = client.post(reverse("measures:entry_save"), {f"v_{field(world)}": "85"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith("<form")
    assert 'value="85.0"' in page
    assert "On target" in page
    assert json.loads(response["HX-Trigger"])["fourfold:message"] == {"text": "Saved 1 value.", "level": "success"}


def test_a_bad_number_is_shown_next_to_its_cell_and_nothing_is_saved(world, client, ratio_kpi):
    older, newer = recent(world, 2)
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:entry_save"),
        {f"v_{field(world, period=older)}": "70", f"v_{field(world, period=newer)}": "12,5"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="fb-{field(world, period=newer)}" data-state="error"' in page
    assert "“12,5” is not a number. Write numbers like 1,234.5." in page
    assert f'name="v_{field(world, period=newer)}" value="12,5"' in page  # kept as typed
    assert not Actual.objects.exists()


def test_the_services_errors_come_back_next_to_their_cells(world, client, ratio_kpi):
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:entry_save"),
        {f"v_{field(world)}": "70", f"v_{field(world, ratio_kpi)}": "45/0"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="fb-{field(world, ratio_kpi)}" data-state="error"' in page
    assert "The denominator must not be zero." in page
    assert "Nothing was saved: 1 value needs attention." in page
    assert not Actual.objects.exists()


def test_an_off_target_value_without_a_note_is_refused_next_to_its_cell(world, client, targets):
    require_notes(world)
    client.force_login(world.updater)
    response = client.post(reverse("measures:entry_save"), {f"v_{field(world)}": "40"})
    assert response.status_code == 400
    assert NOTE_REQUIRED in response.content.decode()
    assert not Actual.objects.exists()
    response = client.post(reverse("measures:entry_save"), {f"v_{field(world)}": "40", f"n_{field(world)}": "Outage"})
    assert response.status_code == 302


def test_a_crafted_cell_for_a_kpi_the_updater_does_not_update_is_not_written(world, client, other_kpi):
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:entry_save"), {f"v_{field(world, other_kpi)}": "99"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Nothing to save" in response["HX-Trigger"]
    assert not Actual.objects.exists()


def test_the_check_says_what_typed_values_would_score(world, client, targets):
    require_notes(world)
    older, newer = recent(world, 2)
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:entry_check"),
        {"cell": [field(world, period=older), field(world, period=newer)], f"v_{field(world, period=newer)}": "40"},
    )
    assert response.status_code == 200
    fragments = response.content.decode()
    assert f'id="fb-{field(world, period=older)}" data-state="stored"' in fragments
    assert f'id="fb-{field(world, period=newer)}" data-state="note"' in fragments
    assert "Off target — a note is required" in fragments
    assert not Actual.objects.exists()


def test_numbers_are_read_in_the_language_of_the_browser(world, client):
    client.force_login(world.updater)
    client.post(reverse("measures:entry_save"), {f"v_{field(world)}": "1.066,5"}, HTTP_ACCEPT_LANGUAGE="de")
    assert Actual.objects.get().value == Decimal("1066.5")


def test_the_grid_steps_back_by_whole_windows(world, client):
    client.force_login(world.updater)
    earlier = entry_window(world.organisation.calendar, Frequency.MONTHLY, timezone.localdate(), 1)
    page = client.get(grid_url(back=1)).content.decode()
    assert f"v_{field(world, period=earlier[-1].key)}" in page
    assert f"v_{field(world)}" not in page
    assert client.get(grid_url(back="x")).status_code == 200


def test_the_grid_page_needs_the_same_queries_for_many_kpis(world, client, django_assert_num_queries):
    """Pinned at 10: session, user; the KPIs, their status levels, targets and values; the KPIs reported on
    elsewhere; whether the user edits a scorecard (the tabs); the navigation's link to the grid and its
    organisations."""
    client.force_login(world.updater)
    client.get(grid_url())  # warm the session and content-type caches
    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=world.updater, role=Role.UPDATER)

    def add_kpis(count: int) -> None:
        for scorecard in (world.scorecard, world.child_scorecard):
            objective = objective_create(
                by=world.superuser, perspective=scorecard.perspectives.first(), name=f"Objective {count}"
            )
            for index in range(count):
                kpi = kpi_create(
                    by=world.superuser,
                    objective=objective,
                    key=f"k{count}_{index}",
                    name=f"KPI {index}",
                    frequency="quarterly" if index % 2 else "monthly",
                )
                kpi_updaters_set(by=world.superuser, kpi=kpi, users=[world.updater])
                period = recent(world, 1, Frequency(kpi.frequency))[0]
                kpi_target_set(by=world.superuser, kpi=kpi, period_key=period, target=Decimal(10))
                actual_record(by=world.superuser, kpi=kpi, period_key=period, value=Decimal(9))

    add_kpis(1)
    with django_assert_num_queries(10):
        client.get(grid_url())
    add_kpis(8)
    with django_assert_num_queries(10):
        response = client.get(grid_url())
    assert response.content.decode().count('data-state="stored"') >= 18
