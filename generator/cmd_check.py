"""`check`: validate values files (the presets by default) and the objects the chart renders from them."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.checks.kubernetes import available_versions, default_versions
from generator.errors import Problem, UsageError
from generator.presets import PRESET_DIR, committed_presets
from generator.validate import CheckOptions, check_file



def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate values files and the objects the chart renders from them",
        description=(
            "Check each values file against the values schema, run helm template and helm lint "
            "--strict, and check the rendered objects against the Kubernetes OpenAPI schemas, "
            "the LWS CRD and admission rules, and the engine command lines. Prints one problem "
            "per line on stderr; exit code 1 when any problem is found."
        ),
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="values files (default: every committed preset, values-presets/<engine>/<shape>.yaml)")
    parser.add_argument("--crd", type=Path, metavar="FILE", help="LeaderWorkerSet CRD YAML to validate against (default: no CRD schema check)")
    parser.add_argument(
        "--kube-version",
        action="append",
        default=[],
        metavar="V",
        help="Kubernetes minor version to validate against, e.g. 1.31; may be repeated "
        f"(default: {' and '.join(default_versions())})",
    )
    parser.set_defaults(run=run)


def _files(args: argparse.Namespace) -> list[Path]:
    if args.files:
        return list(args.files)
    presets = committed_presets()
    if not presets:
        raise UsageError([Problem("", f"no values files given and none found in {PRESET_DIR}", "pass values files")])
    return presets


def _versions(requested: list[str]) -> tuple[str, ...]:
    if not requested:
        return default_versions()
    known = available_versions()
    problems = []
    for version in requested:
        if version.removeprefix("v") not in known:
            problems.append(Problem("", f"--kube-version {version}: no schema for this version", f"use one of {', '.join(known)}"))
    if problems:
        raise UsageError(problems)
    return tuple(version.removeprefix("v") for version in requested)


def run(args: argparse.Namespace) -> int:
    files = _files(args)
    versions = _versions(args.kube_version)
    if args.crd is not None and not args.crd.is_file():
        raise UsageError([Problem("--crd", f"{args.crd}: file not found", "pass the LeaderWorkerSet CRD YAML")])

    options = CheckOptions(crd_file=args.crd, kube_versions=versions)
    found = 0
    for path in files:
        for problem in check_file(path, options):
            print(problem.format(), file=sys.stderr)
            found += 1
    crd = f"the LWS CRD in {args.crd}" if args.crd else "no LWS CRD schema (pass --crd to add it)"
    print(
        f"checked {len(files)} file(s) against Kubernetes {' and '.join(versions)} and {crd}: {found} problem(s)",
        file=sys.stderr,
    )
    return 1 if found else 0
