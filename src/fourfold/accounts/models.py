"""People and what they may do: organisation membership and per-scorecard roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fourfold.audit.models import ChangeLoggedModel


class User(AbstractUser):
    """A person who signs in. Kept as our own model from the start so profile fields can be added later."""

    class Meta:
        ordering = ("username",)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    """Roles on one scorecard, each including the ones before it."""

    VIEWER = "viewer", _("Viewer")
    UPDATER = "updater", _("Updater")
    EDITOR = "editor", _("Editor")
    ADMIN = "admin", _("Admin")

    @property
    def rank(self) -> int:
        """Position in the order viewer < updater < editor < admin, for "at least" comparisons."""
        return list(Role).index(self)


class OrganisationMembership(ChangeLoggedModel):
    """Membership of an organisation; organisation admins act as admins on all its scorecards."""

    organisation = models.ForeignKey("strategy.Organisation", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="organisation_memberships")
    is_admin = models.BooleanField(
        default=False, help_text=_("Manages units, scorecards and members of the whole organisation.")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation}{' (admin)' if self.is_admin else ''}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.organisation_id, None


class ScorecardMembership(ChangeLoggedModel):
    """A role on one scorecard, given to a user or to a group (everyone in it gets the role)."""

    scorecard = models.ForeignKey("strategy.Scorecard", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="scorecard_memberships"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="scorecard_memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True))
                | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="membership_user_xor_group",
                violation_error_message=_("A role is given either to a user or to a group."),
            ),
            models.UniqueConstraint(
                fields=["scorecard", "user"], condition=Q(user__isnull=False), name="one_role_per_user"
            ),
            models.UniqueConstraint(
                fields=["scorecard", "group"], condition=Q(group__isnull=False), name="one_role_per_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group}: {self.get_role_display()} on {self.scorecard}"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.scorecard.organisation_id, self.scorecard_id


class ScorecardFollow(models.Model):
    """A scorecard a person follows: its recent changes appear on their home page.

    Not audited: following is a person's own reading preference, not a change to anyone's strategy.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follows")
    scorecard = models.ForeignKey("strategy.Scorecard", on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scorecard"], name="follow_once")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.scorecard}"
