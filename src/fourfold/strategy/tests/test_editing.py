"""Editing pages of the strategy: scorecards, perspectives, objectives and cause-and-effect links.

Each role gets what it may: editors change the structure, scorecard admins the settings, organisation admins
create and move scorecards; everyone else is refused with 403 before any form is shown. A refused save
answers 400 with the message next to its field and what was typed still in the form.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.accounts.models import Role
from fourfold.accounts.services import scorecard_member_set
from fourfold.strategy.models import Objective, ObjectiveLink, Perspective, Scorecard
from fourfold.strategy.services import objective_create, objective_link_create

from ...conftest import make_user

REFUSED = ["viewer", "updater", "other_updater", "outsider"]
"""Roles (or none) that may not change a scorecard's structure."""


@pytest.fixture
def child_editor(world):
    """An editor of the child scorecard only, who must not touch the parent."""
    user = make_user("child_editor")
    from fourfold.strategy.services import organisation_member_set

    organisation_member_set(by=world.superuser, organisation=world.organisation, user=user, is_admin=False)
    scorecard_member_set(by=world.superuser, scorecard=world.child_scorecard, user=user, role=Role.EDITOR)
    return user


def field_error(page: str, field: str) -> str:
    """The message shown under a field (with the id its input's aria-describedby names), or ''."""
    match = re.search(rf'<p class="field-error" id="id_{field}_error" role="alert">(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


def input_described_by_its_error(page: str, field: str) -> bool:
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="id_{field}"[^>]*>', page)
    return tag is not None and f"id_{field}_error" in tag.group(0) and 'aria-invalid="true"' in tag.group(0)


def edit_urls(world) -> list[str]:
    """Every page that changes the scorecard's structure (an editor's), for the refusal tests."""
    perspective = world.scorecard.perspectives.first()
    link = objective_link_create(
        by=world.superuser,
        cause=world.objective,
        effect=objective_create(by=world.superuser, perspective=perspective, name="Grow revenue", code="F1"),
    )
    return [
        reverse("strategy:perspectives", args=[world.scorecard.pk]),
        reverse("strategy:perspective_edit", args=[perspective.pk]),
        reverse("strategy:perspective_delete", args=[perspective.pk]),
        reverse("strategy:objective_create", args=[world.scorecard.pk]),
        reverse("strategy:objective_edit", args=[world.objective.pk]),
        reverse("strategy:objective_delete", args=[world.objective.pk]),
        reverse("strategy:link_create", args=[world.scorecard.pk]),
        reverse("strategy:link_delete", args=[link.pk]),
    ]


@pytest.mark.parametrize("role", REFUSED)
def test_who_may_not_edit_the_structure_is_refused_every_page(world, client, role):
    client.force_login(world.user(role))
    for url in edit_urls(world):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Sneaky"}).status_code == 403, url
    assert not Objective.objects.filter(name="Sneaky").exists()
    assert not Perspective.objects.filter(name="Sneaky").exists()


def test_an_editor_of_another_scorecard_is_refused(world, client, child_editor):
    client.force_login(child_editor)
    for url in edit_urls(world):
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("strategy:objective_create", args=[world.child_scorecard.pk])).status_code == 200


@pytest.mark.parametrize("role", ["editor", "admin", "org_admin"])
def test_editors_and_above_open_every_editing_page(world, client, role):
    client.force_login(world.user(role))
    for url in edit_urls(world):
        assert client.get(url).status_code == 200, url


def test_an_editor_adds_an_objective_to_a_perspective(world, client):
    client.force_login(world.editor)
    internal = world.scorecard.perspectives.get(kind="internal")
    form_page = client.get(
        reverse("strategy:objective_create", args=[world.scorecard.pk]), {"perspective": internal.pk}
    )
    assert f'<option value="{internal.pk}" selected>' in form_page.content.decode()
    response = client.post(
        reverse("strategy:objective_create", args=[world.scorecard.pk]),
        {"perspective": internal.pk, "code": "P1", "name": "Answer fast", "weight": "2", "owner": world.editor.pk},
    )
    objective = Objective.objects.get(name="Answer fast")
    assert response.status_code == 302
    assert response["Location"] == reverse("strategy:objective_detail", args=[objective.pk])
    assert (objective.perspective, objective.code, objective.weight, objective.owner) == (
        internal,
        "P1",
        Decimal(2),
        world.editor,
    )


