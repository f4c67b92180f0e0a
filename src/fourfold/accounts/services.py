"""Writes to membership (who has which role on a scorecard) and to what people follow."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fourfold.accounts.models import OrganisationMembership, Role, ScorecardFollow, ScorecardMembership, User
from fourfold.accounts.permissions import Action, forget_cached_roles, require
from fourfold.strategy.models import Scorecard
from fourfold.validation import clean_and_save


@transaction.atomic
def scorecard_member_set(
    *, by: User, scorecard: Scorecard, role: Role, user: User | None = None, group: Group | None = None
) -> ScorecardMembership:
    """Give a user or a group a role on a scorecard, replacing the role they had there."""
    require(by, Action.MANAGE_MEMBERS, scorecard)
    if (user is None) == (group is None):
        raise ValidationError({"user": _("Choose a user or a group, not both.")})
    if (
        user is not None
        and not user.organisation_memberships.filter(organisation_id=scorecard.organisation_id).exists()
    ):
        raise ValidationError(
            {
                "user": _("%(user)s is not a member of %(organisation)s; an organisation admin adds people first.")
                % {"user": user, "organisation": scorecard.organisation}
            }
        )
    membership = ScorecardMembership.objects.filter(
        scorecard=scorecard, user=user, group=group
    ).first() or ScorecardMembership(scorecard=scorecard, user=user, group=group)
    if membership.pk and membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admin_exists(membership):
        raise ValidationError(
            {"role": _("This is the scorecard's last admin; give someone else the admin role first.")}
        )
    membership.role = role
    clean_and_save(membership)
    forget_cached_roles(by)
    return membership


def _other_admin_exists(membership: ScorecardMembership) -> bool:
    scorecard = membership.scorecard
    other_admins = ScorecardMembership.objects.filter(scorecard=scorecard, role=Role.ADMIN).exclude(pk=membership.pk)
    return (
        other_admins.exists()
        or OrganisationMembership.objects.filter(organisation_id=scorecard.organisation_id, is_admin=True).exists()
    )


@transaction.atomic
def scorecard_member_remove(*, by: User, membership: ScorecardMembership) -> None:
    """Take a role away. Removing the last admin is refused unless an organisation admin remains."""
    require(by, Action.MANAGE_MEMBERS, membership.scorecard)
    if membership.role == Role.ADMIN and not _other_admin_exists(membership):
        raise ValidationError(
            {"role": _("This is the scorecard's last admin; give someone else the admin role first.")}
        )
    membership.delete()
    forget_cached_roles(by)


def scorecard_follow(*, by: User, scorecard: Scorecard) -> ScorecardFollow:
    """Follow a scorecard one can see, so its recent changes show on one's home page."""
    require(by, Action.VIEW, scorecard)
    follow, _created = ScorecardFollow.objects.get_or_create(user=by, scorecard=scorecard)
    return follow


def scorecard_unfollow(*, by: User, scorecard: Scorecard) -> None:
    """Stop following a scorecard (nothing happens if one did not follow it)."""
    ScorecardFollow.objects.filter(user=by, scorecard=scorecard).delete()
