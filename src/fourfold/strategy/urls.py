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
]
