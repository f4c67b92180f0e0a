"""Calculated KPIs: formulas over other KPIs, parsed safely, checked for cycles and units, and explained.

A formula such as ``revenue / active_learners`` is text typed by a scorecard editor, so it is never given to
``eval``: a small hand-written Pratt parser turns it into an immutable tree once, and everything else (the
dependencies, the unit, the value, the trace) works on that tree. Hand-written rather than Python's ``ast``,
because this is not Python: ``if`` is a function, ``^`` is the power, and every error must point at a column
of the user's text.

The language, loosest binding first::

    a or b                       left to right; true is 1, false is 0, and any non-zero value is true
    a and b                      left to right
    not a
    a < b, <=, >, >=, ==, !=     never chained: write ``a < b and b < c``
    a + b, a - b                 left to right
    a * b, a / b                 left to right
    -a                           binds looser than ^, so ``-2 ^ 2`` is -4 as in mathematics (a spreadsheet says 4)
    a ^ b                        the power, right to left: ``2 ^ 3 ^ 2`` is 2 ^ 9; ``**`` is refused
    12, 0.5, .5, revenue, avg(a, b), (a)

Functions: ``abs(x)``, ``avg(x, ...)``, ``if(condition, value if true, value if false)``, ``max(x, ...)``,
``min(x, ...)``, ``round(x)`` or ``round(x, decimals)``, ``sum(x, ...)``. KPI references are KPI keys
(``[a-z][a-z0-9_]*``); ``and``, ``or`` and ``not`` are reserved, while a key may equal a function name since
only a name followed by ``(`` is a call.

Comparisons tolerate float rounding exactly like the scoring rules (``0.1 + 0.2 == 0.3`` is true), and
``round`` rounds halves away from zero on the number as written in decimal (``round(2.675, 2)`` is 2.68), as a
spreadsheet does, where Python's ``round`` would give 2.67.
"""

from __future__ import annotations

import difflib
import graphlib
import math
import re
import types
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Literal, NamedTuple, TypeGuard, get_args

from fourfold.engine.explain import (
    ARROW,
    GREATER_OR_EQUAL,
    LESS_OR_EQUAL,
    MINUS,
    TIMES,
    Trace,
    format_number,
    format_operand,
)

# Private to scoring, shared on purpose: a comparison in a formula must hold exactly when the same comparison
# in a status rule holds.
from fourfold.engine.scoring import (
    OPERATOR_TESTS,
    ScoringConfigError,
    is_close,
    is_present,
    safe_divide,
)

MAX_DEPTH = 100
"""How deeply a formula may nest; far beyond real formulas, and far inside Python's recursion limit."""

MAX_ROUND_DIGITS = 15
"""``round`` keeps at most this many decimals (or tens, when negative): a float holds no more digits."""

FunctionName = Literal["abs", "avg", "if", "max", "min", "round", "sum"]
UnaryOperator = Literal["-", "not"]
BinaryOperator = Literal["or", "and", "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/", "^"]


class FormulaError(ValueError):
    """A formula cannot be used as written; the message says where and why, in the user's terms."""


class FormulaSyntaxError(FormulaError):
    """The text is not a formula. ``column`` (1-based) points at the problem so a form can mark it."""

    def __init__(self, problem: str, text: str, column: int, detail: str = "") -> None:
        message = f"{problem} at column {column} in '{text}'"
        super().__init__(f"{message}; {detail}" if detail else message)
        self.column = column


class UnknownFunctionError(FormulaSyntaxError):
    """A call to a function the language does not have, such as ``mean(a, b)``."""


class FormulaArgumentError(FormulaSyntaxError):
    """A known function called with the wrong number or kind of arguments."""


class UnknownKpiError(FormulaError):
    """A formula refers to a KPI key that does not exist; ``reference`` is the key as written."""

    def __init__(self, message: str, reference: str) -> None:
        super().__init__(message)
        self.reference = reference


class FormulaCycleError(FormulaError):
    """Formulas that depend on each other in a circle; ``cycle`` lists the KPIs, the first one repeated."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(f"formula cycle: {f' {ARROW} '.join(cycle)}")
        self.cycle = tuple(cycle)


class FormulaUnitError(FormulaError):
    """A formula combines units that do not go together, or gives another unit than its KPI declares."""


@dataclass(frozen=True)
class Number:
    """A constant as written: never negative, since ``-2`` is ``Unary("-", Number(2.0))``."""

    value: float


@dataclass(frozen=True)
class Reference:
    """The value of another KPI for the same period, by its key."""

    key: str


@dataclass(frozen=True)
class Unary:
    """``-operand`` or ``not operand``."""

    operator: UnaryOperator
    operand: Expression


@dataclass(frozen=True)
class Binary:
    """An arithmetic, comparison or logical operator between two operands."""

    operator: BinaryOperator
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Call:
    """A call to one of ``FUNCTIONS``, with an argument count the parser has checked."""

    function: FunctionName
    arguments: tuple[Expression, ...]


Expression = Number | Reference | Unary | Binary | Call


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the text as the user wrote it, and its expression tree."""

    text: str
    expression: Expression

    @property
    def dependencies(self) -> frozenset[str]:
        """Every KPI key the formula mentions, including those in a branch of ``if`` it may not take.

        >>> sorted(parse_formula("if(nps > 30, revenue, 0) / users").dependencies)
        ['nps', 'revenue', 'users']
        """
        return frozenset(node.key for node in _nodes(self.expression) if isinstance(node, Reference))


