from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from fourfold.accounts.models import OrganisationMembership, ScorecardMembership, User


class OrganisationMembershipInline(admin.TabularInline[OrganisationMembership, User]):
    model = OrganisationMembership
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(User)
class FourfoldUserAdmin(UserAdmin[User]):
    inlines = (OrganisationMembershipInline,)


@admin.register(OrganisationMembership)
class OrganisationMembershipAdmin(admin.ModelAdmin[OrganisationMembership]):
    list_display = ("user", "organisation", "is_admin")
    list_filter = ("is_admin", "organisation")
    search_fields = ("user__username", "user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation")


@admin.register(ScorecardMembership)
class ScorecardMembershipAdmin(admin.ModelAdmin[ScorecardMembership]):
    list_display = ("scorecard", "user", "group", "role")
    list_filter = ("role", "scorecard__organisation")
    search_fields = ("user__username", "group__name", "scorecard__name")
    autocomplete_fields = ("scorecard", "user")
