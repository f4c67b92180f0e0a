from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from fourfold.engine.scoring import ScoringConfigError
from fourfold.strategy.models import (
    Objective,
    ObjectiveLink,
    Organisation,
    OrgUnit,
    Perspective,
    Scorecard,
    StatusLevel,
)


class StatusLevelFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Checks the scheme as a whole, as the engine will read it, before any row is saved."""

    def clean(self) -> None:
        super().clean()
        kept = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        rows = [
            StatusLevel(
                key=form.cleaned_data["key"],
                name=form.cleaned_data["name"],
                colour=form.cleaned_data["colour"],
                min_score=form.cleaned_data.get("min_score"),
                is_no_data=form.cleaned_data.get("is_no_data", False),
            )
            for form in sorted(kept, key=lambda form: form.cleaned_data.get("position") or 0)
        ]
        if sum(row.is_no_data for row in rows) > 1:
            raise ValidationError("Only one status can stand for 'no data'.")
        if rows:
            try:
                self.instance.status_scheme(rows)
            except ScoringConfigError as error:
                raise ValidationError(str(error)) from error


class StatusLevelInline(admin.TabularInline[StatusLevel, Organisation]):
    model = StatusLevel
    formset = StatusLevelFormSet
    extra = 0
    fields = ("position", "key", "name", "colour", "min_score", "is_no_data")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "slug", "fiscal_year_start_month", "default_currency")
    inlines = (StatusLevelInline,)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin[OrgUnit]):
    list_display = ("name", "kind", "parent", "organisation")
    list_filter = ("kind", "organisation")
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


class PerspectiveInline(admin.TabularInline[Perspective, Scorecard]):
    model = Perspective
    extra = 0
    fields = ("position", "name", "kind", "weight")


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin[Scorecard]):
    list_display = ("name", "org_unit", "parent", "status", "owner", "organisation")
    list_filter = ("status", "organisation", "reporting_frequency")
    search_fields = ("name", "description", "org_unit__name")
    autocomplete_fields = ("org_unit", "parent", "owner")
    inlines = (PerspectiveInline,)


@admin.register(Perspective)
class PerspectiveAdmin(admin.ModelAdmin[Perspective]):
    list_display = ("name", "scorecard", "kind", "position", "weight")
    list_filter = ("kind", "scorecard__organisation")
    search_fields = ("name", "scorecard__name")


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin[Objective]):
    list_display = ("code", "name", "perspective", "owner", "weight", "parent")
    list_filter = ("perspective__kind", "perspective__scorecard__organisation")
    search_fields = ("name", "code", "description", "perspective__scorecard__name")
    autocomplete_fields = ("perspective", "owner", "parent")


@admin.register(ObjectiveLink)
class ObjectiveLinkAdmin(admin.ModelAdmin[ObjectiveLink]):
    list_display = ("cause", "effect", "sign", "strength")
    list_filter = ("sign", "strength")
    search_fields = ("cause__name", "effect__name", "rationale")
    autocomplete_fields = ("cause", "effect")
