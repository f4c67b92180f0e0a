"""KPI definitions: what loads, what is refused and how the refusal points at the file, line, KPI and field."""

from __future__ import annotations

import doctest
import subprocess
import sys
import textwrap

import pytest
import yaml

from fourfold.metrics import definitions as definitions_module
from fourfold.metrics.definitions import (
    DefinitionError,
    RatioKpi,
    SurveyKpi,
    definitions_markdown,
    dependencies,
    describe_formula,
    fingerprint,
    load_definitions,
)

HEADER = """\
kpis:
  - key: revenue
    name: Revenue
    description: Order amounts.
    perspective: financial
    unit: currency
    direction: higher
    aggregation: sum
    type: simple
"""
"""A KPI whose type-specific fields each test writes, starting on line 10."""

MEASURE = "    measure: {table: orders, time: order_date, aggregate: sum, value: amount}\n"


def problems_of(*sources):
    with pytest.raises(DefinitionError) as raised:
        load_definitions(*sources)
    return [str(problem) for problem in raised.value.problems]


def kpi_text(key, kind, **fields):
    """One KPI as YAML text, with placeholder documentation."""
    document = {
        "key": key,
        "name": key,
        "description": "A test KPI.",
        "perspective": "customer",
        "unit": "number",
        "direction": "higher",
        "aggregation": "average",
        "type": kind,
        **fields,
    }
    return textwrap.indent(yaml.safe_dump([document], sort_keys=False), "  ")


def document(*kpis):
    return "kpis:\n" + "".join(kpis)


SIMPLE = kpi_text(
    "revenue", "simple", measure={"table": "orders", "time": "order_date", "aggregate": "sum", "value": "amount"}
)


def test_a_definition_of_each_type_loads():
    loaded = load_definitions(
        document(
            SIMPLE,
            kpi_text(
                "conversion",
                "ratio",
                aggregation="ratio",
                scale=100,
                numerator={
                    "table": "leads",
                    "time": "created_date",
                    "aggregate": "count",
                    "where": [{"column": "converted_date", "present": True}],
                },
                denominator={"table": "leads", "time": "created_date", "aggregate": "count"},
                segments=["channel"],
            ),
            kpi_text("per_conversion", "derived", formula="revenue / conversion"),
            kpi_text(
                "ytd",
                "cumulative",
                window="year_to_date",
                measure={"table": "orders", "time": "order_date", "aggregate": "sum", "value": "amount"},
            ),
            kpi_text("growth", "growth", of="revenue", compare_to="same_period_last_year"),
            kpi_text(
                "churn",
                "cohort",
                aggregation="ratio",
                basis="count",
                outcome="churned",
                population={
                    "table": "subscriptions",
                    "entity": "customer_id",
                    "from": "start_date",
                    "until": "end_date",
                },
            ),
            kpi_text(
                "csat",
                "survey",
                aggregation="ratio",
                statistic="top_box",
                responses={"table": "survey_responses", "time": "submitted_at"},
                score="score",
                scale_max="scale_max",
                top_box=2,
            ),
        )
    )
    assert list(loaded) == ["revenue", "conversion", "per_conversion", "ytd", "growth", "churn", "csat"]
    assert loaded.source_of("churn") == "<text>"
    conversion = loaded["conversion"]
    assert isinstance(conversion, RatioKpi)
    assert conversion.numerator.where[0].operator == "present"
    assert dependencies(loaded["per_conversion"]) == {"revenue", "conversion"}
    assert dependencies(loaded["growth"]) == {"revenue"}
    assert dependencies(loaded["revenue"]) == frozenset()
    csat = loaded["csat"]
    assert isinstance(csat, SurveyKpi)
    assert csat.min_responses == 30


