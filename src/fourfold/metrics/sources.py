"""Where the canonical tables come from: files and databases, mapped onto the canonical columns.

A company's data never arrives with the canonical names: the CRM calls the customer id ``CustomerID`` and
writes dates as 31/03/2026, the survey tool exports one sheet per survey, the orders live in PostgreSQL.
A *source mapping* (YAML, validated by Pydantic) says for each canonical table where its rows are and
which of their columns is which canonical one::

    tables:
      customers:
        kind: csv
        path: exports/crm_customers.csv
        date_format: "%d/%m/%Y"
        columns: {id: CustomerID, signup_date: Created, segment: Segment}
      orders:
        kind: database
        url: ${SALES_DB_URL}
        table: sales.orders
      survey_responses:
        kind: excel
        path: surveys.xlsx
        sheet: NPS
        columns: {id: ResponseID, score: Score, submitted_at: Date}
        constants: {survey_kind: nps, scale_max: 10}

Credentials never go into a mapping: a database URL names an environment variable, ``${SALES_DB_URL}``,
read when the data is loaded, and a URL with a literal password is refused.

:func:`load_sources` reads every source, validates every table (all problems of all tables in one
error) and registers the canonical tables on an Ibis backend. Files are read by DuckDB, which also runs the
validation; rows from another database are copied into DuckDB for it. :func:`load_directory` loads a
folder of files that already have the canonical names, such as ``fourfold demo-data`` writes.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import yaml
from ibis.backends import BaseBackend
from ibis.backends.duckdb import Backend as DuckDBBackend
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from fourfold.metrics.tables import (
    TABLES,
    DataValidationError,
    OnError,
    ValidationReport,
    check_table,
    connect_duckdb,
    drop_storage,
    raise_for_problems,
)

ENVIRONMENT_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${NAME}``: the value of an environment variable, put in when the data is loaded."""

FILE_DATABASES = {"duckdb", "sqlite"}
"""URL schemes whose path is a file, read like a file path: relative to the mapping's folder."""


class SourceError(ValueError):
    """A source cannot be read as the mapping says: a missing file, an unknown column, an unset variable."""


# -- The mapping ----------------------------------------------------------------------------------------------


class _Source(BaseModel):
    """What every kind of source has: the column mapping, constants, and the formats of its dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical column name → the source's column name; canonical names need no entry.",
    )
    constants: dict[str, str | int | float | bool | date] = Field(
        default_factory=dict,
        description="Canonical columns with the same value in every row, e.g. survey_kind: nps.",
    )
    date_format: str | None = Field(default=None, description="strptime format of date columns, e.g. %d/%m/%Y.")
    timestamp_format: str | None = Field(default=None, description="strptime format of timestamp columns.")


class CsvSource(_Source):
    kind: Literal["csv"]
    path: str = Field(description="File, or glob of files with the same columns; relative to the mapping.")
    delimiter: str | None = Field(default=None, description="Field separator; detected when not given.")


class ParquetSource(_Source):
    kind: Literal["parquet"]
    path: str = Field(description="File, or glob of files with the same columns; relative to the mapping.")


class ExcelSource(_Source):
    kind: Literal["excel"]
    path: str = Field(description="An .xlsx workbook; relative to the mapping.")
    sheet: str | int = Field(default=0, description="Sheet name, or position from 0.")


class DatabaseSource(_Source):
    kind: Literal["database"]
    url: str = Field(
        description="Database URL, normally ${VARIABLE}: postgres://…, duckdb:///file.db, sqlite:///file.db."
    )
    table: str | None = Field(default=None, description="Table or view, optionally schema.table.")
    query: str | None = Field(default=None, description="A SELECT to read instead of a table.")

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str) -> str:
        """Refuse a URL that carries its password: the mapping is shared, versioned, shown in errors."""
        password = urlsplit(url).password
        if password and not ENVIRONMENT_REFERENCE.fullmatch(password):
            raise ValueError(
                "the url holds a password; keep credentials out of the mapping: "
                "write url: ${SALES_DB_URL} and set SALES_DB_URL in the environment"
            )
        return url

    @model_validator(mode="after")
    def _table_or_query(self) -> DatabaseSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("a database source names either a table or a query, not both nor neither")
        return self


Source = Annotated[CsvSource | ParquetSource | ExcelSource | DatabaseSource, Field(discriminator="kind")]


class SourceMapping(BaseModel):
    """Where each canonical table comes from. Relative paths start from ``base_dir``, the mapping's folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: dict[str, Source]
    base_dir: Path = Path()

    @model_validator(mode="after")
    def _canonical_names(self) -> SourceMapping:
        """Table and column names must be canonical: a typo found now costs less than a KPI that stays empty."""
        if not self.tables:
            raise ValueError("tables: the mapping lists no tables")
        for name, source in self.tables.items():
            if name not in TABLES:
                raise ValueError(f"tables: {name!r} is not a canonical table{_suggestion(name, TABLES)}")
            known = TABLES[name].column_names
            for field, names in (("columns", source.columns), ("constants", source.constants)):
                unknown = [column for column in names if column not in known]
                if unknown:
                    raise ValueError(
                        f"tables.{name}.{field}: {', '.join(map(repr, unknown))} "
                        f"{'is not a column' if len(unknown) == 1 else 'are not columns'} of {name}; "
                        f"its columns are {', '.join(known)}"
                    )
            both = sorted(set(source.columns) & set(source.constants))
            if both:
                raise ValueError(f"tables.{name}: {', '.join(both)} is both mapped and a constant; keep one")
        return self


