"""Reading a YAML document while remembering where each part of it was written.

PyYAML gives plain data and forgets the lines, but a problem such as "the red flag is on the wrong side" is
only quick to fix if it comes with the line. So the document is first *composed* into PyYAML's node tree,
which keeps the marks, the positions of every key and list item are noted, and only then is the tree
*constructed* into plain data. The node tree also shows what plain data hides: a key written twice in one
mapping, of which YAML silently keeps the last (a month's value typed twice would otherwise lose one).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fourfold.scorefile.problems import Path, Problem, ScorecardFileError, describe, path_text

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class _RepeatedKey:
    path: Path
    key: str
    first_line: int
    line: int
    column: int


@dataclass(frozen=True)
class YamlDocument:
    """The data of a document, the position of each key and item, and the keys written twice."""

    data: object
    positions: dict[tuple[str, ...], int]
    repeated_keys: tuple[Problem, ...]


def read_yaml(text: str, source: str) -> YamlDocument:
    """Parse ``text``; a syntax error raises :class:`ScorecardFileError` with its line and column.

    Only the safe subset of YAML is read (no Python objects), as files may come from anywhere.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        positions: dict[tuple[str, ...], int] = {}
        repeated: list[_RepeatedKey] = []
        if node is not None:
            _note_positions(node, (), positions, repeated, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        context = f" ({error.context})" if error.context else ""
        problem = Problem(
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            "",
            f"this is not valid YAML: {error.problem}{context}",
        )
        raise ScorecardFileError(source, [problem]) from None
    except yaml.YAMLError as error:
        raise ScorecardFileError(source, [Problem(None, None, "", f"this is not valid YAML: {error}")]) from None
    finally:
        loader.dispose()
    problems = []
    for found in repeated:
        where, field = describe(found.path, data)
        lines = (
            f"on line {found.line}" if found.first_line == found.line else f"lines {found.first_line} and {found.line}"
        )
        problems.append(
            Problem(
                found.line,
                found.column,
                where,
                f"'{found.key}' appears twice{' in ' + field if field else ''} ({lines}); YAML would silently "
                f"keep only the second, so remove one",
            )
        )
    return YamlDocument(data, positions, tuple(problems))


def _note_positions(
    node: Node,
    path: Path,
    positions: dict[tuple[str, ...], int],
    repeated: list[_RepeatedKey],
    open_nodes: set[int],
) -> None:
    """Record the position of every key and list item below ``node``, and every key repeated in a mapping."""
    if id(node) in open_nodes:  # a recursive alias (&a [*a]): the data loops, the positions need not
        return
    open_nodes.add(id(node))
    if isinstance(node, MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key, line, column = str(key_node.value), key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key in first_seen:
                repeated.append(_RepeatedKey(path, key, first_seen[key], line, column))
            first_seen.setdefault(key, line)
            positions[path_text((*path, key))] = line
            _note_positions(value_node, (*path, key), positions, repeated, open_nodes)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            positions[path_text((*path, index))] = item.start_mark.line + 1
            _note_positions(item, (*path, index), positions, repeated, open_nodes)
    open_nodes.discard(id(node))
