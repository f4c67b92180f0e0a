"""Sources: files and databases mapped onto the canonical tables, and the errors a person meets on the way."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

import duckdb
import ibis
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fourfold.metrics.sources import (
    CsvSource,
    ParquetSource,
    SourceError,
    SourceMapping,
    load_directory,
    load_mapping,
    load_sources,
)
from fourfold.metrics.tables import TABLES, DataValidationError, ProblemKind

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"

CRM_CSV = """CustomerID,Created,Segment,Member
C1,31/01/2026,Enterprise,yes
C2,15/02/2026,Consumer,no
"""


def write_mapping(folder: Path, text: str) -> Path:
    path = folder / "sources.yaml"
    path.write_text(text)
    return path


def rows(table):
    return table.to_pyarrow().to_pylist()


def test_a_csv_file_with_its_own_column_names_delimiter_and_date_format(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "crm.csv").write_text(CRM_CSV.replace(",", ";"))
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            """
tables:
  customers:
    kind: csv
    path: exports/crm.csv
    delimiter: ";"
    date_format: "%d/%m/%Y"
    columns: {id: CustomerID, signup_date: Created, segment: Segment, loyalty_member: Member}
""",
        )
    )
    loaded = load_sources(mapping)
    assert list(loaded) == ["customers"]
    assert loaded["customers"].schema() == TABLES["customers"].schema
    assert rows(loaded["customers"]) == [
        {
            "id": "C1",
            "signup_date": dt.date(2026, 1, 31),
            "segment": "Enterprise",
            "channel": None,
            "region": None,
            "plan": None,
            "loyalty_member": True,
        },
        {
            "id": "C2",
            "signup_date": dt.date(2026, 2, 15),
            "segment": "Consumer",
            "channel": None,
            "region": None,
            "plan": None,
            "loyalty_member": False,
        },
    ]
    assert loaded.reports["customers"].ok


def test_an_excel_sheet_with_constants_for_what_the_export_leaves_out(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["The answers are on the next sheet."])
    sheet = workbook.create_sheet("NPS")
    sheet.append(["Response", "Customer", "Score", "Answered"])
    sheet.append(["r1", "C1", 9, dt.datetime(2026, 3, 1, 10, 30)])
    sheet.append(["r2", "C2", 3, "2026-03-02 11:00"])  # a date typed as text: the column becomes text
    sheet.append([None, None, None, None])
    workbook.save(tmp_path / "surveys.xlsx")
    mapping = SourceMapping.model_validate(
        {
            "base_dir": tmp_path,
            "tables": {
                "survey_responses": {
                    "kind": "excel",
                    "path": "surveys.xlsx",
                    "sheet": "NPS",
                    "columns": {
                        "id": "Response",
                        "respondent_id": "Customer",
                        "score": "Score",
                        "submitted_at": "Answered",
                    },
                    "constants": {"survey_kind": "nps", "scale_max": 10},
                }
            },
        }
    )
    loaded = load_sources(mapping)
    assert [
        (row["id"], row["survey_kind"], row["score"], row["scale_max"]) for row in rows(loaded["survey_responses"])
    ] == [
        ("r1", "nps", 9, 10),
        ("r2", "nps", 3, 10),
    ]
    assert [row["submitted_at"] for row in rows(loaded["survey_responses"])] == [
        dt.datetime(2026, 3, 1, 10, 30),
        dt.datetime(2026, 3, 2, 11, 0),
    ]


def test_a_folder_of_canonical_parquet_and_csv_files(tmp_path):
    pq.write_table(
        pa.table(
            {"id": ["P1", "P2"], "launch_date": [dt.date(2024, 5, 1), dt.date(2026, 1, 1)], "kind": ["Software", None]}
        ),
        tmp_path / "products.parquet",
    )
    (tmp_path / "reviews.csv").write_text("review_date,platform,rating\n2026-03-01,Google,5\n2026-03-02,G2,4.5\n")
    (tmp_path / "notes.txt").write_text("not data")
    loaded = load_directory(tmp_path)
    assert sorted(loaded) == ["products", "reviews"]
    assert [row["rating"] for row in rows(loaded["reviews"])] == [5.0, 4.5]
    assert [row["launch_date"] for row in rows(loaded["products"])] == [dt.date(2024, 5, 1), dt.date(2026, 1, 1)]


def test_a_folder_with_a_file_that_names_no_table_is_refused(tmp_path):
    (tmp_path / "order.csv").write_text("id\n1\n")
    with pytest.raises(SourceError, match=r"order\.csv does not name a canonical table \(did you mean 'orders'\?\)"):
        load_directory(tmp_path)


def test_problems_of_all_tables_come_in_one_error_and_nothing_is_registered(tmp_path):
    (tmp_path / "orders.csv").write_text("id,customer_id,order_date,amount\no1,c1,2026-03-01,-5\n")
    (tmp_path / "reviews.csv").write_text("review_date,rating\n2026-03-01,9\n")
    backend = ibis.duckdb.connect()
    with pytest.raises(DataValidationError) as raised:
        load_directory(tmp_path, backend)
    assert [(problem.table, problem.column, problem.kind, problem.rows) for problem in raised.value.problems] == [
        ("orders", "amount", ProblemKind.NEGATIVE, (1,)),
        ("reviews", "rating", ProblemKind.OUT_OF_RANGE, (1,)),
    ]
    assert "orders.amount (orders.csv): negative in 1 row (row 1); expected 0 or more" in str(raised.value)
    assert (
        backend.raw_sql(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        == []
    )


def test_skip_mode_loads_the_valid_rows_and_reports_the_others(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "id,customer_id,order_date,amount\no1,c1,2026-03-01,5\no2,c1,2026-03-02,-5\no3,c1,2026-03-03,7\n"
    )
    loaded = load_directory(tmp_path, on_error="skip")
    assert [row["id"] for row in rows(loaded["orders"])] == ["o1", "o3"]
    assert loaded.reports["orders"].rows_skipped == 1
    assert [row["id"] for row in rows(loaded.reports["orders"].table)] == ["o1", "o3"]


def test_a_mapping_to_a_column_the_file_does_not_have_names_the_file_and_its_columns(tmp_path):
    (tmp_path / "crm.csv").write_text(CRM_CSV)
    mapping = SourceMapping(
        tables={
            "customers": CsvSource(kind="csv", path="crm.csv", columns={"id": "CustomerId", "signup_date": "Created"})
        },
        base_dir=tmp_path,
    )
    with pytest.raises(SourceError) as raised:
        load_sources(mapping)
    assert str(raised.value) == (
        "customers: the mapping names 'CustomerId', which crm.csv does not have; "
        "its columns are CustomerID, Created, Segment, Member"
    )


def test_a_required_column_left_unmapped_is_named_with_the_columns_there_are(tmp_path):
    (tmp_path / "crm.csv").write_text(CRM_CSV)
    mapping = SourceMapping(
        tables={"customers": CsvSource(kind="csv", path="crm.csv", columns={"id": "CustomerID"})}, base_dir=tmp_path
    )
    with pytest.raises(
        DataValidationError,
        match=r"customers\.signup_date \(crm\.csv\): missing column; expected "
        r"a column signup_date, or one mapped to it \(the table has id, Created, Segment, Member\)",
    ):
        load_sources(mapping)


def test_a_missing_file_is_named(tmp_path):
    mapping = SourceMapping(tables={"orders": ParquetSource(kind="parquet", path="orders.parquet")}, base_dir=tmp_path)
    with pytest.raises(SourceError, match=f"orders: the file {tmp_path}/orders.parquet does not exist"):
        load_sources(mapping)


def test_a_missing_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("FOURFOLD_TEST_SALES_DB", raising=False)
    mapping = load_mapping(
        write_mapping(
            tmp_path, "tables:\n  orders: {kind: database, url: '${FOURFOLD_TEST_SALES_DB}', table: orders}\n"
        )
    )
    with pytest.raises(SourceError, match="orders: the environment variable FOURFOLD_TEST_SALES_DB is not set"):
        load_sources(mapping)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("tables:\n  order: {kind: csv, path: o.csv}\n", "'order' is not a canonical table (did you mean 'orders'?)"),
        (
            "tables:\n  orders: {kind: csv, path: o.csv, columns: {amout: Total}}\n",
            "tables.orders.columns: 'amout' is not a column of orders; its columns are id, customer_id",
        ),
        (
            "tables:\n  orders: {kind: database, url: 'postgres://sales:s3cret@db/shop', table: orders}\n",
            "tables.orders.database.url: the url holds a password; keep credentials out of the mapping",
        ),
        ("tables:\n  orders: {kind: database, url: '${DB}'}\n", "names either a table or a query"),
        ("tables:\n  orders: {kind: xml, path: o.xml}\n", "tables.orders: Input tag 'xml' found using 'kind'"),
        ("- just a list\n", "must be a mapping with a 'tables:' key"),
    ],
)
def test_mistakes_in_a_mapping_file_are_explained(tmp_path, yaml_text, message):
    with pytest.raises(SourceError) as raised:
        load_mapping(write_mapping(tmp_path, yaml_text))
    assert message in str(raised.value)


def test_a_password_may_come_from_the_environment_inside_the_url(tmp_path):
    path = write_mapping(
        tmp_path, "tables:\n  orders: {kind: database, url: 'postgres://sales:${SALES_PASSWORD}@db/shop', table: o}\n"
    )
    assert load_mapping(path).tables["orders"].url == "postgres://sales:${SALES_PASSWORD}@db/shop"


def test_sqlite_and_duckdb_files_by_table_and_by_query(tmp_path):
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (ref TEXT, client TEXT, day TEXT, total REAL)")
        connection.execute("INSERT INTO sales VALUES ('o1', 'c1', '2026-03-01', 12.5), ('o2', 'c2', '2026-03-02', 4)")
    with duckdb.connect(str(tmp_path / "hr.duckdb")) as connection:
        connection.execute("CREATE TABLE staff AS SELECT 'e1' AS id, DATE '2020-01-06' AS hired")
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            """
tables:
  orders:
    kind: database
    url: sqlite://shop.db
    table: sales
    columns: {id: ref, customer_id: client, order_date: day, amount: total}
  employees:
    kind: database
    url: duckdb://hr.duckdb
    query: SELECT id, hired AS hire_date FROM staff
