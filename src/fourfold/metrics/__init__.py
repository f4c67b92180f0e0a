"""KPIs computed from raw business data: canonical input tables, their sources, and a demo data set.

Raw data (CRM exports, order tables, survey results, HR files) is read from CSV, Parquet, Excel or any SQL
database, mapped onto a fixed set of canonical tables (:mod:`~fourfold.metrics.tables`), validated, and
registered on an Ibis backend (DuckDB by default, or Spark or PostgreSQL), where the standard KPIs are
computed. Fixing the tables once is what lets one definition of a KPI run unchanged on every backend and on
every company's data.

Nothing in this package imports Django: the same code serves the web app, the command line and notebooks.
"""
