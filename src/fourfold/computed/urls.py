from django.urls import path

from fourfold.computed import views

app_name = "computed"

urlpatterns = [
    path("organisations/<slug:slug>/data/", views.organisation_data, name="organisation_data"),
    path("organisations/<slug:slug>/data/compute/", views.organisation_compute, name="organisation_compute"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run_detail"),
]
