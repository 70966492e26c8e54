"""Run helm against the chart: template, lint.

Helm is an external binary, found in this order: $HELM, `helm` on PATH, then the copy that
scripts/install-helm.sh puts in .tools/bin of the repository.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.errors import GeneratorError, Problem, ToolError

REPO_ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = REPO_ROOT / "charts" / "lws-inference"
LOCAL_HELM = REPO_ROOT / ".tools" / "bin" / "helm"
HELM_TIMEOUT_SECONDS = 120
DEFAULT_RELEASE = "llm"
DEFAULT_NAMESPACE = "default"


def find_helm() -> str:
    """Return the helm binary to run, or raise ToolError saying how to install one."""
    configured = os.environ.get("HELM")
    if configured:
        if shutil.which(configured) is None:
            raise ToolError(f"HELM is set to {configured!r}, which is not an executable file")
        return configured
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    if LOCAL_HELM.exists():
        return str(LOCAL_HELM)
    raise ToolError("helm not found: set $HELM, put helm on PATH, or run `bash scripts/setup.sh`")


@dataclass(frozen=True)
class HelmResult:
    returncode: int
    stdout: str
    stderr: str


def run_helm(args: list[str], helm: str | None = None) -> HelmResult:
    binary = helm or find_helm()
    try:
        completed = subprocess.run(
            [binary, *args],
            capture_output=True,
            text=True,
            timeout=HELM_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise ToolError(f"helm binary {binary!r} not found") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"helm {' '.join(args[:1])} timed out after {HELM_TIMEOUT_SECONDS} s") from None
    return HelmResult(completed.returncode, completed.stdout, completed.stderr)


def helm_errors(stderr: str, values_file: str) -> list[Problem]:
    """Turn helm's error output into problems, one per reported line.

    The chart's validateValues and the values schema both report `<value path>: <message>`
    lines; those keep their path. Other lines are reported as they are.
    """
    problems: list[Problem] = []
    for raw_line in stderr.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("WARNING:") or line.startswith("walk.go") or line.startswith("Use --debug flag"):
            continue
        line = line.removeprefix("Error: ").removeprefix("- ")
        if "execution error at" in line and line.rstrip().endswith(":"):
            continue
        if line.startswith("INSTALLATION FAILED") or line.startswith("UPGRADE FAILED"):
            continue
        if any(header in line for header in _SCHEMA_HEADERS) or re.fullmatch(r"[-a-z0-9]+:", line):
            continue
        problems.append(_problem_from_line(line, values_file))
    if not problems:
        problems.append(Problem("", "helm failed without a message", "run helm template by hand", values_file))
    return problems


# Helm 4 reports a schema violation as "at '/group/size': <message>", helm 3 as
# "group.size: <message>"; both name the value by its path.
_HELM4_SCHEMA_LINE = re.compile(r"^at '(?P<pointer>[^']*)': (?P<message>.*)$")
_SCHEMA_HEADERS = ("values don't meet the specifications of the schema", "validation failed")


def _problem_from_line(line: str, values_file: str) -> Problem:
    schema_line = _HELM4_SCHEMA_LINE.match(line)
    if schema_line:
        path = schema_line.group("pointer").strip("/").replace("/", ".")
        return Problem(path, schema_line.group("message"), "see values.yaml for the allowed values", values_file)
    head, separator, rest = line.partition(": ")
    looks_like_path = separator and " " not in head and (head[:1].isalpha() or head.startswith("$")) and "(" not in head
    if looks_like_path:
        message, _, hint = rest.partition(" (")
        return Problem(head.removeprefix("at '").rstrip("'"), message, hint.rstrip(")"), values_file)
    return Problem("", line, "", values_file)


def template(
    values_files: list[Path],
    release: str = DEFAULT_RELEASE,
    namespace: str = DEFAULT_NAMESPACE,
    extra_args: list[str] | None = None,
    helm: str | None = None,
) -> str:
    """Render the chart with the given values files and return the manifest text."""
    args = ["template", release, str(CHART_DIR), "--namespace", namespace]
    for path in values_files:
        args += ["-f", str(path)]
    args += extra_args or []
    result = run_helm(args, helm)
    if result.returncode != 0:
        label = ", ".join(str(path) for path in values_files) or "chart defaults"
        raise GeneratorError(helm_errors(result.stderr, label))
    return result.stdout


def lint(values_files: list[Path], helm: str | None = None) -> list[Problem]:
    """Run `helm lint --strict` and return its problems (empty when clean)."""
    args = ["lint", "--strict", str(CHART_DIR)]
    for path in values_files:
        args += ["-f", str(path)]
    result = run_helm(args, helm)
    if result.returncode == 0:
        return []
    label = ", ".join(str(path) for path in values_files) or "chart defaults"
    lines = [line for line in result.stdout.splitlines() if line.startswith("[ERROR]") or line.startswith("[WARNING]")]
    problems = [Problem("", line, "", label) for line in lines]
    return problems or helm_errors(result.stderr, label)


def parse_manifest(text: str) -> list[dict]:
    """Split a rendered manifest into its objects, skipping empty documents."""
    return [document for document in yaml.safe_load_all(text) if document]
