"""Calculated KPIs: parsing, formatting, evaluation order, units and values, with results worked out by hand."""

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fourfold.engine.explain import MINUS, TIMES
from fourfold.engine.formulas import (
    Binary,
    Call,
    Formula,
    FormulaArgumentError,
    FormulaCycleError,
    FormulaError,
    FormulaSyntaxError,
    FormulaUnitError,
    Number,
    Reference,
    Unary,
    Unit,
    UnitKind,
    UnknownFunctionError,
    UnknownKpiError,
    check_formulas,
    evaluate,
    format_expression,
    infer_unit,
    parse_formula,
    round_half_away,
)
from fourfold.engine.scoring import ScoringConfigError

EUR = Unit(UnitKind.CURRENCY, "EUR")
USD = Unit(UnitKind.CURRENCY, "USD")
PERCENT = Unit(UnitKind.PERCENT)
NUMBER = Unit(UnitKind.NUMBER)
COUNT = Unit(UnitKind.COUNT)
YES_NO = Unit(UnitKind.YES_NO)
HOURS = Unit(UnitKind.DURATION, "hours")
MINUTES = Unit(UnitKind.DURATION, "minutes")

UNITS = {
    "revenue": EUR,
    "costs": EUR,
    "us_revenue": USD,
    "nps": PERCENT,
    "growth": PERCENT,
    "index": NUMBER,
    "learners": COUNT,
    "completed": COUNT,
    "has_policy": YES_NO,
    "handling": HOURS,
    "waiting": MINUTES,
}


def value_of(text, **values):
    return evaluate(parse_formula(text), values).value


# Parsing.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),  # (10 - 4) - 3, not 10 - (4 - 3) = 9
        ("12 / 3 / 2", 2.0),  # (12 / 3) / 2, not 12 / (3 / 2) = 8
        ("2 ^ 3 ^ 2", 512.0),  # 2 ^ (3 ^ 2) = 2 ^ 9
        ("-2 ^ 2", -4.0),  # -(2 ^ 2), as in mathematics
        ("(-2) ^ 2", 4.0),
        ("2 ^ -1", 0.5),
        ("-3 * -2", 6.0),
        ("2 * 3 ^ 2", 18.0),  # 2 * 9
        (".5 + 0.25", 0.75),
        ("1 + 2 > 2 and 1 < 2", 1.0),  # (3 > 2) and (1 < 2)
        ("not 1 > 2", 1.0),  # not (1 > 2)
        ("1 or 0 and 0", 1.0),  # 1 or (0 and 0), as and binds tighter
        ("not 0 and 0", 0.0),  # (not 0) and 0
        ("3 >= 3", 1.0),
        ("3 != 3", 0.0),
    ],
)
def test_operators_bind_as_documented(text, expected):
    assert value_of(text) == expected


