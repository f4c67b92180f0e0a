from django.contrib.auth import views as auth_views
from django.urls import path

from fourfold.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url="/accounts/password/done/"),
        name="password_change",
    ),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("scorecards/<int:scorecard_id>/members/", views.scorecard_members, name="scorecard_members"),
    path(
        "scorecards/<int:scorecard_id>/members/<int:membership_id>/remove/",
        views.scorecard_member_remove_view,
        name="scorecard_member_remove",
    ),
    path("scorecards/<int:scorecard_id>/follow/", views.scorecard_follow_view, name="scorecard_follow"),
    path("scorecards/<int:scorecard_id>/unfollow/", views.scorecard_unfollow_view, name="scorecard_unfollow"),
]
