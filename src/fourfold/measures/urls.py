from django.urls import path

from fourfold.measures import views

app_name = "measures"

urlpatterns = [
    path("kpis/<int:kpi_id>/", views.kpi_detail, name="kpi_detail"),
    path("kpis/<int:kpi_id>/values/", views.actual_record_view, name="actual_record"),
    path("kpis/<int:kpi_id>/targets/", views.kpi_target_set_view, name="kpi_target_set"),
    path("entry/", views.entry_grid_view, name="entry_grid"),
    path("entry/save/", views.entry_save, name="entry_save"),
    path("entry/check/", views.entry_check, name="entry_check"),
]
