"""Check a values file against the chart's values.schema.json."""
from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from generator.errors import Problem
from generator.values_schema import SCHEMA_FILE


@cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def dotted_path(parts: Any) -> str:
    """Join a jsonschema error path into a dotted value path, with list indexes written as [i]."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def check_values(values: dict[str, Any], file: str) -> list[Problem]:
    """Return one problem per schema violation in `values`, sorted by value path."""
    problems: list[Problem] = []
    for error in _validator().iter_errors(values):
        path = dotted_path(error.absolute_path)
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for key in unknown:
                problems.append(
                    Problem(
                        f"{path}.{key}" if path else key,
                        "is not a key of the chart's values",
                        f"check the spelling; known keys: {', '.join(sorted(error.schema['properties']))}",
                        file,
                    )
                )
            continue
        if error.validator == "propertyNames":
            problems.append(Problem(path, f"key {error.instance!r} is not valid: {error.message}", "", file))
            continue
        hint = _hint(error.schema)
        problems.append(Problem(path, _short_message(error), hint, file))
    return sorted(problems, key=lambda problem: problem.path)


def _short_message(error: jsonschema.ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf"):
        return f"{error.instance!r} is not valid here"
    return error.message


def _hint(schema: dict[str, Any]) -> str:
    description = schema.get("description", "")
    if "enum" in schema:
        return "one of: " + ", ".join(repr(choice) for choice in schema["enum"])
    if description:
        return description.split(". ")[0].rstrip(".")
    return ""
