"""``load_demo``: create the demo organisations that are missing, and say how to sign in to them.

Idempotent by design, because ``fourfold demo`` is run again and again on the same database (every time
someone wants the server up): an organisation whose slug exists is left exactly as it is, users are looked
up by username, so a second run writes no row and no audit entry. The whole load is one transaction, so a
failure half-way leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from fourfold.accounts.models import User
from fourfold.audit.context import audit_context, current_audit_context
from fourfold.demo.builder import OrganisationBuilder, demo_password, email_address, username_of
from fourfold.demo.care import MERIDIAN
from fourfold.demo.learning import BRIGHTPATH
from fourfold.demo.spec import OrganisationSpec, Person
from fourfold.demo.training import ALDERBROOK
from fourfold.environment import data_dir
from fourfold.initiatives.models import Initiative
from fourfold.measures.models import Actual, Kpi
from fourfold.strategy.models import Objective, Organisation, Scorecard

DEMO_URL = "http://127.0.0.1:8000/"
ORGANISATIONS: tuple[OrganisationSpec, ...] = (BRIGHTPATH, MERIDIAN, ALDERBROOK)
SUPERUSER = Person("admin", "Demo", "Administrator", "keystone", "Runs the demo")
SUPERUSER_USERNAME = "demo.admin"


@dataclass(frozen=True)
class OrganisationOutcome:
    """What one demo organisation holds, and whether this run created it or found it."""

    name: str
    slug: str
    created: bool
    scorecards: int
    objectives: int
    kpis: int
    values: int
    initiatives: int


@dataclass(frozen=True)
class Login:
    """One line of the login table: a demo user and a role they hold somewhere."""

    username: str
    password: str
    role: str
    scope: str


@dataclass(frozen=True)
class DemoResult:
    """The outcome of :func:`load_demo`, and the text ``fourfold demo`` prints for it."""

    organisations: tuple[OrganisationOutcome, ...]
    logins: tuple[Login, ...]
    url: str = DEMO_URL

    def summary(self) -> str:
        """Per organisation what is there, then the logins as an aligned table."""
        lines = ["Demo organisations:"]
        for outcome in self.organisations:
            state = "created" if outcome.created else "already there, left unchanged"
            lines.append(
                f"  {outcome.name} ({outcome.slug}): {state}; {outcome.scorecards} scorecards, "
                f"{outcome.objectives} objectives, {outcome.kpis} KPIs, {outcome.values} values, "
                f"{outcome.initiatives} initiatives"
            )
        lines += ["", f"Sign in at {self.url} as any of these demo users (public passwords: demo only):", ""]
        header = ("username", "password", "role", "scope")
        rows = [header, *((login.username, login.password, login.role, login.scope) for login in self.logins)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
        for row in (rows[0], tuple("-" * width for width in [*widths, len(header[-1])]), *rows[1:]):
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            lines.append("  " + "  ".join([*cells, row[-1]]).rstrip())
        return "\n".join(lines)


def logins_of(spec: OrganisationSpec) -> list[Login]:
    """The login table rows of one organisation, read from its description (the same whether the
    organisation was created now or earlier), one row per role a person holds."""
    groups = {group.key: group for group in spec.groups}
    rows: list[Login] = []
    for person in spec.people:
        username, password = username_of(spec, person), demo_password(person)
        person_rows = []
        if person.handle in spec.admins:
            person_rows.append(Login(username, password, "organisation admin", spec.name))
        for card in spec.scorecards:
            for grant in card.grants:
                if grant.person == person.handle:
                    person_rows.append(Login(username, password, grant.role.value, card.name))
                elif grant.group and person.handle in groups[grant.group].members:
                    scope = f"{card.name} (via group {groups[grant.group].name})"
                    person_rows.append(Login(username, password, grant.role.value, scope))
        rows += person_rows or [Login(username, password, "member", spec.name)]
    return rows


def ensure_superuser() -> User:
    """The demo superuser every demo write is made by, created with ``create_superuser`` when missing."""
    existing = User.objects.filter(username=SUPERUSER_USERNAME).first()
    if existing is not None:
        return existing
    return User.objects.create_superuser(
        username=SUPERUSER_USERNAME,
        email=email_address(SUPERUSER, "example.org"),
        password=demo_password(SUPERUSER),
        first_name=SUPERUSER.first_name,
        last_name=SUPERUSER.last_name,
    )


def _outcome(organisation: Organisation, *, created: bool) -> OrganisationOutcome:
    return OrganisationOutcome(
        name=organisation.name,
        slug=organisation.slug,
        created=created,
        scorecards=Scorecard.objects.filter(organisation=organisation).count(),
        objectives=Objective.objects.filter(perspective__scorecard__organisation=organisation).count(),
        kpis=Kpi.objects.filter(scorecard__organisation=organisation).count(),
        values=Actual.objects.filter(kpi__scorecard__organisation=organisation).count(),
        initiatives=Initiative.objects.filter(scorecard__organisation=organisation).count(),
    )


def load_demo(today: date | None = None, data_root: Path | None = None) -> DemoResult:
    """Create whichever demo organisations are missing, with 24 months of history before ``today``.

    Must run inside an audit context (the CLI opens one with source "cli"); the writes are attributed to
    the demo superuser, keeping the caller's source, reason and correlation id. Nothing is written in the
    future: values for the last month are entered no later than the start of ``today``. Each organisation's
    generated raw data goes to a folder of its own under ``data_root`` (``$FOURFOLD_DATA_DIR/demo-data``),
    where it stays as the data source its computed KPIs are computed from.
    """
    today = today or date.today()
    data_root = data_root or data_dir() / "demo-data"
    outer = current_audit_context()
    as_of = min(timezone.now(), timezone.make_aware(datetime.combine(today, time.min)))
    outcomes: list[OrganisationOutcome] = []
    with transaction.atomic():
        superuser = ensure_superuser()
        with audit_context(
            actor=superuser,
            source=outer.source,
            reason=outer.reason or "Demo data",
            correlation_id=outer.correlation_id,
        ):
            for spec in ORGANISATIONS:
                organisation = Organisation.objects.filter(slug=spec.slug).first()
                created = organisation is None
                if organisation is None:
                    organisation = OrganisationBuilder(
                        spec, by=superuser, today=today, as_of=as_of, data_root=data_root
                    ).build()
                outcomes.append(_outcome(organisation, created=created))
    superuser_login = Login(SUPERUSER_USERNAME, demo_password(SUPERUSER), "superuser", "all organisations")
    logins = [superuser_login, *(login for spec in ORGANISATIONS for login in logins_of(spec))]
    return DemoResult(organisations=tuple(outcomes), logins=tuple(logins))