""",
        )
    )
    loaded = load_sources(mapping)
    assert [(row["id"], row["order_date"], row["amount"]) for row in rows(loaded["orders"])] == [
        ("o1", dt.date(2026, 3, 1), 12.5),
        ("o2", dt.date(2026, 3, 2), 4.0),
    ]
    assert rows(loaded["employees"])[0]["hire_date"] == dt.date(2020, 1, 6)


@pytest.fixture
def postgres():
    try:
        backend = ibis.connect(POSTGRES_URL)
    except Exception as error:  # no server here: say so instead of failing on something else
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    schema = f"fourfold_test_{uuid.uuid4().hex[:12]}"
    backend.raw_sql(f"CREATE SCHEMA {schema}")
    try:
        yield backend, schema
    finally:
        backend.raw_sql(f"DROP SCHEMA {schema} CASCADE")
        backend.disconnect()


def test_a_postgresql_table_read_with_the_url_from_the_environment(postgres, tmp_path, monkeypatch):
    backend, schema = postgres
    backend.raw_sql(
        f"CREATE TABLE {schema}.tickets (ticket_no INTEGER, opened TIMESTAMPTZ, closed TIMESTAMPTZ, kind TEXT);"
        f"INSERT INTO {schema}.tickets VALUES "
        "(1, '2026-03-01 10:00+02', '2026-03-01 12:00+02', 'question'),"
        "(2, '2026-03-02 09:00+00', '2026-03-02 08:00+00', 'complaint')"
    )
    monkeypatch.setenv("FOURFOLD_TEST_SUPPORT_DB", POSTGRES_URL.replace("postgres://", "postgresql://"))
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            f"""
tables:
  support_tickets:
    kind: database
    url: ${{FOURFOLD_TEST_SUPPORT_DB}}
    table: {schema}.tickets
    columns: {{id: ticket_no, opened_at: opened, resolved_at: closed}}
