"""Template tags of the interface: ``{% load ui %}`` then ``{% icon "check" %}`` or ``{{ status.key|status_icon }}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from fourfold.strategy.models import Organisation
from fourfold.ui.icons import icon as icon_markup
from fourfold.ui.icons import status_icon_name

register = template.Library()


@register.simple_tag
def icon(name: str, css_class: str = "") -> SafeString:
    """An inline SVG icon, hidden from screen readers: ``{% icon "history" %}``, ``{% icon "x" "icon-lg" %}``."""
    return icon_markup(name, css_class)


@register.filter
def status_icon(status_key: str) -> str:
    """The icon name for a status key, for ``{% icon status.key|status_icon %}``."""
    return status_icon_name(status_key)


@register.filter
def initials(user: object) -> str:
    """Up to two letters for a user's avatar: "Ana Lima" → "AL", "root" → "R"."""
    words = str(user).split()
    return "".join(word[0] for word in words[:2]).upper() or "?"


PAGE_OBJECTS = (
    ("organisation",),
    ("scorecard", "organisation"),
    ("run", "organisation"),
    ("kpi", "scorecard", "organisation"),
)
"""Where a page's context names its organisation: ``organisation``, or that of its ``scorecard``, ``run`` or
``kpi``. Pages of one organisation follow this convention to get its links in the navigation."""


@register.simple_tag(takes_context=True)
def page_organisation(context: Any) -> Organisation | None:
    """The organisation a page is about, from objects it already loaded (no query), or ``None``."""
    for name, *path in PAGE_OBJECTS:
        found = context.get(name)
        for attribute in path:
            found = getattr(found, attribute, None)
        if isinstance(found, Organisation):
            return found
    return None
