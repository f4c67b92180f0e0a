"""The committed JSON Schema is the one the models generate, and the models are strict."""

from __future__ import annotations

import doctest
from pathlib import Path

from fourfold.scorefile import report
from fourfold.scorefile.schema import FORMAT_VERSION, scorecard_json_schema, scorecard_json_schema_text

COMMITTED = Path(__file__).resolve().parents[4] / "docs" / "schema" / "scorecard.schema.json"


def test_the_committed_json_schema_is_up_to_date():
    assert COMMITTED.read_text(encoding="utf-8") == scorecard_json_schema_text(), (
        "docs/schema/scorecard.schema.json differs from the models in fourfold/scorefile/schema.py; regenerate "
        "it with: uv run python -m fourfold.scorefile.schema > docs/schema/scorecard.schema.json"
    )


def test_the_schema_starts_with_the_version_and_refuses_unknown_fields():
    schema = scorecard_json_schema()
    assert next(iter(schema["properties"])) == "version"
    assert schema["properties"]["version"]["const"] == FORMAT_VERSION
    assert schema["additionalProperties"] is False
    assert all(
        definition.get("additionalProperties") is False
        for name, definition in schema["$defs"].items()
        if name != "JsonValue"
    )


def test_targets_and_links_use_from_as_in_the_files():
    definitions = scorecard_json_schema()["$defs"]
    assert "from" in definitions["TargetSpec"]["required"]
    assert {"from", "to"} <= set(definitions["LinkSpec"]["required"])


def test_the_examples_in_the_report_docstrings_hold():
    assert doctest.testmod(report).failed == 0
