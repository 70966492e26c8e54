"""The Argo CD Lua health check and generator/rollout.py agree on every LeaderWorkerSet fixture.

The Lua script runs in real Lua interpreters embedded by the `lupa` package: Lua 5.1, the
language level of the gopher-lua interpreter in Argo CD, and Lua 5.4. Argo CD hands the script
JSON numbers as floats, so each fixture also runs with every integer converted to a float.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.rollout import evaluate

lupa_lua51 = pytest.importorskip("lupa.lua51")
lupa_lua54 = pytest.importorskip("lupa.lua54")

ROOT = Path(__file__).resolve().parents[2]
LUA_SCRIPT = ROOT / "argocd" / "health" / "leaderworkerset.lua"
CM_PATCH = ROOT / "argocd" / "argocd-cm-patch.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "lws-status"
HEALTH_KEY = "resource.customizations.health.leaderworkerset.x-k8s.io_LeaderWorkerSet"

# Expected state per fixture file, written out so each fixture's meaning is checked on its own.
EXPECTED_STATE = {
    "fresh-no-status": "Progressing",
    "stale-generation": "Progressing",
    "rolling-update": "Progressing",
    "surge-groups-present": "Progressing",
    "partition-set": "Healthy",
    "partition-short-of-target": "Progressing",
    "all-ready": "Healthy",
    "scaled-to-zero": "Healthy",
    "degraded": "Degraded",
    "group-leader-missing": "Progressing",
    "missing-fields": "Healthy",
    "missing-counts": "Progressing",
    "missing-observed-generation": "Progressing",
    "update-in-progress-true": "Progressing",
    "first-deploy-loading": "Progressing",
    "scale-up-pending": "Progressing",
}

EXPECTED_MESSAGE = {
    "fresh-no-status": "waiting for the LeaderWorkerSet controller to write status",
    "stale-generation": "status is for generation 2, spec is at generation 3",
    "rolling-update": "rolling update in progress: 1 groups updated (target 3), 2 of 3 ready",
    "surge-groups-present": "1 surge groups still exist (5 groups for 4 replicas)",
    "partition-set": "all 4 groups ready and updated",
    "scaled-to-zero": "scaled to 0 groups",
    "degraded": "1 of 3 groups not ready after all were ready, with no update in progress",
    "missing-fields": "all 1 groups ready and updated",
    "missing-counts": "0 of 2 groups ready, 0 updated (target 2), 0 exist",
    "missing-observed-generation": "status.observedGeneration is missing; LWS v0.9.0 or later sets it",
}


def fixture_names() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.yaml"))


def load_fixture(name: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


def floats_for_integers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: floats_for_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [floats_for_integers(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def run_lua(module: Any, lws: dict[str, Any]) -> tuple[str, str]:
    runtime = module.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = runtime.table_from(lws, recursive=True)
    health = runtime.execute(LUA_SCRIPT.read_text(encoding="utf-8"))
    return health["status"], health["message"]


def test_fixture_table_covers_every_file():
    assert fixture_names() == sorted(EXPECTED_STATE)
    assert len(EXPECTED_STATE) >= 10


@pytest.mark.parametrize("name", sorted(EXPECTED_STATE))
def test_python_rule_expected_state(name):
    result = evaluate(load_fixture(name))
    assert result.state == EXPECTED_STATE[name], result.message


@pytest.mark.parametrize("name", sorted(EXPECTED_MESSAGE))
def test_python_rule_expected_message(name):
    assert evaluate(load_fixture(name)).message == EXPECTED_MESSAGE[name]


@pytest.mark.parametrize("numbers", ["integers", "floats"])
@pytest.mark.parametrize("lua", [lupa_lua51, lupa_lua54], ids=["lua5.1", "lua5.4"])
@pytest.mark.parametrize("name", sorted(EXPECTED_STATE))
def test_lua_matches_python(name, lua, numbers):
    lws = load_fixture(name)
    if numbers == "floats":
        lws = floats_for_integers(lws)

    status, message = run_lua(lua, lws)
    expected = evaluate(load_fixture(name))

    assert status == EXPECTED_STATE[name]
    assert status == expected.state
    assert message == expected.message


def test_lua_handles_non_table_status():
    lws = load_fixture("all-ready")
    lws["status"] = "unexpected"

    status, message = run_lua(lupa_lua51, lws)

    assert status == "Progressing"
    assert message == evaluate(lws).message


def test_lua_degraded_needs_available_false():
    lws = load_fixture("degraded")
    lws["status"]["conditions"] = [c for c in lws["status"]["conditions"] if c["type"] != "Available"]

    status, _ = run_lua(lupa_lua51, lws)

    assert status == "Progressing"
    assert evaluate(lws).state == "Progressing"


def test_cm_patch_embeds_lua_script():
    patch = yaml.safe_load(CM_PATCH.read_text(encoding="utf-8"))

    assert patch["kind"] == "ConfigMap"
    assert patch["metadata"]["name"] == "argocd-cm"
    assert patch["data"][HEALTH_KEY] == LUA_SCRIPT.read_text(encoding="utf-8")
