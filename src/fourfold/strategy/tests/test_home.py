"""The home page: KPIs to update with their due dates, the user's red KPIs, their late initiatives and the
changes on the scorecards they follow; each user sees only what comes from scorecards they may see, in a
fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from fourfold.accounts.models import Role, ScorecardMembership
from fourfold.accounts.services import scorecard_follow, scorecard_member_remove, scorecard_member_set
from fourfold.conftest import make_user
from fourfold.initiatives.services import initiative_create, milestone_create
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set, kpi_update, kpi_updaters_set
from fourfold.strategy.models import Scorecard
from fourfold.strategy.selectors import home_for_user
from fourfold.strategy.services import (
    objective_create,
    organisation_create,
    organisation_member_set,
    scorecard_update,
)

MARCH_20 = date(2026, 3, 20)


def page_of(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("strategy:home"))
    assert response.status_code == 200
    return str(response.content.decode())


def section(page: str, anchor: str) -> str:
    """The HTML of one home section, from its id to the end of the section."""
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def enrolments(world):
    """A second monthly KPI the updater reports on, whose February value is in: next due for March."""
    kpi = kpi_create(by=world.editor, objective=world.objective, key="enrol", name="Enrolments", unit="count")
    kpi_updaters_set(by=world.editor, kpi=kpi, users=[world.updater])
    actual_record(by=world.updater, kpi=kpi, period_key="2026-02", value=Decimal(120))
    return kpi


def test_kpis_to_update_come_overdue_first_with_their_due_dates(world, enrolments):
    # On 20 March: csat has no February value, due 10 days after February ends (10 March), so overdue;
    # enrolments has February, so its next value is March's, due 10 April.
    rows = home_for_user(world.updater, today=MARCH_20).to_update
    assert [(row.kpi.name, row.next_period.key, row.due, row.overdue) for row in rows] == [
        ("Customer satisfaction", "2026-02", date(2026, 3, 10), True),
        ("Enrolments", "2026-03", date(2026, 4, 10), False),
    ]


def test_viewers_and_outsiders_have_nothing_to_update(world, enrolments):
    assert home_for_user(world.viewer, today=MARCH_20).to_update == []
    assert home_for_user(world.outsider, today=MARCH_20).to_update == []


def test_the_page_lists_kpis_to_update_with_due_date_and_overdue_first(world, enrolments, client):
    scorecard_update(by=world.superuser, scorecard=world.scorecard, changes={"due_days_after_period_end": 0})
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    to_update = section(page_of(client, world.updater), "to-update")
    assert to_update.index("Customer satisfaction") < to_update.index("Enrolments")
    assert "overdue" in to_update
    assert f"due {date_format(last_month_end, 'DATE_FORMAT')}" in to_update
    assert reverse("measures:entry_grid") in to_update


@pytest.fixture
def red_csat(world):
    """csat, owned by the updater, aims for 80 % with a red flag at 60 %; January's 40 % is off target."""
    kpi_update(by=world.editor, kpi=world.kpi, changes={"owner": world.updater})
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal(40))
    return world.kpi


def owned_kpi(world, key, name, value, owner):
    kpi = kpi_create(by=world.editor, objective=world.objective, key=key, name=name, unit="percent", owner=owner)
    kpi_target_set(by=world.editor, kpi=kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.editor, kpi=kpi, period_key="2026-01", value=Decimal(value))
    return kpi


def test_red_kpis_are_the_owners_kpis_whose_latest_value_is_off_target(world, red_csat):
    owned_kpi(world, "pass", "Pass rate", 85, world.updater)  # on target
    owned_kpi(world, "nps", "Net promoter", 30, world.editor)  # red, but someone else's
    red = home_for_user(world.updater, today=MARCH_20).red_kpis
    assert [(item.kpi.name, item.period.key, item.result.status.key) for item in red] == [
        ("Customer satisfaction", "2026-01", "off_target")
    ]


def test_a_kpi_back_on_target_in_its_latest_period_is_no_longer_red(world, red_csat):
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-02", value=Decimal(90))
    assert home_for_user(world.updater, today=MARCH_20).red_kpis == []


def test_red_kpis_on_scorecards_the_owner_cannot_see_are_not_listed(world, red_csat):
    membership = ScorecardMembership.objects.get(scorecard=world.scorecard, user=world.updater)
    scorecard_member_remove(by=world.superuser, membership=membership)
    assert home_for_user(world.updater, today=MARCH_20).red_kpis == []


def test_the_page_shows_red_kpis_with_value_unit_and_status_in_words(world, red_csat, client):
    red = section(page_of(client, world.updater), "red-kpis")
    assert reverse("measures:kpi_detail", args=[world.kpi.pk]) in red
    assert "40.0 %" in red
    assert "Off target" in red  # the status in words, not only its colour


