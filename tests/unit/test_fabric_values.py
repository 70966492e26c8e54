"""GPU shapes carry their network fabric into generated values files."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from generator.catalog import load_catalog
from generator.errors import GeneratorError
from generator.planner import STARTUP_DOWNLOAD_BYTES_PER_SECOND, plan, startup_budget_seconds
from generator.values_file import render_values_file

SHAPE_ENTRY = """shapes:
  h100-80gb-x8:
    gpu: H100 80GB SXM
    product: NVIDIA-H100-80GB-HBM3
    resourceName: nvidia.com/gpu
    gpusPerNode: 8
    memoryMiB: 81559
    fp8: true
    interconnect: nvlink
"""


def render(shape_changes: dict) -> tuple[str, dict]:
    catalog = load_catalog()
    shape = dataclasses.replace(catalog.shape("h100-80gb-x8"), **shape_changes)
    model = catalog.model("deepseek-ai/DeepSeek-V3")
    engine = catalog.engine("sglang")
    text = render_values_file(model, engine, shape, plan(model, engine, shape, max_nodes=4), "regenerate")
    return text, yaml.safe_load(text)


def test_tcp_shape_sets_fabric_type():
    text, values = render({})

    assert values["fabric"] == {"type": "tcp"}
    assert "# Network: fabric.type tcp" in text


def test_infiniband_shape_sets_rdma_resource():
    text, values = render({"fabric": "infiniband", "rdma_resource": "nvidia.com/hostdev"})

    assert values["fabric"] == {"type": "infiniband", "rdma": {"resourceName": "nvidia.com/hostdev"}}
    header = text.replace("\n#     ", " ")
    assert "fabric.type infiniband from the h100-80gb-x8 catalog entry, requesting nvidia.com/hostdev" in header


def test_catalog_reads_fabric_and_rdma_resource(tmp_path: Path):
    extra = tmp_path / "shapes.yaml"
    extra.write_text(SHAPE_ENTRY + "    fabric: roce\n    rdmaResource: rdma/rdma_shared_device_eth\n", encoding="utf-8")

    shape = load_catalog((extra,)).shape("h100-80gb-x8")

    assert shape.fabric == "roce"
    assert shape.rdma_resource == "rdma/rdma_shared_device_eth"


@pytest.mark.parametrize(
    ("lines", "path"),
    [("    fabric: ib\n", "shapes.h100-80gb-x8.fabric"), ("    rdmaResource: rdma/hca\n", "shapes.h100-80gb-x8.rdmaResource")],
    ids=["unknown-fabric", "rdma-resource-without-rdma"],
)
def test_catalog_rejects_bad_fabric(tmp_path: Path, lines: str, path: str):
    extra = tmp_path / "shapes.yaml"
    extra.write_text(SHAPE_ENTRY + lines, encoding="utf-8")

    with pytest.raises(GeneratorError) as error:
        load_catalog((extra,))

    assert error.value.problems[0].path == path


def test_budget_adds_hub_download():
    checkpoint = 400 * 1024**3

    # 300 s base, 1024 s to load 400 GiB at 400 MiB/s, 2048 s to download it at 200 MiB/s.
    assert startup_budget_seconds(checkpoint) == 300 + 1024
    assert startup_budget_seconds(checkpoint, STARTUP_DOWNLOAD_BYTES_PER_SECOND) == 300 + 1024 + 2048
