"""Tests for the sizing planner, its memory model and the `plan` command."""
from __future__ import annotations

import json

import pytest

from generator import cli
from generator.catalog import load_catalog
from generator.errors import GeneratorError
from generator.memory import (
    GIB,
    VLLM_GPU_MEMORY_UTILIZATION,
    kv_bytes_per_token,
    sglang_mem_fraction_static,
)
from generator.planner import (
    STARTUP_MIN_SECONDS,
    evaluate_layout,
    plan,
    startup_budget_seconds,
)

CATALOG = load_catalog()


def make_plan(model_id: str, engine: str, shape: str, **options):
    return plan(CATALOG.model(model_id), CATALOG.engine(engine), CATALOG.shape(shape), **options)


# (model, engine, shape, nodes, tensor, pipeline): deployments documented by the engines or
# model publishers, which the planner must reproduce with its default settings.
REFERENCE_DEPLOYMENTS = [
    ("meta-llama/Llama-3.1-405B-Instruct", "vllm", "h100-80gb-x8", 2, 8, 2),
    ("meta-llama/Llama-3.1-405B-Instruct-FP8", "vllm", "h100-80gb-x8", 1, 8, 1),
    ("deepseek-ai/DeepSeek-V3", "sglang", "h100-80gb-x8", 2, 16, 1),
    ("deepseek-ai/DeepSeek-V3", "sglang", "h200-141gb-x8", 1, 8, 1),
    ("deepseek-ai/DeepSeek-V3", "sglang", "h20-96gb-x8", 2, 16, 1),
    ("deepseek-ai/DeepSeek-V3", "sglang", "a100-80gb-x8", 4, 32, 1),
    ("zai-org/GLM-4.5", "sglang", "h100-80gb-x8", 2, 16, 1),
    ("zai-org/GLM-4.5-FP8", "sglang", "h100-80gb-x8", 1, 8, 1),
    ("Qwen/Qwen3-235B-A22B", "lmdeploy", "l20-48gb-x8", 2, 16, 1),
]


@pytest.mark.parametrize(
    "model_id, engine, shape, nodes, tensor, pipeline",
    REFERENCE_DEPLOYMENTS,
    ids=[f"{case[0].split('/')[1]}-{case[1]}-{case[2]}" for case in REFERENCE_DEPLOYMENTS],
)
def test_reference_deployment(model_id, engine, shape, nodes, tensor, pipeline):
    result = make_plan(model_id, engine, shape)
    assert result.nodes == nodes
    assert result.tensor_parallel == tensor
    assert result.pipeline_parallel == pipeline
    assert result.gpus_per_node == CATALOG.shape(shape).gpus_per_node
    assert result.total_gpus == tensor * pipeline
    assert result.fits
    assert result.kv_cache_tokens >= result.max_model_len