def test_definitions_load_from_files_and_name_them(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(document(SIMPLE))
    bad.write_text(document(kpi_text("growth", "growth", of="revenu", compare_to="previous_period")))
    assert load_definitions(good).source_of("revenue") == str(good)
    assert problems_of(good, bad) == [
        f"{bad}, line 2, KPI 'growth', field 'of': unknown KPI 'revenu'; did you mean 'revenue'?"
    ]


def test_schema_problems_name_the_line_kpi_and_field():
    text = HEADER + "    measure: {table: orders, time: order_date, aggregate: summ, value: amount, tim: x}\n"
    text += "    segmnts: [region]\n"
    assert problems_of(text) == [
        "<text>, line 10, KPI 'revenue', field 'measure.aggregate': input should be 'sum', 'count', "
        "'count_distinct', 'avg', 'median', 'p90', 'min' or 'max', got \"summ\"",
        "<text>, line 10, KPI 'revenue', field 'measure.tim': unknown field 'tim'; did you mean 'time'?",
        "<text>, line 11, KPI 'revenue', field 'segmnts': unknown field 'segmnts'; did you mean 'segments'?",
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            "    measure: {table: orders, time: order_date, active: {from: a, at: period_end}, aggregate: sum, value: amount}\n",
            "field 'measure': give either 'time' (rows counted in the period of a date) or 'active'",
        ),
        (
            "    measure: {table: orders, time: order_date, aggregate: sum}\n",
            "field 'measure': 'sum' needs a value to aggregate",
        ),
        (
            "    measure: {table: orders, time: order_date, aggregate: sum, value: 'round(amount)'}\n",
            "field 'measure': 'round(amount)' may only use numbers, names, + - * / and brackets, not round(...)",
        ),
        (
            "    measure: {table: orders, time: order_date, aggregate: sum, value: amount, at_least: 2}\n",
            "field 'measure': 'at_least' only applies to count_distinct",
        ),
        (
            MEASURE.replace("}", ", where: [{column: kind, equals: a, present: true}]}"),
            "field 'measure.where[0]': a condition needs exactly one of equals, not_equals, one_of, present, "
            "at_least, at_most; got equals, present",
        ),
        (
            MEASURE.replace("}", ", where: [{column: Kind, equals: a}]}"),
            "field 'measure.where[0].column': string should match pattern",
        ),
        ("", "field 'measure': is required"),
    ],
)
def test_a_measure_must_make_sense(fields, problem):
    [found] = problems_of(HEADER + fields)
    assert found.startswith(f"<text>, line {10 if fields else 2}, KPI 'revenue', {problem}")


@pytest.mark.parametrize(
    ("kpi", "problem"),
    [
        (
            kpi_text("wait", "simple", unit="duration", measure={"table": "t", "time": "d", "aggregate": "count"}),
            "KPI 'wait', field 'duration_unit': give a duration_unit (minutes, hours or days) for unit: duration",
        ),
        (
            kpi_text("total", "simple", aggregation="ratio", measure={"table": "t", "time": "d", "aggregate": "count"}),
            "KPI 'total', field 'aggregation': a simple KPI has no numerator and denominator to recompute a ratio",
        ),
        (
            kpi_text(
                "total",
                "simple",
                by="channel",
                segments=["region"],
                measure={"table": "t", "time": "d", "aggregate": "count"},
            ),
            "KPI 'total', field 'by': a KPI always split by one dimension cannot be split by others",
        ),
        (
            kpi_text(
                "ytd", "cumulative", window=3, measure={"table": "t", "time": "d", "aggregate": "avg", "value": "x"}
            ),
            "KPI 'ytd', field 'measure.aggregate': a cumulative KPI adds up periods, so it needs sum or count",
        ),
        (
            kpi_text(
                "ytd",
                "cumulative",
                window=3,
                measure={"table": "t", "active": {"from": "a", "at": "period_end"}, "aggregate": "count"},
            ),
            "KPI 'ytd', field 'measure.time': a cumulative KPI adds up a flow: give 'time', not 'active'",
        ),
        (
            kpi_text("csat", "survey", statistic="top_box", responses={"table": "s", "time": "at"}, score="score"),
            "KPI 'csat', field 'statistic': top_box needs 'scale_max' and 'top_box', and other statistics take neither",
        ),
        (
            kpi_text(
                "nps",
                "survey",
                statistic="nps",
                responses={"table": "s", "active": {"from": "a", "at": "period_end"}},
                score="score",
            ),
            "KPI 'nps', field 'responses.time': responses count in the period they were given",
        ),
        (
            kpi_text(
                "churn",
                "cohort",
                basis="amount",
                outcome="churned",
                population={"table": "s", "entity": "c", "from": "a"},
            ),
            "KPI 'churn', field 'population.amount': basis: amount needs the amount column, and basis: count takes none",
        ),
        (
            kpi_text("ratio", "derived", formula="revenue > 3"),
            "KPI 'ratio', field 'formula': 'revenue > 3' may only use numbers, names, + - * / and brackets, not '>'",
        ),
        (
            kpi_text("ratio", "derived", formula="100 / 3"),
            "KPI 'ratio', field 'formula': '100 / 3' uses no KPI; a derived KPI is computed from other KPIs",
        ),
        (
            kpi_text("ratio", "derived", formula="revenue / (3"),
            "KPI 'ratio', field 'formula': unexpected end of the formula at column 13 in 'revenue / (3'; expected ')'",
        ),
        (
            kpi_text("ytd", "cumulative", window=0, measure={"table": "t", "time": "d", "aggregate": "count"}),
            "KPI 'ytd', field 'window': input should be greater than or equal to 1 or input should be "
            "'year_to_date' or 'running', got 0",
        ),
    ],
)
def test_fields_that_do_not_go_together_are_refused(kpi, problem):
    [found] = problems_of(document(SIMPLE, kpi))
    assert problem in found


def test_a_kpi_without_a_type_or_key_is_named_by_its_position():
    text = document(SIMPLE) + "  - name: Lost\n    type: sum\n"
    [found] = problems_of(text)
    assert found.startswith("<text>, line 15, KPI '#2': input tag 'sum' found using 'type' does not match")