def test_a_refused_objective_keeps_what_was_typed_with_the_message_next_to_the_field(world, client):
    client.force_login(world.editor)
    customer = world.scorecard.perspectives.get(kind="customer")
    response = client.post(
        reverse("strategy:objective_create", args=[world.scorecard.pk]),
        {"perspective": customer.pk, "name": "Keep learners", "weight": "-1", "description": "Typed with care"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "greater than or equal to 0" in field_error(page, "weight")
    assert input_described_by_its_error(page, "weight")
    assert 'value="Keep learners"' in page
    assert "Typed with care" in page
    assert not Objective.objects.filter(name="Keep learners").exists()


def test_an_objective_aligns_to_an_objective_of_the_parent_scorecard_only(world, client):
    client.force_login(world.superuser)
    sales_perspective = world.child_scorecard.perspectives.get(kind="customer")
    page = client.get(reverse("strategy:objective_create", args=[world.child_scorecard.pk])).content.decode()
    assert "Supports, on the parent scorecard" in page
    assert "C1 Delight learners · Customer" in page  # the parent scorecard's objective is offered
    client.post(
        reverse("strategy:objective_create", args=[world.child_scorecard.pk]),
        {"perspective": sales_perspective.pk, "name": "Win renewals", "weight": "1", "parent": world.objective.pk},
    )
    assert Objective.objects.get(name="Win renewals").parent == world.objective
    # A top scorecard has nothing to align to, so the field is not offered.
    top = client.get(reverse("strategy:objective_create", args=[world.scorecard.pk])).content.decode()
    assert "Supports, on the parent scorecard" not in top


def test_an_editor_changes_an_objective_and_only_what_changed_is_saved(world, client):
    client.force_login(world.editor)
    url = reverse("strategy:objective_edit", args=[world.objective.pk])
    page = client.get(url).content.decode()
    assert 'value="Delight learners"' in page
    response = client.post(
        url,
        {"perspective": world.objective.perspective_id, "code": "C1", "name": "Delight every learner", "weight": "1"},
    )
    assert response.status_code == 302
    world.objective.refresh_from_db()
    assert world.objective.name == "Delight every learner"
    from fourfold.audit.models import AuditEntry

    entry = AuditEntry.objects.filter(object_repr="C1 Delight every learner", action="update").latest("pk")
    assert {name for name, _before, _after in entry.changed_fields()} - {"updated_at"} == {"name"}


def test_an_editor_deletes_an_objective_after_confirming(world, client):
    client.force_login(world.editor)
    url = reverse("strategy:objective_delete", args=[world.objective.pk])
    assert "Delete “C1 Delight learners”?" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert not Objective.objects.filter(pk=world.objective.pk).exists()


def test_an_editor_links_two_objectives(world, client):
    effect = objective_create(
        by=world.editor, perspective=world.scorecard.perspectives.get(kind="financial"), name="Grow revenue"
    )
    client.force_login(world.editor)
    url = reverse("strategy:link_create", args=[world.scorecard.pk])
    page = client.get(url, {"cause": world.objective.pk}).content.decode()
    assert f'<option value="{world.objective.pk}" selected>' in page
    response = client.post(
        url + f"?cause={world.objective.pk}",
        {
            "cause": world.objective.pk,
            "effect": effect.pk,
            "sign": "reinforces",
            "strength": "strong",
            "rationale": "Happy learners renew.",
        },
    )
    assert response["Location"] == reverse("strategy:objective_detail", args=[world.objective.pk])
    link = ObjectiveLink.objects.get()
    assert (link.cause, link.effect, link.strength, link.rationale) == (
        world.objective,
        effect,
        "strong",
        "Happy learners renew.",
    )
    objective_page = client.get(reverse("strategy:objective_detail", args=[world.objective.pk])).content.decode()
    assert reverse("strategy:link_delete", args=[link.pk]) in objective_page
    client.post(reverse("strategy:link_delete", args=[link.pk]))
    assert not ObjectiveLink.objects.exists()


def test_a_link_from_an_objective_to_itself_is_refused_next_to_the_effect(world, client):
    client.force_login(world.editor)
    response = client.post(
        reverse("strategy:link_create", args=[world.scorecard.pk]),
        {
            "cause": world.objective.pk,
            "effect": world.objective.pk,
            "sign": "reinforces",
            "strength": "weak",
            "rationale": "Circular",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "cannot cause itself" in field_error(page, "effect")
    assert "Circular" in page
    assert not ObjectiveLink.objects.exists()


def test_a_second_link_between_the_same_objectives_is_refused_above_the_form(world, client):
    effect = objective_create(by=world.editor, perspective=world.objective.perspective, name="Keep learners")
    objective_link_create(by=world.editor, cause=world.objective, effect=effect)
    client.force_login(world.editor)
    response = client.post(
        reverse("strategy:link_create", args=[world.scorecard.pk]),
        {"cause": world.objective.pk, "effect": effect.pk, "sign": "trades_off", "strength": "weak"},
    )
    assert response.status_code == 400
    assert "already linked in this direction" in response.content.decode()
    assert ObjectiveLink.objects.count() == 1


def test_an_editor_adds_renames_moves_and_deletes_perspectives(world, client):
    client.force_login(world.editor)
    url = reverse("strategy:perspectives", args=[world.scorecard.pk])
    response = client.post(url, {"name": "Mission", "kind": "custom", "weight": "2"})
    assert response.status_code == 302
    mission = Perspective.objects.get(scorecard=world.scorecard, name="Mission")
    assert list(world.scorecard.perspectives.values_list("name", flat=True))[-1] == "Mission"
    client.post(reverse("strategy:perspective_move", args=[mission.pk]), {"direction": "up"})
    names = list(world.scorecard.perspectives.values_list("name", flat=True))
    assert names == ["Financial", "Customer", "Internal process", "Mission", "Learning & growth"]
    client.post(
        reverse("strategy:perspective_edit", args=[mission.pk]),
        {"name": "Our mission", "kind": "custom", "weight": "2"},
    )
    mission.refresh_from_db()
    assert mission.name == "Our mission"
    client.post(reverse("strategy:perspective_delete", args=[mission.pk]))
    assert not Perspective.objects.filter(pk=mission.pk).exists()


def test_a_perspective_name_used_twice_is_refused_with_what_was_typed(world, client):
    client.force_login(world.editor)
    response = client.post(
        reverse("strategy:perspectives", args=[world.scorecard.pk]),
        {"name": "Customer", "kind": "custom", "weight": "1", "description": "A second one"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "already has a perspective with that name" in page
    assert "A second one" in page


@pytest.mark.parametrize("role", ["editor", "updater", "viewer", "outsider"])
def test_only_scorecard_admins_change_the_scorecard_s_settings(world, client, role):
    client.force_login(world.user(role))
    url = reverse("strategy:scorecard_edit", args=[world.scorecard.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Renamed"}).status_code == 403
    assert client.post(reverse("strategy:scorecard_delete", args=[world.scorecard.pk])).status_code == 403
    assert Scorecard.objects.get(pk=world.scorecard.pk).name == "Company 2026"


def scorecard_data(scorecard: Scorecard, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": scorecard.name,
        "description": scorecard.description,
        "status": scorecard.status,
        "org_unit": scorecard.org_unit_id,
        "parent": scorecard.parent_id or "",
        "reporting_frequency": scorecard.reporting_frequency,
        "due_days_after_period_end": scorecard.due_days_after_period_end,
    }
    return {**data, **changes}


def test_a_scorecard_admin_renames_the_scorecard_but_cannot_move_it(world, client):
    client.force_login(world.admin)
    url = reverse("strategy:scorecard_edit", args=[world.scorecard.pk])
    page = client.get(url).content.decode()
    assert re.search(r'<select name="parent"[^>]*disabled', page)
    assert "Only an organisation admin can move a scorecard." in page
    response = client.post(
        url, scorecard_data(world.scorecard, name="Company 2027", status="active", parent=world.child_scorecard.pk)
    )
    assert response.status_code == 302
    scorecard = Scorecard.objects.get(pk=world.scorecard.pk)
    assert (scorecard.name, scorecard.status, scorecard.parent) == ("Company 2027", "active", None)


def test_a_scorecard_cannot_cascade_from_its_own_child(world, client):
    client.force_login(world.org_admin)
    response = client.post(
        reverse("strategy:scorecard_edit", args=[world.scorecard.pk]),
        scorecard_data(world.scorecard, name="Company 2026 (moved)", parent=world.child_scorecard.pk),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "cannot cascade from itself or from one of its descendants" in field_error(page, "parent")
    assert input_described_by_its_error(page, "parent")
    assert 'value="Company 2026 (moved)"' in page
    assert Scorecard.objects.get(pk=world.scorecard.pk).parent is None


def test_an_organisation_admin_creates_a_cascaded_scorecard(world, client):
    client.force_login(world.org_admin)
    url = reverse("strategy:scorecard_create", args=[world.organisation.pk])
    page = client.get(url, {"parent": world.scorecard.pk}).content.decode()
    assert f'<option value="{world.scorecard.pk}" selected>' in page
    response = client.post(
        url,
        {
            "name": "Support 2026",
            "status": "draft",
            "org_unit": world.scorecard.org_unit_id,
            "parent": world.scorecard.pk,
            "reporting_frequency": "quarterly",
        },
    )
    created = Scorecard.objects.get(name="Support 2026")
    assert response["Location"] == reverse("strategy:scorecard_detail", args=[created.pk])
    assert (created.parent, created.org_unit, created.reporting_frequency) == (
        world.scorecard,
        world.scorecard.org_unit,
        "quarterly",
    )
    assert created.perspectives.count() == 4  # the classic four to start with


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_only_organisation_admins_create_scorecards(world, client, role):
    client.force_login(world.user(role))
    assert client.get(reverse("strategy:scorecard_create", args=[world.organisation.pk])).status_code == 403


def test_the_buttons_show_only_to_those_who_may_use_them(world, client):
    pages = {
        "scorecard": reverse("strategy:scorecard_detail", args=[world.scorecard.pk]),
        "objective": reverse("strategy:objective_detail", args=[world.objective.pk]),
        "map": reverse("strategy:strategy_map", args=[world.scorecard.pk]),
    }
    add_objective = reverse("strategy:objective_create", args=[world.scorecard.pk])
    edit_scorecard = reverse("strategy:scorecard_edit", args=[world.scorecard.pk])
    add_kpi = reverse("measures:kpi_create", args=[world.objective.pk])
    add_link = reverse("strategy:link_create", args=[world.scorecard.pk])
    for role, sees_edit, sees_settings in (("viewer", False, False), ("editor", True, False), ("admin", True, True)):
        client.force_login(world.user(role))
        scorecard_page = client.get(pages["scorecard"]).content.decode()
        objective_page = client.get(pages["objective"]).content.decode()
        map_page = client.get(pages["map"]).content.decode()
        assert (add_objective in scorecard_page) is sees_edit, role
        in_customer = f"{add_objective}?perspective={world.objective.perspective_id}"
        assert (in_customer in scorecard_page) is sees_edit, role  # one per perspective in the tree
        assert (reverse("initiatives:initiative_create", args=[world.scorecard.pk]) in scorecard_page) is sees_edit
        assert (edit_scorecard in scorecard_page) is sees_settings, role
        assert (add_kpi in objective_page) is sees_edit, role
        assert (add_link in objective_page) is sees_edit, role
        assert (add_link in map_page) is sees_edit, role


EDIT_PAGE_QUERIES = {
    "objective_create": 8,
    "objective_edit": 8,
    "link_create": 9,
    "perspectives": 6,
    "scorecard_edit": 9,
}
"""Session, user, the scorecard or objective, the role and the navigation (5), then the lists of choices: for
an objective its perspectives, people and parent objectives; for a link the objectives twice per field (a
select without an empty choice reads its first option to decide whether it is required); the perspectives
with their objective counts; for a scorecard its units, scorecards, people and the organisation-admin check.
The same however many objectives and KPIs there are."""


def test_an_empty_scorecard_tells_editors_where_to_start(world, client):
    empty = Scorecard.objects.create(organisation=world.organisation, org_unit=world.scorecard.org_unit, name="Empty")
    scorecard_member_set(by=world.superuser, scorecard=empty, user=world.editor, role=Role.EDITOR)
    scorecard_member_set(by=world.superuser, scorecard=empty, user=world.viewer, role=Role.VIEWER)
    url = reverse("strategy:scorecard_detail", args=[empty.pk])
    client.force_login(world.editor)
    assert reverse("strategy:perspectives", args=[empty.pk]) in client.get(url).content.decode()
    client.force_login(world.viewer)
    page = client.get(url).content.decode()
    assert "The scorecard's editors set up its perspectives" in page
    assert reverse("strategy:perspectives", args=[empty.pk]) not in page


def test_the_editing_pages_queries_are_pinned(world, client, django_assert_num_queries):
    urls = {
        "objective_create": reverse("strategy:objective_create", args=[world.scorecard.pk]),
        "objective_edit": reverse("strategy:objective_edit", args=[world.objective.pk]),
        "link_create": reverse("strategy:link_create", args=[world.scorecard.pk]),
        "perspectives": reverse("strategy:perspectives", args=[world.scorecard.pk]),
        "scorecard_edit": reverse("strategy:scorecard_edit", args=[world.scorecard.pk]),
    }
    client.force_login(world.admin)
    for url in urls.values():
        client.get(url)  # warm the session and content-type caches
    for more in range(2):  # more objectives and links add options, never queries
        for index in range(3):
            objective_create(by=world.editor, perspective=world.objective.perspective, name=f"Objective {more}{index}")
        for name, url in urls.items():
            with django_assert_num_queries(EDIT_PAGE_QUERIES[name]):
                assert client.get(url).status_code == 200, name
