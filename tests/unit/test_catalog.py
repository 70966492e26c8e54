"""Catalogs: the required entries exist, facts are consistent, and users can extend them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from generator.catalog import SHAPE_ID, load_catalog
from generator.cli import main
from generator.errors import GeneratorError

REPO_ROOT = Path(__file__).resolve().parents[2]

REQUIRED_SHAPES = [
    "a10-24gb-x1", "l4-24gb-x1", "rtx4090-24gb-x8", "l20-48gb-x8", "l40s-48gb-x8", "a100-40gb-x8",
    "a100-80gb-x8", "a800-80gb-x8", "h100-80gb-x8", "h800-80gb-x8", "h20-96gb-x8", "h20-141gb-x8",
    "h200-141gb-x8", "b200-180gb-x8",
]
REQUIRED_MODELS = [
    "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-405B-Instruct",
    "meta-llama/Llama-3.1-405B-Instruct-FP8", "meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen3-32B", "Qwen/Qwen3-235B-A22B",
    "deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "mistralai/Mixtral-8x22B-Instruct-v0.1", "zai-org/GLM-4.5", "zai-org/GLM-4.5-FP8", "moonshotai/Kimi-K2-Instruct",
]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_required_shapes_exist(catalog):
    assert sorted(REQUIRED_SHAPES) == sorted(set(REQUIRED_SHAPES) & set(catalog.shapes))


def test_required_models_exist(catalog):
    missing = [model for model in REQUIRED_MODELS if model not in catalog.models]
    assert missing == []


def test_shape_ids_match_their_facts(catalog):
    for shape in catalog.shapes.values():
        assert SHAPE_ID.match(shape.id)
        memory_gb = int(re.search(r"-(\d+)gb-", shape.id).group(1))
        # The id carries the marketed size; NVML reports a little less (ECC, reserved memory).
        assert 0.85 * memory_gb * 1000**3 <= shape.memory_bytes <= 1.1 * memory_gb * 1024**3, shape.id
        assert shape.product.startswith("NVIDIA-"), shape.id


def test_models_are_self_consistent(catalog):
    for model in catalog.models.values():
        assert model.attention_heads % model.kv_heads == 0 or model.uses_mla, model.id
        bytes_per_parameter = model.checkpoint_bytes / model.parameters
        assert 0.9 <= bytes_per_parameter <= 2.1, model.id
        if model.bf16_variant:
            assert model.bf16_variant in catalog.models, model.id


def test_chart_engine_defaults_match_catalog(catalog, helm4: str):
    """The chart's built-in engine defaults and generator/catalogs/engines.yaml must agree."""
    from conftest import container, render_objects, the_lws

    for engine in catalog.engines.values():
        lws = the_lws(render_objects(helm4, {"model": {"id": "m"}, "engine": {"name": engine.name}}))
        leader = container(lws, "leader")
        assert leader["image"] == f"{engine.image_repository}:{engine.image_tag}"
        assert leader["ports"][0]["containerPort"] == engine.port
        assert leader["readinessProbe"]["httpGet"]["path"] == engine.health_path


def test_extra_catalog_adds_entries(tmp_path: Path, capsys: pytest.CaptureFixture):
    extra = tmp_path / "mine.yaml"
    extra.write_text(yaml.safe_dump({
        "shapes": {"h100-80gb-x4": {
            "gpu": "H100 80GB SXM", "product": "NVIDIA-H100-80GB-HBM3", "resourceName": "nvidia.com/gpu",
            "gpusPerNode": 4, "memoryMiB": 81559, "fp8": True, "interconnect": "nvlink",
        }},
        "models": {"example-org/Tiny-1B": {
            "parameters": 1_000_000_000, "dtype": "bf16", "layers": 16, "hiddenSize": 2048,
            "attentionHeads": 32, "kvHeads": 8, "headDim": 64, "maxContext": 8192,
        }},
    }), encoding="utf-8")
    output = tmp_path / "values.yaml"
    assert main(["--catalog", str(extra), "new", "--engine", "vllm", "--gpu", "h100-80gb-x4", "--model", "example-org/Tiny-1B", "-o", str(output)]) == 0
    values = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert values["model"]["id"] == "example-org/Tiny-1B"
    assert values["model"]["checkpointGiB"] == 2


@pytest.mark.parametrize("content, path", [
    ("shapes:\n  h100-80gb:\n    gpu: x\n", "shapes.h100-80gb"),
    ("shapes:\n  h100-80gb-x4:\n    gpu: x\n    product: p\n    resourceName: nvidia.com/gpu\n    gpusPerNode: 8\n    memoryMiB: 1\n    fp8: true\n    interconnect: pcie\n", "shapes.h100-80gb-x4.gpusPerNode"),
    ("models:\n  m:\n    parameters: 1\n    dtype: int3\n", "models.m.dtype"),
    ("engines:\n  e:\n    launch: telepathy\n", "engines.e.launch"),
    ("gpus: {}\n", "gpus"),
    ("[unclosed\n", "$"),
])
def test_invalid_catalog_is_reported(tmp_path: Path, content: str, path: str):
    extra = tmp_path / "bad.yaml"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(GeneratorError) as raised:
        load_catalog((extra,))
    problem = raised.value.problems[0]
    assert problem.file == str(extra)
    assert problem.format().startswith(f"{extra}: {path if path.startswith('$') else '$.' + path}")


def test_unknown_catalog_key_is_reported(tmp_path: Path):
    extra = tmp_path / "typo.yaml"
    extra.write_text("models:\n  m:\n    parameters: 1\n    dtype: bf16\n    layer: 2\n", encoding="utf-8")
    with pytest.raises(GeneratorError) as raised:
        load_catalog((extra,))
    assert raised.value.problems[0].format() == f"{extra}: $.models.m.layer: unknown key (did you mean layers?)"


def test_wrong_type_message_reads_well(tmp_path: Path):
    extra = tmp_path / "type.yaml"
    extra.write_text("models:\n  m:\n    parameters: many\n    dtype: bf16\n", encoding="utf-8")
    with pytest.raises(GeneratorError) as raised:
        load_catalog((extra,))
    assert raised.value.problems[0].format() == f"{extra}: $.models.m.parameters: missing or not an integer (fix the catalog entry)"
