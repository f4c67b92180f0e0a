"""Conventions for pages that answer htmx requests, so that every app does it the same way.

- ``is_htmx(request)``: answer with the fragment (a partial template) instead of the whole page.
- A form that fails validation is answered with status 400 and the form with its errors; app.js swaps
  400 and 422 answers like successes, so the errors appear next to the fields.
- ``with_message(response, text)``: a message to show in the page's message area, sent in the
  ``HX-Trigger`` header (app.js shows it), since a fragment has no room for Django's messages.
"""

from __future__ import annotations

import json
from typing import TypeVar

from django.http import HttpRequest, HttpResponseBase

ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (and not a history restore, which wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def with_message(response: ResponseT, text: str, level: str = "success") -> ResponseT:
    """Add a ``fourfold:message`` event to the response's ``HX-Trigger`` header, keeping other events.

    ``level`` is one of Django's message levels as a word: info, success, warning, error.
    """
    existing = response.headers.get("HX-Trigger", "").strip()
    if existing.startswith("{"):
        events = json.loads(existing)
    else:  # htmx also accepts a plain list of event names
        events = {name.strip(): None for name in existing.split(",") if name.strip()}
    events["fourfold:message"] = {"text": str(text), "level": level}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response
