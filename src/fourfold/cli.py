"""The ``fourfold`` command: everything an operator scripts, in one place.

Each command that writes data runs inside an audit context with source "cli", so changes made from a
terminal appear in the history like any other.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from fourfold.environment import data_dir, env_bool

app = typer.Typer(
    name="fourfold",
    help="Fourfold: an open-source Balanced Scorecard platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def start_django() -> None:
    """Configure Django once for commands that need the database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fourfold.settings")
    import django

    django.setup()


def fail(message: str) -> typer.Exit:
    """Print an error the way every command does and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def migrate_database() -> None:
    """Bring the database schema up to date, quietly."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def run_gunicorn(*, host: str, port: int, workers: int, with_worker: bool = False) -> None:
    """Serve the WSGI app with gunicorn; static files come from whitenoise, collected first.

    ``with_worker`` also runs ``fourfold worker`` for as long as the server runs, so a one-machine install
    (and the demo) runs background tasks without a second command.
    """
    import atexit
    import subprocess
    import sys

    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    # With the static files system checks, which warn when the front end was not built (ui.W001).
    call_command("collectstatic", interactive=False, verbosity=0, skip_checks=False)
    if with_worker:
        background = subprocess.Popen([sys.executable, "-m", "fourfold.cli", "worker"])
        server = os.getpid()

        def stop_worker() -> None:
            # Only the server stops it: gunicorn's forked workers inherit this handler when they exit.
            if os.getpid() == server:
                background.terminate()

        atexit.register(stop_worker)
    from fourfold.wsgi import application

    class FourfoldServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return application

    typer.echo(f"Fourfold is serving on http://{host}:{port}/ (Ctrl+C stops it)")
    FourfoldServer().run()


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 to accept outside connections.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(min=1, help="gunicorn worker processes.")] = 2,
    migrate: Annotated[bool, typer.Option(help="Apply pending migrations before serving.")] = True,
    worker: Annotated[
        bool, typer.Option("--worker", help="Also run the background-task worker (one-machine installs).")
    ] = False,
) -> None:
    """Run the production web server (gunicorn, static files by whitenoise)."""
    start_django()
    if migrate:
        migrate_database()
    run_gunicorn(host=host, port=port, workers=workers, with_worker=worker)


