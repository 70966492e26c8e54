"""`schema`: write charts/lws-inference/values.schema.json from generator/values_schema.py."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from generator.errors import GeneratorError, Problem
from generator.values_schema import SCHEMA_FILE, render_schema


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="write the chart's values.schema.json, or check that it is up to date",
        description=(
            "Generate values.schema.json from the schema in generator/values_schema.py and the "
            "`# --` comments of values.yaml. Exit code 1 when --check finds the file stale."
        ),
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare the committed file with the generated schema; write nothing",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    expected = render_schema()
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.is_file() else None

    if args.check:
        if current != expected:
            raise GeneratorError(
                Problem("", "is missing or stale", "run `python -m generator schema` and commit the result", str(SCHEMA_FILE))
            )
        print(f"{SCHEMA_FILE} is up to date", file=sys.stderr)
        return 0

    if current != expected:
        SCHEMA_FILE.write_text(expected, encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    else:
        print(f"{SCHEMA_FILE} is already up to date", file=sys.stderr)
    return 0
