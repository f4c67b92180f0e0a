from typing import Any

from django import forms
from django.contrib import admin

from fourfold.measures.models import Actual, ActualRevision, Kpi, KpiTarget, WeightChange
from fourfold.measures.services import check_scorecard_formulas


class KpiAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Checks formulas across the scorecard (references, cycles, units) as the services do."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            candidate = self.instance
            for name, value in cleaned.items():
                if name in {field.name for field in Kpi._meta.concrete_fields}:
                    setattr(candidate, name, value)
            check_scorecard_formulas(candidate)
        return cleaned


class KpiTargetInline(admin.TabularInline[KpiTarget, Kpi]):
    model = KpiTarget
    extra = 0
    fields = (
        "period_key",
        "target",
        "red_flag",
        "range_low",
        "range_high",
        "scoring_method",
        "scoring_parameters",
        "reach_by",
        "progress_curve",
        "note",
    )


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin[Kpi]):
    list_display = (
        "key",
        "name",
        "scorecard",
        "unit",
        "direction",
        "frequency",
        "aggregation",
        "source_kind",
        "owner",
    )
    list_filter = ("unit", "direction", "frequency", "aggregation", "source_kind", "scorecard__organisation")
    search_fields = ("key", "name", "description", "scorecard__name")
    autocomplete_fields = ("scorecard", "objective", "owner", "updaters")
    filter_horizontal = ("updater_groups",)
    inlines = (KpiTargetInline,)
    form = KpiAdminForm


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin[KpiTarget]):
    list_display = ("kpi", "period_key", "target", "red_flag", "scoring_method")
    search_fields = ("kpi__key", "kpi__name")
    list_filter = ("kpi__scorecard__organisation",)
    autocomplete_fields = ("kpi",)


@admin.register(Actual)
class ActualAdmin(admin.ModelAdmin[Actual]):
    list_display = (
        "kpi",
        "period_key",
        "value",
        "numerator",
        "denominator",
        "source",
        "entered_by",
        "entered_at",
    )
    list_filter = ("source", "kpi__frequency", "kpi__scorecard__organisation")
    search_fields = ("kpi__key", "kpi__name", "period_key", "note")
    autocomplete_fields = ("kpi", "entered_by")
    date_hierarchy = "period_start"


@admin.register(ActualRevision)
class ActualRevisionAdmin(admin.ModelAdmin[ActualRevision]):
    """Replaced values are history: visible, never edited."""

    list_display = ("kpi", "period_key", "value", "entered_by", "replaced_by", "replaced_at")
    search_fields = ("kpi__key", "kpi__name", "period_key")
    readonly_fields = [field.name for field in ActualRevision._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(WeightChange)
class WeightChangeAdmin(admin.ModelAdmin[WeightChange]):
    list_display = ("__str__", "period_key", "weight")
    search_fields = ("kpi__name", "objective__name", "perspective__name")
    autocomplete_fields = ("kpi", "objective", "perspective")
