"""The members page: reachable from the scorecard page, where admins change and remove roles (asked to
confirm), errors shown next to their field, and every other role refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fourfold.accounts.models import Role, ScorecardMembership
from fourfold.strategy.services import organisation_member_set


def members_url(world) -> str:
    return reverse("accounts:scorecard_members", args=[world.scorecard.pk])


def membership_of(world, user) -> ScorecardMembership:
    return ScorecardMembership.objects.get(scorecard=world.scorecard, user=user)


@pytest.mark.parametrize(("actor", "label"), [("admin", "Manage members"), ("org_admin", "Manage members")])
def test_admins_reach_the_members_page_from_the_scorecard_page(world, client, actor, label):
    client.force_login(world.user(actor))
    page = client.get(reverse("strategy:scorecard_detail", args=[world.scorecard.pk])).content.decode()
    assert members_url(world) in page
    assert label in page


@pytest.mark.parametrize("actor", ["viewer", "updater", "editor"])
def test_other_roles_read_the_members_without_forms(world, client, actor):
    client.force_login(world.user(actor))
    page = client.get(members_url(world)).content.decode()
    assert "other_updater" in page  # the member list is readable
    assert "Change role" not in page
    assert "Give a role" not in page
    assert (
        reverse("accounts:scorecard_member_remove", args=[world.scorecard.pk, membership_of(world, world.viewer).pk])
        not in page
    )


def test_an_admin_changes_a_role_from_its_row_after_confirming(world, client):
    client.force_login(world.admin)
    page = client.get(members_url(world)).content.decode()
    assert "Change the role of editor on this scorecard?" in page  # app.js asks this before submitting
    assert "Remove editor from this scorecard?" in page
    answer = client.post(members_url(world), {"user": world.editor.pk, "role": "viewer"})
    assert answer.status_code == 302
    assert membership_of(world, world.editor).role == Role.VIEWER


def test_an_admin_removes_a_member(world, client):
    client.force_login(world.admin)
    membership = membership_of(world, world.viewer)
    answer = client.post(reverse("accounts:scorecard_member_remove", args=[world.scorecard.pk, membership.pk]))
    assert answer.status_code == 302
    assert not ScorecardMembership.objects.filter(pk=membership.pk).exists()


def test_demoting_the_last_admin_is_refused_next_to_the_role_field(world, client):
    organisation_member_set(by=world.superuser, organisation=world.organisation, user=world.org_admin, is_admin=False)
    client.force_login(world.admin)
    answer = client.post(members_url(world), {"user": world.admin.pk, "role": "editor"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'id="id_role_error"' in page
    assert "last admin" in page
    assert membership_of(world, world.admin).role == Role.ADMIN


def test_choosing_neither_person_nor_group_is_shown_next_to_the_person_field(world, client):
    client.force_login(world.admin)
    answer = client.post(members_url(world), {"role": "viewer"})
    assert answer.status_code == 400
    assert 'id="id_user_error"' in answer.content.decode()


@pytest.mark.parametrize("actor", ["viewer", "updater", "editor"])
def test_non_admins_may_not_change_or_remove_roles(world, client, actor):
    client.force_login(world.user(actor))
    assert client.post(members_url(world), {"user": world.viewer.pk, "role": "admin"}).status_code == 403
    membership = membership_of(world, world.viewer)
    remove = reverse("accounts:scorecard_member_remove", args=[world.scorecard.pk, membership.pk])
    assert client.post(remove).status_code == 403
    assert membership_of(world, world.viewer).role == Role.VIEWER


def test_outsiders_may_not_even_read_the_members(world, client):
    client.force_login(world.outsider)
    assert client.get(members_url(world)).status_code == 403