def test_a_formula_becomes_an_immutable_tree():
    formula = parse_formula("revenue / active_learners * 100")
    assert formula.text == "revenue / active_learners * 100"
    assert formula.expression == Binary(
        "*", Binary("/", Reference("revenue"), Reference("active_learners")), Number(100.0)
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        formula.expression.operator = "+"  # type: ignore[misc]


def test_functions_parse_into_calls():
    assert parse_formula("if(nps > 30, 1, 0)").expression == Call(
        "if", (Binary(">", Reference("nps"), Number(30.0)), Number(1.0), Number(0.0))
    )
    assert parse_formula("round(x, -2)").expression == Call("round", (Reference("x"), Unary("-", Number(2.0))))


def test_dependencies_include_both_branches_of_if():
    formula = parse_formula("if(nps > 30, revenue, 0) + avg(a, b, a)")
    assert formula.dependencies == {"nps", "revenue", "a", "b"}


def test_a_kpi_key_may_equal_a_function_name():
    # Only a name followed by "(" is a call.
    assert parse_formula("sum + max(sum, 1)").expression == Binary(
        "+", Reference("sum"), Call("max", (Reference("sum"), Number(1.0)))
    )


def test_whitespace_and_line_breaks_are_free():
    assert parse_formula(" revenue\n/\tusers ").expression == parse_formula("revenue/users").expression


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revenue / (users", "unexpected end of the formula at column 17 in 'revenue / (users'; expected ')'"),
        ("revenue / users)", "unexpected ')' at column 16 in 'revenue / users)'"),
        ("revenue users", "unexpected 'users' at column 9 in 'revenue users'"),
        (
            "revenue /",
            "unexpected end of the formula at column 10 in 'revenue /'; "
            "expected a number, a KPI key, a function or '('",
        ),
        ("", "unexpected end of the formula at column 1 in ''; expected a number, a KPI key, a function or '('"),
        ("avg(a,)", "unexpected ')' at column 7 in 'avg(a,)'; expected a number, a KPI key, a function or '('"),
        ("avg(a b)", "unexpected 'b' at column 7 in 'avg(a b)'; expected ',' or ')'"),
        ("revenue ** 2", "unexpected '**' at column 9 in 'revenue ** 2'; write ^ for powers"),
        ("nps = 30", "unexpected character '=' at column 5 in 'nps = 30'; write == for ="),
        (f"rate {TIMES} 100", f"unexpected character '{TIMES}' at column 6 in 'rate {TIMES} 100'; write * for {TIMES}"),
        (f"a {MINUS} b", f"unexpected character '{MINUS}' at column 3 in 'a {MINUS} b'; write - for {MINUS}"),
        ("a < b < c", "unexpected '<' at column 7 in 'a < b < c'; comparisons cannot be chained; join them with 'and'"),
        ("and", "unexpected 'and' at column 1 in 'and'; expected a number, a KPI key, a function or '('"),
        ("1e3", "unexpected 'e3' at column 2 in '1e3'"),
        (
            "Revenue / 2",
            "invalid name 'Revenue' at column 1 in 'Revenue / 2'; "
            "KPI keys and functions use lower-case letters, digits and _, and start with a letter",
        ),
    ],
)
def test_syntax_errors_say_where_and_what(text, message):
    with pytest.raises(FormulaSyntaxError) as caught:
        parse_formula(text)
    assert str(caught.value) == message


def test_a_syntax_error_carries_its_column_for_the_form():
    with pytest.raises(FormulaSyntaxError) as caught:
        parse_formula("revenue / (users")
    assert caught.value.column == 17


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "mean(a, b)",
            UnknownFunctionError,
            "unknown function 'mean' at column 1 in 'mean(a, b)'; expected one of: abs, avg, if, max, min, round, sum",
        ),
        (
            "1 + if(a > 1, 2)",
            FormulaArgumentError,
            "if() takes 3 arguments, got 2 at column 5 in '1 + if(a > 1, 2)'; "
            "write if(condition, value if true, value if false)",
        ),
        (
            "avg()",
            FormulaArgumentError,
            "avg() takes at least 1 argument, got 0 at column 1 in 'avg()'; write avg(x, ...)",
        ),
        ("abs(a, b)", FormulaArgumentError, "abs() takes 1 argument, got 2 at column 1 in 'abs(a, b)'; write abs(x)"),
        (
            "round(x, 1, 2)",
            FormulaArgumentError,
            "round() takes 1 or 2 arguments, got 3 at column 1 in 'round(x, 1, 2)'; write round(x, decimals)",
        ),
        (
            "round(x, 1.5)",
            FormulaArgumentError,
            "round() takes a whole number from -15 to 15 as its decimals at column 1 in 'round(x, 1.5)'; got 1.5",
        ),
        (
            "round(x, digits)",
            FormulaArgumentError,
            "round() takes a whole number from -15 to 15 as its decimals at column 1 in 'round(x, digits)'; got digits",
        ),
    ],
)
def test_function_errors_name_the_function(text, error, message):
    with pytest.raises(error) as caught:
        parse_formula(text)
    assert str(caught.value) == message


def test_function_errors_are_syntax_errors_with_a_column():
    assert issubclass(UnknownFunctionError, FormulaSyntaxError)
    assert issubclass(FormulaArgumentError, FormulaSyntaxError)
    assert issubclass(FormulaError, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('ls')",
        "open('secrets')",
        "revenue.__class__",
        "x[0]",
        "[x for x in y]",
        "lambda: 1",
        "a if b else c",
        "{}",
        "'text'",
        "f(*args)",
        "max(a, key=b)",
        "exec('1')",
    ],
)
def test_nothing_but_the_formula_language_gets_through(text):
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_a_plain_name_is_only_a_reference():
    assert parse_formula("exec").expression == Reference("exec")


