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


def run_gunicorn(*, host: str, port: int, workers: int) -> None:
    """Serve the WSGI app with gunicorn; static files come from whitenoise, collected first."""
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    call_command("collectstatic", interactive=False, verbosity=0)
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
) -> None:
    """Run the production web server (gunicorn, static files by whitenoise)."""
    start_django()
    if migrate:
        migrate_database()
    run_gunicorn(host=host, port=port, workers=workers)


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
        run_gunicorn(host="127.0.0.1", port=port, workers=2)


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
        out, end=last_month, customers=customers, orders=orders, months=months, seed=seed, bad_rows=bad_rows
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
        result = compute(definitions, tables, grain=grain, by=by, keys=keys)
    except ValueError as error:
        raise fail(str(error)) from None
    pyarrow.csv.write_csv(result, out)
    elapsed = time.perf_counter() - started
    typer.echo(f"Wrote {result.num_rows} rows for {len(keys)} KPIs to {out} in {elapsed:.1f} s.")


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