""",
        )
    )
    loaded = load_sources(mapping, on_error="skip")
    assert [(row["id"], row["opened_at"], row["kind"]) for row in rows(loaded["support_tickets"])] == [
        ("1", dt.datetime(2026, 3, 1, 8), "question")
    ]
    (problem,) = loaded.reports["support_tickets"].problems
    assert (problem.column, problem.kind, problem.rows) == ("resolved_at", ProblemKind.OUT_OF_ORDER, (2,))
    assert problem.source == f"{schema}.tickets in ${{FOURFOLD_TEST_SUPPORT_DB}}"


def test_tables_registered_on_postgresql_are_temporary_and_hold_the_canonical_types(postgres, tmp_path):
    backend, _ = postgres
    (tmp_path / "reviews.csv").write_text("review_date,platform,rating\n2026-03-01,Google,5\n")
    loaded = load_directory(tmp_path, backend)
    assert loaded.backend is backend
    assert rows(loaded["reviews"]) == [{"review_date": dt.date(2026, 3, 1), "platform": "Google", "rating": 5.0}]
    temporary = backend.raw_sql(
        "SELECT count(*) FROM pg_tables WHERE tablename = 'reviews' AND schemaname LIKE 'pg_temp%'"
    )
    assert temporary.fetchone()[0] == 1
