"""`python -m generator discover`: GPU node labels to catalog shapes.

No Kubernetes API server runs in tests. Each test starts the http.server stand-in from
fake_kube_api.py on 127.0.0.1 (port 0), which serves a Node list as JSON, and points the real
`kubernetes` client at it with a kubeconfig file written to tmp_path. Proxy variables are
removed from the environment so the client connects to 127.0.0.1 directly.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from fake_kube_api import server_with_kubeconfig
from generator import cli
from generator.catalog import load_catalog
from generator.discovery import discover_shapes

NODES_PATH = "/api/v1/nodes"


def make_node(
    name: str,
    product: str | None = None,
    count: int | None = None,
    memory_mib: int | None = None,
    allocatable_gpus: int | None = None,
    compute: tuple[int, int] | None = None,
) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name}
    if product is not None:
        labels["nvidia.com/gpu.product"] = product
    if count is not None:
        labels["nvidia.com/gpu.count"] = str(count)
    if memory_mib is not None:
        labels["nvidia.com/gpu.memory"] = str(memory_mib)
    if compute is not None:
        labels["nvidia.com/gpu.compute.major"] = str(compute[0])
        labels["nvidia.com/gpu.compute.minor"] = str(compute[1])
    allocatable = {"cpu": "64", "memory": "512Gi"}
    if allocatable_gpus is not None:
        allocatable["nvidia.com/gpu"] = str(allocatable_gpus)
    return {"metadata": {"name": name, "labels": labels}, "status": {"allocatable": allocatable}}


def node_list(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NodeList", "apiVersion": "v1", "items": list(nodes)}


H100 = dict(product="NVIDIA-H100-80GB-HBM3", memory_mib=81559, compute=(9, 0))
CLUSTER = node_list(
    make_node("gpu-h100-a", count=8, allocatable_gpus=8, **H100),
    make_node("gpu-h100-b", allocatable_gpus=8, **H100),
    make_node("gpu-l40s-a", product="NVIDIA-L40S", count=4, memory_mib=46068, allocatable_gpus=4, compute=(8, 9)),
    make_node("gpu-gb200-a", product="NVIDIA-GB200", count=4, memory_mib=189471, allocatable_gpus=4, compute=(10, 0)),
    make_node("gpu-t4-a", product="Tesla-T4", count=1, memory_mib=15360, compute=(7, 5)),
    make_node("gpu-unlabeled", allocatable_gpus=8),
    make_node("cpu-a"),
)


@pytest.fixture
def server(monkeypatch, tmp_path):
    with server_with_kubeconfig(monkeypatch, tmp_path / "kubeconfig") as fake:
        yield fake


def run_discover(server, *arguments: str, catalogs: tuple[Path, ...] = ()) -> int:
    catalog_options = [option for path in catalogs for option in ("--catalog", str(path))]
    return cli.main([*catalog_options, "discover", "--kubeconfig", str(server.kubeconfig), *arguments])


def test_discover_prints_matched_and_new(server, capsys):
    server.set(NODES_PATH, CLUSTER)

    code = run_discover(server)
    captured = capsys.readouterr()
    shapes = yaml.safe_load(captured.out)["shapes"]

    assert code == 0
    assert sorted(shapes) == ["gb200-186gb-x4", "h100-80gb-x8", "l40s-48gb-x4", "t4-15gb-x1"]
    assert shapes["h100-80gb-x8"]["memoryMiB"] == 81559
    assert "matched h100-80gb-x8 (2 nodes)" in captured.err
    assert "new     l40s-48gb-x4 (1 nodes)" in captured.err
    assert "# matches the catalog shape h100-80gb-x8; nodes: gpu-h100-a, gpu-h100-b" in captured.out
    assert "warning: node gpu-unlabeled skipped: has 8 allocatable nvidia.com/gpu but no nvidia.com/gpu.product label" in captured.err
    assert "cpu-a" not in captured.err
    assert list(shapes["gb200-186gb-x4"]) == ["gpu", "product", "resourceName", "gpusPerNode", "memoryMiB", "fp8", "interconnect"]


def test_discover_new_shape_fields(server, capsys):
    server.set(NODES_PATH, CLUSTER)

    run_discover(server)
    shapes = yaml.safe_load(capsys.readouterr().out)["shapes"]

    assert shapes["l40s-48gb-x4"] == {
        "gpu": "L40S",
        "product": "NVIDIA-L40S",
        "resourceName": "nvidia.com/gpu",
        "gpusPerNode": 4,
        "memoryMiB": 46068,
        "fp8": True,
        "interconnect": "pcie",
    }
    assert shapes["gb200-186gb-x4"]["gpu"] == "GB200"
    assert shapes["gb200-186gb-x4"]["fp8"] is True
    assert shapes["t4-15gb-x1"]["fp8"] is False


def test_discover_write_loads_as_catalog(server, tmp_path, capsys):
    server.set(NODES_PATH, CLUSTER)
    target = tmp_path / "cluster-gpus.yaml"

    code = run_discover(server, "--write", str(target))
    captured = capsys.readouterr()
    catalog = load_catalog((target,))

    assert code == 0
    assert captured.out == ""
    assert f"wrote 4 shapes to {target}" in captured.err
    assert catalog.shape("gb200-186gb-x4").memory_mib == 189471
    assert catalog.shape("t4-15gb-x1").gpus_per_node == 1
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


def test_discover_write_failure_keeps_old_file(server, tmp_path, monkeypatch, capsys):
    server.set(NODES_PATH, CLUSTER)
    target = tmp_path / "cluster-gpus.yaml"
    target.write_text("shapes: {}\n", encoding="utf-8")

    def failing_replace(source: Any, destination: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    code = run_discover(server, "--write", str(target))

    assert code == 1
    assert "No space left on device" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "shapes: {}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cluster-gpus.yaml", "kubeconfig"]


def test_discover_no_gpu_nodes(server, tmp_path, capsys):
    server.set(NODES_PATH, node_list(make_node("cpu-a"), make_node("cpu-b")))
    target = tmp_path / "cluster-gpus.yaml"

    code = run_discover(server, "--write", str(target))

    assert code == 1
    assert "no node with NVIDIA GPU labels found among 2 nodes" in capsys.readouterr().err
    assert not target.exists()


def test_discover_user_catalog_match(server, tmp_path, capsys):
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "shapes": {
                    "gb200-185gb-x4": {
                        "gpu": "GB200",
                        "product": "NVIDIA-GB200",
                        "resourceName": "nvidia.com/gpu",
                        "gpusPerNode": 4,
                        "memoryMiB": 189471,
                        "fp8": True,
                        "interconnect": "nvlink",
                        "fabric": "infiniband",
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    server.set(NODES_PATH, CLUSTER)

    code = run_discover(server, catalogs=(extra,))
    captured = capsys.readouterr()
    shapes = yaml.safe_load(captured.out)["shapes"]

    assert code == 0
    assert "matched gb200-185gb-x4 (1 nodes)" in captured.err
    assert shapes["gb200-185gb-x4"]["fabric"] == "infiniband"
    assert "gb200-186gb-x4" not in shapes


def test_same_id_different_memory_merged():
    catalog = load_catalog()
    nodes = [
        make_node("h100-ecc-on", count=8, **H100),
        make_node("h100-ecc-off", product=H100["product"], count=8, memory_mib=81920, compute=(9, 0)),
    ]

    discovered, skipped = discover_shapes(nodes, catalog)

    assert skipped == []
    assert len(discovered) == 1
    merged = discovered[0]
    assert merged.shape.id == "h100-80gb-x8"
    assert merged.match == "new"
    assert merged.shape.memory_mib == 81559
    assert merged.nodes == ("h100-ecc-off", "h100-ecc-on")
    assert any("smallest, 81559 MiB" in note for note in merged.notes)
    assert any("replaces that entry" in note for note in merged.notes)


def test_node_missing_memory_label_skipped():
    nodes = [make_node("no-memory", product="NVIDIA-L4", count=1)]

    discovered, skipped = discover_shapes(nodes, load_catalog())

    assert discovered == []
    assert [node.node for node in skipped] == ["no-memory"]
    assert "nvidia.com/gpu.memory" in skipped[0].reason
