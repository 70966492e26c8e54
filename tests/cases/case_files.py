"""Read the expectations in the header comments of the values files under tests/cases.

A bad-values file starts with `# expect: <dotted value path>` and optionally
`# message: <fragment>`. A good-values file lists rendered values as
`# rendered: <object path> <operator> <expected>`. The object path starts with the kind, then
follows keys (`{a.b/c}` for a key with dots), list indexes (`[0]`) and list items picked by a
field (`[name=FOO]`). Operators: `=` (equal to a YAML value), `~` (matches a regular
expression), `has` (a list containing a YAML value).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parent
BAD_DIR = CASES_DIR / "bad-values"
GOOD_DIR = CASES_DIR / "good-values"

_HEADER = re.compile(r"^# (?P<key>[a-z]+): (?P<value>.*)$")
_SEGMENT = re.compile(r"\{([^}]*)\}|([^.\[\]{}]+)|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]")


@dataclass(frozen=True)
class Expectation:
    path: str
    operator: str
    expected: str


@dataclass(frozen=True)
class Case:
    file: Path
    expect_path: str = ""
    message: str = ""
    rendered: tuple[Expectation, ...] = field(default_factory=tuple)


def read_case(path: Path) -> Case:
    expect_path = ""
    message = ""
    rendered: list[Expectation] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.group("key"), match.group("value").strip()
        if key == "expect":
            expect_path = value
        elif key == "message":
            message = value
        elif key == "rendered":
            target, operator, expected = re.split(r" (=|~|has) ", value, maxsplit=1)
            rendered.append(Expectation(target.strip(), operator, expected.strip()))
    return Case(path, expect_path, message, tuple(rendered))


def case_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def path_segments(path: str) -> list[str]:
    """Split `a.b[0].c` into ["a", "b", "0", "c"]; `[name=X]` selectors stay one segment."""
    segments = []
    for literal, name, index, selector_key, selector_value in _SEGMENT.findall(path):
        if literal:
            segments.append(literal)
        elif name:
            segments.append(name)
        elif index:
            segments.append(index)
        else:
            segments.append(f"{selector_key}={selector_value}")
    return segments


def lookup(document: Any, segments: list[str]) -> Any:
    """Follow segments through maps and lists; `key=value` picks the list item with that field."""
    current = document
    for segment in segments:
        if isinstance(current, list):
            if "=" in segment:
                key, value = segment.split("=", 1)
                matches = [item for item in current if str(item.get(key)) == value]
                if not matches:
                    raise KeyError(f"no item with {key}={value}")
                current = matches[0]
            else:
                current = current[int(segment)]
        else:
            current = current[segment]
    return current


def parse_expected(text: str) -> Any:
    return yaml.safe_load(text)