@app.command()
def setup(
    no_input: Annotated[
        bool,
        typer.Option(
            "--no-input",
            help="Read the admin from FOURFOLD_ADMIN_USERNAME, FOURFOLD_ADMIN_EMAIL and FOURFOLD_ADMIN_PASSWORD.",
        ),
    ] = False,
) -> None:
    """Apply database migrations and create the first admin (superuser) if there is none."""
    start_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    migrate_database()
    typer.echo("Database is up to date.")
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        typer.echo("An admin user exists already; nothing else to do.")
        return
    if no_input:
        username = os.environ.get("FOURFOLD_ADMIN_USERNAME", "")
        email = os.environ.get("FOURFOLD_ADMIN_EMAIL", "")
        password = os.environ.get("FOURFOLD_ADMIN_PASSWORD", "")
        missing = [
            name
            for name, value in (("FOURFOLD_ADMIN_USERNAME", username), ("FOURFOLD_ADMIN_PASSWORD", password))
            if not value
        ]
        if missing:
            raise fail(f"--no-input needs {' and '.join(missing)} in the environment")
    else:
        username = typer.prompt("Admin username", default="admin")
        email = typer.prompt("Admin email", default="")
        password = typer.prompt("Admin password", hide_input=True, confirmation_prompt=True)
    candidate = user_model(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise fail("the admin password was refused: " + " ".join(error.messages)) from error
    user_model.objects.create_superuser(username=username, email=email, password=password)
    typer.echo(f"Created admin user {username!r}. Sign in at /accounts/login/.")


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve", help="Start the web server afterwards.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8000,
) -> None:
    """Load the three demo organisations (run twice, it changes nothing) and print the demo logins."""
    start_django()
    from fourfold.audit.context import ChangeSource, audit_context
    from fourfold.demo.loader import load_demo

    migrate_database()
    with audit_context(actor=None, source=ChangeSource.CLI, reason="fourfold demo"):
        result = load_demo()
    typer.echo(result.summary())
    if serve:
        run_gunicorn(host="127.0.0.1", port=port, workers=2, with_worker=True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command, e.g. `fourfold manage createsuperuser` (`fourfold manage help` lists them)."""
    start_django()
    from django.core.management import execute_from_command_line

    from fourfold.audit.context import ChangeSource, audit_context

    with audit_context(actor=None, source=ChangeSource.CLI, reason="fourfold manage " + " ".join(ctx.args[:1])):
        execute_from_command_line(["fourfold manage", *ctx.args])


@app.command()
def score(
    file: Annotated[Path, typer.Argument(help="The scorecard file (YAML), e.g. examples/online-learning.yaml.")],
    period: Annotated[
        str | None,
        typer.Option(
            help="The period to score: 2026-03, 2026-Q1, 2026 or 2026-W07. "
            "Default: the latest period with a value, of the finest frequency."
        ),
    ] = None,
    span: Annotated[
        Literal["period", "ytd", "rolling"],
        typer.Option(help="The period alone, its fiscal year to date, or the rolling year ending with it."),
    ] = "period",
    output_format: Annotated[
        Literal["table", "json"], typer.Option("--format", help="A tree for people, or JSON for scripts.")
    ] = "table",
    today: Annotated[
        str | None, typer.Option(help="The day overdue values are judged on, as YYYY-MM-DD. Default: today.")
    ] = None,
) -> None:
    """Score a scorecard file, without a database, and explain every number (see docs/scorecard-file.md)."""
    import json
    from datetime import date

    from rich.console import Console

    from fourfold.engine.evaluate import evaluate_scorecard
    from fourfold.engine.model import Span, View
    from fourfold.engine.periods import PeriodKeyError
    from fourfold.scorefile.load import load_scorecard_file
    from fourfold.scorefile.problems import ScorecardFileError
    from fourfold.scorefile.report import json_report, print_table

    try:
        loaded = load_scorecard_file(file)
    except ScorecardFileError as error:
        raise fail(str(error)) from None
    try:
        judged_on = date.today() if today is None else date.fromisoformat(today)
    except ValueError:
        raise fail(f"--today must be a date like 2026-03-31, got {today!r}") from None
    if period is not None:
        try:
            view_period = loaded.model.calendar.parse(period)
        except PeriodKeyError as error:
            raise fail(f"--period: {error}") from None
    elif loaded.default_period is not None:
        view_period = loaded.default_period
    else:
        raise fail(f"{file} has no values to choose a period by; give one with --period")
    try:
        result = evaluate_scorecard(loaded.model, loaded.values, View(view_period, Span(span)), today=judged_on)
    except ValueError as error:  # the engine refuses what the loader let through: say so, without a traceback
        raise fail(f"{file} cannot be scored for {view_period.key}: {error}") from None
    if output_format == "json":
        typer.echo(json.dumps(json_report(result, judged_on), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print_table(result, loaded, Console(highlight=False))


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Folder to write the Parquet files to (created if missing).")] = Path(
        "demo-data"
    ),
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 10_000,
    orders: Annotated[int, typer.Option(min=0, help="Number of orders.")] = 100_000,
    survey_responses: Annotated[
        int | None,
        typer.Option(min=0, help="Number of survey answers. Default: about 0.55 per customer (NPS, CSAT, CES, staff)."),
    ] = None,
    tickets: Annotated[
        int | None, typer.Option(min=0, help="Number of support tickets. Default: half a ticket per customer.")
    ] = None,
    months: Annotated[int, typer.Option(min=1, help="Months of data, ending with --end.")] = 36,
    end: Annotated[
        str | None, typer.Option(help="The last month, as YYYY-MM. Default: the month before the current one.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same data.")] = 42,
    bad_rows: Annotated[
        bool, typer.Option("--bad-rows", help="Spoil a few rows on purpose, to see validation at work.")
    ] = False,
) -> None:
    """Write a realistic data set of every canonical table as Parquet, for trying the KPIs (see docs/metrics-data.md)."""
    from datetime import date, timedelta

    from rich.console import Console
    from rich.table import Table

    from fourfold.metrics.generate import generate_dataset

    if end is None:
        last_month = date.today().replace(day=1) - timedelta(days=1)
    else:
        try:
            last_month = date.fromisoformat(f"{end}-01")
        except ValueError:
            raise fail(f"--end must be a month like 2026-10, got {end!r}") from None
    dataset = generate_dataset(
        out,
        end=last_month,
        customers=customers,
        orders=orders,
        months=months,
        seed=seed,
        bad_rows=bad_rows,
        survey_responses=survey_responses,
        tickets=tickets,
    )
    listing = Table("table", "rows", "size")
    for written in dataset.tables:
        listing.add_row(written.name, f"{written.rows:,}", f"{written.size_bytes / 1e6:,.1f} MB")
    listing.add_section()
    listing.add_row("total", f"{sum(t.rows for t in dataset.tables):,}", f"{dataset.size_bytes / 1e6:,.1f} MB")
    Console(highlight=False).print(listing)
    typer.echo(
        f"Wrote {len(dataset.tables)} tables to {out} in {dataset.seconds:.1f} s: "
        f"{months} months to {last_month:%Y-%m}, seed {seed}."
    )
    for problem in dataset.injected:
        rows = ", ".join(map(str, problem.rows))
        typer.echo(f"Spoilt on purpose: {problem.table}.{problem.column}, {problem.kind} (rows {rows})")


metrics_app = typer.Typer(
    help="KPIs computed from raw business data: validate definitions, show their SQL, compute from files.",
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")


def load_metric_definitions(files: list[Path]) -> Any:
    """The standard library plus the given definition files, or a clean exit listing every problem."""
    from fourfold.metrics.definitions import DefinitionError, load_definitions
    from fourfold.metrics.library import LIBRARY_FILES

    try:
        return load_definitions(*LIBRARY_FILES, *files)
    except DefinitionError as error:
        raise fail(str(error)) from None


@metrics_app.command("validate")
def metrics_validate(
    files: Annotated[list[Path], typer.Argument(help="Definition files (YAML) to check with the library.")],
) -> None:
    """Check KPI definition files: every problem is listed with its file, line, KPI and field."""
    definitions = load_metric_definitions(files)
    own = [key for key in definitions if definitions.source_of(key) in {str(path) for path in files}]
    typer.echo(f"{len(definitions)} KPI definitions are valid ({len(own)} from your files).")


@metrics_app.command("explain")
def metrics_explain(
    key: Annotated[str, typer.Argument(help="The KPI key, e.g. nps or cac_by_channel.")],
    definitions_file: Annotated[
        list[Path] | None, typer.Option("--definitions", help="Extra definition files to load with the library.")
    ] = None,
    grain: Annotated[Literal["month", "quarter", "year"], typer.Option(help="The period grain.")] = "month",
) -> None:
    """Print a KPI's definition and the SQL it compiles to (DuckDB dialect)."""
    import ibis

    from fourfold.metrics.compile import compile_kpis
    from fourfold.metrics.definitions import describe_formula
    from fourfold.metrics.tables import TABLES

    definitions = load_metric_definitions(list(definitions_file or []))
    if key not in definitions:
        raise fail(f"unknown KPI {key!r}; known: {', '.join(sorted(definitions))}")
    kpi = definitions[key]
    typer.echo(f"{kpi.name} ({key}), from {definitions.source_of(key)}")
    typer.echo(f"  {describe_formula(kpi)}")
    for point in kpi.choice_points:
        typer.echo(f"  choice: {point}")
    backend = ibis.duckdb.connect()
    tables = {name: backend.create_table(name, schema=spec.schema, temp=True) for name, spec in TABLES.items()}
    typer.echo("")
    typer.echo(str(ibis.to_sql(compile_kpis(definitions, tables, grain=grain, keys=[key]), dialect="duckdb")))


@metrics_app.command("run")
def metrics_run(
    data: Annotated[Path, typer.Option("--data", help="Folder of canonical <table>.parquet / .csv files.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write the results to.")],
    mapping: Annotated[
        Path | None, typer.Option(help="A source mapping (YAML) instead of canonical files; see docs.")
    ] = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="KPI keys to compute (default: all).")] = None,
    grain: Annotated[Literal["month", "quarter", "year"], typer.Option(help="The period grain.")] = "month",
    by: Annotated[str | None, typer.Option(help="A segment to split by, e.g. segment, channel, region.")] = None,
    definitions_file: Annotated[
        list[Path] | None, typer.Option("--definitions", help="Extra definition files to load with the library.")
    ] = None,
    skip_invalid_rows: Annotated[
        bool, typer.Option("--skip-invalid-rows", help="Report and leave out bad rows instead of stopping.")
    ] = False,
    fiscal_year_start_month: Annotated[
        int, typer.Option(min=1, max=12, help="The month the fiscal year starts in, for quarters and years.")
    ] = 1,
) -> None:
    """Compute KPIs straight from files, without the application database, into a CSV file.

    Columns: kpi, period_start, segment, value, numerator, denominator, n, margin_of_error, too_few_responses.
    """
    import time

    import pyarrow.csv

    from fourfold.metrics.compile import compute, kpis_splittable_by
    from fourfold.metrics.sources import SourceError, load_directory, load_mapping, load_sources
    from fourfold.metrics.tables import DataValidationError

    started = time.perf_counter()
    definitions = load_metric_definitions(list(definitions_file or []))
    on_error: Literal["stop", "skip"] = "skip" if skip_invalid_rows else "stop"
    try:
        tables = (
            load_sources(load_mapping(mapping), on_error=on_error)
            if mapping
            else load_directory(data, on_error=on_error)
        )
    except (SourceError, DataValidationError) as error:
        raise fail(str(error)) from None
    for report in tables.reports.values():
        if report.rows_skipped:
            typer.echo(f"{report.table_name}: left out {report.rows_skipped} invalid rows", err=True)
    available = kpis_splittable_by(definitions, by) if by else list(definitions)
    keys = list(kpi) if kpi else available
    unknown = sorted(set(keys) - set(definitions))
    if unknown:
        raise fail(f"unknown KPI {', '.join(unknown)}; see `fourfold metrics explain KEY` for the known ones")
    try:
        result = compute(
            definitions, tables, grain=grain, by=by, keys=keys, fiscal_year_start_month=fiscal_year_start_month
        )
    except ValueError as error:
        raise fail(str(error)) from None
    pyarrow.csv.write_csv(result, out)
    elapsed = time.perf_counter() - started
    typer.echo(f"Wrote {result.num_rows} rows for {len(keys)} KPIs to {out} in {elapsed:.1f} s.")


