from django.urls import path

from fourfold.strategy import views

app_name = "strategy"

urlpatterns = [
    path("", views.home, name="home"),
    path("scorecards/<int:scorecard_id>/", views.scorecard_detail, name="scorecard_detail"),
    path("scorecards/<int:scorecard_id>/map/", views.strategy_map_page, name="strategy_map"),
    path("scorecards/<int:scorecard_id>/map.svg", views.strategy_map_svg, name="strategy_map_svg"),
    path("scorecards/<int:scorecard_id>/map/layout/", views.strategy_map_layout, name="strategy_map_layout"),
    path("scorecards/<int:scorecard_id>/map/reset/", views.strategy_map_reset, name="strategy_map_reset"),
    path("objectives/<int:objective_id>/", views.objective_page, name="objective_detail"),
    # Editing
    path("organisations/<int:organisation_id>/scorecards/new/", views.scorecard_create_view, name="scorecard_create"),
    path("scorecards/<int:scorecard_id>/edit/", views.scorecard_edit, name="scorecard_edit"),
    path("scorecards/<int:scorecard_id>/delete/", views.scorecard_delete_view, name="scorecard_delete"),
    path("scorecards/<int:scorecard_id>/perspectives/", views.perspectives_page, name="perspectives"),
    path("perspectives/<int:perspective_id>/move/", views.perspective_move, name="perspective_move"),
    path("perspectives/<int:perspective_id>/edit/", views.perspective_edit, name="perspective_edit"),
    path("perspectives/<int:perspective_id>/delete/", views.perspective_delete_view, name="perspective_delete"),
    path("scorecards/<int:scorecard_id>/objectives/new/", views.objective_create_view, name="objective_create"),
    path("objectives/<int:objective_id>/edit/", views.objective_edit, name="objective_edit"),
    path("objectives/<int:objective_id>/delete/", views.objective_delete_view, name="objective_delete"),
    path("scorecards/<int:scorecard_id>/links/new/", views.objective_link_create_view, name="link_create"),
    path("links/<int:link_id>/delete/", views.objective_link_delete_view, name="link_delete"),
]