def test_the_nesting_is_limited_so_no_formula_can_exhaust_the_stack():
    for text in ["(" * 200 + "a" + ")" * 200, "-" * 300 + "a", " + ".join(["a"] * 150), "2 ^ " * 150 + "2"]:
        with pytest.raises(FormulaSyntaxError, match="the formula nests too deeply"):
            parse_formula(text)
    assert value_of(" + ".join(["1"] * 90)) == 90.0


def test_a_number_too_large_for_a_float_is_refused():
    with pytest.raises(FormulaSyntaxError, match="is too large at column 1"):
        parse_formula("1" * 400)


# Formatting.


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("(revenue-costs)/revenue*100", "(revenue - costs) / revenue * 100"),
        ("a-(b-c)", "a - (b - c)"),
        ("(a-b)-c", "a - b - c"),
        ("a/(b*c)", "a / (b * c)"),
        ("(-2)^2", "(-2) ^ 2"),
        ("-(2^2)", "-2 ^ 2"),
        ("2^(3^2)", "2 ^ 3 ^ 2"),
        ("(2^3)^2", "(2 ^ 3) ^ 2"),
        ("2^-1", "2 ^ (-1)"),
        ("a*-b", "a * -b"),
        ("not(a>1 and b>1)", "not (a > 1 and b > 1)"),
        ("(not a) and b", "not a and b"),
        ("(a<b)<c", "(a < b) < c"),
        ("if(x>=1,round(y,-2),0)", "if(x >= 1, round(y, -2), 0)"),
        ("0.50 + 007", "0.5 + 7"),
        ("10000000000000000", "10000000000000000"),
    ],
)
def test_formatting_writes_canonical_text_with_the_brackets_needed(text, canonical):
    assert format_expression(parse_formula(text).expression) == canonical


_KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda key: key not in {"and", "or", "not"})
# abs() turns -0.0 into 0.0: a constant is never negative, as "-0" is the negation of 0.
_CONSTANTS = st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(abs).map(Number)
_DECIMALS = st.integers(-15, 15).map(
    lambda digits: Number(float(digits)) if digits >= 0 else Unary("-", Number(float(-digits)))
)
_BINARY = ["or", "and", "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/", "^"]


def expressions(keys):
    """Random valid expression trees over ``keys``."""

    def extend(children):
        return st.one_of(
            st.builds(Unary, st.sampled_from(["-", "not"]), children),
            st.builds(Binary, st.sampled_from(_BINARY), children, children),
            st.builds(Call, st.just("abs"), st.tuples(children)),
            st.builds(
                Call,
                st.sampled_from(["avg", "max", "min", "sum"]),
                st.lists(children, min_size=1, max_size=3).map(tuple),
            ),
            st.builds(Call, st.just("if"), st.tuples(children, children, children)),
            st.builds(Call, st.just("round"), st.one_of(st.tuples(children), st.tuples(children, _DECIMALS))),
        )

    return st.recursive(st.one_of(_CONSTANTS, keys.map(Reference)), extend, max_leaves=12)


@given(expressions(_KEYS))
def test_formatting_a_tree_and_parsing_it_again_gives_the_same_tree(expression):
    assert parse_formula(format_expression(expression)).expression == expression


_FRAGMENTS = [
    "a", "nps", "sum", "if", "avg", "round", "mean", "and", "or", "not", "1", "0.5", ".5", "100",
    "+", "-", "*", "/", "^", "**", "(", ")", ",", "<", "<=", ">", "==", "!=", "=", "!", ".", "'", " ", TIMES, "E",
]  # fmt: skip


@given(st.one_of(st.text(), st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map("".join)))
def test_any_text_either_parses_or_raises_a_formula_error(text):
    try:
        formula = parse_formula(text)
    except FormulaError:
        return
    assert parse_formula(format_expression(formula.expression)).expression == formula.expression


# Dependency order and cycles.


def test_formulas_come_after_the_formulas_they_use():
    formulas = {
        "margin": parse_formula("(revenue_per_user - cost_per_user) / revenue_per_user * 100"),
        "revenue_per_user": parse_formula("revenue / users"),
        "cost_per_user": parse_formula("costs / users"),
    }
    order = check_formulas(formulas, ["revenue", "costs", "users"])
    assert sorted(order) == ["cost_per_user", "margin", "revenue_per_user"]
    assert order.index("margin") > order.index("revenue_per_user")
    assert order.index("margin") > order.index("cost_per_user")


