from django.urls import path

from fourfold.measures import views

app_name = "measures"

urlpatterns = [
    path("kpis/<int:kpi_id>/", views.kpi_detail, name="kpi_detail"),
    path("kpis/<int:kpi_id>/values/", views.actual_record_view, name="actual_record"),
    path("kpis/<int:kpi_id>/targets/", views.kpi_target_set_view, name="kpi_target_set"),
    path("kpis/<int:kpi_id>/targets/preview/", views.kpi_target_preview, name="kpi_target_preview"),
    path("kpis/<int:kpi_id>/chart.json", views.kpi_chart, name="kpi_chart"),
    path("kpis/<int:kpi_id>/comments/", views.kpi_comment_add_view, name="kpi_comment_add"),
    path(
        "kpis/<int:kpi_id>/comments/<int:comment_id>/delete/", views.kpi_comment_delete_view, name="kpi_comment_delete"
    ),
    path("objectives/<int:objective_id>/kpis/new/", views.kpi_create_view, name="kpi_create"),
    path("kpis/<int:kpi_id>/edit/", views.kpi_edit, name="kpi_edit"),
    path("kpis/<int:kpi_id>/delete/", views.kpi_delete_view, name="kpi_delete"),
    path("entry/", views.entry_grid_view, name="entry_grid"),
    path("entry/save/", views.entry_save, name="entry_save"),
    path("entry/check/", views.entry_check, name="entry_check"),
]
