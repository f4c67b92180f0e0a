from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from fourfold.accounts.models import Role, User


class MemberForm(forms.Form):
    """Give a person or a group a role on a scorecard."""

    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False, label=_("Person"))
    group = forms.ModelChoiceField(queryset=Group.objects.all(), required=False, label=_("or group"))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label=_("Role"))
