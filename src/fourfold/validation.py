"""Shared write helpers for services: validate completely, then save, so no half-checked row lands."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)


def clean_and_save(instance: ModelT) -> ModelT:
    """Run every model check (fields, ``clean()``, unique and check constraints), then save.

    Services call this instead of ``save()`` so that a form, an import row and an API call get the same
    field-by-field :class:`~django.core.exceptions.ValidationError`.
    """
    instance.full_clean()
    instance.save()
    return instance


def apply_changes(instance: ModelT, changes: Mapping[str, Any], allowed: Collection[str]) -> ModelT:
    """Set the given fields on ``instance``; a field outside ``allowed`` is a programming error."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise TypeError(
            f"cannot change {', '.join(unknown)} on {type(instance).__name__}; allowed: {', '.join(sorted(allowed))}"
        )
    for name, value in changes.items():
        setattr(instance, name, value)
    return instance
