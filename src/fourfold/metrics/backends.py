"""The engines a computation runs on, by name: DuckDB embedded, PostgreSQL, or Spark (local or a cluster).

The same compiled definitions give the same numbers on each (the test suite checks it); what differs is
where the rows live while they are aggregated. DuckDB needs nothing. PostgreSQL reads a URL; Spark a master
URL (``local[*]`` by default, ``spark://host:7077`` or ``yarn`` for a cluster) and any other Spark setting
from the usual ``spark-defaults.conf`` / ``SPARK_CONF_DIR`` of the machine.
"""

from __future__ import annotations

import os
from typing import Literal

import ibis
from ibis.backends import BaseBackend

from fourfold.metrics.tables import connect_duckdb

BackendName = Literal["duckdb", "postgres", "spark"]
BACKENDS: tuple[BackendName, ...] = ("duckdb", "postgres", "spark")

POSTGRES_URL_VARIABLE = "FOURFOLD_METRICS_POSTGRES_URL"
"""The environment variable naming the PostgreSQL database computations run in (default: DATABASE_URL)."""
SPARK_MASTER_VARIABLE = "FOURFOLD_SPARK_MASTER"
"""The environment variable naming the Spark master (default ``local[*]``)."""


class BackendUnavailable(RuntimeError):
    """A backend was asked for that this installation cannot reach; the message says what to set or install."""


def connect(name: str) -> BaseBackend:
    """A new connection to the named backend, configured from the environment."""
    if name == "duckdb":
        return connect_duckdb()
    if name == "postgres":
        url = os.environ.get(POSTGRES_URL_VARIABLE) or os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            raise BackendUnavailable(
                f"computing on PostgreSQL needs a database URL: set {POSTGRES_URL_VARIABLE} "
                "(or run the application itself on PostgreSQL)"
            )
        return ibis.connect(url.replace("postgresql://", "postgres://", 1))
    if name == "spark":
        return _spark()
    raise BackendUnavailable(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")


def _spark() -> BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BackendUnavailable(
            "computing on Spark needs PySpark: pip install 'fourfold[spark]' (and Java 17 or later)"
        ) from None
    session = (
        SparkSession.builder.appName("fourfold")
        .master(os.environ.get(SPARK_MASTER_VARIABLE, "local[*]"))
        # Dates and times are compared in UTC on every backend; Spark would use the machine's zone.
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)
