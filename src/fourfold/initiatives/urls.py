from django.urls import path

from fourfold.initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("initiatives/<int:initiative_id>/", views.initiative_detail, name="initiative_detail"),
]
