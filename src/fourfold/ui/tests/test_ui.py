"""The app shell and its helpers: navigation, status badges, icons, htmx conventions, the build check."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from fourfold.engine.status import DEFAULT_LEVELS, NO_DATA, Status
from fourfold.strategy.selectors import organisations_for_user
from fourfold.strategy.services import organisation_create
from fourfold.ui.checks import front_end_built
from fourfold.ui.htmx import is_htmx, with_message
from fourfold.ui.icons import ICONS, icon
from fourfold.ui.templatetags.ui import initials


def test_the_check_warns_when_the_front_end_is_not_built(monkeypatch):
    monkeypatch.setattr(finders, "find", lambda path: None)
    [warning] = front_end_built()
    assert warning.id == "ui.W001"
    assert "fourfold/build/app.css" in warning.msg
    assert "npm ci && npm run build" in (warning.hint or "")


def test_the_check_is_quiet_when_the_front_end_is_built(monkeypatch):
    monkeypatch.setattr(finders, "find", lambda path: f"/somewhere/{path}")
    assert front_end_built() == []


@pytest.mark.parametrize(
    ("status", "shape"), [*zip(DEFAULT_LEVELS, ("check", "alert", "x"), strict=True), (NO_DATA, "minus")]
)
def test_a_status_shows_its_colour_its_shape_and_its_name(status, shape):
    html = render_to_string("status_badge.html", {"status": status})
    assert f"--status-colour: {status.colour}" in html
    assert f"icon-{shape}" in html
    assert html.count(status.name) == 1


def test_an_organisations_own_status_gets_a_dot_and_overdue_is_said_in_words():
    html = render_to_string(
        "status_badge.html", {"status": Status("excellent", "Excellent", "#005a9c"), "overdue": True}
    )
    assert "icon-dot" in html
    assert "Excellent" in html
    assert "overdue" in html


def test_icons_are_hidden_from_screen_readers_and_unknown_names_fail():
    for name in ICONS:
        assert 'aria-hidden="true"' in icon(name)
    with pytest.raises(KeyError):
        icon("no-such-icon")


def test_initials_of_a_user():
    assert initials("Ana Lima Souza") == "AL"
    assert initials("root") == "R"


def test_the_page_names_its_language_and_carries_the_csrf_token_and_no_chart_script(world, client):
    client.force_login(world.viewer)
    page = client.get(reverse("strategy:home")).content.decode()
    assert '<html lang="en"' in page
    assert '<meta name="csrf-token" content="' in page
    assert "fourfold/build/app.css" in page
    assert "fourfold/build/app.js" in page
    assert "charts.js" not in page  # only pages with charts load it, in {% block scripts %}


def test_the_navigation_marks_the_current_section(world, client):
    client.force_login(world.viewer)
    home = client.get(reverse("strategy:home")).content.decode()
    assert f'<a href="{reverse("strategy:home")}" aria-current="page">' in home
    scorecard = client.get(reverse("strategy:scorecard_detail", args=[world.scorecard.pk])).content.decode()
    assert f'<a href="{reverse("strategy:home")}#scorecards" aria-current="page">' in scorecard


def test_the_data_link_goes_to_the_pages_organisation_or_the_users_only_one(world, client):
    data = reverse("computed:organisation_data", args=[world.organisation.slug])
    client.force_login(world.viewer)
    assert data in client.get(reverse("strategy:home")).content.decode()
    assert data in client.get(reverse("measures:kpi_detail", args=[world.kpi.pk])).content.decode()


def test_organisations_with_several_are_offered_in_a_menu(world, client):
    second = organisation_create(by=world.superuser, name="Zenith School", slug="zenith")
    client.force_login(world.superuser)
    page = client.get(reverse("strategy:home")).content.decode()
    assert '<details class="menu" data-menu>' in page
    assert reverse("computed:organisation_data", args=[second.slug]) in page


def test_organisations_for_a_user_are_those_they_see_or_administer(world):
    other = organisation_create(by=world.superuser, name="Zenith School", slug="zenith")
    assert list(organisations_for_user(world.viewer)) == [world.organisation]
    assert list(organisations_for_user(world.org_admin)) == [world.organisation]
    assert list(organisations_for_user(world.outsider)) == []
    assert list(organisations_for_user(world.superuser)) == [world.organisation, other]


def test_staff_get_the_admin_link_and_others_do_not(world, client):
    client.force_login(world.viewer)
    assert reverse("admin:index") not in client.get(reverse("strategy:home")).content.decode()
    client.force_login(world.superuser)
    assert reverse("admin:index") in client.get(reverse("strategy:home")).content.decode()


def test_is_htmx_tells_htmx_requests_from_history_restores():
    factory = RequestFactory()
    assert is_htmx(factory.get("/", headers={"HX-Request": "true"}))
    assert not is_htmx(factory.get("/"))
    assert not is_htmx(factory.get("/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}))


def test_a_message_rides_on_the_hx_trigger_header_beside_other_events():
    response = HttpResponse()
    response.headers["HX-Trigger"] = "kpiChanged, scoresChanged"
    with_message(response, "Value saved.")
    assert json.loads(response.headers["HX-Trigger"]) == {
        "kpiChanged": None,
        "scoresChanged": None,
        "fourfold:message": {"text": "Value saved.", "level": "success"},
    }
    with_message(response, "Check the target.", level="warning")
    assert json.loads(response.headers["HX-Trigger"])["fourfold:message"]["level"] == "warning"
