"""Open an audit context for every web and API request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fourfold.audit.context import ChangeSource, audit_context


class AuditContextMiddleware:
    """Attribute the request's writes to its user, with the request id as correlation id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = ChangeSource.API if request.path.startswith("/api/") else ChangeSource.WEB
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        with audit_context(actor=request.user, source=source, correlation_id=request_id[:64]):  # type: ignore[arg-type]
            response = self.get_response(request)
        response["X-Request-ID"] = request_id[:64]
        return response
