"""Problems found in a scorecard file, worded for the person who will fix them.

A file is usually written by hand, so a problem is only useful if it says *where* (the line, and the KPI by
its key rather than ``perspectives[1].objectives[0].kpis[2]``), *what was given* and *what is expected*.
Every problem is collected and all are reported together in one :class:`ScorecardFileError`: fixing a file
one error per run is the experience this module exists to avoid.

Locations are paths into the document such as ``("perspectives", 1, "objectives", 0, "kpis", 2, "targets",
0, "red_flag")``. :func:`describe` turns one into words using the document itself, and :func:`line_of` into
a line number using the positions the YAML reader recorded (:mod:`fourfold.scorefile.yamldoc`).
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from fourfold.engine.explain import format_number
from fourfold.scorefile.schema import PATTERN_WORDS, UNION_TAGS, FileModel

Path = tuple[str | int, ...]
"""A location in the document: mapping keys and list indexes from the top."""

Positions = Mapping[tuple[str, ...], int]
"""The line (from 1) where each location starts in the file, by the path written out as text."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where it is, in lines and in words, and what is wrong."""

    line: int | None
    column: int | None
    where: str
    message: str

    def __str__(self) -> str:
        position = ""
        if self.line is not None:
            position = f"line {self.line}" + (f", column {self.column}" if self.column is not None else "") + ": "
        return position + (f"{self.where}: " if self.where else "") + self.message


