"""The scorecard page: who sees it, the period views, the comparison, the filters, the trends, the cascade, following,
and a fixed number of queries whatever the number of KPIs."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.accounts.models import Role, ScorecardFollow
from fourfold.accounts.services import scorecard_follow, scorecard_member_set
from fourfold.engine.model import Span, View
from fourfold.engine.periods import FiscalCalendar, Frequency
from fourfold.measures.scoring import KpiTrend, forget_cached_evaluations, scorecard_evaluation, scorecard_evaluations
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set
from fourfold.strategy.forms import period_of_kind
from fourfold.strategy.selectors import sparkline
from fourfold.strategy.services import objective_create, perspective_delete


def page_url(world) -> str:
    return reverse("strategy:scorecard_detail", args=[world.scorecard.pk])


def satisfaction(world, values: dict[str, int] | None = None) -> None:
    """The world's KPI (a percentage, averaged) with a target of 80 and a red flag of 60 from January 2026."""
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    for key, value in (values or {"2026-01": 70, "2026-02": 70, "2026-03": 74}).items():
        actual_record(by=world.updater, kpi=world.kpi, period_key=key, value=Decimal(value))


def second_kpi(world, *, owner=None) -> None:
    """An off-target count KPI owned by someone else, on the financial perspective."""
    financial = world.scorecard.perspectives.get(kind="financial")
    objective = objective_create(by=world.editor, perspective=financial, name="Grow revenue", code="F1")
    kpi = kpi_create(
        by=world.editor, objective=objective, key="signups", name="New sign-ups", unit="count", owner=owner
    )
    kpi_target_set(by=world.editor, kpi=kpi, period_key="2026-01", target=Decimal(100), red_flag=Decimal(90))
    actual_record(by=world.editor, kpi=kpi, period_key="2026-03", value=Decimal(50))


