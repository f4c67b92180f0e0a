"""What every editing page does the same way: group a form's fields, call a service with what was typed,
show the service's refusals next to the fields, and draw the page with the shared edit templates.

A failed save answers 400 with the form as it was sent, so nothing typed is lost and htmx (which swaps 400
answers, see fourfold.ui.htmx) shows the errors like a plain form post does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext
from django_stubs_ext import StrOrPromise

from fourfold.forms import show_validation_error

SavedT = TypeVar("SavedT")

EDIT_TEMPLATE = "strategy/edit_form.html"
DELETE_TEMPLATE = "strategy/edit_confirm_delete.html"


class FieldsetForm(forms.Form):
    """A form whose fields are shown in titled groups (``fieldsets``); fields named in none come last."""

    fieldsets: ClassVar[tuple[tuple[StrOrPromise, tuple[str, ...]], ...]] = ()

    def grouped(self) -> list[tuple[StrOrPromise, list[BoundField]]]:
        """The bound fields by group, for the edit template; a group whose fields were all removed is left out."""
        groups: list[tuple[StrOrPromise, list[BoundField]]] = []
        placed: set[str] = set()
        for legend, names in self.fieldsets:
            fields = [self[name] for name in names if name in self.fields]
            placed.update(names)
            if fields:
                groups.append((legend, fields))
        rest = [self[name] for name in self.fields if name not in placed]
        if rest:
            groups.append(("", rest))
        return groups


def submit(form: forms.Form, save: Callable[[dict[str, Any]], SavedT]) -> SavedT | None:
    """Validate ``form`` and call ``save`` with its cleaned data; ``None`` when either refused.

    A service's :class:`ValidationError` is put next to the fields it names, so the page can be drawn again
    with the errors and everything the user typed.
    """
    if not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ValidationError as error:
        show_validation_error(form, error)
        return None


def changes_of(form: forms.Form, *, leave_out: Collection[str] = ()) -> dict[str, Any]:
    """The fields the user changed, with their new values: what an ``<entity>_update`` service is given.

    Sending only what changed keeps the audit trail to real changes and spares checks (such as moving a
    scorecard, which needs an organisation admin) that unchanged fields should not trigger.
    """
    return {name: form.cleaned_data[name] for name in form.changed_data if name not in leave_out}


def edit_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    heading: StrOrPromise,
    cancel_url: str,
    context: Mapping[str, Any],
    template: str = EDIT_TEMPLATE,
) -> HttpResponse:
    """Draw an editing page; status 400 when the form was sent and refused, so tests and htmx can tell."""
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        template,
        {"form": form, "heading": heading, "cancel_url": cancel_url, **context},
        status=status,
    )


def confirm_delete(
    request: HttpRequest,
    *,
    scorecard: object,
    target: object,
    delete: Callable[[], object],
    consequences: str,
    done_url: str,
    cancel_url: str,
) -> HttpResponse:
    """Ask before deleting (GET); delete and go on to ``done_url`` (POST), or show why the service refused.

    ``consequences`` says what goes with ``target``, so nobody deletes a scorecard's history by surprise.
    """
    form = forms.Form(request.POST if request.method == "POST" else None)

    def run(_data: object) -> bool:
        delete()
        return True

    if request.method == "POST" and submit(form, run):
        messages.success(request, gettext("“%(name)s” deleted.") % {"name": target})
        return HttpResponseRedirect(done_url)
    return render(
        request,
        DELETE_TEMPLATE,
        {
            "scorecard": scorecard,
            "heading": gettext("Delete"),
            "target": target,
            "consequences": consequences,
            "cancel_url": cancel_url,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
