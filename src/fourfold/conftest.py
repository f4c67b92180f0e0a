"""Fixtures shared by every app's tests: an audit context, and a small organisation with one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from fourfold.audit.context import AuditContext, ChangeSource, audit_context

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

    from fourfold.accounts.models import User
    from fourfold.measures.models import Kpi
    from fourfold.strategy.models import Objective, Organisation, Scorecard


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Real hashing is deliberately slow; tests create many users and test nothing about hash strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def plain_static_storage(settings: Any) -> None:
    """Serve static files from the finders; production's hashed manifest needs a collectstatic run first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fresh_score_cache() -> None:
    """Each test starts without cached evaluations, as a freshly started server would."""
    from fourfold.measures.scoring import forget_cached_evaluations

    forget_cached_evaluations()


@pytest.fixture(autouse=True)
def cli_audit_context() -> Iterator[AuditContext]:
    """Tests write as a command-line session would; tests of other sources open their own context."""
    with audit_context(actor=None, source=ChangeSource.CLI, reason="test") as context:
        yield context


@dataclass
class World:
    """A company with a parent and a child scorecard, one KPI, and one user for each role."""

    superuser: User
    org_admin: User
    admin: User
    editor: User
    updater: User
    other_updater: User
    viewer: User
    outsider: User
    organisation: Organisation
    scorecard: Scorecard
    child_scorecard: Scorecard
    objective: Objective
    kpi: Kpi
    updaters_group: Group

    def user(self, name: str) -> User:
        return getattr(self, name)  # type: ignore[no-any-return]


def make_user(username: str, **extra: Any) -> User:
    """A plain active user with a known password."""
    from fourfold.accounts.models import User

    return User.objects.create_user(username=username, password="correct-horse-battery-9", **extra)


@pytest.fixture
def world(db: None) -> World:
    from django.contrib.auth.models import Group

    from fourfold.accounts.models import Role, User
    from fourfold.accounts.services import scorecard_member_set
    from fourfold.measures.services import kpi_create, kpi_updaters_set
    from fourfold.strategy.models import OrgUnit
    from fourfold.strategy.services import (
        objective_create,
        org_unit_create,
        organisation_create,
        organisation_member_set,
        scorecard_create,
    )

    superuser = User.objects.create_superuser(username="root", password="correct-horse-battery-9")
    organisation = organisation_create(by=superuser, name="Acme Learning", slug="acme")
    company_unit = organisation.units.get()
    sales_unit = org_unit_create(
        by=superuser,
        organisation=organisation,
        name="Sales",
        kind=OrgUnit.Kind.DEPARTMENT,
        parent=company_unit,
    )
    scorecard = scorecard_create(by=superuser, org_unit=company_unit, name="Company 2026")
    child = scorecard_create(by=superuser, org_unit=sales_unit, name="Sales 2026", parent=scorecard)
    users = {
        name: make_user(name)
        for name in ("org_admin", "admin", "editor", "updater", "other_updater", "viewer", "outsider")
    }
    for name, user in users.items():
        organisation_member_set(by=superuser, organisation=organisation, user=user, is_admin=name == "org_admin")
    for name, role in (
        ("admin", Role.ADMIN),
        ("editor", Role.EDITOR),
        ("updater", Role.UPDATER),
        ("other_updater", Role.UPDATER),
        ("viewer", Role.VIEWER),
    ):
        scorecard_member_set(by=superuser, scorecard=scorecard, user=users[name], role=role)
    customer = scorecard.perspectives.get(kind="customer")
    objective = objective_create(by=superuser, perspective=customer, name="Delight learners", code="C1")
    kpi = kpi_create(
        by=superuser,
        objective=objective,
        key="csat",
        name="Customer satisfaction",
        unit="percent",
        aggregation="average",
        decimals=1,
    )
    group = Group.objects.create(name="Support leads")
    kpi_updaters_set(by=superuser, kpi=kpi, users=[users["updater"]])
    for item in (superuser, *users.values()):
        item.refresh_from_db()
    return World(
        superuser=superuser,
        organisation=organisation,
        scorecard=scorecard,
        child_scorecard=child,
        objective=objective,
        kpi=kpi,
        updaters_group=group,
        **users,
    )
