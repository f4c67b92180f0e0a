from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from fourfold.accounts.models import Role, User
from fourfold.accounts.selectors import organisation_people
from fourfold.strategy.models import Organisation


class MemberForm(forms.Form):
    """Give a person or a group a role on a scorecard; only people of the scorecard's organisation are offered."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Person"))
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label=_("or group"))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label=_("Role"))

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = organisation_people(organisation)
        self.fields["user"].queryset = people  # type: ignore[attr-defined]
        self.fields["group"].queryset = Group.objects.filter(user__in=people).distinct().order_by("name")  # type: ignore[attr-defined]
