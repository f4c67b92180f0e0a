from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

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
    # Password reset by e-mail: the same answer whether or not the address is known (no account enumeration).
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("accounts:password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("scorecards/<int:scorecard_id>/members/", views.scorecard_members, name="scorecard_members"),
    path(
        "scorecards/<int:scorecard_id>/members/<int:membership_id>/remove/",
        views.scorecard_member_remove_view,
        name="scorecard_member_remove",
    ),
    path("scorecards/<int:scorecard_id>/follow/", views.scorecard_follow_view, name="scorecard_follow"),
    path("scorecards/<int:scorecard_id>/unfollow/", views.scorecard_unfollow_view, name="scorecard_unfollow"),
]
