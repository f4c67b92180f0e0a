from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People, organisation membership and per-scorecard roles."""

    name = "fourfold.accounts"
    label = "accounts"
    verbose_name = "Accounts"
