"""Showing a scored scorecard file: a tree for people at a terminal, JSON for scripts.

The tree puts every number next to the paragraph that explains it, because the question a scorecard
raises is "why is this red?", and the answer should not need a second command. Values are shown in the
KPI's unit with its decimals (``EUR 412,300``, ``63.1 %``, ``32.5 minutes``, ``yes``); scores and
explanations are the engine's own words.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from rich.console import Console, Group
from rich.text import Text
from rich.tree import Tree

from fourfold.engine.evaluate import KpiResult, NodeResult, ScorecardResult
from fourfold.engine.explain import MINUS, format_score
from fourfold.engine.formulas import Unit, UnitKind
from fourfold.engine.model import Direction, Span
from fourfold.scorefile.load import LoadedScorecard

NO_VALUE = "no value"


def format_value(value: float | None, unit: Unit | None, decimals: int) -> str:
    """A KPI value in its unit, with thousands separators and the KPI's decimals.

    >>> format_value(412300.0, Unit(UnitKind.CURRENCY, "EUR"), 0), format_value(63.14, Unit(UnitKind.PERCENT), 1)
    ('EUR 412,300', '63.1 %')
    >>> format_value(1.0, Unit(UnitKind.YES_NO), 0), format_value(None, None, 1)
    ('yes', 'no value')
    """
    if value is None:
        return NO_VALUE
    kind = UnitKind.NUMBER if unit is None else unit.kind
    if kind is UnitKind.YES_NO:
        return "yes" if value != 0 else "no"
    number = f"{value:,.{decimals}f}".replace("-", MINUS)
    if unit is not None and kind is UnitKind.CURRENCY:
        return f"{unit.detail} {number}"
    if unit is not None and kind is UnitKind.DURATION:
        return f"{number} {unit.detail}"
    return f"{number} %" if kind is UnitKind.PERCENT else number


def _scores(node: NodeResult | KpiResult) -> Text:
    """The end of every title, such as "· score 6.12 · On target", with the status in its colour."""
    score = "no score" if node.score is None else f"score {format_score(node.score)}"
    return Text.assemble(f" · {score} · ", (node.status.name, f"bold {node.status.colour}"))


def _explained(title: Text, explanation: str) -> Group:
    """A title with its explanation beneath, dimmed so that the numbers stand out when scanning."""
    return Group(title, Text(explanation, style="dim"))


class _TreeBuilder:
    """Builds one scorecard's tree; needs the loaded file for units and objective codes."""

    def __init__(self, loaded: LoadedScorecard) -> None:
        self.units = loaded.units
        self.codes = {
            objective.id: objective.code
            for card in loaded.model.all_scorecards()
            for perspective in card.perspectives
            for objective in perspective.objectives
        }

    def tree(self, card: ScorecardResult) -> Tree:
        title = Text.assemble((card.name, "bold"), f" ({card.id})", _scores(card))
        tree = Tree(_explained(title, card.explanation()))
        for perspective in card.perspectives:
            title = Text.assemble((perspective.name, "bold"), _scores(perspective))
            branch = tree.add(_explained(title, perspective.explanation()))
            for objective in perspective.objectives:
                title = Text.assemble((f"{self.codes[objective.id]} {objective.name}", "bold"), _scores(objective))
                leaf = branch.add(_explained(title, objective.explanation()))
                for kpi in objective.kpis:
                    leaf.add(_explained(self.kpi_title(kpi), kpi.explanation()))
        return tree

    def kpi_title(self, result: KpiResult) -> Text:
        """Key, name, actual, target, score and status of a KPI on one line."""
        kpi = result.kpi
        unit = self.units.get(kpi.id)
        target = "none"
        if result.target is not None:
            target = format_value(result.target, unit, kpi.decimals)
        elif kpi.direction is Direction.RANGE and result.actual.periods:
            setting = kpi.setting_at(result.actual.periods[-1].start)
            if setting is not None and setting.range_low is not None and setting.range_high is not None:
                low = format_value(setting.range_low, unit, kpi.decimals)
                target = f"{low} to {format_value(setting.range_high, unit, kpi.decimals)}"
        title = Text.assemble(
            (kpi.key, "bold"),
            f" {kpi.name}: {format_value(result.actual.value, unit, kpi.decimals)}, target {target}",
            _scores(result),
        )
        if result.overdue:
            title.append(" (overdue)", style="bold red")
        return title


def _scorecards(result: ScorecardResult) -> Iterator[ScorecardResult]:
    """The scorecard and its descendants, parents first, as the file lists them."""
    yield result
    for child in result.children:
        yield from _scorecards(child)


_SPAN_WORDS: Mapping[Span, str] = {
    Span.PERIOD: "the period alone",
    Span.YEAR_TO_DATE: "fiscal year to date",
    Span.ROLLING_YEAR: "the rolling year ending with it",
}


def print_table(result: ScorecardResult, loaded: LoadedScorecard, console: Console) -> None:
    """Print the view, then one tree per scorecard: perspectives, objectives and KPIs, each explained."""
    period = result.view.period
    console.print(
        Text.assemble(
            ("Scores for ", "bold"),
            (f"{period.label} ({period.key})", "bold"),
            f", {_SPAN_WORDS[result.view.span]}",
        )
    )
    builder = _TreeBuilder(loaded)
    for card in _scorecards(result):
        console.print()
        console.print(builder.tree(card))


def json_report(result: ScorecardResult, today: date) -> dict[str, object]:
    """The whole result as JSON-ready data: the view's period spelled out, then the engine's own summary."""
    period = result.view.period
    return {
        "period": {
            "key": period.key,
            "label": period.label,
            "frequency": period.frequency.value,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "span": result.view.span.value,
        "today": today.isoformat(),
        "scorecard": result.to_dict(),
    }
