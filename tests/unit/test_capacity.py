"""Capacity preview: effective rollout integers, peak GPUs and the update order."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.capacity import capacity_from_lws, capacity_warnings
from generator.cli import main

PRESET = Path(__file__).resolve().parents[2] / "values-presets" / "sglang" / "h20-96gb-x8.yaml"


def lws(replicas: int, size: int, gpus: int, max_unavailable, max_surge, partition: int = 0) -> dict:
    return {
        "metadata": {"name": "llm"},
        "spec": {
            "replicas": replicas,
            "rolloutStrategy": {"rollingUpdateConfiguration": {"maxUnavailable": max_unavailable, "maxSurge": max_surge, "partition": partition}},
            "leaderWorkerTemplate": {
                "size": size,
                "leaderTemplate": {"spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": gpus}}}]}},
                "workerTemplate": {"spec": {"containers": [{}]}},
            },
        },
    }


def test_steady_and_peak_counts():
    plan = capacity_from_lws(lws(3, 2, 8, 0, 1), "nvidia.com/gpu")
    assert (plan.steady_gpus, plan.steady_nodes) == (48, 6)
    assert (plan.peak_gpus, plan.peak_nodes) == (64, 8)
    assert plan.surge_gpus == 16


def test_percentages_resolve_like_the_webhook():
    plan = capacity_from_lws(lws(1, 2, 8, "25%", "25%"), "nvidia.com/gpu")
    assert plan.max_unavailable == 0
    assert plan.max_surge == 1


def test_surge_is_capped_at_replicas():
    plan = capacity_from_lws(lws(2, 1, 8, 1, 5), "nvidia.com/gpu")
    assert plan.max_surge == 2


def test_update_order_top_down_with_partition():
    plan = capacity_from_lws(lws(4, 2, 8, 1, 1, partition=1), "nvidia.com/gpu")
    steps = plan.update_order()
    assert steps[0] == "create surge group(s) llm-4 on the new revision"
    assert steps[1] == "recreate llm-3, llm-2 on the new revision and wait until ready"
    assert steps[2] == "recreate llm-1 on the new revision and wait until ready"
    assert "partition 1" in steps[3]
    assert steps[-1].startswith("delete the surge group(s)")


def test_warning_when_surge_exceeds_free_gpus():
    plan = capacity_from_lws(lws(3, 2, 8, 0, 1), "nvidia.com/gpu")
    warnings = capacity_warnings(plan, free_gpus=8)
    assert len(warnings) == 1
    assert "needs 16 spare nvidia.com/gpu" in warnings[0]
    assert capacity_warnings(plan, free_gpus=16) == []


def test_warning_when_no_group_serves_during_update():
    plan = capacity_from_lws(lws(1, 2, 8, 1, 0), "nvidia.com/gpu")
    assert any("no group serves" in warning for warning in capacity_warnings(plan, None))


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture):
    override = tmp_path / "rollout.yaml"
    override.write_text("replicas: 3\nrollout: {maxSurge: 1, maxUnavailable: 0}\n", encoding="utf-8")
    assert main(["rollout-plan", "-f", str(PRESET), "-f", str(override), "--free-gpus", "8", "--output", "json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["steady"] == {"gpus": 48, "nodes": 6}
    assert document["peak"] == {"gpus": 64, "nodes": 8}
    assert document["maxSurge"] == 1
    assert "needs 16 spare" in captured.err


def test_cli_missing_file(capsys: pytest.CaptureFixture):
    assert main(["rollout-plan", "-f", "does-not-exist.yaml"]) == 1
    assert "does-not-exist.yaml: $: values file not found" in capsys.readouterr().err