def _children(expression: Expression) -> tuple[Expression, ...]:
    match expression:
        case Unary(_, operand):
            return (operand,)
        case Binary(_, left, right):
            return (left, right)
        case Call(_, arguments):
            return arguments
        case _:
            return ()


def _nodes(expression: Expression) -> Iterator[Expression]:
    """The expression and all its sub-expressions, parents first."""
    yield expression
    for child in _children(expression):
        yield from _nodes(child)


class _Signature(NamedTuple):
    usage: str
    least: int
    most: int | None
    arity: str


FUNCTIONS: Mapping[FunctionName, _Signature] = types.MappingProxyType(
    {
        "abs": _Signature("abs(x)", 1, 1, "1 argument"),
        "avg": _Signature("avg(x, ...)", 1, None, "at least 1 argument"),
        "if": _Signature("if(condition, value if true, value if false)", 3, 3, "3 arguments"),
        "max": _Signature("max(x, ...)", 1, None, "at least 1 argument"),
        "min": _Signature("min(x, ...)", 1, None, "at least 1 argument"),
        "round": _Signature("round(x, decimals)", 1, 2, "1 or 2 arguments"),
        "sum": _Signature("sum(x, ...)", 1, None, "at least 1 argument"),
    }
)
"""The functions a formula may call, with how to call each."""

# Binding powers of the Pratt parser; rendering uses the same numbers to decide where brackets are needed.
_BINDING_POWER: Mapping[BinaryOperator, int] = {
    "or": 1,
    "and": 2,
    **dict.fromkeys(("<", "<=", ">", ">=", "==", "!="), 4),
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "^": 8,
}
_NOT_POWER = 3
_COMPARISON_POWER = 4
_NEGATION_POWER = 7
_ATOM_POWER = 9
_RESERVED = frozenset({"and", "or", "not"})

_READABLE_SIGNS: Mapping[str, str] = {
    "-": MINUS,
    "*": TIMES,
    "<=": LESS_OR_EQUAL,
    ">=": GREATER_OR_EQUAL,
    "!=": "\N{NOT EQUAL TO}",
}
"""How traces show operators, in the typography of every other trace; ``==`` stays, as ``=`` chains the working."""
_OPERATOR_FOR_SIGN = {**{sign: operator for operator, sign in _READABLE_SIGNS.items()}, "=": "=="}
"""The way back, for a user who pastes a sign from a trace (or writes ``=``) into a formula."""


def _is_function(name: str) -> TypeGuard[FunctionName]:
    return name in FUNCTIONS


def _is_binary_operator(text: str) -> TypeGuard[BinaryOperator]:
    return text in _BINDING_POWER


def _power(expression: Expression) -> int:
    match expression:
        case Binary(operator, _, _):
            return _BINDING_POWER[operator]
        case Unary("-", _):
            return _NEGATION_POWER
        case Unary():
            return _NOT_POWER
        case _:
            return _ATOM_POWER


def _operand_powers(operator: BinaryOperator) -> tuple[int, int]:
    """The least binding power each operand needs to go without brackets."""
    power = _BINDING_POWER[operator]
    if operator == "^":
        return power + 1, power
    if power == _COMPARISON_POWER:
        return power + 1, power + 1
    return power, power + 1


def _number_text(value: float) -> str:
    """A constant in plain decimals, never in exponent notation, which the language does not have."""
    return format(Decimal(repr(value)), "f").removesuffix(".0")


def _render(expression: Expression, signs: Mapping[str, str], show: Callable[[str], str]) -> str:
    """Write an expression with as few brackets as its reading needs; ``show`` writes each KPI reference."""

    def operand(child: Expression, least_power: int) -> str:
        text = _render(child, signs, show)
        return f"({text})" if _power(child) < least_power else text

    match expression:
        case Number(value):
            return _number_text(value)
        case Reference(key):
            return show(key)
        case Unary("-", inner):
            return signs.get("-", "-") + operand(inner, _NEGATION_POWER)
        case Unary(_, inner):
            return "not " + operand(inner, _COMPARISON_POWER)
        case Binary(operator, left, right):
            left_power, right_power = _operand_powers(operator)
            return f"{operand(left, left_power)} {signs.get(operator, operator)} {operand(right, right_power)}"
        case Call(function, arguments):
            return f"{function}({', '.join(_render(argument, signs, show) for argument in arguments)})"