@app.command("compute")
def compute_command(
    organisation: Annotated[
        list[str] | None, typer.Option("--org", help="Organisation slug (repeatable). Default: every one.")
    ] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only this data source, by name (repeatable).")] = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="Only KPIs with this key (repeatable).")] = None,
    period_from: Annotated[str, typer.Option("--from", help="First period, e.g. 2025-01 or 2025-Q1.")] = "",
    period_to: Annotated[
        str, typer.Option("--to", help="Last period. Default: the last one of each KPI's frequency that has ended.")
    ] = "",
    backend: Annotated[
        Literal["duckdb", "postgres", "spark"] | None,
        typer.Option(help="Compute on this backend instead of each source's own."),
    ] = None,
    changed_only: Annotated[
        bool, typer.Option("--changed-only", help="Only the periods whose raw rows changed since the last run.")
    ] = False,
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="Queue the computation for `fourfold worker` instead of running it here.")
    ] = False,
) -> None:
    """Compute KPIs from raw data into KPI values with their lineage (see docs/computed-kpis.md).

    Each data source is one run, all or nothing: bad rows stop it before anything is written, and a rerun
    on the same data changes nothing.
    """
    start_django()
    from django.core.exceptions import ValidationError
    from rich.console import Console

    from fourfold.audit.context import ChangeSource, audit_context
    from fourfold.computed.models import ComputationRun
    from fourfold.computed.services import computation_run, schedule_computation
    from fourfold.strategy.models import Organisation

    console = Console(highlight=False)
    organisations = list(Organisation.objects.filter(data_sources__computed_kpis__isnull=False).distinct())
    if organisation:
        found = {item.slug: item for item in Organisation.objects.filter(slug__in=organisation)}
        unknown = sorted(set(organisation) - found.keys())
        if unknown:
            raise fail(f"no organisation {', '.join(unknown)}; see `fourfold manage shell` or the admin for slugs")
        organisations = [found[slug] for slug in organisation]
    if not organisations:
        raise fail("no organisation has computed KPIs yet; bind one with `fourfold sources bind`")
    if enqueue:
        for item in organisations:
            task_id = schedule_computation(
                organisation=item, changed_only=changed_only, period_from=period_from, period_to=period_to
            )
            console.print(f"Queued the computation of {item.name} (task {task_id}); `fourfold worker` runs it.")
        return
    failed = False
    with audit_context(actor=None, source=ChangeSource.CLI, reason="fourfold compute"), _RichProgress(console) as bar:
        for item in organisations:
            sources = item.data_sources.filter(name__in=source) if source else None
            try:
                runs = computation_run(
                    organisation=item,
                    by=None,
                    trigger=ComputationRun.Trigger.CLI,
                    sources=sources,
                    kpi_keys=kpi or (),
                    period_from=period_from,
                    period_to=period_to,
                    backend=backend or "",
                    changed_only=changed_only,
                    progress=bar,
                )
            except ValidationError as error:
                raise fail(" ".join(error.messages)) from None
            for run in runs:
                failed |= run.status == ComputationRun.Status.FAILED
                _print_run(console, item.name, run)
    if failed:
        raise typer.Exit(code=2)


