"""Small request helpers shared by the apps' views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from fourfold.accounts.models import User


def acting_user(request: HttpRequest) -> User:
    """The signed-in user a write is made for; anonymous requests are refused before any service runs."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied(_("Sign in first."))
    return user
