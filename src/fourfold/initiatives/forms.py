"""Forms of the initiative pages: an initiative's plan, and its milestones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fourfold.initiatives.models import Initiative
from fourfold.initiatives.services import INITIATIVE_FIELDS
from fourfold.measures.models import Kpi
from fourfold.strategy.forms import ObjectiveChoiceField, objectives_of, owner_input
from fourfold.strategy.models import Objective, Scorecard
from fourfold.ui.editing import FieldsetForm


def money_input(label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = "") -> forms.DecimalField:
    """An amount of the initiative's currency, as its budget fields store them: 0 or more, in cents."""
    return forms.DecimalField(
        label=label, required=required, help_text=help_text, max_digits=18, decimal_places=2, min_value=0
    )


def date_input(label: StrOrPromise) -> forms.DateField:
    """A date picked in the browser's own calendar (its value is always written YYYY-MM-DD)."""
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class ObjectivesChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Objectives named with their perspective, as on the other editing forms."""

    label_from_instance = ObjectiveChoiceField.label_from_instance


class InitiativeForm(FieldsetForm):
    """An initiative's plan: name, owner, dates, budget, status, progress, and what it supports."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start_date = date_input(_("Starts"))
    end_date = date_input(_("Ends"))
    status = forms.ChoiceField(label=_("Status"), choices=Initiative.Status.choices, initial=Initiative.Status.PLANNED)
    percent_complete = forms.IntegerField(
        label=_("Complete (%)"), min_value=0, max_value=100, initial=0, help_text=_("0 to 100 %.")
    )
    budget_planned = money_input(_("Budget planned"), required=False, help_text=_("Leave empty without a budget."))
    budget_spent = money_input(_("Budget spent"))
    currency_code = forms.CharField(label=_("Currency"), max_length=3, help_text=_("ISO 4217 code, e.g. EUR."))
    objectives = ObjectivesChoiceField(
        label=_("Supports objectives"),
        queryset=Objective.objects.none(),
        required=False,
        help_text=_("Hold Ctrl (⌘ on a Mac) to pick several."),
    )
    kpis = forms.ModelMultipleChoiceField(
        label=_("Supports KPIs"),
        queryset=Kpi.objects.none(),
        required=False,
        help_text=_("Hold Ctrl (⌘ on a Mac) to pick several."),
    )

    fieldsets = (
        (_("Initiative"), ("name", "owner", "description")),
        (_("Plan and progress"), ("start_date", "end_date", "status", "percent_complete")),
        (_("Budget"), ("budget_planned", "budget_spent", "currency_code")),
        (_("What it moves"), ("objectives", "kpis")),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        scorecard: Scorecard,
        initiative: Initiative | None = None,
    ) -> None:
        if initiative is not None:
            initial: dict[str, Any] = {name: getattr(initiative, name) for name in INITIATIVE_FIELDS if name != "owner"}
            initial |= {
                "owner": initiative.owner_id,
                "objectives": [objective.pk for objective in initiative.objectives.all()],
                "kpis": [kpi.pk for kpi in initiative.kpis.all()],
            }
        else:
            initial = {"currency_code": scorecard.organisation.default_currency, "budget_spent": 0}
        super().__init__(data, initial=initial)
        self.fields["owner"] = owner_input(scorecard.organisation)
        objectives, kpis = self.fields["objectives"], self.fields["kpis"]
        assert isinstance(objectives, forms.ModelMultipleChoiceField)
        assert isinstance(kpis, forms.ModelMultipleChoiceField)
        objectives.queryset = objectives_of(scorecard.pk)
        kpis.queryset = Kpi.objects.filter(scorecard=scorecard)

    def plan(self) -> dict[str, Any]:
        """The initiative's own fields as typed, for initiative_create."""
        return {name: self.cleaned_data[name] for name in INITIATIVE_FIELDS}


class MilestoneForm(forms.Form):
    """A dated step of an initiative."""

    name = forms.CharField(label=_("Milestone"), max_length=200)
    due_date = date_input(_("Due"))

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        # The initiative's edit page shows this form below the plan's, whose fields have other names, but a
        # prefix of its own keeps every id on the page unique whatever either form gains later.
        super().__init__(data, prefix="milestone")
