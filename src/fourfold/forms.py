"""Form helpers shared by the apps' forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def show_validation_error(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (or above the form when it names none)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target if field != NON_FIELD_ERRORS else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)
