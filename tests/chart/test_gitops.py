"""The chart as GitOps tools call it: Argo CD's helm flags, Kustomize's helmCharts, no hooks."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import CHART_DIR, REPO_ROOT, helm_template

PRESETS = sorted((REPO_ROOT / "values-presets").glob("*/*.yaml"))
EXAMPLES = REPO_ROOT / "examples"


def objects_of(text: str) -> list[dict]:
    return [document for document in yaml.safe_load_all(text) if document]


@pytest.mark.parametrize("preset", PRESETS[::7], ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_argocd_flags_render_the_same(helm: str, preset: Path):
    """Argo CD passes --api-versions and --kube-version; the output must not change with them."""
    plain = helm_template(helm, values_files=[preset])
    extra = ["--kube-version", "1.31.0", "--api-versions", "leaderworkerset.x-k8s.io/v1", "--api-versions", "monitoring.coreos.com/v1", "--include-crds"]
    completed = subprocess.run(
        [helm, "template", "llm", str(CHART_DIR), "--namespace", "default", "-f", str(preset), *extra],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert completed.stdout == plain


@pytest.mark.parametrize("preset", PRESETS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_only_the_test_pod_is_a_hook(helm4: str, preset: Path):
    """Argo CD runs hooks at sync phases, so nothing the serving pods need may be a hook."""
    hooks = []
    for item in objects_of(helm_template(helm4, values_files=[preset])):
        annotations = item["metadata"].get("annotations") or {}
        if "helm.sh/hook" in annotations:
            hooks.append((item["kind"], annotations["helm.sh/hook"]))
    assert hooks == [("Pod", "test")]


def test_argocd_application_points_at_files_that_exist():
    application = yaml.safe_load((EXAMPLES / "argocd" / "application.yaml").read_text(encoding="utf-8"))
    source = application["spec"]["source"]
    chart = REPO_ROOT / source["path"]
    assert (chart / "Chart.yaml").exists()
    for values_file in source["helm"]["valueFiles"]:
        assert (chart / values_file).resolve().is_file(), values_file


def test_argocd_application_values_render(helm: str):
    application = yaml.safe_load((EXAMPLES / "argocd" / "application.yaml").read_text(encoding="utf-8"))
    source = application["spec"]["source"]
    files = [(REPO_ROOT / source["path"] / name).resolve() for name in source["helm"]["valueFiles"]]
    text = helm_template(helm, values=source["helm"]["valuesObject"], values_files=files, release=source["helm"]["releaseName"])
    lws = next(item for item in objects_of(text) if item["kind"] == "LeaderWorkerSet")
    env = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]["env"]
    assert {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}} in env


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed, so kustomize cannot run")
def test_kustomize_renders_like_helm(helm3: str):
    kustomization = yaml.safe_load((EXAMPLES / "kustomize" / "kustomization.yaml").read_text(encoding="utf-8"))
    chart = kustomization["helmCharts"][0]
    completed = subprocess.run(
        ["kubectl", "kustomize", "--enable-helm", "--load-restrictor", "LoadRestrictionsNone", "--helm-command", helm3, str(EXAMPLES / "kustomize")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    shutil.rmtree(EXAMPLES / "kustomize" / "charts", ignore_errors=True)
    assert completed.returncode == 0, completed.stderr
    from_kustomize = {f"{item['kind']}/{item['metadata']['name']}": item for item in objects_of(completed.stdout)}

    values_file = (EXAMPLES / "kustomize" / chart["valuesFile"]).resolve()
    from_helm = {}
    for item in objects_of(helm_template(helm3, values=chart["valuesInline"], values_files=[values_file], release=chart["releaseName"], namespace=chart["namespace"])):
        item["metadata"].setdefault("namespace", kustomization["namespace"])
        from_helm[f"{item['kind']}/{item['metadata']['name']}"] = item
    assert from_kustomize.keys() == from_helm.keys()
    for key, item in from_helm.items():
        assert from_kustomize[key] == item, key


GOOD_CASES = sorted((REPO_ROOT / "tests" / "cases" / "good-values").glob("*.yaml"))


@pytest.mark.parametrize("values_file", PRESETS[::6] + GOOD_CASES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_scripts_live_in_the_pod_templates(helm4: str, values_file: Path):
    """The chart renders no ConfigMap or Secret: launch and download scripts are inline.

    A script change therefore changes the pod template and rolls the pods, which a mounted
    ConfigMap would only do with a checksum annotation. A ConfigMap added later needs one.
    """
    kinds = {item["kind"] for item in objects_of(helm_template(helm4, values_files=[values_file]))}
    assert not kinds & {"ConfigMap", "Secret"}
