from django.contrib import admin

from fourfold.strategy.models import Objective, ObjectiveLink, Organisation, OrgUnit, Perspective, Scorecard


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "slug", "fiscal_year_start_month", "default_currency")
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
