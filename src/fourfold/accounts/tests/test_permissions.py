"""The permission matrix: every role × every action, through the services and through the web.

Expected outcomes are written out by hand from the rules in docs (viewer reads; updater enters values for
the KPIs they update; editor changes structure and targets; admin also manages members; organisation admin
manages the organisation; superuser everything).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from fourfold.accounts.models import Role
from fourfold.accounts.permissions import Action, can, effective_role, require, scorecards_visible_to
from fourfold.accounts.services import scorecard_member_set
from fourfold.initiatives.services import initiative_create, initiative_update
from fourfold.measures.services import actual_record, kpi_target_set
from fourfold.strategy.models import OrgUnit
from fourfold.strategy.services import objective_create, org_unit_create, scorecard_create, scorecard_update

ACTORS = ["outsider", "viewer", "other_updater", "updater", "editor", "admin", "org_admin", "superuser"]

ALLOWED: dict[str, set[str]] = {
    "view": {"viewer", "other_updater", "updater", "editor", "admin", "org_admin", "superuser"},
    "record_value": {"updater", "editor", "admin", "org_admin", "superuser"},
    "report_initiative_progress": {"other_updater", "editor", "admin", "org_admin", "superuser"},
    "set_targets": {"editor", "admin", "org_admin", "superuser"},
    "edit_structure": {"editor", "admin", "org_admin", "superuser"},
    "manage_members": {"admin", "org_admin", "superuser"},
    "manage_scorecard": {"admin", "org_admin", "superuser"},
    "manage_organisation": {"org_admin", "superuser"},
}


def _initiative_owned_by_other_updater(world):
    return initiative_create(
        by=world.superuser,
        scorecard=world.scorecard,
        name="Onboarding revamp",
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 30),
        owner=world.other_updater,
    )


SERVICE_CALLS: dict[str, Callable[..., object]] = {
    "view": lambda world, user: require(user, Action.VIEW, world.scorecard),
    "record_value": lambda world, user: actual_record(by=user, kpi=world.kpi, period_key="2026-01", value=Decimal(70)),
    "report_initiative_progress": lambda world, user: initiative_update(
        by=user, initiative=_initiative_owned_by_other_updater(world), changes={"percent_complete": 40}
    ),
    "set_targets": lambda world, user: kpi_target_set(by=user, kpi=world.kpi, period_key="2026-01", target=Decimal(80)),
    "edit_structure": lambda world, user: objective_create(
        by=user, perspective=world.scorecard.perspectives.first(), name="Grow revenue"
    ),
    "manage_members": lambda world, user: scorecard_member_set(
        by=user, scorecard=world.scorecard, user=world.outsider, role=Role.VIEWER
    ),
    "manage_scorecard": lambda world, user: scorecard_update(
        by=user, scorecard=world.scorecard, changes={"status": "active"}
    ),
    "manage_organisation": lambda world, user: org_unit_create(
        by=user, organisation=world.organisation, name="Marketing", kind=OrgUnit.Kind.DEPARTMENT
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_services_allow_and_refuse_by_role(world, actor, action):
    user = world.user(actor)
    call = SERVICE_CALLS[action]
    if actor in ALLOWED[action]:
        call(world, user)
    else:
        with pytest.raises(PermissionDenied):
            call(world, user)


@pytest.mark.parametrize("actor", ACTORS)
def test_listing_shows_exactly_the_scorecards_a_user_may_view(world, actor):
    user = world.user(actor)
    listed = world.scorecard in scorecards_visible_to(user)
    assert listed == (actor in ALLOWED["view"])


def test_refusal_says_what_is_needed_and_what_the_user_has(world):
    with pytest.raises(PermissionDenied) as refused:
        kpi_target_set(by=world.viewer, kpi=world.kpi, period_key="2026-01", target=Decimal(80))
    assert str(refused.value) == (
        "You cannot change targets and thresholds: it needs the Editor role on “Company 2026”, "
        "and your role there is Viewer."
    )


def test_updater_not_assigned_to_the_kpi_is_told_why(world):
    with pytest.raises(PermissionDenied, match="this KPI's owner or updater"):
        actual_record(by=world.other_updater, kpi=world.kpi, period_key="2026-01", value=Decimal(70))


def test_group_roles_and_group_updaters_count(world):
    world.updaters_group.user_set.add(world.outsider)
    scorecard_member_set(by=world.admin, scorecard=world.scorecard, group=world.updaters_group, role=Role.UPDATER)
    outsider = type(world.outsider).objects.get(pk=world.outsider.pk)
    assert effective_role(outsider, world.scorecard) is Role.UPDATER
    assert not can(outsider, Action.RECORD_VALUE, world.kpi)
    world.kpi.updater_groups.add(world.updaters_group)
    outsider = type(world.outsider).objects.get(pk=world.outsider.pk)
    assert can(outsider, Action.RECORD_VALUE, world.kpi)


def test_roles_do_not_leak_to_child_scorecards(world):
    assert effective_role(world.editor, world.child_scorecard) is None
    assert effective_role(world.org_admin, world.child_scorecard) is Role.ADMIN
    assert set(scorecards_visible_to(world.editor)) == {world.scorecard}


def test_only_org_admins_create_scorecards(world):
    with pytest.raises(PermissionDenied, match="organisation admin"):
        scorecard_create(by=world.admin, org_unit=world.scorecard.org_unit, name="Shadow scorecard")


# Web: each action as an HTTP request; refusals are 403 with the reason in the page.
WEB_REQUESTS: dict[str, tuple[str, Callable[..., str], dict[str, str]]] = {
    "view": ("get", lambda world: reverse("strategy:scorecard_detail", args=[world.scorecard.pk]), {}),
    "record_value": (
        "post",
        lambda world: reverse("measures:actual_record", args=[world.kpi.pk]),
        {"period_key": "2026-01", "value": "70"},
    ),
    "set_targets": (
        "post",
        lambda world: reverse("measures:kpi_target_set", args=[world.kpi.pk]),
        {"period_key": "2026-01", "target": "80"},
    ),
    "manage_members": (
        "post",
        lambda world: reverse("accounts:scorecard_members", args=[world.scorecard.pk]),
        {"role": "viewer"},
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", sorted(WEB_REQUESTS))
def test_web_allows_and_refuses_by_role(world, client, actor, action):
    method, url_for, data = WEB_REQUESTS[action]
    if action == "manage_members":
        data = {**data, "user": str(world.outsider.pk)}
    client.force_login(world.user(actor))
    response = getattr(client, method)(url_for(world), data)
    if actor in ALLOWED[action]:
        assert response.status_code in (200, 302), response.content.decode()[:500]
    else:
        assert response.status_code == 403
        assert "You cannot" in response.content.decode()


@pytest.mark.parametrize("action", sorted(WEB_REQUESTS))
def test_anonymous_visitors_are_sent_to_sign_in(world, client, action):
    method, url_for, data = WEB_REQUESTS[action]
    response = getattr(client, method)(url_for(world), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_roles_go_only_to_people_of_the_organisation(world):
    from django.core.exceptions import ValidationError

    from fourfold.conftest import make_user

    stranger = make_user("stranger")
    with pytest.raises(ValidationError, match="not a member of Acme Learning"):
        scorecard_member_set(by=world.admin, scorecard=world.scorecard, user=stranger, role=Role.VIEWER)


def test_member_form_offers_only_people_of_the_organisation(world, client):
    from fourfold.conftest import make_user

    make_user("stranger", first_name="Somebody", last_name="Elsewhere")
    client.force_login(world.admin)
    page = client.get(reverse("accounts:scorecard_members", args=[world.scorecard.pk])).content.decode()
    assert "outsider" in page
    assert "Somebody Elsewhere" not in page


def test_a_group_role_does_not_reach_members_outside_the_organisation(world):
    from fourfold.conftest import make_user

    stranger = make_user("stranger")
    world.updaters_group.user_set.add(stranger, world.outsider)
    scorecard_member_set(by=world.admin, scorecard=world.scorecard, group=world.updaters_group, role=Role.VIEWER)
    stranger = type(stranger).objects.get(pk=stranger.pk)
    outsider = type(world.outsider).objects.get(pk=world.outsider.pk)
    assert effective_role(stranger, world.scorecard) is None
    assert world.scorecard not in scorecards_visible_to(stranger)
    assert effective_role(outsider, world.scorecard) is Role.VIEWER


def test_people_follow_scorecards_they_can_see(world):
    from fourfold.accounts.models import ScorecardFollow
    from fourfold.accounts.services import scorecard_follow, scorecard_unfollow

    scorecard_follow(by=world.viewer, scorecard=world.scorecard)
    scorecard_follow(by=world.viewer, scorecard=world.scorecard)
    assert ScorecardFollow.objects.filter(user=world.viewer).count() == 1
    with pytest.raises(PermissionDenied):
        scorecard_follow(by=world.outsider, scorecard=world.scorecard)
    scorecard_unfollow(by=world.viewer, scorecard=world.scorecard)
    assert not ScorecardFollow.objects.exists()
