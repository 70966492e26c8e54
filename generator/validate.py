"""Check values files: the values schema, helm lint and render, then the rendered objects.

The rendered objects are checked against the Kubernetes OpenAPI schemas (checks/kubernetes.py),
the LWS CRD schema and admission rules (checks/lws.py), and the command-line rules
(checks/commands.py). Every check returns Problems; nothing here prints.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator import render
from generator.checks import commands, kubernetes, lws
from generator.checks.values import check_values
from generator.errors import GeneratorError, Problem


@dataclass(frozen=True)
class CheckOptions:
    """Settings of the rendered-object checks: the LWS CRD file, the Kubernetes versions and the helm binary."""

    crd_file: Path | None
    kube_versions: tuple[str, ...]
    helm: str | None = None


def yaml_error_message(error: yaml.YAMLError) -> str:
    """Format a YAML syntax error as one line: what is wrong and where (1-based line and column)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load_values(path: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read a values file; return its mapping, or the problems that prevent reading it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        return None, [Problem("", f"cannot read the file: {error.strerror}", "", str(path))]
    except yaml.YAMLError as error:
        return None, [Problem("", yaml_error_message(error), "fix the YAML syntax", str(path))]
    if document is None:
        return {}, []
    if not isinstance(document, dict):
        return None, [Problem("", f"is a {type(document).__name__}, not a mapping of values", "", str(path))]
    return document, []


def check_file(path: Path, options: CheckOptions) -> list[Problem]:
    """Run every check on one values file and return the problems found (empty when clean)."""
    file = str(path)
    values, problems = load_values(path)
    if values is None:
        return problems

    # A file the schema rejects is rejected by helm with the same findings, so stop here.
    problems = check_values(values, file)
    if problems:
        return problems

    try:
        manifest = render.template([path], helm=options.helm)
    except GeneratorError as error:
        return [_locate(problem, file) for problem in error.problems if problem.message not in _HELM_NOISE]

    problems = [Problem(problem.path, problem.message, problem.hint, file) for problem in render.lint([path], helm=options.helm)]
    problems += check_rendered(render.parse_manifest(manifest), values, options, file)
    return problems


def check_rendered(objects: list[dict[str, Any]], values: dict[str, Any], options: CheckOptions, file: str) -> list[Problem]:
    """Check the objects rendered from `values`."""
    problems = kubernetes.check_openapi(objects, options.kube_versions, file)
    problems += kubernetes.check_labels(objects, file)
    problems += kubernetes.check_env_values(objects, file)

    leader_worker_sets = [document for document in objects if document.get("kind") == "LeaderWorkerSet"]
    if not leader_worker_sets:
        problems.append(Problem("$", "the chart rendered no LeaderWorkerSet", "", file))

    for document in leader_worker_sets:
        if options.crd_file is not None:
            problems += lws.check_crd(document, str(options.crd_file), file)
        problems += lws.check_admission(document, file)
        problems += commands.check_rendezvous(document, file)
        for path, container in kubernetes.containers(document):
            problems += commands.check_references(path, container, file)
            engine = _engine_of(document, path)
            problems += commands.check_engine_flags(path, engine, container, values, file)
    return _unique(problems)


# Lines helm adds to every failed render, which carry no information about the values.
_HELM_NOISE = frozenset({"Use --debug flag to render out invalid YAML"})
# A validateValues line that starts with the value path but no colon right after it, such as
# `parallelism.tensor (16) x parallelism.pipeline (1) must equal ...`.
_LEADING_PATH = re.compile(r"^(?P<path>[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+) ")


def _locate(problem: Problem, file: str) -> Problem:
    """Attach the file, and take the value path from the message when helm's line had no `path:` prefix."""
    path = problem.path
    if not path:
        match = _LEADING_PATH.match(problem.message)
        if match:
            path = match.group("path")
    return Problem(path, problem.message, problem.hint, file)


def _engine_of(document: dict[str, Any], container_path: str) -> str:
    role = "leaderTemplate" if ".leaderTemplate." in container_path else "workerTemplate"
    template = document["spec"]["leaderWorkerTemplate"].get(role) or {}
    return ((template.get("metadata") or {}).get("labels") or {}).get(commands.ENGINE_LABEL, "")


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
