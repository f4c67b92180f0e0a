"""The strategy map: who sees it, who moves objectives on it, its automatic layout, and its SVG file."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ElementTree
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fourfold.engine.model import View
from fourfold.measures.scoring import parse_view, scorecard_evaluation
from fourfold.measures.services import actual_record, kpi_create, kpi_target_set
from fourfold.strategy.models import Objective, ObjectiveLink
from fourfold.strategy.selectors import (
    AREA_LEFT,
    AREA_RIGHT,
    BAND_PADDING,
    NODE_HEIGHT,
    ROW_CAPACITY,
    ROW_GAP,
    link_geometry,
    links_of_scorecard,
    order_bands,
    strategy_map,
)
from fourfold.strategy.services import objective_create, objective_link_create, objectives_place_on_map

SVG = "{http://www.w3.org/2000/svg}"
VIEWERS = ["viewer", "updater", "editor", "admin", "org_admin", "superuser"]
EDITORS = ["editor", "admin", "org_admin", "superuser"]
NOT_EDITORS = ["viewer", "updater", "outsider"]
MAP_PAGE_QUERIES = 16
"""Session, user, scorecard, role, the scorecards the user may see (1), the tree (1), its evaluation (8), the
links (1), the navigation (1)."""


def map_url(world, name: str = "strategy:strategy_map") -> str:
    return reverse(name, args=[world.scorecard.pk])


def perspective(world, kind: str):
    return world.scorecard.perspectives.get(kind=kind)


@pytest.fixture
def strategy(world):
    """Company 2026 as a small strategy: C1 Delight learners, plus F1, P1 and L1 linked L1 → P1 → C1 → F1."""
    make = {
        "F1": ("financial", "Grow recurring revenue"),
        "P1": ("internal", "Resolve problems the first time"),
        "L1": ("learning", "Build the team's product knowledge"),
    }
    objectives = {"C1": world.objective}
    for code, (kind, name) in make.items():
        objectives[code] = objective_create(by=world.editor, perspective=perspective(world, kind), name=name, code=code)
    objective_link_create(
        by=world.editor,
        cause=objectives["L1"],
        effect=objectives["P1"],
        strength=ObjectiveLink.Strength.STRONG,
        rationale="Agents who know the product answer correctly.",
    )
    objective_link_create(by=world.editor, cause=objectives["P1"], effect=objectives["C1"])
    objective_link_create(
        by=world.editor,
        cause=objectives["C1"],
        effect=objectives["F1"],
        sign=ObjectiveLink.Sign.TRADES_OFF,
        strength=ObjectiveLink.Strength.WEAK,
        rationale="Generous refunds cost revenue.",
    )
    return objectives


def evaluate(world, period: str = "2026-03") -> object:
    view: View = parse_view(world.scorecard, period, None, date(2026, 4, 20))
    return scorecard_evaluation(world.scorecard, view, today=date(2026, 4, 20))


def drawn(world):
    return strategy_map(evaluate(world), links_of_scorecard(world.scorecard))


# Who sees the map --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", VIEWERS)
def test_everyone_with_a_role_sees_the_map_with_every_objective_and_link(world, strategy, client, role):
    client.force_login(world.user(role))
    response = client.get(map_url(world))
    assert response.status_code == 200
    page = response.content.decode()
    for objective in strategy.values():
        assert f'data-objective="{objective.pk}"' in page
        assert reverse("strategy:objective_detail", args=[objective.pk]) in page
    assert page.count('class="map-link"') == 3
    assert "Agents who know the product answer correctly." in page  # the links table gives the rationale


def test_outsiders_are_refused_and_visitors_sent_to_sign_in(world, strategy, client):
    client.force_login(world.outsider)
    assert client.get(map_url(world)).status_code == 403
    assert client.get(map_url(world, "strategy:strategy_map_svg")).status_code == 403
    client.logout()
    response = client.get(map_url(world))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("role", VIEWERS)
def test_only_editors_get_the_layout_tools(world, strategy, client, role):
    client.force_login(world.user(role))
    page = client.get(map_url(world)).content.decode()
    assert ("Save layout" in page) == (role in EDITORS)
    assert ("Reset layout" in page) == (role in EDITORS)
    assert ("data-map-editable" in page) == (role in EDITORS)


def test_each_objective_says_its_name_score_and_status_and_each_arrow_its_sign_and_strength(world, strategy, client):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.editor, kpi=world.kpi, period_key="2026-03", value=Decimal("74.5"))
    client.force_login(world.viewer)
    page = client.get(map_url(world), {"period": "2026-03"}).content.decode()
    assert 'aria-label="C1 Delight learners, Watch, 5.8/10"' in page  # what the box shows, in its order
    assert 'aria-label="F1 Grow recurring revenue, No data (no score)"' in page
    assert 'aria-label="Customer: score 5.8 of 10, Watch"' in page  # the perspective's band
    assert (
        'aria-label="L1 Build the team&#x27;s product knowledge reinforces P1 Resolve problems the first time (strong link)"'
        in page
    )
    assert 'aria-label="C1 Delight learners trades off F1 Grow recurring revenue (weak link)"' in page
    assert 'stroke-dasharray="7 5"' in page  # the trade-off is dashed …
    assert "−</text>" in page  # … and marked with a minus sign


def test_a_bad_period_is_explained_and_the_default_one_shown(world, strategy, client):
    client.force_login(world.viewer)
    response = client.get(map_url(world), {"period": "2026-13"})
    assert response.status_code == 200
    assert "the month must be 01-12" in response.content.decode()


def test_new_objectives_and_links_appear_on_the_map_at_once(world, strategy, client):
    client.force_login(world.editor)
    client.get(map_url(world))
    added = objective_create(
        by=world.editor, perspective=perspective(world, "customer"), name="Keep learners", code="C2"
    )
    objective_link_create(by=world.editor, cause=world.objective, effect=added, rationale="Happy learners stay.")
    page = client.get(map_url(world)).content.decode()
    assert f'data-objective="{added.pk}"' in page
    assert "C1 Delight learners reinforces C2 Keep learners (medium link)" in page


# Moving objectives -------------------------------------------------------------------------------------------


def post_layout(client, world, positions: object, **headers: str):
    body = positions if isinstance(positions, str) else json.dumps(positions)
    return client.post(map_url(world, "strategy:strategy_map_layout"), {"positions": body}, **headers)


@pytest.mark.parametrize("role", EDITORS)
def test_editors_save_dragged_places_in_one_request(world, strategy, client, role):
    client.force_login(world.user(role))
    moved = {str(strategy["C1"].pk): [0.8, 0.2], str(strategy["F1"].pk): [0.1, 1]}
    response = post_layout(client, world, moved, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["fourfold:message"]["text"] == "Layout saved: 2 objectives placed."
    places = dict(Objective.objects.filter(map_x__isnull=False).values_list("pk", "map_x"))
    assert places == {strategy["C1"].pk: 0.8, strategy["F1"].pk: 0.1}


def test_without_htmx_saving_returns_to_the_map_of_the_same_period(world, strategy, client):
    client.force_login(world.editor)
    response = client.post(
        map_url(world, "strategy:strategy_map_layout") + "?period=2026-02&span=ytd",
        {"positions": json.dumps({str(strategy["C1"].pk): [0.5, 0.5]})},
    )
    assert response.status_code == 302
    assert response["Location"] == map_url(world) + "?period=2026-02&span=ytd"


@pytest.mark.parametrize("role", NOT_EDITORS)
def test_others_may_not_move_objectives(world, strategy, client, role):
    client.force_login(world.user(role))
    response = post_layout(client, world, {str(strategy["C1"].pk): [0.5, 0.5]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert not Objective.objects.filter(map_x__isnull=False).exists()


def test_visitors_who_are_not_signed_in_cannot_move_objectives(world, strategy, client):
    response = post_layout(client, world, {str(strategy["C1"].pk): [0.5, 0.5]})
    assert response.status_code == 302
    assert not Objective.objects.filter(map_x__isnull=False).exists()


@pytest.mark.parametrize(
    ("positions", "message"),
    [
        ("{not json", "Send places as JSON"),
        ('{"C1": [0.5, 0.5]}', "Send places as JSON"),
        ("[]", "Send places as JSON"),
        ("", "Send places as JSON"),
        (None, "A place on the map is between 0 and 1 on both axes, not (1.5, 0.5)."),
        ("other", "are not on this scorecard"),
    ],
)
def test_bad_places_are_refused_with_the_reason_and_nothing_is_saved(world, strategy, client, positions, message):
    client.force_login(world.editor)
    if positions is None:  # one good place and one off the map: neither is kept
        positions = {str(strategy["F1"].pk): [0.2, 0.2], str(strategy["C1"].pk): [1.5, 0.5]}
    elif positions == "other":
        other = objective_create(
            by=world.org_admin, perspective=world.child_scorecard.perspectives.first(), name="Sell more"
        )
        positions = {str(other.pk): [0.5, 0.5]}
    response = post_layout(client, world, positions, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not Objective.objects.filter(map_x__isnull=False).exists()


def test_without_htmx_bad_places_show_the_map_again_with_the_reason(world, strategy, client):
    client.force_login(world.editor)
    response = post_layout(client, world, {str(strategy["C1"].pk): [2, 0]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A place on the map is between 0 and 1" in page
    assert 'data-objective="' in page


def test_editors_reset_the_layout_and_others_may_not(world, strategy, client):
    objectives_place_on_map(by=world.editor, scorecard=world.scorecard, positions={strategy["C1"].pk: (0.9, 0.9)})
    client.force_login(world.viewer)
    assert client.post(map_url(world, "strategy:strategy_map_reset")).status_code == 403
    assert Objective.objects.filter(map_x__isnull=False).exists()
    client.force_login(world.editor)
    response = client.post(map_url(world, "strategy:strategy_map_reset") + "?period=2026-03")
    assert response.status_code == 302
    assert response["Location"] == map_url(world) + "?period=2026-03"
    assert not Objective.objects.filter(map_x__isnull=False).exists()


def test_only_posts_save_or_reset(world, strategy, client):
    client.force_login(world.editor)
    assert client.get(map_url(world, "strategy:strategy_map_layout")).status_code == 405
    assert client.get(map_url(world, "strategy:strategy_map_reset")).status_code == 405


# The layout ----------------------------------------------------------------------------------------------------


def test_the_automatic_layout_is_the_same_every_time_and_keeps_bands_in_the_scorecards_order(world, strategy):
    first, second = drawn(world), drawn(world)
    assert [(node.objective.pk, node.cx, node.cy) for node in first.nodes] == [
        (node.objective.pk, node.cx, node.cy) for node in second.nodes
    ]
    assert [band.result.name for band in first.bands] == [
        "Financial",
        "Customer",
        "Internal process",
        "Learning & growth",
    ]
    tops = [band.top for band in first.bands]
    assert tops == sorted(tops)
    for band in first.bands:
        for node in band.nodes:
            assert band.top < node.cy < band.bottom
            assert AREA_LEFT <= node.cx <= AREA_RIGHT
            assert not node.saved


def test_saved_places_are_kept_and_the_others_stay_automatic(world, strategy):
    before = {node.objective.pk: (node.cx, node.cy) for node in drawn(world).nodes}
    objectives_place_on_map(by=world.editor, scorecard=world.scorecard, positions={strategy["P1"].pk: (0.0, 1.0)})
    after = {node.objective.pk: node for node in drawn(world).nodes}
    moved = after[strategy["P1"].pk]
    assert moved.saved
    assert (moved.x, moved.y) == (0.0, 1.0)
    assert moved.cx == AREA_LEFT
    assert moved.cy == moved.centre_bottom
    assert {pk: (node.cx, node.cy) for pk, node in after.items() if pk != moved.objective.pk} == {
        pk: place for pk, place in before.items() if pk != moved.objective.pk
    }


def test_objectives_are_spread_evenly_and_a_full_band_takes_another_row(world, strategy):
    customer = perspective(world, "customer")
    for index in range(ROW_CAPACITY):
        objective_create(by=world.editor, perspective=customer, name=f"Customer aim {index}")
    band = next(band for band in drawn(world).bands if band.result.name == "Customer")
    rows = sorted({node.cy for node in band.nodes})
    assert len(rows) == 2
    first_row = sorted(node.cx for node in band.nodes if node.cy == rows[0])
    gaps = {round(right - left, 1) for left, right in itertools.pairwise(first_row)}
    assert len(first_row) == ROW_CAPACITY
    assert len(gaps) == 1  # evenly spread
    assert band.height == 2 * BAND_PADDING + 2 * NODE_HEIGHT + ROW_GAP


def test_the_order_within_bands_follows_the_links_to_reduce_crossings():
    # Band 0 holds 1, 2; band 1 holds 3, 4, linked 1 → 4 and 2 → 3: the arrows cross unless band 1 swaps.
    neighbours = {1: {4}, 4: {1}, 2: {3}, 3: {2}}
    assert order_bands([[1, 2], [3, 4]], neighbours) == [[1, 2], [4, 3]]
    # Without links nothing moves.
    assert order_bands([[1, 2], [3, 4]], {}) == [[1, 2], [3, 4]]


def test_arrows_run_from_box_edge_to_box_edge_and_curve_apart_when_linked_both_ways():
    straight, middle = link_geometry((300, 100), (300, 400), 0)
    assert straight == "M300.0,151.0 Q300.0,250.0 300.0,349.0"  # 46 half-height + 5 for the arrowhead
    assert middle == (300.0, 250.0)
    _, bent_middle = link_geometry((300, 100), (300, 400), 24)
    assert bent_middle[0] != 300.0


# The SVG file --------------------------------------------------------------------------------------------------


def test_the_svg_download_is_a_valid_standalone_svg_with_every_objective_and_link(world, strategy, client):
    client.force_login(world.viewer)
    response = client.get(map_url(world, "strategy:strategy_map_svg"), {"period": "2026-03"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="company-2026-strategy-map-2026-03.svg"'
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("width")
    assert root.get("height")
    assert root.find(f"{SVG}style") is not None  # it carries its own styles
    assert root.find(f"{SVG}title").text == "Strategy map of Company 2026, Mar 2026"
    text = "".join(root.itertext())
    for objective in Objective.objects.filter(perspective__scorecard=world.scorecard):
        assert objective.name in text
    nodes = root.findall(f".//{SVG}a")
    assert {node.get("data-objective") for node in nodes} == {str(objective.pk) for objective in strategy.values()}
    assert all(node.get("href").startswith("http://testserver/objectives/") for node in nodes)
    labels = {group.get("aria-label") for group in root.iter(f"{SVG}g") if group.get("class") == "map-link"}
    assert labels == {
        str(link).replace(" → ", f" {link.get_sign_display().lower()} ") + f" ({link.strength} link)"
        for link in ObjectiveLink.objects.all()
    }


def test_coordinates_are_not_localised_even_where_numbers_use_commas(world, strategy, client):
    kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal(80), red_flag=Decimal(60))
    actual_record(by=world.editor, kpi=world.kpi, period_key="2026-03", value=Decimal("74.5"))
    client.force_login(world.viewer)
    response = client.get(map_url(world, "strategy:strategy_map_svg"), {"period": "2026-03"}, HTTP_ACCEPT_LANGUAGE="de")
    root = ElementTree.fromstring(response.content)
    labels = {node.get("data-objective"): node.get("aria-label") for node in root.iter(f"{SVG}a")}
    assert labels[str(world.objective.pk)] == "C1 Delight learners, Watch, 5,8/10"  # words are the reader's
    for node in root.iter(f"{SVG}a"):
        assert "," not in node.get("transform", "")  # numbers of the drawing are not
        assert node.get("data-x") == "0.5"


# Queries ---------------------------------------------------------------------------------------------------------


def test_the_map_page_makes_the_same_number_of_queries_whatever_the_number_of_objectives(
    world, strategy, client, django_assert_max_num_queries
):
    client.force_login(world.editor)
    url = map_url(world)
    client.get(url)  # warm the session and content-type caches

    def add(count: int) -> None:
        for number, kind in enumerate(("financial", "customer", "internal", "learning")):
            made = [
                objective_create(
                    by=world.editor, perspective=perspective(world, kind), name=f"Aim {number}-{count}-{i}"
                )
                for i in range(count)
            ]
            for cause, effect in itertools.pairwise(made):
                objective_link_create(by=world.editor, cause=cause, effect=effect)
            for objective in made:
                kpi = kpi_create(
                    by=world.editor, objective=objective, key=f"k{objective.pk}", name=f"KPI {objective.pk}"
                )
                actual_record(by=world.editor, kpi=kpi, period_key="2026-01", value=Decimal(9))

    add(1)
    with django_assert_max_num_queries(MAP_PAGE_QUERIES) as small:
        client.get(url)
    add(6)
    with django_assert_max_num_queries(MAP_PAGE_QUERIES) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries), len(small.captured_queries)


def test_an_arrow_curves_around_an_objective_standing_between_its_ends(world, strategy):
    # L1 → C1 would run straight through P1, which sits between them in the middle band.
    objective_link_create(by=world.editor, cause=strategy["L1"], effect=strategy["C1"])
    links = {(item.link.cause_id, item.link.effect_id): item for item in drawn(world).links}
    assert links[strategy["L1"].pk, strategy["C1"].pk].bend != 0
    assert links[strategy["L1"].pk, strategy["P1"].pk].bend == 0  # neighbours keep a straight arrow


def test_a_scorecard_without_objectives_gets_an_empty_map_that_says_so(world, client):
    client.force_login(world.org_admin)
    response = client.get(reverse("strategy:strategy_map", args=[world.child_scorecard.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "This scorecard has no objectives yet" in page
    assert 'class="map-node"' not in page
    svg = client.get(reverse("strategy:strategy_map_svg", args=[world.child_scorecard.pk]))
    root = ElementTree.fromstring(svg.content)
    assert "No objectives in this perspective yet." in "".join(root.itertext())