def test_a_cycle_is_named_in_order():
    formulas = {
        "margin": parse_formula("profit / revenue_per_user"),
        "revenue_per_user": parse_formula("revenue / users * margin"),
    }
    with pytest.raises(FormulaCycleError) as caught:
        check_formulas(formulas, ["profit", "revenue", "users"])
    assert str(caught.value) == "formula cycle: margin → revenue_per_user → margin"
    assert caught.value.cycle == ("margin", "revenue_per_user", "margin")


def test_a_longer_cycle_reads_in_the_direction_of_use():
    # c uses a, a uses b, b uses c; the message starts at the first key.
    formulas = {"c": parse_formula("a + 1"), "a": parse_formula("b + 1"), "b": parse_formula("c + 1")}
    with pytest.raises(FormulaCycleError, match=r"^formula cycle: a → b → c → a$"):
        check_formulas(formulas, [])


def test_a_formula_using_itself_is_a_cycle():
    with pytest.raises(FormulaCycleError, match=r"^formula cycle: total → total$"):
        check_formulas({"total": parse_formula("total + 1")}, [])


def test_an_unknown_reference_names_the_kpi_whose_formula_is_wrong():
    formulas = {"arpu": parse_formula("revnue / users")}
    with pytest.raises(UnknownKpiError) as caught:
        check_formulas(formulas, ["revenue", "users"])
    assert str(caught.value) == "unknown KPI 'revnue' in formula of 'arpu'; did you mean 'revenue'?"
    assert caught.value.reference == "revnue"


def test_an_unknown_reference_without_a_near_miss_gets_no_suggestion():
    with pytest.raises(UnknownKpiError, match=r"^unknown KPI 'xyz' in formula of 'arpu'$"):
        check_formulas({"arpu": parse_formula("xyz / users")}, ["revenue", "users"])


def test_formula_kpis_may_use_each_other_without_being_listed_as_known():
    formulas = {"a": parse_formula("b * 2"), "b": parse_formula("known + 1")}
    assert check_formulas(formulas, ["known"]) == ["b", "a"]


# Units.


def unit_of(text, declared=None):
    return infer_unit(parse_formula(text), UNITS, declared=declared)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("revenue - costs", EUR),
        ("revenue + 1000", EUR),  # a constant takes the unit it meets
        ("revenue * 2", EUR),
        ("revenue / 2", EUR),
        ("revenue * index", EUR),
        ("revenue / costs", NUMBER),  # a ratio
        ("revenue / learners", EUR),  # per learner
        ("completed / learners", NUMBER),
        ("completed * revenue", EUR),  # a quantity times a price
        ("revenue * nps / 100", EUR),  # a share of an amount
        ("handling / learners", HOURS),
        ("nps > 30", YES_NO),
        ("has_policy and nps > 30", YES_NO),
        ("if(nps > 30, revenue, 0)", EUR),
        ("min(revenue, costs, 100)", EUR),
        ("avg(nps, 50)", PERCENT),
        ("round(-revenue, 1)", EUR),
        ("abs(handling)", HOURS),
        ("(1 + growth / 100) ^ 12", NUMBER),
        ("2 ^ 10", NUMBER),
        ("if(nps > 30, 1, 0)", NUMBER),  # constants alone are a number
    ],
)
def test_units_follow_the_algebra(text, expected):
    assert unit_of(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revenue + nps", "cannot add currency EUR and percent in 'revenue + nps'"),
        ("revenue - us_revenue", "cannot subtract currency USD from currency EUR in 'revenue - us_revenue'"),
        ("revenue / us_revenue", "cannot divide currency EUR by currency USD in 'revenue / us_revenue'"),
        ("handling + waiting", "cannot add duration hours and duration minutes in 'handling + waiting'"),
        ("1 + (revenue > nps)", "cannot compare currency EUR with percent in 'revenue > nps'"),
        ("revenue * costs", "cannot multiply currency EUR by currency EUR in 'revenue * costs'"),
        ("learners / revenue", "cannot divide count by currency EUR in 'learners / revenue'"),
        ("1 / revenue", "cannot divide number by currency EUR in '1 / revenue'"),
        ("revenue ^ 2", "cannot raise currency EUR to a power in 'revenue ^ 2'"),
        ("2 ^ learners", "an exponent must be a plain number, got count in '2 ^ learners'"),
        (
            "if(nps > 30, revenue, nps)",
            "if() needs both values in one unit, got currency EUR and percent in 'if(nps > 30, revenue, nps)'",
        ),
        ("max(revenue, nps)", "max() needs values in one unit, got currency EUR and percent in 'max(revenue, nps)'"),
        (
            "if(revenue, 1, 0)",
            "the condition of if() needs a yes/no value such as a comparison, got currency EUR in 'if(revenue, 1, 0)'",
        ),
        ("not nps", "'not' needs a yes/no value such as a comparison, got percent in 'not nps'"),
        ("nps > 3 or learners", "'or' needs a yes/no value such as a comparison, got count in 'nps > 3 or learners'"),
    ],
)
def test_units_that_do_not_go_together_are_refused(text, message):
    with pytest.raises(FormulaUnitError) as caught:
        unit_of(text)
    assert str(caught.value) == message