def _key_as_written(key: str) -> str:
    return key


def format_expression(expression: Expression) -> str:
    """Write an expression back as formula text, in a canonical spacing that parses to the same tree.

    >>> format_expression(parse_formula("(revenue-costs)/revenue*100").expression)
    '(revenue - costs) / revenue * 100'
    """
    return _render(expression, {}, _key_as_written)


def _readable(expression: Expression) -> str:
    """The expression as a trace shows it, with the typographic signs."""
    return _render(expression, _READABLE_SIGNS, _key_as_written)


class _Token(NamedTuple):
    kind: Literal["number", "name", "symbol", "end"]
    text: str
    column: int

    def __str__(self) -> str:
        return "end of the formula" if self.kind == "end" else f"'{self.text}'"


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KPI_KEY = re.compile(r"[a-z][a-z0-9_]*")
_SYMBOL = re.compile(r"\*\*|<=|>=|==|!=|[-+*/^<>(),]")
_OPERAND_EXPECTED = "expected a number, a KPI key, a function or '('"


def _tokenize(text: str) -> list[_Token]:
    """Split the text into tokens, refusing at once what can never be part of a formula."""
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            tokens.append(_Token("end", "", position + 1))
            return tokens
        column = position + 1
        if number := _NUMBER.match(text, position):
            tokens.append(_Token("number", number.group(), column))
        elif name := _NAME.match(text, position):
            if not _KPI_KEY.fullmatch(name.group()):
                raise FormulaSyntaxError(
                    f"invalid name '{name.group()}'",
                    text,
                    column,
                    "KPI keys and functions use lower-case letters, digits and _, and start with a letter",
                )
            tokens.append(_Token("name", name.group(), column))
        elif symbol := _SYMBOL.match(text, position):
            if symbol.group() == "**":
                raise FormulaSyntaxError("unexpected '**'", text, column, "write ^ for powers")
            tokens.append(_Token("symbol", symbol.group(), column))
        else:
            character = text[position]
            operator = _OPERATOR_FOR_SIGN.get(character)
            hint = f"write {operator} for {character}" if operator else ""
            raise FormulaSyntaxError(f"unexpected character {character!r}", text, column, hint)
        position += len(tokens[-1].text)


class _Parsed(NamedTuple):
    """A parsed sub-expression and its depth, which the parser limits as it goes."""

    expression: Expression
    depth: int