class ScorecardFileError(ValueError):
    """A scorecard file that cannot be used, with every problem found (``problems``), in file order."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(sorted(problems, key=lambda problem: problem.line or 0))
        count = len(self.problems)
        heading = f"{source} has {count} problem{'' if count == 1 else 's'}:"
        super().__init__("\n".join([heading, *(f"  {problem}" for problem in self.problems)]))


def line_of(positions: Positions, path: Path) -> int | None:
    """The line of the deepest part of ``path`` that the file spells out (defaults are not in the file)."""
    for length in range(len(path), 0, -1):
        found = positions.get(path_text(path[:length]))
        if found is not None:
            return found
    return None


def path_text(path: Path) -> tuple[str, ...]:
    """The path as text, the way positions are kept: an unquoted 2026 is a number in the data, not in the file.

    A list index and a mapping key cannot be confused, since one level of a document is either a list or a
    mapping.
    """
    return tuple(str(part) for part in path)


_NAMED_ITEMS = {"perspectives": ("perspective", "name"), "objectives": ("objective", "code"), "kpis": ("kpi", "key")}
"""Lists whose items have a name people know them by, and the field that holds it."""


def describe(path: Path, document: object) -> tuple[str, str]:
    """Say where ``path`` points, as (the item, the field within it), using the names found in ``document``.

    The item is the innermost named thing (a KPI rather than its objective, since KPI keys are unique in a
    scorecard), after the scorecard when that is not the top one, followed by a target, value, status or
    link within it. The field is the rest of the path.

    >>> document = {"perspectives": [{"objectives": [{"kpis": [{"key": "csat", "targets": [{"from": "2026-01"}]}]}]}]}
    >>> describe(("perspectives", 0, "objectives", 0, "kpis", 0, "targets", 0, "red_flag"), document)
    ("kpi 'csat', targets[0] (from 2026-01)", 'red_flag')
    """
    scorecard = item = ""
    details: list[str] = []
    fields: list[str] = []
    node = document
    position = 0
    while position < len(path):
        part = path[position]
        following = path[position + 1] if position + 1 < len(path) else None
        child = _step(node, part)
        if part in {"children", *_NAMED_ITEMS} and isinstance(following, int):
            element = _step(child, following)
            noun, name_field = _NAMED_ITEMS.get(str(part), ("scorecard", "key"))
            name = _step(element, name_field)
            label = f"{noun} '{name}'" if isinstance(name, str) and name else f"{part}[{following}]"
            if part == "children":
                scorecard, item = label, ""
            else:
                item = label
            details, fields, node = [], [], element
            position += 2
            continue
        if part in {"targets", "statuses", "links"} and isinstance(following, int):
            element = _step(child, following)
            details.append(f"{part}[{following}]{_detail(str(part), element)}")
            fields, node = [], element
            position += 2
            continue
        if part == "values" and following is not None and not fields:
            details.append(f"values {following}")
            node = _step(child, following)
            position += 2
            continue
        fields.append(f"[{part}]" if isinstance(part, int) else ("." if fields else "") + str(part))
        node = child
        position += 1
    return ", ".join(part for part in (scorecard, item, *details) if part), "".join(fields)


def _step(node: object, part: str | int) -> object:
    """Go one level down in raw data, or nowhere when the data does not have that shape."""
    if isinstance(node, Mapping):
        return node.get(part, node.get(str(part)))
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _detail(kind: str, element: object) -> str:
    """What identifies a target setting, status or link besides its position."""
    if kind == "targets":
        starts = _step(element, "from")
        return f" (from {starts})" if starts is not None else ""
    if kind == "statuses":
        key = _step(element, "key")
        return f" ('{key}')" if isinstance(key, str) else ""
    cause, effect = _step(element, "from"), _step(element, "to")
    return f" ({cause} → {effect})" if cause is not None and effect is not None else ""


def shown(value: object) -> str:
    """A value as the person wrote it in YAML, for the "got ..." part of a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, int | float):
        return format_number(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"


_KINDS = {
    "float_type": "a number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a mapping of field: value",
    "model_type": "a mapping of field: value",
    "list_type": "a list (lines starting with -)",
}
_YAML_BOOLEANS = " (YAML reads yes, no, on and off as true or false: put the text in quotes)"
_YAML_NUMBERS = " (put it in quotes to make it text)"


def schema_problems(error: ValidationError, document: object, positions: Positions) -> list[Problem]:
    """Pydantic's errors as problems: one per error, with the item named and the expected input spelled out."""
    problems = []
    for details in error.errors(include_url=False):
        path: Path = tuple(part for part in details["loc"] if part not in UNION_TAGS)
        if details["type"] == "extra_forbidden":
            where, field = describe(path[:-1], document)
            message = _unknown_field(str(path[-1]), field)
        else:
            where, field = describe(path, document)
            subject = field or ("" if where else "the document")
            message = (f"{subject} " if subject else "") + _expectation(details)
        problems.append(Problem(line_of(positions, path), None, where, message))
    return problems


def _unknown_field(name: str, parent_field: str) -> str:
    """Name the unknown field and, for a likely typo, the field that was meant."""
    message = f"unknown field '{name}'" + (f" in {parent_field}" if parent_field else "")
    suggestions = difflib.get_close_matches(name, sorted(_all_field_names()), n=1)
    return message + (f"; did you mean '{suggestions[0]}'?" if suggestions else "")


def _all_field_names() -> set[str]:
    """Every field name the format has, as written in files; typos are matched against these."""
    names: set[str] = set()
    pending: list[type[FileModel]] = [*FileModel.__subclasses__()]
    while pending:
        model = pending.pop()
        names.update(field.alias or name for name, field in model.model_fields.items())
        pending.extend(model.__subclasses__())
    return names


def _expectation(details: ErrorDetails) -> str:
    """What was expected and what was given, for one Pydantic error."""
    kind, given, context = details["type"], details["input"], details.get("ctx", {})
    if kind == "missing":
        return "is required"
    if kind in _KINDS:
        hint = ""
        if kind == "string_type" and isinstance(given, bool):
            hint = _YAML_BOOLEANS
        elif kind == "string_type" and isinstance(given, int | float):
            hint = _YAML_NUMBERS
        return f"must be {_KINDS[kind]}, got {shown(given)}{hint}"
    if kind in {"enum", "literal_error"}:
        return f"must be {context['expected']}, got {shown(given)}"
    if kind == "string_pattern_mismatch":
        pattern = str(context["pattern"])
        return f"must be {PATTERN_WORDS.get(pattern, 'text matching ' + pattern)}, got {shown(given)}"
    limits = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in limits:
        words, bound = limits[kind]
        return f"must be {words} {shown(context[bound])}, got {shown(given)}"
    if kind in {"too_long", "too_short"}:
        bound = context["max_length" if kind == "too_long" else "min_length"]
        words = "at most" if kind == "too_long" else "at least"
        return f"must have {words} {bound} item{'' if bound == 1 else 's'}, got {context.get('actual_length')}"
    if kind in {"string_too_long", "string_too_short"}:
        bound = context["max_length" if kind == "string_too_long" else "min_length"]
        words = "at most" if kind == "string_too_long" else "at least"
        return f"must be {words} {bound} character{'' if bound == 1 else 's'} long, got {shown(given)}"
    if kind == "finite_number":
        return f"must be a finite number, got {shown(given)}"
    return f"{details['msg'][0].lower()}{details['msg'][1:]}, got {shown(given)}"
