from django.contrib import admin

from fourfold.initiatives.models import Initiative, Milestone


class MilestoneInline(admin.TabularInline[Milestone, Initiative]):
    model = Milestone
    extra = 0


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin[Initiative]):
    list_display = (
        "name",
        "scorecard",
        "owner",
        "status",
        "percent_complete",
        "start_date",
        "end_date",
        "budget_planned",
        "budget_spent",
    )
    list_filter = ("status", "scorecard__organisation")
    search_fields = ("name", "description", "scorecard__name")
    autocomplete_fields = ("scorecard", "owner", "objectives", "kpis")
    inlines = (MilestoneInline,)


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin[Milestone]):
    list_display = ("name", "initiative", "due_date", "completed_on")
    list_filter = ("initiative__scorecard__organisation",)
    search_fields = ("name", "initiative__name")
    autocomplete_fields = ("initiative",)
