from django.urls import path

from fourfold.initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("initiatives/<int:initiative_id>/", views.initiative_detail, name="initiative_detail"),
    path("scorecards/<int:scorecard_id>/initiatives/new/", views.initiative_create_view, name="initiative_create"),
    path("initiatives/<int:initiative_id>/edit/", views.initiative_edit, name="initiative_edit"),
    path("initiatives/<int:initiative_id>/delete/", views.initiative_delete_view, name="initiative_delete"),
    path("initiatives/<int:initiative_id>/milestones/", views.milestone_add, name="milestone_add"),
    path("milestones/<int:milestone_id>/complete/", views.milestone_complete_view, name="milestone_complete"),
]