class _RichProgress:
    """A computation's stages as a progress bar on the terminal."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        )
        self._task: Any = None

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def stage(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=self._progress.tasks[-1].total)
        self._task = self._progress.add_task(description, total=total)

    def advance(self) -> None:
        self._progress.advance(self._task)


def _print_run(console: Any, organisation: str, run: Any) -> None:
    """One run's outcome: what was written, what had no data and why, or what went wrong."""
    took = f"{run.seconds:.1f} s, " if run.seconds is not None else ""
    where = f"{organisation} / {run.source_name}"
    if run.status == "failed":
        console.print(f"[red]{where}: failed[/red] ({took}run {run.id})")
        console.print(run.message, markup=False, soft_wrap=True)
        return
    counts = (
        f"{run.values_created} values created, {run.values_changed} changed, "
        f"{run.values_unchanged} unchanged, {run.values_withdrawn} withdrawn"
    )
    console.print(f"{where}: {counts} ({took}run {run.id})", markup=False, soft_wrap=True)
    for table, rows in sorted(run.rows_skipped.items()):
        console.print(f"  {table}: left out {rows} invalid rows", markup=False)
    for note in run.notes[:10]:
        console.print(f"  no value for {note['kpi']} {note['period']}: {note['reason']}", markup=False, soft_wrap=True)
    if len(run.notes) > 10:
        console.print(f"  … and {len(run.notes) - 10} more periods without a value (see the run in the web)")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run what is queued now, then stop.")] = False,
) -> None:
    """Run background tasks (scheduled computations, reminders, reports) until stopped."""
    start_django()
    from django.core.management import call_command

    migrate_database()
    options = ["--batch", "--no-startup-delay"] if once else []
    call_command("db_worker", "--queue-name", "default", *options)