class _Parser:
    """A Pratt parser: each operator's binding power decides how far its right operand reaches."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = _tokenize(text)
        self._position = 0
        self._nesting = 0

    def parse(self) -> Expression:
        parsed = self._expression(0)
        if self._peek().kind != "end":
            raise self._error(f"unexpected {self._peek()}", self._peek())
        return parsed.expression

    def _peek(self) -> _Token:
        return self._tokens[self._position]

    def _advance(self) -> _Token:
        token = self._tokens[self._position]
        self._position += 1
        return token

    def _error(self, problem: str, token: _Token, detail: str = "") -> FormulaSyntaxError:
        return FormulaSyntaxError(problem, self._text, token.column, detail)

    def _too_deep(self, token: _Token) -> FormulaSyntaxError:
        return self._error("the formula nests too deeply", token, f"at most {MAX_DEPTH} levels are allowed")

    def _node(self, expression: Expression, token: _Token, *children: _Parsed) -> _Parsed:
        # Left-to-right chains (a + b + c + ...) deepen the tree without deepening the parser, hence this check.
        depth = 1 + max((child.depth for child in children), default=0)
        if depth > MAX_DEPTH:
            raise self._too_deep(token)
        return _Parsed(expression, depth)

    def _expect(self, symbol: str, expected: str) -> None:
        token = self._advance()
        if token.text != symbol:
            raise self._error(f"unexpected {token}", token, f"expected {expected}")

    def _expression(self, least_power: int) -> _Parsed:
        """Parse operators binding tighter than ``least_power``; brackets and prefixes recurse, so are limited."""
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise self._too_deep(self._peek())
        left = self._prefix()
        compared = False
        while _is_binary_operator(operator := self._peek().text) and _BINDING_POWER[operator] > least_power:
            token = self._advance()
            power = _BINDING_POWER[operator]
            if power == _COMPARISON_POWER:
                if compared:
                    raise self._error(
                        f"unexpected {token}", token, "comparisons cannot be chained; join them with 'and'"
                    )
                compared = True
            right = self._expression(power - 1 if operator == "^" else power)
            left = self._node(Binary(operator, left.expression, right.expression), token, left, right)
        self._nesting -= 1
        return left

    def _prefix(self) -> _Parsed:
        token = self._advance()
        if token.kind == "number":
            value = float(token.text)
            if math.isinf(value):
                raise self._error(f"number {token.text} is too large", token)
            return self._node(Number(value), token)
        if token.kind == "name" and token.text not in _RESERVED:
            if self._peek().text == "(":
                return self._call(token)
            return self._node(Reference(token.text), token)
        if token.text in {"-", "not"}:
            operand = self._expression(_NEGATION_POWER if token.text == "-" else _NOT_POWER)
            operator: UnaryOperator = "-" if token.text == "-" else "not"
            return self._node(Unary(operator, operand.expression), token, operand)
        if token.text == "(":
            inner = self._expression(0)
            self._expect(")", "')'")
            return inner
        raise self._error(f"unexpected {token}", token, _OPERAND_EXPECTED)

    def _call(self, name: _Token) -> _Parsed:
        function = name.text
        if not _is_function(function):
            raise UnknownFunctionError(
                f"unknown function '{function}'", self._text, name.column, f"expected one of: {', '.join(FUNCTIONS)}"
            )
        self._advance()
        arguments: list[_Parsed] = []
        if self._peek().text != ")":
            arguments.append(self._expression(0))
            while self._peek().text == ",":
                self._advance()
                arguments.append(self._expression(0))
        self._expect(")", "',' or ')'")
        signature = FUNCTIONS[function]
        count = len(arguments)
        if count < signature.least or (signature.most is not None and count > signature.most):
            raise FormulaArgumentError(
                f"{function}() takes {signature.arity}, got {count}",
                self._text,
                name.column,
                f"write {signature.usage}",
            )
        if function == "round" and count == 2 and not _is_decimals(arguments[1].expression):
            raise FormulaArgumentError(
                f"round() takes a whole number from {-MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS} as its decimals",
                self._text,
                name.column,
                f"got {format_expression(arguments[1].expression)}",
            )
        call = Call(function, tuple(argument.expression for argument in arguments))
        return self._node(call, name, *arguments)


def _is_decimals(expression: Expression) -> bool:
    """Decimals are a literal, so rounding never depends on data and always has a valid precision."""
    match expression:
        case Number(value) | Unary("-", Number(value)):
            return value.is_integer() and value <= MAX_ROUND_DIGITS
        case _:
            return False


def parse_formula(text: str) -> Formula:
    """Parse formula text once into an immutable tree, or raise a ``FormulaSyntaxError`` naming the column.

    >>> parse_formula("revenue / active_learners").expression
    Binary(operator='/', left=Reference(key='revenue'), right=Reference(key='active_learners'))
    >>> parse_formula("revenue / (users")
    Traceback (most recent call last):
    ...
    fourfold.engine.formulas.FormulaSyntaxError: unexpected end of the formula at column 17 in 'revenue / (users'; expected ')'
    """
    return Formula(text, _Parser(text).parse())


def _unknown_kpi(reference: str, where: str, known: Collection[str]) -> UnknownKpiError:
    message = f"unknown KPI '{reference}' in {where}"
    suggestions = difflib.get_close_matches(reference, sorted(known), n=1)
    if suggestions:
        message += f"; did you mean '{suggestions[0]}'?"
    return UnknownKpiError(message, reference)


def check_formulas(formulas: Mapping[str, Formula], known_keys: Collection[str]) -> list[str]:
    """Check that every formula refers to existing KPIs without a cycle; return the formula KPIs in order.

    ``formulas`` maps each formula KPI's key to its formula; ``known_keys`` are the other KPIs a formula may
    use (formula KPIs may use each other). The result lists the keys of ``formulas`` so that each comes
    after every formula KPI it depends on: evaluate them in that order, feeding each value to the next.
    KPIs are checked in key order, so the same mistake always gives the same message.

    >>> check_formulas({"margin": parse_formula("profit / revenue_per_user"),
    ...                 "revenue_per_user": parse_formula("revenue / users")}, ["profit", "revenue", "users"])
    ['revenue_per_user', 'margin']
    >>> check_formulas({"margin": parse_formula("1 / revenue_per_user"),
    ...                 "revenue_per_user": parse_formula("revenue / margin")}, ["revenue"])
    Traceback (most recent call last):
    ...
    fourfold.engine.formulas.FormulaCycleError: formula cycle: margin → revenue_per_user → margin
    """
    known = {*known_keys, *formulas}
    for kpi in sorted(formulas):
        for reference in sorted(formulas[kpi].dependencies - known):
            raise _unknown_kpi(reference, f"formula of '{kpi}'", known)
    graph = {kpi: sorted(formulas[kpi].dependencies & formulas.keys()) for kpi in sorted(formulas)}
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        # graphlib lists each KPI before the ones that use it; a cycle reads better the other way round.
        members = list(reversed(error.args[1][1:]))
        start = members.index(min(members))
        ordered = members[start:] + members[:start]
        raise FormulaCycleError([*ordered, ordered[0]]) from None


class UnitKind(StrEnum):
    """The units a KPI can have; the values are those the KPI model stores."""

    NUMBER = "number"
    PERCENT = "percent"
    CURRENCY = "currency"
    DURATION = "duration"
    COUNT = "count"
    YES_NO = "yes_no"


DURATION_UNITS = ("minutes", "hours", "days")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Unit:
    """A unit as the algebra sees it: the kind and, for a currency or a duration, which one.

    ``detail`` is the ISO 4217 code of a currency (``EUR``) or the unit of a duration (``hours``) and empty
    otherwise, so a KPI maps directly: ``Unit(UnitKind(kpi.unit), kpi.currency_code or kpi.duration_unit)``.
    """

    kind: UnitKind
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind == UnitKind.CURRENCY and not _CURRENCY_CODE.fullmatch(self.detail):
            raise ScoringConfigError(f"a currency needs a three-letter code such as EUR, got {self.detail!r}")
        if self.kind == UnitKind.DURATION and self.detail not in DURATION_UNITS:
            raise ScoringConfigError(f"a duration is in {', '.join(DURATION_UNITS)}, got {self.detail!r}")
        if self.kind not in {UnitKind.CURRENCY, UnitKind.DURATION} and self.detail:
            raise ScoringConfigError(f"only currencies and durations have a detail, got {self.detail!r}")

    def __str__(self) -> str:
        if self.kind == UnitKind.YES_NO:
            return "yes/no"
        return f"{self.kind.value} {self.detail}" if self.detail else self.kind.value


_YES_NO = Unit(UnitKind.YES_NO)
_NUMBER_UNIT = Unit(UnitKind.NUMBER)

# What an amount may be multiplied by and keep its unit: a price times a quantity, a share of an amount.
_SCALED_BY: Mapping[UnitKind, frozenset[UnitKind]] = {
    UnitKind.CURRENCY: frozenset({UnitKind.COUNT, UnitKind.PERCENT}),
    UnitKind.DURATION: frozenset({UnitKind.COUNT, UnitKind.PERCENT}),
    UnitKind.COUNT: frozenset({UnitKind.PERCENT}),
}


class _UnitInference:
    """Work out the unit of each sub-expression; ``None`` stands for a constant, which has no unit of its own.

    A constant takes the unit of what it is combined with, so ``revenue + 1000`` is a currency and
    ``if(nps > 30, 1, 0)`` can be a yes/no KPI.
    """

    def __init__(self, formula: Formula, units: Mapping[str, Unit]) -> None:
        self._formula = formula
        self._units = units

    def unit(self, expression: Expression) -> Unit | None:
        match expression:
            case Number():
                return None
            case Reference(key):
                if key not in self._units:
                    raise _unknown_kpi(key, f"'{self._formula.text}'", self._units)
                return self._units[key]
            case Unary("-", operand):
                return self.unit(operand)
            case Unary(_, operand):
                self._require_condition(expression, self.unit(operand), "'not'")
                return _YES_NO
            case Binary("and" | "or" as operator, left, right):
                for side in (left, right):
                    self._require_condition(expression, self.unit(side), f"'{operator}'")
                return _YES_NO
            case Binary(operator, left, right):
                return self._binary(expression, operator, self.unit(left), self.unit(right))
            case Call("if", (condition, when_true, when_false)):
                self._require_condition(expression, self.unit(condition), "the condition of if()")
                branches = (self.unit(when_true), self.unit(when_false))
                return self._common(expression, branches, "if() needs both values in one unit, got {} and {}")
            case Call("abs" | "round", (value, *_)):
                return self.unit(value)
            case Call(function, arguments):
                units = [self.unit(argument) for argument in arguments]
                return self._common(expression, units, f"{function}() needs values in one unit, got {{}} and {{}}")

    def _error(self, expression: Expression, problem: str) -> FormulaUnitError:
        return FormulaUnitError(f"{problem} in '{format_expression(expression)}'")

    def _require_condition(self, expression: Expression, unit: Unit | None, what: str) -> None:
        if unit not in {None, _YES_NO}:
            raise self._error(expression, f"{what} needs a yes/no value such as a comparison, got {unit}")

    def _common(self, expression: Expression, units: Iterable[Unit | None], mismatch: str) -> Unit | None:
        """The one unit of all non-constant operands; ``mismatch`` words the error for the first two that differ."""
        present = [unit for unit in units if unit is not None]
        for unit in present[1:]:
            if unit != present[0]:
                raise self._error(expression, mismatch.format(present[0], unit))
        return present[0] if present else None

    def _binary(
        self, expression: Expression, operator: BinaryOperator, left: Unit | None, right: Unit | None
    ) -> Unit | None:
        if _BINDING_POWER[operator] == _COMPARISON_POWER:
            self._common(expression, (left, right), "cannot compare {} with {}")
            return _YES_NO
        if operator == "+":
            return self._common(expression, (left, right), "cannot add {} and {}")
        if operator == "-":
            return self._common(expression, (left, right), "cannot subtract {1} from {0}")
        if operator == "*":
            return self._product(expression, left, right)
        if operator == "/":
            return self._quotient(expression, left, right)
        return self._exponentiation(expression, left, right)

    def _product(self, expression: Expression, left: Unit | None, right: Unit | None) -> Unit | None:
        if left is None or left == _NUMBER_UNIT:
            return right if right is not None else left
        if right is None or right == _NUMBER_UNIT:
            return left
        for factor, amount in ((left, right), (right, left)):
            if factor.kind in _SCALED_BY.get(amount.kind, frozenset()):
                return amount
        raise self._error(expression, f"cannot multiply {left} by {right}")

    def _quotient(self, expression: Expression, left: Unit | None, right: Unit | None) -> Unit | None:
        if right is None or right == _NUMBER_UNIT:
            return left if left is not None else right
        dividend = left if left is not None else _NUMBER_UNIT
        if dividend == right:
            return _NUMBER_UNIT
        if right.kind == UnitKind.COUNT:
            return dividend
        raise self._error(expression, f"cannot divide {dividend} by {right}")

    def _exponentiation(self, expression: Expression, base: Unit | None, exponent: Unit | None) -> Unit | None:
        # Powers are for growth factors such as (1 + growth / 100) ^ 12: plain numbers in, a plain number out.
        if base is not None and base.kind not in {UnitKind.NUMBER, UnitKind.PERCENT}:
            raise self._error(expression, f"cannot raise {base} to a power")
        if exponent not in {None, _NUMBER_UNIT}:
            raise self._error(expression, f"an exponent must be a plain number, got {exponent}")
        return None if base is None else _NUMBER_UNIT


def _scales_by_hundred(expression: Expression) -> bool:
    """Whether the formula multiplies or divides something by the literal 100 somewhere."""
    return any(
        isinstance(node, Binary)
        and (
            (node.operator == "*" and Number(100.0) in {node.left, node.right})
            or (node.operator == "/" and node.right == Number(100.0))
        )
        for node in _nodes(expression)
    )


def infer_unit(formula: Formula, units: Mapping[str, Unit], *, declared: Unit | None = None) -> Unit:
    """The unit of a formula's value, from the units of the KPIs it uses, which ``units`` must all hold.

    Raises ``FormulaUnitError`` when units do not go together and ``UnknownKpiError`` for a KPI not in ``units``.

    The algebra, where a constant takes the unit of what it meets (alone, it is a number):

    * ``+``, ``-``, comparisons, ``min``, ``max``, ``avg``, ``sum`` and both values of ``if`` need one unit;
      currencies must have the same code and durations the same unit. Comparisons give yes/no.
    * ``x * number`` and ``x / number`` keep the unit of ``x``; so do ``currency * count``,
      ``duration * count`` and ``amount * percent`` (a share of an amount, when you divide by 100 yourself).
    * ``x / x`` is a number (a ratio: currency / currency, count / count); ``x / count`` keeps the unit of
      ``x`` (per unit: revenue per learner is a currency). Other products and quotients are errors.
    * ``^`` takes a number or percent base and a number exponent, and gives a number.
    * ``-x``, ``abs(x)`` and ``round(x, ...)`` keep the unit; ``and``, ``or``, ``not`` and the condition of
      ``if`` need yes/no values (comparisons or yes/no KPIs) and give yes/no.

    With ``declared``, the KPI's own unit, a different result is an error, with one exception: number and
    percent stand for each other when the formula multiplies or divides by the literal 100 somewhere
    (``completed / enrolled * 100`` may be a percent KPI, ``share / 100`` a number). The declared unit is then
    returned, as is for a formula made of constants only.

    >>> units = {"revenue": Unit(UnitKind.CURRENCY, "EUR"), "learners": Unit(UnitKind.COUNT)}
    >>> str(infer_unit(parse_formula("revenue / learners"), units))
    'currency EUR'
    >>> infer_unit(parse_formula("revenue + learners"), units)
    Traceback (most recent call last):
    ...
    fourfold.engine.formulas.FormulaUnitError: cannot add currency EUR and count in 'revenue + learners'
    """
    inferred = _UnitInference(formula, units).unit(formula.expression)
    if declared is None:
        return inferred if inferred is not None else _NUMBER_UNIT
    if inferred is None or inferred == declared:
        return declared
    if {inferred.kind, declared.kind} == {UnitKind.NUMBER, UnitKind.PERCENT} and _scales_by_hundred(formula.expression):
        return declared
    message = f"'{formula.text}' gives {inferred}, but the KPI is declared as {declared}"
    if inferred.kind == UnitKind.NUMBER and declared.kind == UnitKind.PERCENT:
        message += "; multiply the ratio by 100 to make it a percentage"
    raise FormulaUnitError(message)


MissingPolicy = Literal["no_data", "zero", "last_known"]
"""What a formula does with an input that has no value: give no value, count it as 0, or use its last value."""

_NO_VALUES: Mapping[str, float | None] = types.MappingProxyType({})
_NO_PERIODS: Mapping[str, str] = types.MappingProxyType({})

_COMPARE: Mapping[str, Callable[[float, float], bool]] = {
    **dict(OPERATOR_TESTS.items()),  # dict() widens the keys from the rule operators to any text
    "!=": lambda left, right: not is_close(left, right),
}
_ARITHMETIC: Mapping[str, Callable[[float, float], float | None]] = {
    "+": lambda left, right: left + right,
    "-": lambda left, right: left - right,
    "*": lambda left, right: left * right,
    "/": safe_divide,
    "^": math.pow,
}
"""Arithmetic that may fail: ``None`` is a division by zero, and ``math.pow`` raises rather than going complex."""
# Rounding works on the decimal text of a float: room for the 309 integer digits of the largest float and
# the most decimals round() may keep.
_ROUNDING = Context(prec=309 + MAX_ROUND_DIGITS, rounding=ROUND_HALF_UP)


def round_half_away(value: float, decimals: int = 0) -> float:
    """Round as people and spreadsheets do: halves away from zero, on the number as written in decimal.

    >>> round_half_away(2.5), round_half_away(-2.5), round_half_away(2.675, 2), round_half_away(1250, -2)
    (3.0, -3.0, 2.68, 1300.0)
    """
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), context=_ROUNDING))


_OF_VALUES: Mapping[FunctionName, Callable[[Sequence[float]], float]] = {
    "abs": lambda values: abs(values[0]),
    # Dividing first keeps the average of two huge values from overflowing on the way.
    "avg": lambda values: math.fsum(value / len(values) for value in values),
    "max": max,
    "min": min,
    "round": lambda values: round_half_away(values[0], int(values[1]) if len(values) == 2 else 0),
    "sum": math.fsum,
}


def _equation(parts: Iterable[str]) -> str:
    """``a = b = c``, leaving out a part equal to the one before (``5 = 5``)."""
    shown: list[str] = []
    for part in parts:
        if not shown or shown[-1] != part:
            shown.append(part)
    return " = ".join(shown)


def _names(keys: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} and {keys[-1]}"


class _Evaluation:
    """One evaluation's working state: the inputs resolved so far, and what the trace must say about them."""

    def __init__(
        self,
        values: Mapping[str, float | None],
        policy: MissingPolicy,
        last_known: Mapping[str, float | None],
        last_known_periods: Mapping[str, str],
    ) -> None:
        self._values = values
        self._policy = policy
        self._last_known = last_known
        self._last_known_periods = last_known_periods
        self.used: dict[str, float | None] = {}
        self.notes: list[str] = []
        self.replaced: list[str] = []
        self.missing: list[str] = []
        self.problems: list[str] = []

    def value(self, expression: Expression) -> float | None:
        """The value of an expression, or ``None`` when an input is missing or the arithmetic has none."""
        match expression:
            case Number(value):
                return value
            case Reference(key):
                return self._input(key)
            case Unary(operator, operand):
                inner = self.value(operand)
                if inner is None:
                    return None
                return -inner if operator == "-" else float(inner == 0)
            case Binary("and" | "or" as operator, left, right):
                # Only what decides the answer is evaluated: the right side may lack data without harm.
                first = self.value(left)
                if first is None:
                    return None
                if (first != 0) == (operator == "or"):  # "false and ...", "true or ...": the left decides
                    return float(first != 0)
                second = self.value(right)
                return None if second is None else float(second != 0)
            case Binary(operator, left, right):
                # Both sides are evaluated even when one has no value, so the trace names every missing input.
                first, second = self.value(left), self.value(right)
                if first is None or second is None:
                    return None
                if operator in _COMPARE:
                    return float(_COMPARE[operator](first, second))
                return self._checked(expression, lambda: _ARITHMETIC[operator](first, second))
            case Call("if", (condition, when_true, when_false)):
                test = self.value(condition)
                if test is None:
                    return None
                return self.value(when_true if test != 0 else when_false)
            case Call(function, arguments):
                values = [self.value(argument) for argument in arguments]
                present = [value for value in values if value is not None]
                if len(present) < len(values):
                    return None
                return self._checked(expression, lambda: _OF_VALUES[function](present))

    def show(self, key: str) -> str:
        """A reference in the working: its value when it has one, else its key."""
        value = self.used.get(key)
        return key if value is None else format_operand(value)

    def _input(self, key: str) -> float | None:
        if key in self.used:
            return self.used[key]
        value = self._values.get(key)
        resolved: float | None = None
        if is_present(value):
            resolved = float(value)
        elif self._policy == "zero":
            resolved = 0.0
            self.notes.append(f"{key} has no value for this period; counted as 0")
        elif self._policy == "last_known" and is_present(known := self._last_known.get(key)):
            resolved = float(known)
            period = self._last_known_periods.get(key)
            source = f" from {period}" if period else ""
            self.notes.append(
                f"{key} has no value for this period; used its last known value {format_number(known)}{source}"
            )
        if resolved is None:
            self.missing.append(key)
        elif not is_present(value):
            self.replaced.append(key)
        self.used[key] = resolved
        return resolved

    def reason(self, subject: str, readable: str) -> str:
        """The trace's "because": the missing inputs, else the first failed step, else the formula itself."""
        if self.missing:
            verb = "has" if len(self.missing) == 1 else "have"
            reason = f"{_names(self.missing)} {verb} no value for this period"
            return reason + " and no last known value" if self._policy == "last_known" else reason
        if self.problems:
            return self.problems[0]
        reason = f"{subject} is {readable}"
        if not self.replaced:
            return reason
        replaced = _names(self.replaced)
        if self._policy == "zero":
            return f"{reason}, counting {replaced} as 0"
        return f"{reason}, with the last known value of {replaced}"

    def _checked(self, expression: Expression, compute: Callable[[], float | None]) -> float | None:
        """One step of arithmetic; a step without a finite value is written down for the trace, never raised."""
        try:
            result = compute()
        except ValueError:  # math.pow of a negative number to a fraction, or of 0 to a negative power
            problem = "is undefined"
        except OverflowError:  # math.pow and math.fsum raise where other arithmetic gives infinity
            problem = "is too large"
        else:
            if result is not None and math.isfinite(result):
                return result
            problem = "divides by zero" if result is None else "is too large"
        working = _equation((_readable(expression), _render(expression, _READABLE_SIGNS, self.show)))
        self.problems.append(f"{working} {problem}")
        return None


