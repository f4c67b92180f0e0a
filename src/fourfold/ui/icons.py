"""The interface's icons: simple line drawings on a 24-unit grid, drawn for Fourfold and inlined as SVG.

Inlined rather than served as a sprite so that an icon needs no request, takes the text colour
(``currentColor``) and can never be missing from a page. Icons are decoration next to words: every one is
hidden from screen readers, and no meaning is carried by an icon alone.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

ICONS: dict[str, str] = {
    "check": '<path d="M5 12.5l4.5 4.5L19 7.5"/>',
    "x": '<path d="M7 7l10 10M17 7L7 17"/>',
    "alert": '<path d="M12 4L21 19.5H3z"/><path d="M12 10v4"/><path d="M12 16.8v.2"/>',
    "minus": '<path d="M6 12h12"/>',
    "dot": '<circle cx="12" cy="12" r="3.5" fill="currentColor"/>',
    "info": '<circle cx="12" cy="12" r="9"/><path d="M12 11v5.5"/><path d="M12 7.8v.2"/>',
    "help": '<circle cx="12" cy="12" r="9"/><path d="M9.6 9.5a2.5 2.5 0 1 1 3.4 2.3c-.7.3-1 .9-1 1.6v.4"/>'
    '<path d="M12 16.8v.2"/>',
    "chevron-down": '<path d="M6 9.5l6 6 6-6"/>',
    "chevron-left": '<path d="M14.5 6l-6 6 6 6"/>',
    "chevron-right": '<path d="M9.5 6l6 6-6 6"/>',
    "menu": '<path d="M4 7h16M4 12h16M4 17h16"/>',
    "home": '<path d="M4 11l8-6.5 8 6.5"/><path d="M6 9.5V20h12V9.5"/><path d="M10 20v-5h4v5"/>',
    "scorecard": '<rect x="4" y="4" width="7" height="7" rx="1.5"/><rect x="13" y="4" width="7" height="7" rx="1.5"/>'
    '<rect x="4" y="13" width="7" height="7" rx="1.5"/><rect x="13" y="13" width="7" height="7" rx="1.5"/>',
    "database": '<ellipse cx="12" cy="6" rx="7" ry="2.8"/><path d="M5 6v12c0 1.5 3.1 2.8 7 2.8s7-1.3 7-2.8V6"/>'
    '<path d="M5 12c0 1.5 3.1 2.8 7 2.8s7-1.3 7-2.8"/>',
    "settings": '<circle cx="12" cy="12" r="3"/><path d="M12 3v3M12 18v3M3 12h3M18 12h3M5.6 5.6l2.1 2.1M16.3 16.3'
    'l2.1 2.1M5.6 18.4l2.1-2.1M16.3 7.7l2.1-2.1"/>',
    "history": '<path d="M4.5 12a7.5 7.5 0 1 0 2.2-5.3"/><path d="M4 4.5V8h3.5"/><path d="M12 8v4.5l3 1.8"/>',
    "users": '<circle cx="9" cy="8.5" r="3.2"/><path d="M3 19.5c.6-3.2 3-5 6-5s5.4 1.8 6 5"/>'
    '<path d="M15.5 5.5a3.2 3.2 0 0 1 0 6"/><path d="M17.5 14.8c1.7.7 2.9 2.2 3.4 4.7"/>',
    "user": '<circle cx="12" cy="8.5" r="3.5"/><path d="M5 20c.8-3.6 3.6-5.5 7-5.5s6.2 1.9 7 5.5"/>',
    "key": '<circle cx="8" cy="15" r="4"/><path d="M11 12l8.5-8.5M16.5 6.5l2.5 2.5M14.5 8.5l2 2"/>',
    "sign-out": '<path d="M14 5H6v14h8"/><path d="M10 12h10M16.5 8.5L20 12l-3.5 3.5"/>',
    "arrow-up": '<path d="M12 19V6M6.5 11.5L12 6l5.5 5.5"/>',
    "clock": '<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>',
    "play": '<path d="M8 5.5v13l10.5-6.5z"/>',
    "refresh": '<path d="M19.5 12a7.5 7.5 0 1 1-2.2-5.3"/><path d="M20 4.5V8h-3.5"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "external": '<path d="M14 4h6v6"/><path d="M20 4l-9 9"/><path d="M18 14v6H4V6h6"/>',
    "chart": '<path d="M4 19.5h16"/><path d="M7 16V11M12 16V6M17 16v-7"/>',
    "pencil": '<path d="M4.5 19.5l1-4.2L15.8 5a1.9 1.9 0 0 1 2.7 0l.5.5a1.9 1.9 0 0 1 0 2.7L8.7 18.5z"/>'
    '<path d="M13.5 7.3l3.2 3.2"/>',
    "note": '<path d="M5 4.5h14v11l-4 4H5z"/><path d="M15 19.5v-4h4"/><path d="M8.5 9h7M8.5 12.5h4.5"/>',
    "map": '<rect x="3" y="3.5" width="7" height="5" rx="1.2"/><rect x="14" y="3.5" width="7" height="5" rx="1.2"/>'
    '<rect x="8.5" y="15.5" width="7" height="5" rx="1.2"/><path d="M12 15.5V12M6.5 8.5V12h11V8.5"/>',
    "download": '<path d="M12 4v11"/><path d="M7.5 10.5L12 15l4.5-4.5"/><path d="M5 19.5h14"/>',
    "arrow-right": '<path d="M5 12h13M12.5 6.5L18 12l-5.5 5.5"/>',
    "flag": '<path d="M6 20.5V4"/><path d="M6 4.5h11l-2.5 4 2.5 4H6"/>',
    "calendar": '<rect x="4" y="5.5" width="16" height="14.5" rx="2"/><path d="M4 10h16M8.5 3.5v4M15.5 3.5v4"/>',
    "arrow-down": '<path d="M12 5v13M6.5 12.5L12 18l5.5-5.5"/>',
    "star": '<path d="M12 3.8l2.5 5.2 5.7.8-4.1 4 1 5.6L12 16.7l-5.1 2.7 1-5.6-4.1-4 5.7-.8z"/>',
    "star-filled": '<path d="M12 3.8l2.5 5.2 5.7.8-4.1 4 1 5.6L12 16.7l-5.1 2.7 1-5.6-4.1-4 5.7-.8z" fill="currentColor"/>',
    "expand": '<path d="M7 9.5l5-5 5 5M7 14.5l5 5 5-5"/>',
    "collapse": '<path d="M7 4.5l5 5 5-5M7 19.5l5-5 5 5"/>',
}
"""Name → the SVG elements inside a 24×24 view box, stroked in the text colour."""

STATUS_ICONS = {"on_target": "check", "watch": "alert", "off_target": "x", "no_data": "minus"}
"""The default statuses' shapes, so that statuses differ by shape as well as colour and word; an
organisation's own statuses get a dot."""


def icon(name: str, css_class: str = "") -> SafeString:
    """The inline SVG of icon ``name``; an unknown name is a programming error and fails loudly."""
    classes = f"icon icon-{name} {css_class}".strip()
    return format_html(
        '<svg class="{}" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">{}</svg>',
        classes,
        SafeString(ICONS[name]),
    )


def status_icon_name(status_key: str) -> str:
    """The icon of a status, by its key."""
    return STATUS_ICONS.get(status_key, "dot")
