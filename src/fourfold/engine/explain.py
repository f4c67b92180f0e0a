"""Explanations that travel with every number the engine produces.

A score nobody can reproduce is a score nobody trusts. Every ``ScoreResult`` and every roll-up result carries
a ``Trace``: the method, its inputs, the arithmetic as readable steps, what was left out and why, and the
result. ``to_dict()`` feeds the API and the audit log; ``to_sentence()`` is what a user reads by a red KPI.

The readable strings use the typographic minus and multiplication signs, spelled with ``\\N{...}`` escapes so
that the source stays plain ASCII.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

MINUS = "\N{MINUS SIGN}"
TIMES = "\N{MULTIPLICATION SIGN}"
GREATER_OR_EQUAL = "\N{GREATER-THAN OR EQUAL TO}"
LESS_OR_EQUAL = "\N{LESS-THAN OR EQUAL TO}"
ARROW = "\N{RIGHTWARDS ARROW}"

TraceValue = float | str | bool | None | tuple[float, ...]
"""What a trace input may hold: plain JSON-friendly values, so ``to_dict()`` needs no custom encoder."""

ResultKind = Literal["score", "status", "value", "counts"]
"""What the traced result is; it decides the first words of ``Trace.to_sentence()``."""


def format_number(value: float) -> str:
    """Render a number for people: at most four decimals, no trailing zeros, a real minus sign.

    >>> format_number(600.0)
    '600'
    >>> format_number(1 / 3)
    '0.3333'
    >>> format_number(-2.5) == MINUS + "2.5"
    True
    """
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    if text in {"-0", ""}:
        return "0"
    return text.replace("-", MINUS)


def format_operand(value: float) -> str:
    """Render a number that appears inside a formula, bracketing negatives so ``3 - (-2)`` stays readable."""
    text = format_number(value)
    return f"({text})" if text.startswith(MINUS) else text


def format_score(score: float) -> str:
    """Render a 0-10 score with two decimals at most but always one, as scores are shown in the UI.

    >>> format_score(5.0), format_score(20 / 3), format_score(10.0)
    ('5.0', '6.67', '10.0')
    """
    text = f"{score:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def format_percent(fraction: float) -> str:
    """Render a fraction as a percentage with one decimal at most (0.8333 -> '83.3 %')."""
    text = f"{fraction * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace("-", MINUS) + " %"


def describe_position(value: float, fraction: float, start: tuple[str, float], end: tuple[str, float]) -> str:
    """Say in words where ``value`` lies on the way from ``start`` (fraction 0) to ``end`` (fraction 1).

    The anchors are ``(label, value)`` pairs such as ``("red flag", 500.0)``; this phrase is the "because"
    of most linear scores, so it must read naturally both inside and outside the anchors.

    >>> describe_position(600, 0.5, ("red flag", 500), ("goal", 700))
    '600 lies halfway between the red flag 500 and the goal 700'
    """
    shown = format_number(value)
    start_text = f"the {start[0]} {format_number(start[1])}"
    end_text = f"the {end[0]} {format_number(end[1])}"
    if math.isclose(fraction, 0.5):
        return f"{shown} lies halfway between {start_text} and {end_text}"
    if math.isclose(fraction, 0.0, abs_tol=1e-12):
        return f"{shown} equals {start_text}, on the way to {end_text}"
    if math.isclose(fraction, 1.0):
        return f"{shown} reaches {end_text}, starting from {start_text}"
    if fraction > 1:
        return f"{shown} goes beyond {end_text}, {format_percent(fraction)} of the way from {start_text}"
    if fraction < 0:
        return f"{shown} falls short of {start_text}, moving away from {end_text}"
    return f"{shown} lies {format_percent(fraction)} of the way from {start_text} to {end_text}"


@dataclass(frozen=True)
class Trace:
    """How one number came about, in a form both machines and people can read.

    ``reason`` is the clause after "because" (no capital, no full stop); ``steps`` are the arithmetic, each
    a formula with its value such as ``(600 - 500) / (700 - 500) = 0.5``; ``exclusions`` name what was left
    out, such as children without data in a roll-up.
    """

    method: str
    inputs: Mapping[str, TraceValue]
    steps: tuple[str, ...]
    result: float | str | None
    reason: str
    result_kind: ResultKind = "score"
    exclusions: tuple[str, ...] = ()
    title: str | None = None
    """Overrides the headline where the default words would tell something that did not happen
    ("Inherited 300 from 2026-Q1" is neither a score nor a roll-up)."""

    def headline(self) -> str:
        """Name the result in a few words: "Scored 5.0", "Status "Caution"", "No score"."""
        if self.title is not None:
            return self.title
        if self.result is None:
            return {
                "score": "No score",
                "status": "No status",
                "value": "No value",
                "counts": "Nothing counted",
            }[self.result_kind]
        if isinstance(self.result, str):
            return f'Status "{self.result}"' if self.result_kind == "status" else f"Counted {self.result}"
        if self.result_kind == "value":
            return f"Rolled up to {format_number(self.result)}"
        return f"Scored {format_score(self.result)}"

    def to_sentence(self) -> str:
        """One readable paragraph: the result and why, then the working, then what was left out.

        >>> Trace("goal_red_flag", {}, ("(600 - 500) / 200 = 0.5",), 5.0, "600 is halfway").to_sentence()
        'Scored 5.0 because 600 is halfway. Working: (600 - 500) / 200 = 0.5.'
        """
        sentence = f"{self.headline()} because {self.reason}."
        if self.steps:
            sentence += " Working: " + "; ".join(self.steps) + "."
        if self.exclusions:
            sentence += " Left out: " + "; ".join(self.exclusions) + "."
        return sentence

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy (tuples become lists) with the sentence, so API clients need not rebuild it."""
        return {
            "method": self.method,
            "inputs": {name: list(value) if isinstance(value, tuple) else value for name, value in self.inputs.items()},
            "steps": list(self.steps),
            "exclusions": list(self.exclusions),
            "result": self.result,
            "result_kind": self.result_kind,
            "reason": self.reason,
            "headline": self.headline(),
            "sentence": self.to_sentence(),
        }
