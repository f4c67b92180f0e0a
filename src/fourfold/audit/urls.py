from django.urls import path

from fourfold.audit import views

app_name = "audit"

urlpatterns = [
    path("scorecards/<int:scorecard_id>/history/", views.scorecard_history, name="scorecard_history"),
]