def test_kpis_in_several_sources_share_one_set_of_keys(tmp_path):
    first = tmp_path / "first.yaml"
    first.write_text(document(SIMPLE))
    assert problems_of(first, document(SIMPLE)) == [
        f"<text>, line 2, KPI 'revenue', field 'key': the key is already used in {first}, line 2"
    ]


def test_kpis_may_not_depend_on_each_other_in_a_circle():
    text = document(
        kpi_text("first", "derived", formula="second * 2"),
        kpi_text("second", "growth", of="first", compare_to="previous_period"),
    )
    assert problems_of(text) == [
        "<text>, line 2, KPI 'first', field 'formula': KPIs depend on each other: formula cycle: first → second → first"
    ]


def test_a_derived_kpi_cannot_mix_inputs_split_differently():
    split = {"table": "t", "time": "d", "aggregate": "count"}
    text = document(
        kpi_text("by_channel", "simple", by="channel", measure=split),
        kpi_text("whole", "simple", measure=split),
        kpi_text("mixed", "derived", formula="by_channel / whole"),
    )
    assert problems_of(text) == [
        "<text>, line 27, KPI 'mixed', field 'formula': its inputs are split by different dimensions: channel, nothing"
    ]


def test_yaml_errors_name_the_line():
    [syntax] = problems_of("kpis:\n  - key: [revenue\n")
    assert syntax.startswith("<text>, line 3: this is not valid YAML")
    [repeated, *_] = problems_of(HEADER + MEASURE + "    type: simple\n")
    assert repeated == (
        "<text>, line 11: kpi 'revenue': 'type' appears twice (lines 9 and 11); YAML would silently keep only the "
        "second, so remove one"
    )


def test_a_document_needs_kpis():
    assert problems_of("kpis: []\n") == [
        "<text>, line 1, field 'kpis': list should have at least 1 item after validation, not 0"
    ]


def test_the_fingerprint_changes_with_the_calculation_only():
    base = load_definitions(document(SIMPLE, kpi_text("growth", "growth", of="revenue", compare_to="previous_period")))
    reworded = load_definitions(
        document(
            SIMPLE.replace("name: revenue", "name: Turnover"),
            kpi_text("growth", "growth", of="revenue", compare_to="previous_period"),
        )
    )
    filtered = load_definitions(
        document(
            kpi_text(
                "revenue",
                "simple",
                measure={
                    "table": "orders",
                    "time": "order_date",
                    "aggregate": "sum",
                    "value": "amount",
                    "where": [{"column": "kind", "equals": "sale"}],
                },
            ),
            kpi_text("growth", "growth", of="revenue", compare_to="previous_period"),
        )
    )
    assert fingerprint("revenue", base) == fingerprint("revenue", reworded)
    assert fingerprint("revenue", base) != fingerprint("revenue", filtered)
    # A KPI computed from another changes with it.
    assert fingerprint("growth", base) != fingerprint("growth", filtered)


def test_formulas_and_pages_describe_the_calculation():
    loaded = load_definitions(
        document(
            SIMPLE,
            kpi_text(
                "rate",
                "ratio",
                aggregation="ratio",
                scale=100,
                choice_points=["Leads of the period."],
                numerator={
                    "table": "leads",
                    "time": "created",
                    "aggregate": "count",
                    "where": [{"column": "won", "one_of": ["yes", True]}],
                },
                denominator={
                    "table": "staff",
                    "active": {"from": "hired", "until": "left", "at": "period_end"},
                    "aggregate": "count",
                },
            ),
            kpi_text(
                "churn",
                "cohort",
                aggregation="ratio",
                basis="count",
                outcome="churned",
                population={"table": "s", "entity": "c", "from": "a"},
            ),
            kpi_text(
                "nps",
                "survey",
                aggregation="ratio",
                statistic="nps",
                responses={"table": "s", "time": "t"},
                score="score",
            ),
        )
    )
    assert describe_formula(loaded["rate"]) == (
        "100 × [count(rows) over `leads`, in the period of `created`, where `won` in (yes, true)] / "
        "[count(rows) over `staff`, active on the period's last day (from `hired` until `left`)]"
    )
    assert describe_formula(loaded["churn"]).startswith("100 × `c` of `s` active from `a` on the period's first day")
    assert describe_formula(loaded["nps"]).startswith("% of `score` ≥ 9 − % of `score` ≤ 6 over `s`")
    page = definitions_markdown(loaded, title="Ours", introduction="Our KPIs.")
    assert page.startswith("# Ours\n\nOur KPIs.\n\n## Customer\n\n### revenue\n")
    assert "\n### rate\n" in page
    assert "- Leads of the period.\n" in page


def test_the_module_examples_hold():
    assert doctest.testmod(definitions_module).failed == 0


def test_the_metrics_package_imports_no_django():
    """Checked in a fresh interpreter, so that imports made by other tests (or by pytest-django) do not count."""
    code = (
        "import sys, fourfold.metrics.compile, fourfold.metrics.library, fourfold.metrics.stats;"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'django'))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
