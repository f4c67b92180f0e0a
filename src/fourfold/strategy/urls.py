from django.urls import path

from fourfold.strategy import views

app_name = "strategy"

urlpatterns = [
    path("", views.home, name="home"),
    path("scorecards/<int:scorecard_id>/", views.scorecard_detail, name="scorecard_detail"),
]