def test_deepseek_on_a100_plans_bf16_weights():
    model = CATALOG.model("deepseek-ai/DeepSeek-V3")
    result = make_plan("deepseek-ai/DeepSeek-V3", "sglang", "a100-80gb-x8")
    assert result.checkpoint_bytes == model.parameters * 2
    assert result.weights_bytes_per_gpu == -(-model.parameters * 2 // 32)
    assert any("BF16 weights" in text for text in result.assumptions)


def test_fp8_on_ampere_keeps_fp8_size_for_vllm():
    model = CATALOG.model("deepseek-ai/DeepSeek-V3")
    result = evaluate_layout(
        model, CATALOG.engine("vllm"), CATALOG.shape("a100-80gb-x8"),
        nodes=2, gpus_per_node=8, tensor_parallel=8, pipeline_parallel=2,
    )
    assert result.checkpoint_bytes == model.checkpoint_bytes
    assert any("weight-only FP8" in text for text in result.assumptions)


def test_qwen3_lmdeploy_warns_duplicated_kv_heads():
    result = make_plan("Qwen/Qwen3-235B-A22B", "lmdeploy", "l20-48gb-x8")
    duplicated = [text for text in result.warnings if "4 KV heads" in text]
    assert len(duplicated) == 1
    assert "stored on 4 GPUs" in duplicated[0]


def test_gqa_without_duplication_has_no_warning():
    result = make_plan("meta-llama/Llama-3.1-405B-Instruct", "vllm", "h100-80gb-x8")
    assert result.warnings == ()


def test_explicit_two_single_gpu_nodes_sglang():
    result = make_plan("meta-llama/Llama-3.1-8B-Instruct", "sglang", "a10-24gb-x1", nodes=2)
    assert result.nodes == 2
    assert result.gpus_per_node == 1
    assert result.tensor_parallel == 2
    assert result.pipeline_parallel == 1
    assert result.fits


def test_explicit_two_single_gpu_nodes_vllm_pipelines():
    result = make_plan("meta-llama/Llama-3.1-8B-Instruct", "vllm", "a10-24gb-x1", nodes=2, max_model_len=8192)
    assert result.tensor_parallel == 1
    assert result.pipeline_parallel == 2


def test_explicit_layout_product_mismatch_names_option():
    with pytest.raises(GeneratorError) as caught:
        make_plan("meta-llama/Llama-3.1-405B-Instruct", "vllm", "h100-80gb-x8", nodes=2, tensor_parallel=16, pipeline_parallel=2)
    problem = caught.value.problems[0]
    assert problem.path == "--tensor-parallel"
    assert "must equal the 16 GPUs" in problem.message
    assert "--tensor-parallel to 8" in problem.hint


def test_explicit_heads_not_divisible_rejected():
    with pytest.raises(GeneratorError) as caught:
        make_plan("Qwen/Qwen2.5-7B-Instruct", "vllm", "h100-80gb-x8", nodes=1, tensor_parallel=8, pipeline_parallel=1)
    messages = [problem.message for problem in caught.value.problems]
    assert any("28 attention heads" in message for message in messages)


def test_explicit_pipeline_rejected_for_sglang():
    with pytest.raises(GeneratorError) as caught:
        make_plan("zai-org/GLM-4.5", "sglang", "h100-80gb-x8", nodes=2, pipeline_parallel=2)
    assert caught.value.problems[0].path == "--pipeline-parallel"


def test_lmdeploy_rejects_non_power_of_two_tensor():
    with pytest.raises(GeneratorError) as caught:
        make_plan("Qwen/Qwen3-235B-A22B", "lmdeploy", "h100-80gb-x8", nodes=3)
    assert any("power-of-two" in problem.message for problem in caught.value.problems)


def test_explicit_layout_that_does_not_fit():
    with pytest.raises(GeneratorError) as caught:
        make_plan("meta-llama/Llama-3.1-405B-Instruct", "vllm", "h100-80gb-x8", nodes=1)
    problem = caught.value.problems[0]
    assert problem.path == "--nodes"
    assert "leave no room for KV cache" in problem.message
    assert "a larger --nodes" in problem.hint


def test_infeasible_search_suggests_fixes():
    with pytest.raises(GeneratorError) as caught:
        make_plan("deepseek-ai/DeepSeek-V3", "sglang", "h100-80gb-x8", max_nodes=1)
    problem = caught.value.problems[0]
    assert "does not fit up to 1 node(s)" in problem.message
    assert "--max-nodes" in problem.hint
    assert "quantized" in problem.hint


def test_infeasible_context_suggests_max_model_len():
    # On 64 RTX 4090s the weights fit but the replicated MLA cache cannot hold 163840 tokens.
    with pytest.raises(GeneratorError) as caught:
        make_plan("deepseek-ai/DeepSeek-V3", "sglang", "rtx4090-24gb-x8")
    hint = caught.value.problems[0].hint
    assert "--max-model-len" in hint
    suggested = int(hint.split("--max-model-len ")[1].split()[0])
    shorter = make_plan("deepseek-ai/DeepSeek-V3", "sglang", "rtx4090-24gb-x8", max_model_len=suggested)
    assert shorter.fits
    assert shorter.nodes == 8


def test_search_prefers_part_of_one_node():
    result = make_plan("meta-llama/Llama-3.1-8B-Instruct", "sglang", "h100-80gb-x8")
    assert result.nodes == 1
    assert result.gpus_per_node == 1


def test_concurrency_raises_gpu_count():
    single = make_plan("meta-llama/Llama-3.1-70B-Instruct", "vllm", "h100-80gb-x8")
    many = make_plan("meta-llama/Llama-3.1-70B-Instruct", "vllm", "h100-80gb-x8", concurrency=16)
    assert many.total_gpus > single.total_gpus
    assert many.kv_cache_tokens >= 16 * 131072


def test_max_model_len_above_context_rejected():
    with pytest.raises(GeneratorError) as caught:
        make_plan("Qwen/Qwen2.5-7B-Instruct", "vllm", "h100-80gb-x8", max_model_len=65536)
    assert caught.value.problems[0].path == "--max-model-len"


def test_default_context_stated_in_assumptions():
    result = make_plan("Qwen/Qwen2.5-7B-Instruct", "vllm", "h100-80gb-x8")
    assert result.max_model_len == 32768
    assert any("maximum context" in text for text in result.assumptions)
    assert any(str(VLLM_GPU_MEMORY_UTILIZATION) in text for text in result.assumptions)


def test_kv_bytes_gqa_matches_formula():
    model = CATALOG.model("meta-llama/Llama-3.1-405B-Instruct")
    assert kv_bytes_per_token(model, 1, 1) == 2 * 126 * 8 * 128 * 2
    assert kv_bytes_per_token(model, 8, 2) == 2 * 63 * 1 * 128 * 2
    # Above 8 ranks each rank still keeps one whole head.
    assert kv_bytes_per_token(model, 16, 1) == 2 * 126 * 1 * 128 * 2


def test_kv_bytes_mla_not_split_by_tensor():
    model = CATALOG.model("deepseek-ai/DeepSeek-V3")
    assert kv_bytes_per_token(model, 1, 1) == 70272
    assert kv_bytes_per_token(model, 16, 1) == 70272
    assert kv_bytes_per_token(model, 8, 2) == 31 * 576 * 2


@pytest.mark.parametrize(
    "shape, tensor, expected",
    [
        ("a10-24gb-x1", 1, 0.837),
        ("a10-24gb-x1", 8, 0.793),
        ("l20-48gb-x8", 16, 0.804),
        ("a100-40gb-x8", 1, 0.833),
        ("h100-80gb-x8", 8, 0.818),
        ("h100-80gb-x8", 16, 0.805),
        ("h20-96gb-x8", 8, 0.848),
        ("h200-141gb-x8", 8, 0.897),
        ("b200-180gb-x8", 1, 0.857),
    ],
)
def test_sglang_mem_fraction_static(shape, tensor, expected):
    assert sglang_mem_fraction_static(CATALOG.shape(shape), tensor, 1) == pytest.approx(expected, abs=0.0011)


def test_sglang_small_tensor_uses_small_graph_batch():
    # Below TP 4 SGLang captures CUDA graphs up to batch 24 on 24 GB GPUs, from TP 4 up to 80.
    a10 = CATALOG.shape("a10-24gb-x1")
    assert sglang_mem_fraction_static(a10, 2, 1) == round((23028 - (512 + 3072 + 48 + 256)) / 23028, 3)
    assert sglang_mem_fraction_static(a10, 4, 1) == round((23028 - (512 + 3072 + 160 + 512)) / 23028, 3)


def test_sglang_reserve_grows_with_pipeline():
    h100 = CATALOG.shape("h100-80gb-x8")
    assert sglang_mem_fraction_static(h100, 8, 2) == sglang_mem_fraction_static(h100, 16, 1)


def test_weights_split_over_all_ranks():
    result = make_plan("meta-llama/Llama-3.1-405B-Instruct", "vllm", "h100-80gb-x8")
    assert result.weights_bytes_per_gpu == -(-811_800_000_000 // 16)
    assert result.kv_cache_bytes_per_gpu < CATALOG.shape("h100-80gb-x8").memory_bytes - result.weights_bytes_per_gpu


def test_startup_budget_405b():
    assert startup_budget_seconds(811_800_000_000) >= 1800
    assert startup_budget_seconds(811_800_000_000) == 300 + -(-811_800_000_000 // (400 * 1024 * 1024))


def test_startup_budget_floor():
    assert startup_budget_seconds(16 * GIB) == STARTUP_MIN_SECONDS


def test_to_json_keys():
    data = make_plan("zai-org/GLM-4.5-FP8", "sglang", "h100-80gb-x8").to_json()
    for key in (
        "model", "engine", "gpu", "nodes", "gpusPerNode", "totalGpus", "tensorParallel", "pipelineParallel",
        "fits", "weightsBytesPerGpu", "kvCacheBytesPerGpu", "kvCacheTokens", "maxModelLen", "assumptions", "warnings",
    ):
        assert key in data
    assert data["nodes"] == 1
    assert isinstance(data["assumptions"], list)
    json.dumps(data)


@pytest.fixture
def run_cli(capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_cli_json_single_shape(run_cli):
    code, out, err = run_cli("plan", "--model", "deepseek-ai/DeepSeek-V3", "--engine", "sglang", "--gpu", "h20-96gb-x8", "--output", "json")
    assert code == 0
    assert err == ""
    data = json.loads(out)
    assert data["nodes"] == 2
    assert data["tensorParallel"] == 16


def test_cli_all_shapes_json_list(run_cli):
    code, out, _ = run_cli("plan", "--model", "deepseek-ai/DeepSeek-V3", "--engine", "sglang", "--gpu", "all", "--output", "json")
    assert code == 0
    rows = {row["gpu"]: row for row in json.loads(out)}
    assert set(rows) == set(CATALOG.shapes)
    assert rows["h200-141gb-x8"]["nodes"] == 1
    assert rows["a10-24gb-x1"]["fits"] is False
    assert "does not fit" in rows["a10-24gb-x1"]["problems"][0]


def test_cli_all_shapes_table(run_cli):
    code, out, _ = run_cli("plan", "--model", "zai-org/GLM-4.5", "--engine", "sglang", "--gpu", "all")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["GPU", "NODES", "GPUS", "TP", "PP", "KV"]
    h100 = next(line for line in lines if line.startswith("h100-80gb-x8"))
    assert h100.split()[1:5] == ["2", "16", "16", "1"]


def test_cli_model_dir(run_cli):
    code, out, _ = run_cli(
        "plan", "--model-dir", "tests/fixtures/models/llama-3.1-8b-instruct", "--engine", "vllm",
        "--gpu", "l4-24gb-x1", "--max-model-len", "8192", "--output", "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "llama-3.1-8b-instruct"
    assert data["checkpointBytes"] == 16060522496
    assert data["totalGpus"] == 1


def test_cli_infeasible_exit_1(run_cli):
    code, out, err = run_cli("plan", "--model", "meta-llama/Llama-3.1-405B-Instruct", "--engine", "vllm", "--gpu", "h100-80gb-x8", "--nodes", "1")
    assert code == 1
    assert out == ""
    assert err.startswith("error: --nodes: ")


def test_cli_usage_errors_exit_2(run_cli):
    code, _, err = run_cli("plan", "--engine", "vllm", "--gpu", "h100-80gb-x8")
    assert code == 2
    assert "--model" in err
    code, _, err = run_cli("plan", "--model", "Qwen/Qwen3-32B", "--engine", "vllm", "--gpu", "h100-80gb-x8", "--concurrency", "0")
    assert code == 2
    assert "at least 1" in err


def test_cli_unknown_shape(run_cli):
    code, _, err = run_cli("plan", "--model", "Qwen/Qwen3-32B", "--engine", "vllm", "--gpu", "h100-80gb-x4")
    assert code == 1
    assert "unknown GPU shape 'h100-80gb-x4'" in err
