"""System checks of the web interface: pages without the built stylesheet and scripts look broken, and in
production (hashed static files) they fail, so say so at start instead of on the first page view."""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles import finders
from django.core.checks import CheckMessage, Tags, Warning, register

BUILT_FILES = ("fourfold/build/app.css", "fourfold/build/app.js", "fourfold/build/charts.js")
"""What ``npm run build`` writes, as static paths."""


@register(Tags.staticfiles)
def front_end_built(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the front end has not been built (a checkout without ``npm ci && npm run build``)."""
    missing = [path for path in BUILT_FILES if finders.find(path) is None]
    if not missing:
        return []
    return [
        Warning(
            f"The front end is not built: {', '.join(missing)} missing.",
            hint="Run `npm ci && npm run build` in the repository (./run does it), then collect static files again.",
            id="ui.W001",
        )
    ]
