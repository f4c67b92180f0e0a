"""Every kind of mistake in a scorecard file gets a message that names the item, the field and what is wanted."""

from __future__ import annotations

import copy
import doctest
from pathlib import Path
from typing import Any

import pytest
import yaml

from fourfold.scorefile import problems as problems_module
from fourfold.scorefile.load import load_scorecard_file
from fourfold.scorefile.problems import ScorecardFileError

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


def kpi(key: str = "csat", **fields: Any) -> dict[str, Any]:
    return {"key": key, "name": key.replace("_", " ").title(), **fields}


def card(*kpis: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A one-objective scorecard document around ``kpis``."""
    objective = {"code": "C1", "name": "Delight customers", "kpis": list(kpis)}
    return {
        "version": 1,
        "key": "co",
        "name": "Company",
        "perspectives": [{"name": "Customer", "objectives": [objective]}],
        **fields,
    }


SATISFACTION = kpi("csat", unit="percent", targets=[{"from": "2026-01", "target": 85, "red_flag": 70}])


def with_child(parent: dict[str, Any], *kpis: dict[str, Any], **objective: Any) -> dict[str, Any]:
    document = copy.deepcopy(parent)
    child_objective = {"code": "S1", "name": "Support", "kpis": list(kpis), **objective}
    document["children"] = [
        {"key": "support", "name": "Support", "perspectives": [{"name": "Service", "objectives": [child_objective]}]}
    ]
    return document


def problems_of(document: dict[str, Any] | str) -> list[str]:
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    with pytest.raises(ScorecardFileError) as caught:
        load_scorecard_file(text)
    return [str(problem) for problem in caught.value.problems]


def the_problem(document: dict[str, Any] | str) -> str:
    found = problems_of(document)
    assert len(found) == 1, found
    return found[0]


CASES = {
    "period key of another frequency": (
        card(kpi(values={"2026-Q1": 80})),
        "kpi 'csat': values: '2026-Q1' is a quarterly period but a monthly period is required here "
        "(expected a key like 2026-03)",
    ),
    "impossible period key in a target": (
        card(kpi(targets=[{"from": "2026-13", "target": 85}])),
        "kpi 'csat', targets[0] (from 2026-13): from: '2026-13' is not a period key: the month must be 01-12",
    ),
    "one period written two ways": (
        card(kpi(values={"2026-03": 80, "2026-3": 81})),
        "kpi 'csat': values: '2026-3' and '2026-03' are the same period; give one value per period",
    ),
    "red flag above the target, higher is better": (
        card(kpi(unit="percent", targets=[{"from": "2026-01", "target": 85, "red_flag": 90}])),
        "kpi 'csat', targets[0] (from 2026-01): red_flag 90 is above the target 85, but for csat higher is better",
    ),
    "red flag below the target, lower is better": (
        card(kpi("churn", direction="lower", targets=[{"from": "2026-01", "target": 5, "red_flag": 3}])),
        "kpi 'churn', targets[0] (from 2026-01): red_flag 3 is below the target 5, but for churn lower is better",
    ),
    "no target": (
        card(kpi(targets=[{"from": "2026-01", "red_flag": 70}])),
        "kpi 'csat', targets[0] (from 2026-01): target is required",
    ),
    "range on a higher-is-better KPI": (
        card(kpi(targets=[{"from": "2026-01", "target": 85, "range_low": 80}])),
        "kpi 'csat', targets[0] (from 2026-01): range_low is only for within-a-range KPIs",
    ),
    "yes/no target that is no answer": (
        card(kpi("certified", unit="yes_no", targets=[{"from": "2026-01", "target": 2}])),
        "kpi 'certified', targets[0] (from 2026-01): target 2 is not a yes/no answer",
    ),
    "yes/no KPI with a red flag": (
        card(kpi("certified", unit="yes_no", targets=[{"from": "2026-01", "target": True, "red_flag": 0}])),
        "kpi 'certified', targets[0] (from 2026-01): red_flag: a yes/no KPI has no thresholds",
    ),
    "yes/no answer for a number KPI": (
        card(kpi(values={"2026-01": True})),
        "kpi 'csat', values 2026-01: value true is a yes/no answer, but csat is a number KPI: give a number",
    ),
    "yes/no value that is no answer": (
        card(kpi("certified", unit="yes_no", values={"2026-01": 3})),
        "kpi 'certified', values 2026-01: 3 is not a yes/no answer",
    ),
    "yes/no KPI within a range": (
        card(kpi("certified", unit="yes_no", direction="range")),
        "kpi 'certified': a yes/no KPI is better either as yes or as no, not within a range",
    ),
    "range without its ends": (
        card(kpi("wait", direction="range", targets=[{"from": "2026-01", "range_low": 5}])),
        "kpi 'wait', targets[0] (from 2026-01): a within-a-range KPI needs range_low and range_high",
    ),
    "range upside down": (
        card(kpi("wait", direction="range", targets=[{"from": "2026-01", "range_low": 9, "range_high": 6}])),
        "kpi 'wait', targets[0] (from 2026-01): range_high 6 is below range_low 9",
    ),
    "target outside the range": (
        card(
            kpi("wait", direction="range", targets=[{"from": "2026-01", "range_low": 6, "range_high": 9, "target": 12}])
        ),
        "kpi 'wait', targets[0] (from 2026-01): target 12 lies outside the good range 6 to 9",
    ),
    "red flag on a range KPI": (
        card(
            kpi(
                "wait", direction="range", targets=[{"from": "2026-01", "range_low": 6, "range_high": 9, "red_flag": 3}]
            )
        ),
        "kpi 'wait', targets[0] (from 2026-01): red_flag: a within-a-range KPI has none",
    ),
    "unknown scoring method": (
        card(kpi(targets=[{"from": "2026-01", "target": 85, "method": "lineer"}])),
        "kpi 'csat', targets[0] (from 2026-01): method: unknown scoring method 'lineer'; expected one of: bands,",
    ),
    "goal without a red flag": (
        card(kpi(targets=[{"from": "2026-01", "method": "goal_red_flag", "parameters": {"goal": 85}}])),
        "kpi 'csat', targets[0] (from 2026-01): parameters: red_flag is required for the goal/red-flag method",
    ),
    "bad breakpoint": (
        card(
            kpi(
                targets=[
                    {
                        "from": "2026-01",
                        "method": "breakpoints",
                        "parameters": {"points": [{"value": 0, "score": 0, "status": "red", "colour": "red"}]},
                    }
                ]
            )
        ),
        "kpi 'csat', targets[0] (from 2026-01): parameters: points[0]: colour must be a colour like #1a7f37",
    ),
    "parameters without a method": (
        card(kpi(targets=[{"from": "2026-01", "target": 85, "parameters": {"goal": 85}}])),
        "kpi 'csat', targets[0] (from 2026-01): parameters need a method that they are for",
    ),
    "two settings for one period": (
        card(kpi(targets=[{"from": "2026-01", "target": 85}, {"from": "2026-1", "target": 86}])),
        "kpi 'csat', targets[1] (from 2026-1): from 2026-01: another setting starts in that period too",
    ),
    "formula syntax": (
        card(kpi("revenue"), kpi("margin", formula="revenue / (costs")),
        "kpi 'margin': formula: unexpected end of the formula at column 17 in 'revenue / (costs'; expected ')'",
    ),
    "formula naming an unknown KPI": (
        card(kpi("revenue"), kpi("margin", formula="revenu * 2")),
        "kpi 'margin': formula: unknown KPI 'revenu' in formula of 'margin'; did you mean 'revenue'?",
    ),
    "formula cycle": (
        card(kpi("first", formula="second + 1"), kpi("second", formula="first - 1")),
        "kpi 'first': formula cycle: first → second → first",
    ),
    "formula units": (
        card(
            kpi("revenue", unit="currency", currency_code="EUR"),
            kpi("orders", unit="count"),
            kpi("mixed", unit="currency", currency_code="EUR", formula="revenue + orders"),
        ),
        "kpi 'mixed': formula: cannot add currency EUR and count in 'revenue + orders'",
    ),
    "formula unit unlike the declared one": (
        card(
            kpi("done", unit="count"),
            kpi("enrolled", unit="count"),
            kpi("rate", unit="percent", formula="done / enrolled"),
        ),
        "kpi 'rate': formula: 'done / enrolled' gives number, but the KPI is declared as percent; multiply the ratio",
    ),
    "values of a formula KPI": (
        card(kpi("revenue"), kpi("double", formula="revenue * 2", values={"2026-01": 3})),
        "kpi 'double': values are not reported for double: they come from its formula",
    ),
    "missing policy without a formula": (
        card(kpi(missing_policy="zero")),
        "kpi 'csat': missing_policy is only for KPIs with a formula",
    ),
    "source kind against the formula": (
        card(kpi("revenue"), kpi("double", formula="revenue * 2", source_kind="manual")),
        "kpi 'double': source_kind must be 'formula' for a KPI with a formula, got 'manual'",
    ),
    "duplicate KPI key": (
        card(kpi("csat"), kpi("csat")),
        "kpi 'csat': key 'csat' is used by another KPI of this scorecard too",
    ),
    "ratio value without denominator": (
        card(kpi("renewals", unit="percent", aggregation="ratio", values={"2026-01": {"numerator": 45}})),
        "kpi 'renewals', values 2026-01: denominator is missing: give both numerator and denominator, or neither",
    ),
    "ratio value without its parts": (
        card(kpi("renewals", unit="percent", aggregation="ratio", values={"2026-01": 75})),
        "kpi 'renewals', values 2026-01: numerator and denominator are required: renewals combines periods from them",
    ),
    "ratio value that does not match its parts": (
        card(
            kpi(
                "renewals",
                unit="percent",
                aggregation="ratio",
                values={"2026-01": {"value": 80, "numerator": 45, "denominator": 60}},
            )
        ),
        "kpi 'renewals', values 2026-01: value 80 does not match 100 × 45 / 60 = 75",
    ),
    "zero denominator": (
        card(kpi("renewals", aggregation="ratio", values={"2026-01": {"numerator": 0, "denominator": 0}})),
        "kpi 'renewals', values 2026-01: denominator must not be 0",
    ),
    "currency without its code": (
        card(kpi("revenue", unit="currency")),
        "kpi 'revenue': currency_code: a currency needs a three-letter code such as EUR, got ''",
    ),
    "currency code on a count": (
        card(kpi("orders", unit="count", currency_code="EUR")),
        "kpi 'orders': currency_code 'EUR' is only for currency KPIs, and orders is count",
    ),
    "weight changes out of order": (
        card(kpi(weight=[{"from": "2026-06", "weight": 1}, {"from": "2026-01", "weight": 2}])),
        "kpi 'csat': weight changes must be in period order: 2026-01 does not come after 2026-06",
    ),
    "own KPI of another objective": (
        card(kpi(), kpi("nps"))
        | {
            "perspectives": [
                {"name": "Customer", "objectives": [{"code": "C1", "name": "Delight", "own_kpi": "churn"}]}
            ]
        },
        "objective 'C1': own_kpi 'churn' is not one of this objective's KPIs (none)",
    ),
    "self-standing without its own KPI": (
        card()
        | {"perspectives": [{"name": "C", "objectives": [{"code": "C1", "name": "D", "rollup": "self_standing"}]}]},
        "objective 'C1': rollup self_standing needs own_kpi",
    ),
    "objective code twice": (
        card()
        | {"perspectives": [{"name": "C", "objectives": [{"code": "C1", "name": "A"}, {"code": "C1", "name": "B"}]}]},
        "objective 'C1': code 'C1' is used by another objective of this scorecard too",
    ),
    "link to an unknown objective": (
        card(links=[{"from": "C1", "to": "F9"}]),
        "links[0] (C1 → F9): to: no objective of this scorecard has the code 'F9'",
    ),
    "statuses out of order": (
        card(
            statuses=[
                {"key": "good", "name": "Good", "colour": "#00aa00", "min_score": 5},
                {"key": "great", "name": "Great", "colour": "#00ff00", "min_score": 8},
                {"key": "bad", "name": "Bad", "colour": "#aa0000"},
            ]
        ),
        "statuses: min_score must descend: great (8) is not below good (5)",
    ),
    "aligned to an objective the parent lacks": (
        with_child(card(SATISFACTION), aligned_to="F9"),
        "scorecard 'support', objective 'S1': aligned_to 'F9' is not an objective of the parent scorecard 'co' "
        "(its objectives: C1)",
    ),
    "aligned on the top scorecard": (
        card() | {"perspectives": [{"name": "C", "objectives": [{"code": "C1", "name": "D", "aligned_to": "X1"}]}]},
        "objective 'C1': aligned_to 'X1': scorecard 'co' is the top scorecard, so there is no parent objective",
    ),
    "roll-up from a scorecard that is no child": (
        card(kpi("calls", rollup_from=["sales/calls"])),
        "kpi 'calls': rollup_from 'sales/calls': 'sales' is not a child of scorecard 'co' (it has none)",
    ),
    "roll-up from a KPI the child lacks": (
        with_child(card(kpi("calls", rollup_from=["support/calls"])), kpi("tickets")),
        "kpi 'calls': rollup_from 'support/calls': scorecard 'support' has no KPI 'calls'",
    ),
    "ratio roll-up of a KPI without parts": (
        with_child(card(kpi("rate", rollup_from=["support/rate"], value_rollup="ratio")), kpi("rate")),
        "kpi 'rate': rollup_from 'support/rate': value_rollup ratio needs numerators and denominators, "
        "but support/rate has aggregation average",
    ),
    "roll-up across units": (
        with_child(
            card(kpi("revenue", unit="currency", currency_code="EUR", rollup_from=["support/revenue"])),
            kpi("revenue", unit="currency", currency_code="USD"),
        ),
        "kpi 'revenue': rollup_from 'support/revenue' is in currency USD, but revenue is in currency EUR",
    ),
    "scorecard key twice": (
        with_child(card(SATISFACTION)) | {"key": "support"},
        "scorecard 'support': key 'support' is used by another scorecard of the file too",
    ),
}


@pytest.mark.parametrize(("document", "expected"), CASES.values(), ids=CASES.keys())
def test_each_mistake_is_named_with_its_item_and_field(document, expected):
    assert expected in the_problem(document)


def test_every_problem_of_a_file_is_reported_at_once_with_its_line():
    found = problems_of((EXAMPLES / "invalid.yaml").read_text())
    assert len(found) == 13
    assert found[0].startswith("line 22: kpi 'revenue', targets[0] (from 2026-01): red_flag 1200 is above")
    assert found[-1].startswith("line 91: scorecard 'shop', objective 'S1': aligned_to 'F9'")
    assert [int(problem.split(":")[0].removeprefix("line ")) for problem in found] == sorted(
        int(problem.split(":")[0].removeprefix("line ")) for problem in found
    )


SHAPE_CASES = {
    "unknown field, with the likely one": (
        card(kpi(targets=[{"from": "2026-01", "target": 85, "red_flg": 70}])),
        "kpi 'csat', targets[0] (from 2026-01): unknown field 'red_flg'; did you mean 'red_flag'?",
    ),
    "text for a number": (
        card(kpi(targets=[{"from": "2026-01", "target": "high"}])),
        "kpi 'csat', targets[0] (from 2026-01): target must be a number, got 'high'",
    ),
    "unknown choice": (
        card(kpi(direction="up")),
        "kpi 'csat': direction must be 'higher', 'lower' or 'range', got 'up'",
    ),
    "required field": (
        card({"key": "csat"}),
        "kpi 'csat': name is required",
    ),
    "negative weight": (
        card(kpi(weight=-1)),
        "kpi 'csat': weight must be at least 0, got -1",
    ),
    "negative weight change": (
        card(kpi(weight=[{"from": "2026-01", "weight": -2}])),
        "kpi 'csat': weight[0].weight must be at least 0, got -2",
    ),
    "bad KPI key": (
        card(kpi("CSAT")),
        "kpi 'CSAT': key must be lower-case letters, digits and _, starting with a letter (such as csat), got 'CSAT'",
    ),
    "version": (
        card() | {"version": 2},
        "version must be 1, got 2",
    ),
    "too many statuses": (
        card(statuses=[{"key": f"s{number}", "name": "S", "colour": "#000000"} for number in range(8)]),
        "statuses must have at most 7 items, got 8",
    ),
}


@pytest.mark.parametrize(("document", "expected"), SHAPE_CASES.values(), ids=SHAPE_CASES.keys())
def test_each_shape_mistake_says_what_is_expected_and_what_was_given(document, expected):
    assert expected in the_problem(document)


def test_yaml_reading_yes_as_true_is_explained():
    text = "version: 1\nkey: co\nname: no\n"
    assert (
        the_problem(text)
        == "line 3: name must be text, got false (YAML reads yes, no, on and off as true or false: put the text in quotes)"
    )


def test_a_yaml_syntax_error_gives_line_and_column():
    assert the_problem("version: 1\nkey: [co\nname: x\n") == (
        "line 3, column 5: this is not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence)"
    )


def test_a_key_written_twice_is_refused_where_yaml_would_drop_it():
    text = "version: 1\nkey: co\nname: Co\nname: Company\n"
    assert the_problem(text) == (
        "line 4, column 1: 'name' appears twice (lines 3 and 4); YAML would silently keep only the second, "
        "so remove one"
    )


def test_shape_problems_come_in_one_list():
    document = card(kpi(direction="up", weight=-1, targets=[{"from": "2026-01", "target": "x"}]))
    assert len(problems_of(document)) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "the file is empty; start with 'version: 1'"), ("- 1\n- 2\n", "the document must be a mapping")],
)
def test_a_document_that_is_not_a_scorecard(text, expected):
    assert expected in the_problem(text)


def test_an_unreadable_file(tmp_path):
    with pytest.raises(ScorecardFileError) as caught:
        load_scorecard_file(tmp_path / "missing.yaml")
    assert (
        str(caught.value) == f"{tmp_path / 'missing.yaml'} has 1 problem:\n  cannot be read: No such file or directory"
    )


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(problems_module).failed == 0


def test_a_target_reached_over_a_span_loads_and_is_judged_by_progress():
    from datetime import date

    from fourfold.engine.evaluate import evaluate_scorecard
    from fourfold.engine.model import View

    sales = kpi(
        "sales",
        aggregation="sum",
        baseline=0,
        targets=[{"from": "2026-01", "target": 12000, "reach_by": "2026-12"}],
        values={"2026-01": 900, "2026-02": 900, "2026-03": 900},
    )
    loaded = load_scorecard_file(yaml.safe_dump(card(sales), sort_keys=False))
    view = View(loaded.model.calendar.parse("2026-03"))
    result = evaluate_scorecard(loaded.model, loaded.values, view, today=date(2026, 11, 23))
    (row,) = list(result.iter_kpis())
    assert row.score == pytest.approx(9.0)  # 2 700 of the 3 000 expected after three months: 90 %


def test_a_span_target_must_end_in_a_period_of_the_kpis_frequency():
    sales = kpi("sales", targets=[{"from": "2026-01", "target": 12000, "reach_by": "2026-Q4"}])
    assert "reach_by" in the_problem(card(sales))