@pytest.fixture
def initiatives(world):
    """Four initiatives of the updater's: ended unfinished, completed, with a milestone late on 20 March 2026,
    and one on time until 2030."""
    made = {}
    for name, start, end, fields in (
        ("New onboarding", date(2026, 1, 1), date(2026, 3, 1), {"status": "in_progress", "percent_complete": 60}),
        ("Survey tool", date(2026, 1, 1), date(2026, 2, 1), {"status": "completed", "percent_complete": 100}),
        ("Tutor training", date(2026, 1, 1), date(2026, 12, 31), {"status": "in_progress"}),
        ("Help centre", date(2026, 1, 1), date(2030, 12, 31), {"status": "planned"}),
    ):
        made[name] = initiative_create(
            by=world.editor,
            scorecard=world.scorecard,
            name=name,
            start_date=start,
            end_date=end,
            owner=world.updater,
            **fields,
        )
    milestone_create(by=world.editor, initiative=made["Tutor training"], name="Pilot", due_date=date(2026, 3, 1))
    milestone_create(by=world.editor, initiative=made["Help centre"], name="Draft", due_date=date(2030, 6, 1))
    return made


def test_late_initiatives_are_past_their_end_unfinished_or_with_a_milestone_overdue(world, initiatives):
    late = home_for_user(world.updater, today=MARCH_20).late_initiatives
    assert [(item.initiative.name, item.days_past_end, item.milestones_late) for item in late] == [
        ("New onboarding", 19, 0),
        ("Tutor training", 0, 1),
    ]
    assert home_for_user(world.editor, today=MARCH_20).late_initiatives == []  # not the owner


def test_the_page_shows_late_initiatives_with_how_late(world, initiatives, client):
    late = section(page_of(client, world.updater), "late-initiatives")
    assert reverse("initiatives:initiative_detail", args=[initiatives["New onboarding"].pk]) in late
    assert "New onboarding" in late
    assert "Help centre" not in late
    assert "days past its end" in late  # ended on 1 March 2026, which is past whatever day the test runs


def test_followed_scorecards_show_their_latest_changes_newest_first(world, client):
    scorecard_follow(by=world.viewer, scorecard=world.scorecard)
    learning = world.scorecard.perspectives.get(kind="learning")
    objective_create(by=world.editor, perspective=learning, name="Grow tutors", code="L1")
    objective_create(by=world.editor, perspective=learning, name="Share practice", code="L2")
    changes = section(page_of(client, world.viewer), "followed-changes")
    assert changes.index("Share practice") < changes.index("Grow tutors")
    assert reverse("audit:scorecard_history", args=[world.scorecard.pk]) in changes
    assert reverse("strategy:scorecard_detail", args=[world.scorecard.pk]) in changes


def test_changes_of_scorecards_not_followed_or_no_longer_visible_are_not_shown(world, client):
    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=world.viewer, role=Role.VIEWER)
    scorecard_follow(by=world.viewer, scorecard=world.child_scorecard)
    sales = world.child_scorecard.perspectives.get(kind="customer")
    objective_create(by=world.superuser, perspective=sales, name="Win schools", code="C9")
    company = world.scorecard.perspectives.get(kind="customer")
    objective_create(by=world.superuser, perspective=company, name="Not followed", code="C8")
    changes = section(page_of(client, world.viewer), "followed-changes")
    assert "Win schools" in changes
    assert "Not followed" not in changes
    membership = ScorecardMembership.objects.get(scorecard=world.child_scorecard, user=world.viewer)
    scorecard_member_remove(by=world.superuser, membership=membership)
    changes = section(page_of(client, world.viewer), "followed-changes")
    assert "Win schools" not in changes
    assert "You follow no scorecard yet" in changes


