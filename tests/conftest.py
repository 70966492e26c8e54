"""Shared fixtures: the helm binaries under test, chart rendering, and the snapshot switch.

Every chart test runs with helm 3 and helm 4. The binaries come from $HELM3 and $HELM4, or
from .tools/helm-v3 and .tools/helm-v4 where scripts/install-helm.sh puts them.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = REPO_ROOT / "charts" / "lws-inference"
SHARED_DIR = REPO_ROOT.parent / "shared"
# The upstream LWS v0.10.0 CRD (config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml of
# kubernetes-sigs/lws): $LWS_CRD, or the copy CI lays beside the repository.
LWS_CRD = Path(os.environ.get("LWS_CRD") or SHARED_DIR / "lws" / "leaderworkerset.x-k8s.io_leaderworkersets.yaml")

HELM_BINARIES = {
    "helm3": os.environ.get("HELM3") or str(REPO_ROOT / ".tools" / "helm-v3" / "helm"),
    "helm4": os.environ.get("HELM4") or str(REPO_ROOT / ".tools" / "helm-v4" / "helm"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite the rendered-preset snapshots under tests/snapshots and delete stale ones",
    )


@pytest.fixture(scope="session")
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots"))


def _require_binary(path: str) -> str:
    if not Path(path).exists():
        pytest.fail(f"helm binary {path} is missing; run `bash scripts/setup.sh`")
    return path


@pytest.fixture(params=sorted(HELM_BINARIES), scope="session")
def helm(request: pytest.FixtureRequest) -> str:
    """Path of one helm binary; tests using it run once per helm major."""
    return _require_binary(HELM_BINARIES[request.param])


@pytest.fixture(scope="session")
def helm4() -> str:
    return _require_binary(HELM_BINARIES["helm4"])


@pytest.fixture(scope="session")
def helm3() -> str:
    return _require_binary(HELM_BINARIES["helm3"])


class RenderError(Exception):
    """helm template failed; the message is helm's stderr."""


def helm_template(
    helm_binary: str,
    values: dict | None = None,
    values_files: list[Path] | None = None,
    release: str = "llm",
    namespace: str = "default",
) -> str:
    """Render the chart and return the manifest text, or raise RenderError with helm's stderr."""
    args = [helm_binary, "template", release, str(CHART_DIR), "--namespace", namespace]
    for path in values_files or []:
        args += ["-f", str(path)]
    input_text = None
    if values is not None:
        args += ["-f", "-"]
        input_text = yaml.safe_dump(values)
    completed = subprocess.run(args, input=input_text, capture_output=True, text=True, timeout=120, check=False)
    if completed.returncode != 0:
        raise RenderError(completed.stderr)
    return completed.stdout


def render_objects(helm_binary: str, values: dict | None = None, **kwargs) -> dict[str, dict]:
    """Render and index the objects by `Kind/name`."""
    text = helm_template(helm_binary, values, **kwargs)
    objects = [document for document in yaml.safe_load_all(text) if document]
    return {f"{item['kind']}/{item['metadata']['name']}": item for item in objects}


def the_lws(objects: dict[str, dict]) -> dict:
    matches = [item for item in objects.values() if item["kind"] == "LeaderWorkerSet"]
    assert len(matches) == 1, f"expected one LeaderWorkerSet, got {len(matches)}"
    return matches[0]


def container(lws: dict, role: str) -> dict:
    """The engine container of the leader or worker template."""
    template = lws["spec"]["leaderWorkerTemplate"][f"{role}Template"]
    return template["spec"]["containers"][0]


def pod_spec(lws: dict, role: str) -> dict:
    """The pod spec of the leader or worker template."""
    return lws["spec"]["leaderWorkerTemplate"][f"{role}Template"]["spec"]


def assert_valid_lws(lws: dict) -> None:
    """Check a rendered LeaderWorkerSet against the LWS CRD schema and admission rules, or skip without the CRD."""
    from generator.checks.lws import check_admission, check_crd

    if not LWS_CRD.is_file():
        pytest.skip(f"LWS CRD not found at {LWS_CRD}; the CRD schema check needs it")
    assert check_crd(lws, str(LWS_CRD), "rendered") == []
    assert check_admission(lws, "rendered") == []
