"""URL map: each domain app owns its pages; the admin is for operators."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("fourfold.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the user menu's language choice
    path("", include("fourfold.strategy.urls")),
    path("", include("fourfold.measures.urls")),
    path("", include("fourfold.audit.urls")),
    path("", include("fourfold.computed.urls")),
    path("", include("fourfold.initiatives.urls")),
]

handler403 = "fourfold.accounts.views.permission_denied"