def test_an_unknown_reference_in_a_unit_check_is_named():
    with pytest.raises(UnknownKpiError, match=r"^unknown KPI 'revnue' in 'revnue / 2'; did you mean 'revenue'\?$"):
        unit_of("revnue / 2")


def test_a_declared_unit_must_match():
    assert unit_of("revenue / learners", declared=EUR) == EUR
    with pytest.raises(FormulaUnitError) as caught:
        unit_of("revenue / learners", declared=PERCENT)
    assert str(caught.value) == "'revenue / learners' gives currency EUR, but the KPI is declared as percent"


def test_a_ratio_declared_as_percent_must_be_multiplied_by_100():
    with pytest.raises(FormulaUnitError) as caught:
        unit_of("completed / learners", declared=PERCENT)
    assert str(caught.value) == (
        "'completed / learners' gives number, but the KPI is declared as percent; "
        "multiply the ratio by 100 to make it a percentage"
    )


@pytest.mark.parametrize(
    ("text", "declared"),
    [
        ("completed / learners * 100", PERCENT),
        ("100 * completed / learners", PERCENT),  # wherever the 100 stands
        ("round(completed / learners * 100, 1)", PERCENT),
        ("nps / 100", NUMBER),  # a percentage as a ratio
        ("index * 100", PERCENT),
    ],
)
def test_number_and_percent_stand_for_each_other_when_the_formula_scales_by_100(text, declared):
    assert unit_of(text, declared=declared) == declared


def test_only_the_literal_100_converts_between_number_and_percent():
    with pytest.raises(FormulaUnitError, match="declared as percent"):
        unit_of("completed / learners * 10 * 10", declared=PERCENT)


def test_a_formula_of_constants_takes_the_declared_unit():
    assert unit_of("if(nps > 30, 1, 0)", declared=YES_NO) == YES_NO


@pytest.mark.parametrize(
    ("kind", "detail", "message"),
    [
        (UnitKind.CURRENCY, "eur", "a currency needs a three-letter code such as EUR, got 'eur'"),
        (UnitKind.DURATION, "weeks", "a duration is in minutes, hours, days, got 'weeks'"),
        (UnitKind.COUNT, "EUR", "only currencies and durations have a detail, got 'EUR'"),
    ],
)
def test_units_are_validated(kind, detail, message):
    with pytest.raises(ScoringConfigError) as caught:
        Unit(kind, detail)
    assert str(caught.value) == message


def test_units_read_as_in_messages():
    assert [str(unit) for unit in (EUR, HOURS, PERCENT, YES_NO)] == [
        "currency EUR",
        "duration hours",
        "percent",
        "yes/no",
    ]


_ALL_UNITS = [EUR, USD, PERCENT, NUMBER, COUNT, YES_NO, HOURS, MINUTES]


@given(
    expressions(st.sampled_from(["a", "b", "c"])),
    st.fixed_dictionaries({key: st.sampled_from(_ALL_UNITS) for key in "abc"}),
)
def test_unit_inference_gives_a_unit_or_a_formula_error(expression, units):
    try:
        unit = infer_unit(Formula(format_expression(expression), expression), units)
    except FormulaUnitError:
        return
    assert isinstance(unit, Unit)


# Evaluation.


def test_the_trace_shows_the_formula_with_its_values():
    result = evaluate(
        parse_formula("revenue / active_learners"), {"revenue": 120_000, "active_learners": 4_000}, kpi="arpu"
    )
    assert result.value == 30.0
    assert result.used == {"revenue": 120_000.0, "active_learners": 4_000.0}
    assert result.trace.steps == ("arpu = revenue / active_learners = 120000 / 4000 = 30",)
    assert result.trace.reason == "arpu is revenue / active_learners"
    assert result.trace.inputs == result.used
    assert result.trace.method == "formula"
    assert result.trace.result == 30.0