def text(response) -> str:
    """The page's text without tags, spaces collapsed, for assertions on what a person reads."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# Who sees it ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "updater", "editor", "admin", "org_admin", "superuser"])
def test_everyone_with_a_role_sees_the_scorecard(world, client, role):
    client.force_login(world.user(role))
    response = client.get(page_url(world))
    assert response.status_code == 200
    assert "Delight learners" in response.content.decode()


def test_an_outsider_is_refused_and_told_why(world, client):
    client.force_login(world.outsider)
    response = client.get(page_url(world))
    assert response.status_code == 403
    assert "You cannot view this scorecard" in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    response = client.get(page_url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_unknown_scorecard_is_not_found(world, client):
    client.force_login(world.viewer)
    assert client.get(reverse("strategy:scorecard_detail", args=[999999])).status_code == 404


# Periods and views ------------------------------------------------------------------------------------------------


def test_the_page_scores_the_chosen_month_and_says_why(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2026-03"}))
    assert "74.0 %" in page
    assert "80.0 %" in page
    # goal/red flag: 10/3 * (1 + (74 - 60) / (80 - 60)) = 5.67, shown 5.7, status Watch
    assert "5.7" in page
    assert "Watch" in page
    assert "74 lies 70 % of the way from the red flag 60 to the goal 80" in page


@pytest.mark.parametrize(
    ("query", "label", "actual"),
    [
        ({"period": "2026-03", "view": "quarter", "shown": "2026-03"}, "Q1 2026", "71.3 %"),  # (70 + 70 + 74) / 3
        ({"period": "2026-03", "view": "ytd", "shown": "2026-03"}, "Mar 2026 · year to date", "71.3 %"),
        ({"period": "2026-03", "span": "ytd"}, "Mar 2026 · year to date", "71.3 %"),  # addresses from before views
        ({"period": "2026-03", "view": "year", "shown": "2026-03"}, "2026", "71.3 %"),
        ({"period": "2026-Q1", "view": "month", "shown": "2026-Q1"}, "Mar 2026", "74.0 %"),  # its last month
        ({"period": "2026-02", "view": "month", "shown": "2026-03"}, "Feb 2026", "70.0 %"),
        ({"period": "2026-Q1", "view": "month", "shown": "2026-03"}, "Q1 2026", "71.3 %"),  # the key typed wins
    ],
)
def test_the_period_view_shows_a_month_a_quarter_a_year_or_the_year_to_date(world, client, query, label, actual):
    satisfaction(world)
    client.force_login(world.viewer)
    response = client.get(page_url(world), query)
    assert response.status_code == 200
    page = text(response)
    assert f"{label} · type" in page
    assert actual in page


def test_the_view_field_offers_the_views_and_keeps_the_one_shown(world, client):
    client.force_login(world.viewer)
    page = client.get(page_url(world), {"period": "2026-Q1"}).content.decode()
    options = re.findall(r'<option value="(\w+)"( selected)?>', page[page.index('id="view"') :].split("</select>")[0])
    assert options == [("month", ""), ("quarter", " selected"), ("ytd", ""), ("year", ""), ("rolling", "")]


def test_previous_and_next_keep_the_view_the_comparison_and_the_filters(world, client):
    client.force_login(world.viewer)
    page = client.get(page_url(world), {"period": "2026-03", "view": "ytd", "compare": "previous", "status": "watch"})
    html = page.content.decode()
    assert 'id="period-previous" href="?period=2026-02&amp;compare=previous&amp;status=watch&amp;span=ytd"' in html
    assert 'id="period-next" href="?period=2026-04&amp;compare=previous&amp;status=watch&amp;span=ytd"' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"period": "2026-13"}, "period", "the month must be 01-12"),
        ({"view": "fortnight"}, "view", "Select a valid choice. fortnight is not one of the available choices."),
        ({"compare": "decade"}, "compare", "Select a valid choice. decade is not one of the available choices."),
    ],
)
def test_a_choice_the_page_cannot_read_is_explained_next_to_its_field(world, client, query, field, message):
    client.force_login(world.viewer)
    response = client.get(page_url(world), query)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="{field}-error" role="alert">' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "Delight learners" in html  # the page is still shown, with the default in place of what was wrong


@pytest.mark.parametrize(
    ("key", "frequency", "today", "expected"),
    [
        ("2026-03", Frequency.QUARTERLY, date(2026, 5, 1), "2026-Q1"),
        ("2026-Q1", Frequency.MONTHLY, date(2026, 5, 1), "2026-03"),
        ("2026-Q2", Frequency.MONTHLY, date(2026, 5, 20), "2026-04"),  # the last month that has ended
        ("2026-Q3", Frequency.MONTHLY, date(2026, 5, 20), "2026-07"),  # none has: the first
        ("2026", Frequency.QUARTERLY, date(2026, 11, 2), "2026-Q3"),
        ("2026-W10", Frequency.MONTHLY, date(2026, 5, 1), "2026-03"),
    ],
)
def test_a_period_of_another_kind_is_the_one_holding_it_or_its_last_part_that_has_ended(
    key, frequency, today, expected
):
    calendar = FiscalCalendar()
    assert period_of_kind(calendar, calendar.parse(key), frequency, today).key == expected


# Comparing ---------------------------------------------------------------------------------------------------------


def test_comparing_with_the_previous_period_shows_each_change_with_an_arrow_and_in_words(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    response = client.get(page_url(world), {"period": "2026-03", "compare": "previous"})
    html = response.content.decode()
    # February: 10/3 * (1 + 10/20) = 5.0; March 5.67: up by 0.7 points of score, and by 4 percentage points.
    assert '<span class="change up"><svg class="icon icon-arrow-up"' in html
    assert '<span aria-hidden="true">+0.7</span><span class="visually-hidden">up by 0.7</span>' in html
    assert '+4.0 <abbr title="percentage points">pp</abbr>' in html
    page = text(response)
    assert "since Feb 2026 (5.0)" in page
    assert "Change since Feb 2026" in page


def test_comparing_with_a_year_before_says_when_there_is_nothing_to_compare_with(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    response = client.get(page_url(world), {"period": "2026-03", "compare": "year"})
    page = text(response)
    assert "since Mar 2025 (no score)" in page
    assert "— no comparison" in page


def test_a_comparison_costs_no_query_more(world, client, django_assert_max_num_queries):
    satisfaction(world)
    client.force_login(world.viewer)
    client.get(page_url(world), {"period": "2026-03"})
    forget_cached_evaluations()
    with django_assert_max_num_queries(PAGE_QUERIES) as alone:
        client.get(page_url(world), {"period": "2026-03"})
    forget_cached_evaluations()
    with django_assert_max_num_queries(PAGE_QUERIES) as compared:
        client.get(page_url(world), {"period": "2026-03", "compare": "year"})
    assert len(compared.captured_queries) == len(alone.captured_queries)


def test_evaluating_two_views_at_once_gives_what_each_gives_alone(world):
    satisfaction(world, {"2024-02": 61, "2025-03": 66, "2026-02": 70, "2026-03": 74})
    calendar = world.organisation.calendar
    march, a_year_before = View(calendar.parse("2026-03"), Span.ROLLING_YEAR), View(calendar.parse("2025-03"))
    together = scorecard_evaluations(world.scorecard, [march, a_year_before], today=date(2026, 5, 1))
    forget_cached_evaluations()
    alone = [scorecard_evaluation(world.scorecard, view, today=date(2026, 5, 1)) for view in (march, a_year_before)]
    for pair in zip(together, alone, strict=True):
        assert pair[0].result.to_dict() == pair[1].result.to_dict()
        assert pair[0].last_updates.keys() == pair[1].last_updates.keys()
        assert {key: value.period_key for key, value in pair[0].last_updates.items()} == {
            key: value.period_key for key, value in pair[1].last_updates.items()
        }
        assert pair[0].trends == pair[1].trends


# Filters ------------------------------------------------------------------------------------------------------------


def test_filtering_by_status_keeps_the_kpis_of_that_status_and_says_how_many(world, client):
    satisfaction(world)
    second_kpi(world, owner=world.editor)
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2026-03", "status": "off_target"}))
    assert "New sign-ups" in page
    assert "Customer satisfaction" not in page
    assert "Showing 1 of 2 KPIs" in page
    assert "hidden by the filters" in page  # the customer perspective, in the summary strip
    assert "Delight learners" not in page


def test_filtering_by_owner_keeps_what_they_own(world, client):
    satisfaction(world)
    second_kpi(world, owner=world.editor)
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2026-03", "owner": world.editor.pk}))
    assert "New sign-ups" in page
    assert "Customer satisfaction" not in page


def test_filtering_by_perspective_shows_that_perspective_alone(world, client):
    satisfaction(world)
    second_kpi(world)
    customer = world.scorecard.perspectives.get(kind="customer")
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2026-03", "perspective": customer.pk}))
    assert "Customer satisfaction" in page
    assert "New sign-ups" not in page


def test_an_objective_of_the_status_asked_for_stays_with_a_note_on_its_hidden_kpis(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2026-03", "status": "watch"}))
    assert "Delight learners" in page
    assert "Customer satisfaction" in page
    page = text(client.get(page_url(world), {"period": "2026-03", "status": "on_target"}))
    assert "Nothing matches these filters" in page
    assert "Clear filters" in page


def test_a_filter_the_page_cannot_read_is_explained_and_left_out(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    response = client.get(page_url(world), {"period": "2026-03", "owner": "someone"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_owner_error" role="alert">' in html
    assert "Customer satisfaction" in html


def test_a_filter_changed_with_htmx_gets_the_tree_alone_with_the_links_that_carry_it(world, client):
    satisfaction(world)
    second_kpi(world)
    client.force_login(world.viewer)
    response = client.get(page_url(world), {"period": "2026-03", "status": "off_target"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert '<div id="scorecard-tree"' in html
    assert 'id="period-previous" href="?period=2026-02&amp;status=off_target&amp;span=period" aria-label' in html
    assert '<p id="tree-summary" hx-swap-oob="innerHTML">Showing 1 of 2 KPIs' in html
    assert "HX-Request" in response["Vary"]


# Trends, cascade and states --------------------------------------------------------------------------------------


def test_each_kpi_has_a_trend_of_its_last_twelve_periods_drawn_and_in_words(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    html = client.get(page_url(world), {"period": "2026-03"}).content.decode()
    label = (
        "Trend from Apr 2025 to Mar 2026: 70.0 %, then 74.0 %; lowest 70.0 %, highest 74.0 %. 9 periods have no value."
    )
    assert f'<svg class="sparkline" viewBox="0 0 96 28" width="96" height="28" role="img" aria-label="{label}">' in html
    line = re.search(r'<path class="sparkline-line" d="([^"]+)"', html)
    assert line is not None
    assert line.group(1).count("M") == 1  # January to March: one unbroken line
    assert line.group(1).count("L") == 2


def test_a_formula_kpi_has_a_trend_too(world, client):
    satisfaction(world)
    kpi_create(
        by=world.editor,
        objective=world.objective,
        key="double",
        name="Twice the satisfaction",
        unit="percent",
        source_kind="formula",
        formula="csat * 2",
    )
    client.force_login(world.viewer)
    html = client.get(page_url(world), {"period": "2026-03"}).content.decode()
    assert "Trend from Apr 2025 to Mar 2026: 140.0 %, then 148.0 %; lowest 140.0 %, highest 148.0 %." in html


def test_a_sparkline_breaks_where_a_period_has_no_value_and_scales_with_the_target(world):
    calendar = FiscalCalendar()
    periods = tuple(calendar.span(calendar.parse("2026-01"), calendar.parse("2026-04")))
    line = sparkline(KpiTrend(periods, (10.0, None, 30.0, 20.0), (40.0, 40.0, 40.0, 40.0)), world.kpi)
    assert line is not None
    # From 10 (the bottom, y = 25) to the target 40 (the top, y = 3): 30 sits at 3 + 22 × 10/30, 20 at 3 + 22 × 20/30.
    assert line.path == "M3.0,25.0 l0,0 M63.0,10.3 l0,0 L93.0,17.7"
    assert line.target_path == "M3.0,3.0 l0,0 L33.0,3.0 L63.0,3.0 L93.0,3.0"
    assert line.last is not None
    assert line.last[0] == 93.0
    assert line.last[1] == pytest.approx(17.67, abs=0.01)
    assert line.label.endswith("1 period has no value.")
    assert sparkline(KpiTrend(periods, (None,) * 4, (None,) * 4), world.kpi) is None


def test_objectives_aligned_from_cascaded_scorecards_link_there_when_the_user_may_see_them(world, client):
    satisfaction(world)
    customer = world.child_scorecard.perspectives.get(kind="customer")
    objective_create(
        by=world.superuser, perspective=customer, name="Answer within a day", code="C7", parent=world.objective
    )
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2026-03", "view": "ytd"}))
    assert "1 objective of a cascaded scorecard you cannot open supports this one" in page
    child = reverse("strategy:scorecard_detail", args=[world.child_scorecard.pk])
    assert child not in page
    assert "Answer within a day" not in page
    assert "Left out: an objective of a scorecard you cannot open" in page

    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=world.viewer, role=Role.VIEWER)
    html = client.get(page_url(world), {"period": "2026-03", "view": "ytd"}).content.decode()
    assert f'<a href="{child}?period=2026-03&amp;span=ytd#objective-' in html
    assert "Answer within a day" in html
    assert "Cascaded scorecards" in html


def test_why_does_not_name_the_objectives_of_cascaded_scorecards_the_reader_cannot_open(world, client):
    satisfaction(world)
    customer = world.child_scorecard.perspectives.get(kind="customer")
    objective_create(
        by=world.superuser, perspective=customer, name="Answer within a day", code="C7", parent=world.objective
    )
    url = reverse("strategy:objective_detail", args=[world.objective.pk])
    client.force_login(world.viewer)
    hidden = text(client.get(url, {"period": "2026-03"}))
    assert "Answer within a day" not in hidden
    assert "Left out: an objective of a scorecard you cannot open" in hidden

    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=world.viewer, role=Role.VIEWER)
    assert "Left out: Answer within a day" in text(client.get(url, {"period": "2026-03"}))


def test_a_period_without_values_says_so(world, client):
    satisfaction(world)
    client.force_login(world.viewer)
    page = text(client.get(page_url(world), {"period": "2025-06"}))
    assert "No KPI of this scorecard has a value for Jun 2025 yet" in page


def test_a_scorecard_without_perspectives_says_who_sets_them_up(world, client):
    for perspective in world.scorecard.perspectives.all():
        perspective_delete(by=world.editor, perspective=perspective)
    client.force_login(world.viewer)
    page = text(client.get(page_url(world)))
    assert "This scorecard has no perspectives yet" in page
    assert "Filters" not in page


# Following ------------------------------------------------------------------------------------------------------------


def test_a_viewer_follows_and_unfollows_the_scorecard_from_its_page(world, client):
    client.force_login(world.viewer)
    assert ">Follow</button>" in client.get(page_url(world)).content.decode()
    back = f"{page_url(world)}?period=2026-03"
    response = client.post(reverse("accounts:scorecard_follow", args=[world.scorecard.pk]), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert ScorecardFollow.objects.filter(user=world.viewer, scorecard=world.scorecard).exists()
    assert ">Unfollow</button>" in client.get(page_url(world)).content.decode()
    client.post(reverse("accounts:scorecard_unfollow", args=[world.scorecard.pk]))
    assert not ScorecardFollow.objects.exists()


def test_following_with_htmx_answers_with_the_button_and_a_message(world, client):
    client.force_login(world.viewer)
    response = client.post(reverse("accounts:scorecard_follow", args=[world.scorecard.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert ">Unfollow</button>" in response.content.decode()
    assert "You follow this scorecard now." in response["HX-Trigger"]


def test_following_goes_back_only_to_this_site(world, client):
    client.force_login(world.viewer)
    response = client.post(
        reverse("accounts:scorecard_follow", args=[world.scorecard.pk]), {"next": "https://elsewhere.example/"}
    )
    assert response["Location"] == page_url(world)


@pytest.mark.parametrize("name", ["scorecard_follow", "scorecard_unfollow"])
def test_only_people_who_see_the_scorecard_may_follow_it_and_only_by_posting(world, client, name):
    url = reverse(f"accounts:{name}", args=[world.scorecard.pk])
    assert client.post(url).status_code == 302  # anonymous: to the sign-in page
    client.force_login(world.outsider)
    assert client.post(url).status_code == 403
    client.force_login(world.viewer)
    assert client.get(url).status_code == 405
    scorecard_follow(by=world.viewer, scorecard=world.scorecard)
    client.force_login(world.outsider)
    client.post(reverse("accounts:scorecard_unfollow", args=[world.scorecard.pk]))
    assert ScorecardFollow.objects.filter(user=world.viewer).exists()


# Queries ---------------------------------------------------------------------------------------------------------------

PAGE_QUERIES = 15
"""The most queries the scorecard page may run, whatever the number of KPIs (the target for 200 KPIs)."""


def add_kpis(world, count: int, *, start: int = 0) -> None:
    """``count`` KPIs with a target and three months of values, spread over the perspectives, with owners."""
    perspectives = list(world.scorecard.perspectives.all())
    for index in range(start, start + count):
        perspective = perspectives[index % len(perspectives)]
        objective = objective_create(
            by=world.editor, perspective=perspective, name=f"Objective {index}", owner=world.editor
        )
        kpi = kpi_create(by=world.editor, objective=objective, key=f"k{index}", name=f"KPI {index}", owner=world.viewer)
        kpi_target_set(by=world.editor, kpi=kpi, period_key="2026-01", target=Decimal(10), red_flag=Decimal(5))
        for month in ("2026-01", "2026-02", "2026-03"):
            actual_record(by=world.editor, kpi=kpi, period_key=month, value=Decimal(index % 12))


@pytest.mark.parametrize(
    "query",
    [
        {"period": "2026-03"},
        {"period": "2026-03", "view": "quarter", "compare": "year", "status": "watch"},
    ],
    ids=["month", "quarter-compared-filtered"],
)
def test_the_page_runs_the_same_few_queries_for_5_and_for_60_kpis(world, client, django_assert_max_num_queries, query):
    client.force_login(world.viewer)
    client.get(page_url(world))  # the session and the content types, read once per process
    counts = {}
    for size, start in ((5, 0), (55, 5)):
        add_kpis(world, size, start=start)  # 5, then 60 KPIs
        for cache in ("cold", "warm"):
            with django_assert_max_num_queries(PAGE_QUERIES) as queries:
                response = client.get(page_url(world), query)
            assert response.status_code == 200
            counts[size + start, cache] = len(queries.captured_queries)
    assert "KPI 59" in response.content.decode() or query.get("status")
    assert counts[5, "cold"] == counts[60, "cold"]
    assert counts[5, "warm"] == counts[60, "warm"]
    assert counts[60, "warm"] < counts[60, "cold"]  # a cached evaluation is not read again


BASELINE = {"cold": 14, "warm": 6, "tree alone": 4}
"""The page's queries now, pinned so that a change is seen: the session, the user, the navigation's (may
the user enter values anywhere), the scorecard with its tree, visibility and follow state, the user's role
and the initiatives; cold, the eight reads of the scores (status levels, perspectives, objectives, KPIs,
roll-up links, weight changes, targets, values); the tree alone leaves out the navigation and the initiatives."""


def test_the_page_s_queries_are_pinned(world, client, django_assert_num_queries):
    satisfaction(world)
    client.force_login(world.viewer)
    client.get(page_url(world))
    forget_cached_evaluations()
    query = {"period": "2026-03", "compare": "previous"}
    with django_assert_num_queries(BASELINE["cold"]):
        client.get(page_url(world), query)
    with django_assert_num_queries(BASELINE["warm"]):
        client.get(page_url(world), query)
    with django_assert_num_queries(BASELINE["tree alone"]):
        client.get(page_url(world), {**query, "status": "watch"}, HTTP_HX_REQUEST="true")