sources_app = typer.Typer(
    help="Where an organisation's raw data comes from, and which KPIs are computed from it.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")


def acting_admin(username: str) -> Any:
    """The user a configuration command acts as (``--as``): its permissions are checked and it is audited."""
    from fourfold.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise fail(f"no active user {username!r}")
    return user


@sources_app.command("list")
def sources_list(
    organisation: Annotated[str | None, typer.Option("--org", help="Organisation slug. Default: every one.")] = None,
) -> None:
    """List data sources with the KPIs computed from each and their last run."""
    start_django()
    from rich.console import Console
    from rich.table import Table

    from fourfold.computed.selectors import sources_with_latest_runs

    table = Table("organisation", "source", "kind", "location", "KPIs", "last run")
    for summary in sources_with_latest_runs(organisation_slug=organisation):
        item, latest = summary.source, summary.latest
        last = "never" if latest is None else f"{latest.started_at:%Y-%m-%d %H:%M} {latest.get_status_display()}"
        table.add_row(
            item.organisation.name, item.name, item.get_kind_display(), item.location, str(summary.kpis), last
        )
    Console(highlight=False).print(table)


@sources_app.command("add")
def sources_add(
    organisation: Annotated[str, typer.Option("--org", help="Organisation slug.")],
    name: Annotated[str, typer.Option(help="A name for the source, e.g. Warehouse.")],
    acting: Annotated[str, typer.Option("--as", help="Your username (an organisation admin).")],
    folder: Annotated[
        Path | None, typer.Option(help="A folder of canonical files (orders.parquet, customers.csv…).")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="A source mapping (YAML); see docs/metrics-data.md.")] = None,
    definitions: Annotated[Path | None, typer.Option(help="Your own KPI definitions (YAML) to add.")] = None,
    backend: Annotated[Literal["duckdb", "postgres", "spark"], typer.Option(help="Where to compute.")] = "duckdb",
    skip_invalid_rows: Annotated[
        bool, typer.Option("--skip-invalid-rows", help="Report and leave out bad rows instead of stopping.")
    ] = False,
) -> None:
    """Add a data source to an organisation."""
    start_django()
    from django.core.exceptions import PermissionDenied, ValidationError

    from fourfold.audit.context import ChangeSource, audit_context
    from fourfold.computed.models import DataSource
    from fourfold.computed.services import data_source_create
    from fourfold.strategy.models import Organisation

    if (folder is None) == (mapping is None):
        raise fail("give either --folder or --mapping")
    found = Organisation.objects.filter(slug=organisation).first()
    if found is None:
        raise fail(f"no organisation {organisation!r}")
    user = acting_admin(acting)
    location = (folder or mapping.parent).resolve()  # type: ignore[union-attr]
    try:
        with audit_context(actor=user, source=ChangeSource.CLI, reason="fourfold sources add"):
            data_source_create(
                by=user,
                organisation=found,
                name=name,
                location=str(location),
                kind=DataSource.Kind.FOLDER if folder else DataSource.Kind.MAPPING,
                mapping=mapping.read_text() if mapping else "",
                definitions=definitions.read_text() if definitions else "",
                backend=backend,
                skip_invalid_rows=skip_invalid_rows,
            )
    except (ValidationError, PermissionDenied) as error:
        raise fail(_described_validation(error)) from None
    typer.echo(f"Added the data source {name!r} to {found.name}.")


