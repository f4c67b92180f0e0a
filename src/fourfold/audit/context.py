"""Who is changing data, from where, and why: the audit context every write runs in.

NetBox records changes only inside web requests and silently skips writes made by scripts and jobs. Fourfold
makes the context explicit instead: the web middleware, the CLI, imports and background jobs each open an
``audit_context``, and a write to an audited model outside one fails loudly (:class:`AuditContextMissing`),
so no entry point can forget to declare itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from fourfold.accounts.models import User


class ChangeSource(models.TextChoices):
    """Where a change came from; shown in the history so a reader can tell a typed value from an import."""

    WEB = "web", _("Web")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    JOB = "job", _("Background job")
    CLI = "cli", _("Command line")


class AuditContextMissing(RuntimeError):
    """Raised when an audited model is written outside :func:`audit_context`."""


@dataclass(frozen=True)
class AuditContext:
    """The facts recorded with every change made while this context is active."""

    actor: User | None
    source: ChangeSource
    correlation_id: str
    reason: str = ""


_current_context: ContextVar[AuditContext | None] = ContextVar("fourfold_audit_context", default=None)


@contextmanager
def audit_context(
    *,
    actor: User | None,
    source: ChangeSource,
    reason: str = "",
    correlation_id: str | None = None,
) -> Iterator[AuditContext]:
    """Run the enclosed writes on behalf of ``actor`` from ``source``; nested contexts replace outer ones.

    ``correlation_id`` ties together every change made by one request, command or job run (one is generated
    when not given), so the history can show "these 40 values came from import run 7f3…".
    """
    context = AuditContext(
        actor=actor if actor is not None and actor.is_authenticated else None,
        source=source,
        correlation_id=correlation_id or uuid.uuid4().hex,
        reason=reason,
    )
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)


@contextmanager
def audit_reason(reason: str) -> Iterator[AuditContext]:
    """Attach a reason ("corrected a typo in March") to the changes made inside, keeping actor and source."""
    context = replace(current_audit_context(), reason=reason)
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)


def current_audit_context() -> AuditContext:
    """Return the active context, or fail: an unaudited write is a bug in the entry point, not a warning."""
    context = _current_context.get()
    if context is None:
        raise AuditContextMissing(
            "A change to audited data was made outside an audit context. Wrap the command, job or script in "
            "fourfold.audit.context.audit_context(actor=..., source=...)."
        )
    return context
