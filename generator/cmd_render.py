"""`render`: run `helm template` on the chart with a values file."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.errors import GeneratorError, Problem
from generator.render import DEFAULT_NAMESPACE, DEFAULT_RELEASE, template


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render the chart with a values file (helm template)",
        description="Render the chart with helm template and print the manifests.",
    )
    parser.add_argument("-f", "--values", dest="values", action="append", type=Path, required=True, metavar="VALUES", help="values file; may be repeated")
    parser.add_argument("--release", default=DEFAULT_RELEASE, help=f"release name; default {DEFAULT_RELEASE}")
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help=f"namespace; default {DEFAULT_NAMESPACE}")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for path in args.values:
        if not path.is_file():
            raise GeneratorError(Problem("", "values file not found", "check the path given to -f", str(path)))
    sys.stdout.write(template(args.values, release=args.release, namespace=args.namespace))
    return 0