@sources_app.command("bind")
def sources_bind(
    organisation: Annotated[str, typer.Option("--org", help="Organisation slug.")],
    scorecard: Annotated[str, typer.Option(help="The scorecard's name.")],
    kpi: Annotated[str, typer.Option("--kpi", help="The KPI's key on that scorecard.")],
    source: Annotated[str, typer.Option(help="The data source's name.")],
    metric: Annotated[str, typer.Option(help="The definition to compute, e.g. nps (see docs/kpi-library.md).")],
    acting: Annotated[str, typer.Option("--as", help="Your username (an editor of the scorecard).")],
    segment_by: Annotated[str, typer.Option(help="A dimension to take one segment of, e.g. segment.")] = "",
    segment: Annotated[str, typer.Option(help="That segment, e.g. Enterprise.")] = "",
) -> None:
    """Compute a KPI from a data source, as one metric of the library or of the source's own definitions."""
    start_django()
    from django.core.exceptions import PermissionDenied, ValidationError

    from fourfold.audit.context import ChangeSource, audit_context
    from fourfold.computed.models import DataSource
    from fourfold.computed.services import computed_kpi_set
    from fourfold.measures.models import Kpi

    user = acting_admin(acting)
    target = Kpi.objects.filter(scorecard__organisation__slug=organisation, scorecard__name=scorecard, key=kpi).first()
    if target is None:
        raise fail(f"no KPI {kpi!r} on a scorecard {scorecard!r} of {organisation!r}")
    data_source = DataSource.objects.filter(organisation__slug=organisation, name=source).first()
    if data_source is None:
        raise fail(f"no data source {source!r} in {organisation!r}; add one with `fourfold sources add`")
    try:
        with audit_context(actor=user, source=ChangeSource.CLI, reason="fourfold sources bind"):
            computed_kpi_set(
                by=user, kpi=target, source=data_source, metric=metric, segment_by=segment_by, segment=segment
            )
    except (ValidationError, PermissionDenied) as error:
        raise fail(_described_validation(error)) from None
    typer.echo(f"{target.name} is now computed as {metric}; run `fourfold compute --org {organisation}`.")


def _described_validation(error: Any) -> str:
    """A Django validation error as lines of ``field: message``."""
    if hasattr(error, "message_dict"):
        return "\n".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(getattr(error, "messages", [str(error)]))


def ensure_secret_key(data_dir: Path) -> None:
    """Give a local install a stable secret key kept in its data folder, unless one is configured."""
    if os.environ.get("SECRET_KEY") or env_bool("DEBUG", default=False):
        return
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    os.environ["SECRET_KEY"] = key_file.read_text().strip()


def main() -> None:
    """Entry point of the ``fourfold`` console script."""
    local_files = data_dir()
    # The default SQLite database and the generated key live here; SQLite cannot create the folder itself.
    local_files.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(local_files)
    app(prog_name="fourfold")


if __name__ == "__main__":
    main()