def _suggestion(name: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; the tables are {', '.join(known)}"


def load_mapping(path: Path) -> SourceMapping:
    """Read a mapping file; its relative paths then start from the file's own folder.

    Every mistake Pydantic finds is listed, each with where it is in the file.
    """
    try:
        text = path.read_text()
    except OSError as error:
        raise SourceError(f"cannot read the mapping {path}: {error.strerror}") from None
    return parse_mapping(text, base_dir=path.parent, name=str(path))


def parse_mapping(text: str, *, base_dir: Path, name: str = "the mapping") -> SourceMapping:
    """A mapping from its YAML text (as saved with an organisation's data source); relative paths start
    from ``base_dir``, or from the document's own ``base_dir`` taken relative to it."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SourceError(f"{name} is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise SourceError(f"{name} must be a mapping with a 'tables:' key")
    folder = base_dir / document.pop("base_dir", ".")
    try:
        return SourceMapping.model_validate({**document, "base_dir": folder})
    except ValidationError as error:
        lines = [f"- {_described(problem)}" for problem in error.errors()]
        raise SourceError(f"{name} is not a valid source mapping:\n" + "\n".join(lines)) from None


def _described(problem: ErrorDetails) -> str:
    """A Pydantic error as a line: where, then what; errors of the whole mapping say where themselves."""
    where = ".".join(str(part) for part in problem["loc"])
    message = problem["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


# -- Loading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedTables(Mapping[str, ir.Table]):
    """The canonical tables as registered on the backend, by name, with the validation report of each.

    It is a read-only mapping of table name to Ibis table; the tables exist for the life of the
    backend's connection (they are temporary tables, or temporary views on Spark).
    """

    tables: Mapping[str, ir.Table]
    reports: Mapping[str, ValidationReport]
    backend: BaseBackend

    def __getitem__(self, name: str) -> ir.Table:
        return self.tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def load_sources(
    mapping: SourceMapping, backend: BaseBackend | None = None, *, on_error: OnError = "stop"
) -> LoadedTables:
    """Read, validate and register every table of ``mapping`` on ``backend`` (a new in-memory DuckDB if none).

    Every table is validated before any is registered: with ``on_error="stop"`` one
    :class:`~fourfold.metrics.tables.DataValidationError` lists the problems of all tables and nothing is
    registered; with ``"skip"`` the invalid rows are left out and :attr:`LoadedTables.reports` says which.
    A source that cannot be read at all raises :class:`SourceError` at once.

    Tables are registered as temporary tables named after the canonical table, so that they never replace
    a table of the user's own database and disappear with the connection.
    """
    target = backend if backend is not None else connect_duckdb()
    # Validation needs DuckDB; when the target is one, the data is read there and never copied.
    staging = target if isinstance(target, DuckDBBackend) else connect_duckdb()
    views: list[str] = []
    try:
        reports: dict[str, ValidationReport] = {}
        for name, source in mapping.tables.items():
            raw, description = _read(name, source, staging, mapping.base_dir, views)
            reports[name] = check_table(
                TABLES[name],
                _canonical_columns(name, source, raw, description),
                on_error=on_error,
                date_format=source.date_format,
                timestamp_format=source.timestamp_format,
                source=description,
                connection=staging,
            )
        try:
            raise_for_problems([problem for report in reports.values() for problem in report.problems], on_error)
        except DataValidationError:
            for report in reports.values():
                drop_storage(staging, report.storage)
            raise
        tables = {name: _register(target, staging, name, report.table) for name, report in reports.items()}
        if target is not staging:
            for report in reports.values():
                drop_storage(staging, report.storage)
    finally:
        for view in views:
            staging.drop_view(view, force=True)
    return LoadedTables(tables, {name: replace(report, table=tables[name]) for name, report in reports.items()}, target)


def load_directory(directory: Path, backend: BaseBackend | None = None, *, on_error: OnError = "stop") -> LoadedTables:
    """Load ``<table>.parquet`` and ``<table>.csv`` files that already have the canonical columns.

    A data file whose name is not a canonical table is an error rather than ignored: ``order.csv`` for
    ``orders.csv`` would otherwise leave a table silently empty.
    """
    if not directory.is_dir():
        raise SourceError(f"{directory} is not a folder")
    files = sorted(path for path in directory.iterdir() if path.suffix in {".parquet", ".csv"})
    if not files:
        raise SourceError(f"{directory} has no .parquet or .csv files")
    unknown = [path.name for path in files if path.stem not in TABLES]
    if unknown:
        raise SourceError(
            f"{directory}: {', '.join(unknown)} {'does' if len(unknown) == 1 else 'do'} not name a canonical "
            f"table{_suggestion(Path(unknown[0]).stem, TABLES)}"
        )
    stems = [path.stem for path in files]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        raise SourceError(f"{directory}: {', '.join(twice)} comes both as .parquet and as .csv; keep one")
    tables: dict[str, Source] = {
        path.stem: ParquetSource(kind="parquet", path=path.name)
        if path.suffix == ".parquet"
        else CsvSource(kind="csv", path=path.name)
        for path in files
    }
    return load_sources(SourceMapping(tables=tables, base_dir=directory), backend, on_error=on_error)


def _read(name: str, source: Source, staging: DuckDBBackend, base_dir: Path, views: list[str]) -> tuple[ir.Table, str]:
    """The source's rows as a table on ``staging``, and how to name the source in messages."""
    if isinstance(source, DatabaseSource):
        where = f"{source.table or 'query'} in {source.url}"
        return ibis.memtable(_database_rows(name, source, base_dir)), where
    path = _existing_path(name, source.path, base_dir)
    where = str(path.relative_to(base_dir) if path.is_relative_to(base_dir) else path)
    if isinstance(source, ExcelSource):
        return ibis.memtable(_excel_rows(name, path, source.sheet)), where
    try:
        if isinstance(source, CsvSource):
            # Every field is read as text so that validation, not DuckDB's guess from a sample of
            # rows, decides what a date like 03/04/2026 is.
            options = {"delim": source.delimiter} if source.delimiter else {}
            table = staging.read_csv(str(path), all_varchar=True, **options)
        else:
            table = staging.read_parquet(str(path))
    except Exception as error:  # DuckDB's errors for unreadable files have no common base class
        raise SourceError(f"{name}: cannot read {where}: {error}") from None
    views.append(table.get_name())
    return table, where


def _existing_path(name: str, text: str, base_dir: Path) -> Path:
    """The file a source names, from the mapping's folder; checked here, as DuckDB's own error is obscure."""
    path = Path(_expand(text, name))
    path = path if path.is_absolute() else base_dir / path
    if any(character in path.name for character in "*?["):
        if not any(path.parent.glob(path.name)):
            raise SourceError(f"{name}: no file matches {path}")
    elif not path.is_file():
        raise SourceError(f"{name}: the file {path} does not exist")
    return path


def _expand(text: str, table: str) -> str:
    """``text`` with every ``${NAME}`` replaced by the environment variable's value."""

    def value(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in os.environ:
            raise SourceError(f"{table}: the environment variable {variable} is not set (the mapping refers to it)")
        return os.environ[variable]

    return ENVIRONMENT_REFERENCE.sub(value, text)


def _canonical_columns(name: str, source: Source, table: ir.Table, where: str) -> ir.Table:
    """The table with its columns renamed to the canonical ones and the constants added.

    Columns the mapping does not mention keep their names: a canonical one is then found as it is, and
    the others show in the message of a missing column, to help write its mapping.
    """
    missing = [theirs for theirs in source.columns.values() if theirs not in table.columns]
    if missing:
        raise SourceError(
            f"{name}: the mapping names {', '.join(map(repr, missing))}, which {where} does not have; "
            f"its columns are {', '.join(table.columns)}"
        )
    selected: dict[str, ir.Value] = {}
    for column in TABLES[name].column_names:
        if column in source.constants:
            selected[column] = ibis.literal(source.constants[column])
        elif column in source.columns:
            selected[column] = table[source.columns[column]]
        elif column in table.columns:
            selected[column] = table[column]
    mapped = set(source.columns.values())
    others = {column: table[column] for column in table.columns if column not in selected and column not in mapped}
    return table.select(**selected, **others)


def _excel_rows(name: str, path: Path, sheet: str | int) -> pa.Table:
    """A worksheet as Arrow: its first row names the columns, and empty rows at its end are left out.

    DuckDB's own Excel reader is an extension it downloads on first use, which an offline server cannot
    do, so openpyxl reads the cells. A column whose cells are of different kinds (dates and text, say)
    becomes text, which validation then reads like a CSV field.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # not a workbook, or a damaged one: zip, XML and key errors alike
        raise SourceError(f"{name}: cannot read {path} as an Excel workbook: {error}") from None
    try:
        try:
            worksheet = workbook[sheet] if isinstance(sheet, str) else workbook.worksheets[sheet]
        except (KeyError, IndexError):
            raise SourceError(
                f"{name}: {path} has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}"
            ) from None
        header, *rows = list(worksheet.iter_rows(values_only=True)) or [()]
    finally:
        workbook.close()
    while rows and all(cell is None for cell in rows[-1]):
        rows.pop()
    # Rows may be of different lengths when the file does not record the sheet's size: pad them all.
    width = max(len(row) for row in [header, *rows])
    header, *rows = (tuple(row) + (None,) * (width - len(row)) for row in [header, *rows])
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    names = [str(title) if title is not None else f"column {position + 1}" for position, title in enumerate(header)]
    return pa.table([_arrow_column(values) for values in columns], names=names)


def _arrow_column(values: tuple[Any, ...]) -> pa.Array:
    """Cells as an Arrow array of the type Arrow finds for them, or as text when they are of mixed kinds."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if value is None else str(value) for value in values], pa.string())


def _database_rows(name: str, source: DatabaseSource, base_dir: Path) -> pa.Table:
    """The rows of a database table or query, read through the Ibis backend of the URL's scheme."""
    url = _database_url(_expand(source.url, name), base_dir)

    def failure(doing: str, error: Exception) -> SourceError:
        # Drivers raise errors of their own, whose text may hold the URL with its password: it is put
        # back as the mapping writes it.
        return SourceError(f"{name}: cannot {doing} {source.url}: {str(error).replace(url, source.url)}")

    try:
        connection = ibis.connect(url)
    except Exception as error:
        raise failure("connect to", error) from None
    try:
        if source.table is not None:
            schema, _, table = source.table.rpartition(".")
            return connection.table(table, database=schema or None).to_pyarrow()
        if isinstance(connection, DuckDBBackend):
            # Ibis 12's DuckDB backend asks a DuckDB 2 connection for a method it no longer has when it
            # infers a query's schema (fixed in Ibis after 12.0); DuckDB itself runs the query instead.
            return connection.con.sql(source.query).to_arrow_table()
        return connection.sql(source.query).to_pyarrow()
    except Exception as error:
        raise failure(f"read {source.table or 'the query'} from", error) from None
    finally:
        connection.disconnect()


def _database_url(url: str, base_dir: Path) -> str:
    """The URL as Ibis takes it: ``postgres`` for ``postgresql``, and file databases relative to the mapping.

    As in Ibis, the path of a file database follows the ``://``: ``duckdb:///srv/shop.duckdb`` is
    absolute, ``duckdb://shop.duckdb`` relative (here, to the mapping's folder, like every other path).
    """
    scheme, separator, path = url.partition("://")
    if scheme == "postgresql":
        scheme = "postgres"
    if scheme in FILE_DATABASES and path and not path.startswith("/"):
        path = str((base_dir / path).absolute())
    return scheme + separator + path


def _register(target: BaseBackend, staging: DuckDBBackend, name: str, table: ir.Table) -> ir.Table:
    """Put the validated table on the target backend under its canonical name, for this connection only.

    On the DuckDB connection that validated it, the rows are already in a temporary table; a temporary
    view gives them their canonical name without a copy.
    """
    if target is staging:
        staging.raw_sql(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {staging.compile(table)}')
        return staging.table(name)
    rows = ibis.memtable(staging.to_pyarrow(table))
    if target.name == "pyspark":  # Spark has temporary views, not temporary tables, whatever Ibis says
        return target.create_view(name, rows, overwrite=True)
    return target.create_table(name, rows, temp=True, overwrite=True)