def test_the_trace_uses_typographic_signs_and_brackets_negative_values():
    result = evaluate(parse_formula("x - y * 100"), {"x": -2, "y": -3})
    # -2 - (-3 * 100) = -2 + 300 = 298
    assert result.value == 298.0
    assert result.trace.steps == (f"x {MINUS} y {TIMES} 100 = ({MINUS}2) {MINUS} ({MINUS}3) {TIMES} 100 = 298",)


def test_a_division_by_zero_gives_no_value_and_names_the_division():
    result = evaluate(parse_formula("revenue / (a - b) + 1"), {"revenue": 120_000, "a": 5, "b": 5})
    assert result.value is None
    expected = f"revenue / (a {MINUS} b) = 120000 / (5 {MINUS} 5) divides by zero"
    assert result.trace.reason == expected
    assert result.trace.steps[0] == expected
    assert result.trace.steps[-1] == f"revenue / (a {MINUS} b) + 1 = 120000 / (5 {MINUS} 5) + 1 = no value"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("(0 - 8) ^ (1 / 3)", f"(0 {MINUS} 8) ^ (1 / 3) is undefined"),  # no real cube root by pow
        ("0 ^ -1", f"0 ^ ({MINUS}1) is undefined"),
        ("10 ^ 400", "10 ^ 400 is too large"),
        ("10 ^ 200 * 10 ^ 200", f"10 ^ 200 {TIMES} 10 ^ 200 is too large"),  # infinity, without an exception
    ],
)
def test_arithmetic_without_a_finite_value_gives_no_value(text, problem):
    result = evaluate(parse_formula(text), {})
    assert result.value is None
    assert result.trace.reason == problem


def test_a_sum_that_overflows_gives_no_value_while_the_average_does_not():
    assert value_of("sum(a, b)", a=1e308, b=1e308) is None
    assert value_of("avg(a, b)", a=1e308, b=1e308) == 1e308


def test_missing_inputs_give_no_value_and_are_all_named():
    result = evaluate(parse_formula("revenue / active_learners + costs"), {"costs": 10}, kpi="arpu")
    assert result.value is None
    assert result.used == {"revenue": None, "active_learners": None, "costs": 10.0}
    assert result.trace.reason == "revenue and active_learners have no value for this period"
    assert result.trace.steps == (
        "arpu = revenue / active_learners + costs = revenue / active_learners + 10 = no value",
    )
    assert result.trace.to_sentence().startswith("No value because revenue and active_learners have no value")


def test_nan_and_infinity_count_as_missing():
    result = evaluate(parse_formula("a + b + c"), {"a": math.nan, "b": math.inf, "c": 1})
    assert result.value is None
    assert result.trace.reason == "a and b have no value for this period"


def test_missing_inputs_can_count_as_zero():
    result = evaluate(parse_formula("a + b"), {"a": 5}, missing="zero")
    assert result.value == 5.0
    assert result.used == {"a": 5.0, "b": 0.0}
    assert result.trace.steps[0] == "b has no value for this period; counted as 0"
    assert result.trace.reason == "the formula is a + b, counting b as 0"


def test_a_zero_policy_can_still_end_in_a_division_by_zero():
    result = evaluate(parse_formula("a / b"), {"a": 5}, missing="zero")
    assert result.value is None
    assert result.trace.reason == "a / b = 5 / 0 divides by zero"


def test_missing_inputs_can_take_their_last_known_value():
    result = evaluate(
        parse_formula("revenue / active_learners"),
        {"revenue": 120_000},
        missing="last_known",
        last_known={"active_learners": 3_000, "revenue": 1},
        last_known_periods={"active_learners": "2026-03"},
        kpi="arpu",
    )
    # 120 000 / 3 000 = 40; revenue has a value of its own, so its last known value is not used.
    assert result.value == 40.0
    assert result.used == {"revenue": 120_000.0, "active_learners": 3_000.0}
    assert result.trace.steps == (
        "active_learners has no value for this period; used its last known value 3000 from 2026-03",
        "arpu = revenue / active_learners = 120000 / 3000 = 40",
    )
    assert result.trace.reason == "arpu is revenue / active_learners, with the last known value of active_learners"


