"""Who may do what: the one place every view, API endpoint, service and CLI command asks.

Rules:

* A user's role on a scorecard is the highest of the roles given to them directly or through their groups.
* Organisation admins act as admins on every scorecard of their organisation; superusers on all of them.
* Updaters enter values only for the KPIs they update (as owner, named updater or through a group) and
  report progress only on initiatives they own; editors and admins may do both for the whole scorecard.
* Viewers read. Nobody sees a scorecard they have no role on.

A refusal raises :class:`django.core.exceptions.PermissionDenied` whose message says what was needed and
what the user has, which the web turns into HTTP 403 with that message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q, QuerySet, Value
from django.utils.translation import gettext as _

from fourfold.accounts.models import OrganisationMembership, Role, ScorecardMembership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from fourfold.accounts.models import User
    from fourfold.initiatives.models import Initiative
    from fourfold.measures.models import Kpi
    from fourfold.strategy.models import Organisation, Scorecard


class Action(StrEnum):
    """Things a user can do on a scorecard or in an organisation."""

    VIEW = "view"
    RECORD_VALUE = "record_value"
    UPDATE_INITIATIVE_PROGRESS = "update_initiative_progress"
    EDIT_STRUCTURE = "edit_structure"
    SET_TARGETS = "set_targets"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_SCORECARD = "manage_scorecard"
    MANAGE_ORGANISATION = "manage_organisation"


# The least role each scorecard action needs. RECORD_VALUE and UPDATE_INITIATIVE_PROGRESS also need the
# user to be assigned to the KPI or initiative unless they are at least editors.
MINIMUM_ROLE: dict[Action, Role] = {
    Action.VIEW: Role.VIEWER,
    Action.RECORD_VALUE: Role.UPDATER,
    Action.UPDATE_INITIATIVE_PROGRESS: Role.UPDATER,
    Action.EDIT_STRUCTURE: Role.EDITOR,
    Action.SET_TARGETS: Role.EDITOR,
    Action.MANAGE_MEMBERS: Role.ADMIN,
    Action.MANAGE_SCORECARD: Role.ADMIN,
}

ACTION_PHRASES: dict[Action, str] = {
    Action.VIEW: "view this scorecard",
    Action.RECORD_VALUE: "enter values for this KPI",
    Action.UPDATE_INITIATIVE_PROGRESS: "report progress on this initiative",
    Action.EDIT_STRUCTURE: "change this scorecard's structure",
    Action.SET_TARGETS: "change targets and thresholds",
    Action.MANAGE_MEMBERS: "manage this scorecard's members",
    Action.MANAGE_SCORECARD: "change this scorecard's settings",
    Action.MANAGE_ORGANISATION: "manage this organisation",
}


ORGANISATION_ADMIN_MARK = "org-admin"
"""Marks the organisation-admin row in the combined role query; never a stored role."""


def is_organisation_admin(user: User | AnonymousUser, organisation_id: int) -> bool:
    """Superusers and the organisation's admins manage everything in it."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return OrganisationMembership.objects.filter(organisation_id=organisation_id, user=user, is_admin=True).exists()


def effective_role(user: User | AnonymousUser, scorecard: Scorecard) -> Role | None:
    """The user's role on the scorecard (admin for organisation admins), or ``None`` for no access.

    Cached on the user object for the duration of a request, since a page asks many times.
    """
    if not user.is_authenticated:
        return None
    cache: dict[int, Role | None] = user.__dict__.setdefault("_fourfold_roles", {})
    if scorecard.pk in cache:
        return cache[scorecard.pk]
    role: Role | None
    if user.is_superuser:
        role = Role.ADMIN
    else:
        # One query: whether the user administers the organisation, and every role granted directly or via a group.
        org_admin = OrganisationMembership.objects.filter(
            organisation_id=scorecard.organisation_id, user=user, is_admin=True
        ).values_list(Value(ORGANISATION_ADMIN_MARK, output_field=CharField()), flat=True)
        granted = (
            ScorecardMembership.objects.filter(scorecard=scorecard)
            .filter(Q(user=user) | Q(group__user=user, scorecard__organisation__memberships__user=user))
            .values_list("role", flat=True)
        )
        found = set(granted.union(org_admin))
        if ORGANISATION_ADMIN_MARK in found:
            role = Role.ADMIN
        else:
            role = max((Role(value) for value in found), key=lambda item: item.rank, default=None)
    cache[scorecard.pk] = role
    return role


