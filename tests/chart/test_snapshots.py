"""Snapshot tests: every committed preset rendered with helm 3 and helm 4.

Each preset renders with a fixed release name and namespace to tests/snapshots/<engine>/<shape>.yaml.
A plain run never writes: a missing or different snapshot fails. `pytest --update-snapshots`
rewrites the snapshots and deletes those whose preset no longer exists.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LWS_CRD, REPO_ROOT, helm_template
from generator.checks.lws import check_admission, check_crd
from generator.render import parse_manifest

PRESET_DIR = REPO_ROOT / "values-presets"
SNAPSHOT_DIR = REPO_ROOT / "tests" / "snapshots"
RELEASE = "llm"
NAMESPACE = "inference"

PRESETS = sorted(PRESET_DIR.glob("*/*.yaml"))


def snapshot_path(preset: Path) -> Path:
    return SNAPSHOT_DIR / preset.parent.name / preset.name


def test_presets_exist():
    assert len(PRESETS) >= 42, f"expected a preset per engine and shape, found {len(PRESETS)}"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_preset_matches_snapshot(preset: Path, helm3: str, helm4: str, update_snapshots: bool):
    rendered3 = helm_template(helm3, values_files=[preset], release=RELEASE, namespace=NAMESPACE)
    rendered4 = helm_template(helm4, values_files=[preset], release=RELEASE, namespace=NAMESPACE)
    assert rendered3 == rendered4, "helm 3 and helm 4 render this preset differently"

    snapshot = snapshot_path(preset)
    if update_snapshots:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(rendered4, encoding="utf-8")
        return
    assert snapshot.exists(), f"snapshot {snapshot.relative_to(REPO_ROOT)} is missing; run pytest --update-snapshots and review it"
    assert rendered4 == snapshot.read_text(encoding="utf-8"), (
        f"{preset.relative_to(REPO_ROOT)} renders differently from {snapshot.relative_to(REPO_ROOT)}; "
        "review the change and run pytest --update-snapshots"
    )


def test_no_stale_snapshots(update_snapshots: bool):
    expected = {snapshot_path(preset) for preset in PRESETS}
    stale = sorted(path for path in SNAPSHOT_DIR.glob("*/*.yaml") if path not in expected)
    if update_snapshots:
        for path in stale:
            path.unlink()
        return
    assert not stale, f"snapshots without a preset: {[str(path.relative_to(REPO_ROOT)) for path in stale]}"


@pytest.mark.skipif(not LWS_CRD.exists(), reason=f"the LWS CRD is not at {LWS_CRD}; copy it there to validate against it")
@pytest.mark.parametrize("preset", PRESETS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_preset_lws_passes_crd_and_admission(preset: Path):
    """The committed snapshot's LeaderWorkerSet against the LWS v0.10.0 CRD schema and webhook rules."""
    objects = parse_manifest(snapshot_path(preset).read_text(encoding="utf-8"))
    (lws,) = [item for item in objects if item["kind"] == "LeaderWorkerSet"]
    assert check_crd(lws, str(LWS_CRD), str(preset)) == []
    assert check_admission(lws, str(preset)) == []