def test_every_section_says_what_to_do_when_empty(world, client):
    page = page_of(client, world.outsider)
    assert "No KPI waits for a value from you" in section(page, "to-update")
    assert "None of the KPIs you own is off target" in section(page, "red-kpis")
    assert "No initiative you own is late" in section(page, "late-initiatives")
    assert "Open a scorecard and press Follow" in section(page, "followed-changes")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("strategy:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


HOME_QUERIES = 20
"""Session and user; the scorecards listed and the organisations the user administers; the grid's KPIs, their
status levels, targets, values and the KPIs reported on elsewhere; the owned KPIs, their status levels, latest values, targets and values around them; the
late initiatives; the followed scorecards and their changes; the navigation's grid link and organisations; the
KPIs reported on."""


def test_the_home_page_needs_the_same_queries_whatever_the_number_of_kpis(world, client, django_assert_num_queries):
    client.force_login(world.updater)
    client.get(reverse("strategy:home"))  # warm the session and content-type caches
    scorecard_follow(by=world.updater, scorecard=world.scorecard)
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    def add(count: int) -> None:
        objective = objective_create(
            by=world.superuser, perspective=world.scorecard.perspectives.first(), name=f"Objective {count}"
        )
        for index in range(count):
            kpi = kpi_create(
                by=world.superuser,
                objective=objective,
                key=f"k{count}_{index}",
                name=f"KPI {count} {index}",
                owner=world.updater,
            )
            kpi_updaters_set(by=world.superuser, kpi=kpi, users=[world.updater])
            kpi_target_set(by=world.superuser, kpi=kpi, period_key=last_month, target=Decimal(10), red_flag=Decimal(5))
            actual_record(by=world.superuser, kpi=kpi, period_key=last_month, value=Decimal(index))
            initiative_create(
                by=world.superuser,
                scorecard=world.scorecard,
                name=f"Initiative {count} {index}",
                start_date=today - timedelta(days=60),
                end_date=today - timedelta(days=1),
                owner=world.updater,
            )

    add(1)
    with django_assert_num_queries(HOME_QUERIES):
        client.get(reverse("strategy:home"))
    add(9)
    with django_assert_num_queries(HOME_QUERIES):
        page = client.get(reverse("strategy:home")).content.decode()
    assert "KPI 9 0" in section(page, "red-kpis")
    assert "Initiative 9 0" in section(page, "late-initiatives")
    assert "Initiative 9 8" in section(page, "followed-changes")


# Creating a scorecard from the home page ---------------------------------------------------------------------


def organisation_card(page: str, organisation) -> str:
    """The HTML of one organisation's card on the home page."""
    start = page.index(f'aria-labelledby="org-{organisation.pk}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("role", ["org_admin", "superuser"])
def test_those_who_may_create_scorecards_find_new_scorecard_next_to_data(world, client, role):
    card = organisation_card(page_of(client, world.user(role)), world.organisation)
    create = reverse("strategy:scorecard_create", args=[world.organisation.pk])
    assert f'href="{create}"' in card
    assert card.index("Data and computations") < card.index("New scorecard")


@pytest.mark.parametrize("role", ["admin", "editor", "updater", "viewer"])
def test_scorecard_roles_do_not_offer_new_scorecard_and_are_refused(world, client, role):
    page = page_of(client, world.user(role))
    create = reverse("strategy:scorecard_create", args=[world.organisation.pk])
    assert "Company 2026" in organisation_card(page, world.organisation)
    assert create not in page
    assert "New scorecard" not in page
    assert client.get(create).status_code == 403
    assert client.post(create, {"name": "Rogue", "org_unit": world.scorecard.org_unit_id}).status_code == 403
    assert not Scorecard.objects.filter(name="Rogue").exists()


@pytest.fixture
def new_organisation(world):
    """A second organisation with no scorecard yet, administered by a new user who has no role elsewhere."""
    organisation = organisation_create(by=world.superuser, name="Brightpath Tutoring", slug="brightpath")
    founder = make_user("founder")
    organisation_member_set(by=world.superuser, organisation=organisation, user=founder, is_admin=True)
    return organisation, founder


def test_an_organisation_without_scorecards_offers_its_admin_the_first_one(world, client, new_organisation):
    organisation, founder = new_organisation
    page = page_of(client, founder)
    card = organisation_card(page, organisation)
    assert "has no scorecard yet" in card
    assert f'href="{reverse("strategy:scorecard_create", args=[organisation.pk])}"' in card
    assert "No scorecards yet" not in page  # the empty state for someone with nothing at all
    # Acme, where the founder has no role, is neither listed nor open to them.
    assert world.organisation.name not in page
    assert client.get(reverse("strategy:scorecard_create", args=[world.organisation.pk])).status_code == 403


def test_others_see_no_empty_organisation_they_do_not_administer(world, client, new_organisation):
    organisation, _ = new_organisation
    page = page_of(client, world.org_admin)  # Acme's admin: Brightpath is not theirs
    assert organisation.name not in page
    assert reverse("strategy:scorecard_create", args=[organisation.pk]) not in page


def test_the_organisation_admin_creates_a_top_scorecard_from_the_home_page(world, client, new_organisation):
    organisation, founder = new_organisation
    client.force_login(founder)
    create = reverse("strategy:scorecard_create", args=[organisation.pk])
    form = client.get(create).content.decode()
    assert '<option value="" selected>None: a top scorecard</option>' in form
    assert f'href="{reverse("strategy:home")}"' in form  # Cancel goes back home
    unit = organisation.units.get()
    response = client.post(
        create, {"name": "Brightpath 2026", "status": "draft", "org_unit": unit.pk, "reporting_frequency": "monthly"}
    )
    created = Scorecard.objects.get(name="Brightpath 2026")
    assert response["Location"] == reverse("strategy:scorecard_detail", args=[created.pk])
    assert (created.organisation, created.org_unit, created.parent) == (organisation, unit, None)
    card = organisation_card(page_of(client, founder), organisation)
    assert "Brightpath 2026" in card
    assert "has no scorecard yet" not in card