@dataclass(frozen=True)
class Evaluation:
    """A formula's value for one period (``None`` when it has none), the inputs it used, and the trace.

    ``used`` holds each KPI the evaluation needed, with the value it took (after the missing-value policy),
    or ``None`` for a missing one. KPIs only in a branch of ``if`` that was not taken are not in it.
    """

    value: float | None
    used: Mapping[str, float | None]
    trace: Trace


def evaluate(
    formula: Formula,
    values: Mapping[str, float | None],
    *,
    missing: MissingPolicy = "no_data",
    last_known: Mapping[str, float | None] = _NO_VALUES,
    last_known_periods: Mapping[str, str] = _NO_PERIODS,
    kpi: str | None = None,
) -> Evaluation:
    """Compute a formula for one period from the values of its inputs; never raises for data.

    A division by zero, a power without a real value or an overflow gives ``None``, and the trace names the
    sub-expression. An input is missing when ``values`` lacks it or holds ``None``, NaN or infinity; then
    ``missing`` decides: ``"no_data"`` gives ``None`` and the trace names every missing input, ``"zero"``
    counts it as 0, ``"last_known"`` takes it from ``last_known`` (``last_known_periods`` says which period
    that value is from, for the trace) and gives ``None`` if that has none either. Evaluation is lazy where
    it can be: ``if`` evaluates only the value it returns, and ``and`` / ``or`` skip their right side when
    the left decides, so an input missing there does not matter. ``kpi`` names the formula's KPI in the trace.

    >>> result = evaluate(parse_formula("revenue / active_learners"),
    ...                   {"revenue": 120000, "active_learners": 4000}, kpi="arpu")
    >>> result.value, result.trace.steps[-1]
    (30.0, 'arpu = revenue / active_learners = 120000 / 4000 = 30')
    """
    if missing not in get_args(MissingPolicy):
        raise ScoringConfigError(
            f"unknown missing-value policy {missing!r}; expected one of: {', '.join(get_args(MissingPolicy))}"
        )
    evaluation = _Evaluation(values, missing, last_known, last_known_periods)
    value = evaluation.value(formula.expression)
    readable = _readable(formula.expression)
    working = _equation(
        (
            *([kpi] if kpi else []),
            readable,
            _render(formula.expression, _READABLE_SIGNS, evaluation.show),
            "no value" if value is None else format_number(value),
        )
    )
    used = types.MappingProxyType(evaluation.used)
    trace = Trace(
        method="formula",
        inputs=used,
        steps=(*evaluation.notes, *evaluation.problems, working),
        result=value,
        reason=evaluation.reason(kpi or "the formula", readable),
        result_kind="value",
        title=None if value is None else f"Calculated {format_number(value)}",
    )
    return Evaluation(value, used, trace)