def forget_cached_roles(user: User | AnonymousUser) -> None:
    """Drop the per-request role cache after memberships change."""
    user.__dict__.pop("_fourfold_roles", None)


def _is_assigned_to_kpi(user: User, kpi: Kpi) -> bool:
    if kpi.owner_id == user.pk:
        return True
    return kpi.updaters.filter(pk=user.pk).exists() or kpi.updater_groups.filter(user=user).exists()


def _denial(user: User | AnonymousUser, action: Action, scorecard_name: str, needed: str, held: Role | None) -> str:
    if not user.is_authenticated:
        return _("Sign in to %(action)s.") % {"action": ACTION_PHRASES[action]}
    held_text = _("you have no role there") if held is None else _("your role there is %(role)s") % {"role": held.label}
    return _("You cannot %(action)s: it needs %(needed)s on “%(scorecard)s”, and %(held)s.") % {
        "action": ACTION_PHRASES[action],
        "needed": needed,
        "scorecard": scorecard_name,
        "held": held_text,
    }


def check(user: User | AnonymousUser, action: Action, target: Any) -> str | None:
    """Return ``None`` when ``user`` may do ``action`` on ``target``, else the reason they may not.

    ``target`` is an Organisation for MANAGE_ORGANISATION, a Kpi for RECORD_VALUE, an Initiative for
    UPDATE_INITIATIVE_PROGRESS, and a Scorecard (or any object with a ``scorecard``) otherwise.
    """
    if action is Action.MANAGE_ORGANISATION:
        organisation: Organisation = target
        if is_organisation_admin(user, organisation.pk):
            return None
        if not user.is_authenticated:
            return _("Sign in to %(action)s.") % {"action": ACTION_PHRASES[action]}
        return _("You cannot manage “%(organisation)s”: it needs an organisation admin.") % {
            "organisation": organisation.name
        }
    scorecard: Scorecard = target.scorecard if hasattr(target, "scorecard") else target
    role = effective_role(user, scorecard)
    needed = MINIMUM_ROLE[action]
    if role is None or role.rank < needed.rank:
        return _denial(user, action, scorecard.name, _("the %(role)s role") % {"role": needed.label}, role)
    if role.rank >= Role.EDITOR.rank:
        return None
    if action is Action.RECORD_VALUE and not _is_assigned_to_kpi(user, target):  # type: ignore[arg-type]
        return _denial(user, action, scorecard.name, _("to be this KPI's owner or updater, or an editor"), role)
    if action is Action.UPDATE_INITIATIVE_PROGRESS:
        initiative: Initiative = target
        if initiative.owner_id != user.pk:
            return _denial(user, action, scorecard.name, _("to own this initiative, or to be an editor"), role)
    return None


def can(user: User | AnonymousUser, action: Action, target: Any) -> bool:
    """True when :func:`check` finds no reason to refuse."""
    return check(user, action, target) is None


def require(user: User | AnonymousUser, action: Action, target: Any) -> None:
    """Refuse with a message saying what was needed (HTTP 403 in the web and API)."""
    reason = check(user, action, target)
    if reason is not None:
        raise PermissionDenied(reason)


def scorecards_visible_to(user: User | AnonymousUser) -> QuerySet[Scorecard]:
    """Every scorecard the user may view, in one query whatever their number."""
    return scorecards_with_role(user, Role.VIEWER)


def scorecards_with_role(user: User | AnonymousUser, minimum: Role) -> QuerySet[Scorecard]:
    """Every scorecard where the user's role (as :func:`effective_role` finds it) is at least ``minimum``.

    One query whatever their number, for pages that list what a user may do on many scorecards at once.
    """
    from fourfold.strategy.models import Scorecard

    if not user.is_authenticated:
        return Scorecard.objects.none()
    if user.is_superuser:
        return Scorecard.objects.all()
    roles = [role for role in Role if role.rank >= minimum.rank]
    return Scorecard.objects.filter(
        Q(organisation__memberships__user=user, organisation__memberships__is_admin=True)
        | Q(memberships__user=user, memberships__role__in=roles)
        # A group's role reaches only those of its members who belong to the organisation.
        | Q(memberships__group__user=user, memberships__role__in=roles, organisation__memberships__user=user)
    ).distinct()
