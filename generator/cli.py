"""Command-line entry point: `python -m generator <command>`.

Each command lives in its own module, which provides `add_parser(subparsers)` and
`run(args) -> int`. This module parses the command line, runs the command, prints the
problems of a GeneratorError one per line on stderr, and chooses the exit code:
0 success, 1 invalid input or a failed check, 2 usage error.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from generator.errors import GeneratorError, ToolError, UsageError

# Module names under `generator`, in the order `--help` lists them.
COMMAND_MODULES = [
    "cmd_new",
    "cmd_presets",
    "cmd_render",
    "cmd_check",
    "cmd_schema",
    "cmd_plan",
    "cmd_status",
    "cmd_discover",
    "cmd_rollout_plan",
]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that raises UsageError instead of exiting, so main() owns exit codes."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError([_usage_problem(self.prog, message)])


def _usage_problem(prog: str, message: str):
    from generator.errors import Problem

    if "unrecognized arguments" in message and "--catalog" in message:
        return Problem("", f"{prog}: {message}", "put --catalog before the command: python -m generator --catalog FILE new ...")
    return Problem("", f"{prog}: {message}", f"run `{prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m generator",
        description=(
            "Plan, generate, render and check values for the lws-inference Helm chart, which serves "
            "large language models over several GPU nodes with a LeaderWorkerSet."
        ),
        epilog="Exit codes: 0 success, 1 invalid input or failed check, 2 usage error.",
    )
    parser.add_argument(
        "--catalog",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="extra catalog YAML file with engines, shapes or models entries; may be repeated",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"generator.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.run(args))
    except UsageError as error:
        for problem in error.problems:
            print(f"error: {problem.format()}", file=sys.stderr)
        return 2
    except GeneratorError as error:
        for problem in error.problems:
            print(f"error: {problem.format()}", file=sys.stderr)
        return 1
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (for example `| head`); stop without a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