def test_a_last_known_value_without_a_period_is_still_explained():
    result = evaluate(parse_formula("a * 2"), {}, missing="last_known", last_known={"a": 4})
    assert result.value == 8.0
    assert result.trace.steps[0] == "a has no value for this period; used its last known value 4"


def test_without_a_last_known_value_there_is_no_value():
    result = evaluate(parse_formula("a * 2"), {}, missing="last_known", last_known={"a": None})
    assert result.value is None
    assert result.trace.reason == "a has no value for this period and no last known value"


def test_an_unknown_missing_policy_is_refused():
    with pytest.raises(ScoringConfigError, match="unknown missing-value policy 'skip'"):
        evaluate(parse_formula("a"), {}, missing="skip")


def test_if_evaluates_only_the_branch_it_takes():
    formula = parse_formula("if(nps > 30, 1, fallback)")
    taken = evaluate(formula, {"nps": 45})
    assert taken.value == 1.0
    assert taken.used == {"nps": 45.0}  # fallback was not needed, so it is not "used"
    assert taken.trace.steps == ("if(nps > 30, 1, fallback) = if(45 > 30, 1, fallback) = 1",)
    not_taken = evaluate(formula, {"nps": 25})
    assert not_taken.value is None
    assert not_taken.trace.reason == "fallback has no value for this period"


def test_and_and_or_skip_their_right_side_when_the_left_decides():
    assert value_of("a and b", a=0) == 0.0
    assert value_of("a or b", a=2) == 1.0
    assert value_of("a and b", a=1) is None
    assert value_of("a or b", a=0, b=3) == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("avg(2, 4, 9)", 5.0),  # 15 / 3
        ("sum(2, 4, 9)", 15.0),
        ("min(4, 2, 9)", 2.0),
        ("max(4, 2, 9)", 9.0),
        ("abs(3 - 5)", 2.0),
        ("round(2.5)", 3.0),  # halves away from zero, where Python's round says 2
        ("round(-2.5)", -3.0),
        ("round(2.675, 2)", 2.68),  # as written in decimal, where the float is 2.67499...
        ("round(1250, -2)", 1300.0),
        ("if(0, 1, 2)", 2.0),
        ("if(-0.5, 1, 2)", 1.0),  # any non-zero value is true
        ("0.1 + 0.2 == 0.3", 1.0),  # comparisons tolerate float rounding, like the scoring rules
        ("0.1 + 0.2 > 0.3", 0.0),
        ("0.1 + 0.2 <= 0.3", 1.0),
    ],
)
def test_functions_and_comparisons(text, expected):
    assert value_of(text) == expected


def test_round_half_away_matches_a_spreadsheet():
    assert [round_half_away(value) for value in (0.5, 1.5, 2.5, -0.5)] == [1.0, 2.0, 3.0, -1.0]
    assert round_half_away(1.005, 2) == 1.01


def test_an_input_used_twice_is_resolved_and_noted_once():
    result = evaluate(parse_formula("a * a + a"), {}, missing="zero")
    assert result.value == 0.0
    assert result.trace.steps == (
        "a has no value for this period; counted as 0",
        f"a {TIMES} a + a = 0 {TIMES} 0 + 0 = 0",
    )


def test_a_constant_formula_reads_without_repetition():
    assert evaluate(parse_formula("5"), {}, kpi="five").trace.steps == ("five = 5",)


def test_the_trace_is_json_ready():
    trace = evaluate(parse_formula("a / b"), {"a": 1, "b": 4}).trace.to_dict()
    assert trace["inputs"] == {"a": 1.0, "b": 4.0}
    assert trace["result"] == 0.25


_VALUES = st.one_of(st.none(), st.floats(), st.floats(-1e6, 1e6))


@given(
    expressions(st.sampled_from(["a", "b", "c"])),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), _VALUES),
    st.sampled_from(["no_data", "zero", "last_known"]),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), _VALUES),
)
def test_evaluation_never_raises_and_gives_a_finite_value_or_none(expression, values, missing, last_known):
    result = evaluate(
        Formula(format_expression(expression), expression), values, missing=missing, last_known=last_known
    )
    assert result.value is None or math.isfinite(result.value)
    assert set(result.used) <= {"a", "b", "c"}
    assert result.trace.result == result.value
    if result.value is None:
        assert result.trace.reason
