"""What the app shell (base.html) needs on every page, computed only when a page renders it."""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import PackageNotFoundError, version

from django.http import HttpRequest

from fourfold.measures.selectors import kpis_for_entry
from fourfold.strategy.models import Organisation
from fourfold.strategy.selectors import organisations_for_user

SECTIONS = {
    "strategy:home": "home",
    "measures:entry_grid": "entry",
    "strategy": "scorecards",
    "measures": "scorecards",
    "audit": "scorecards",
    "initiatives": "scorecards",
    "accounts:scorecard_members": "scorecards",
    "accounts:scorecard_member_remove": "scorecards",
    "computed": "data",
    "accounts": "account",
}
"""Which main-navigation entry a page belongs to, by view name first, then by URL namespace. A new app
with pages adds its namespace here."""


def _fourfold_version() -> str:
    try:
        return version("fourfold")
    except PackageNotFoundError:
        return ""


FOURFOLD_VERSION = _fourfold_version()


class Navigation:
    """The current section (for ``aria-current``) and the organisations whose data pages the user may open.

    Attributes are computed on first use, so a page that does not show navigation (or an anonymous
    visitor) costs no query; a signed-in page costs one.
    """

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def section(self) -> str:
        match = self._request.resolver_match
        if match is None:
            return ""
        return SECTIONS.get(match.view_name) or SECTIONS.get(match.namespace, "")

    @cached_property
    def organisations(self) -> list[Organisation]:
        return list(organisations_for_user(self._request.user))

    @cached_property
    def enters_values(self) -> bool:
        """Whether the user may type values for any KPI: the data-entry grid's link is shown then."""
        return kpis_for_entry(self._request.user, everything=True).exists()


def navigation(request: HttpRequest) -> dict[str, object]:
    """Template context: ``nav`` (see :class:`Navigation`) and ``fourfold_version``."""
    return {"nav": Navigation(request), "fourfold_version": FOURFOLD_VERSION}
