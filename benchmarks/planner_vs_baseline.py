"""Compare the sizing planner with a KAITO-style baseline over a table of model, engine and shape cases.

The baseline follows KAITO's node estimator (kaito-project/kaito,
pkg/workspace/estimator/nodesestimator/estimator.go):

    weights      = checkpoint bytes x 1.02
    usable       = GPU memory x 0.84
    reserve      = 2.3 GiB + max_model_len x KV bytes per token / GPUs per node
    room per GPU = (usable - reserve) / 1.05
    GPUs         = floor(weights / room) + 1, rounded up to whole nodes

The reserve is KAITO's own: a fixed 2.3 GiB for the runtime plus one full-length request's KV
cache spread over the node's GPUs. It ignores the engine, KV head duplication and MLA
replication. On one node the baseline GPU count is rounded up to a power of two that divides
the node, as a tensor size would be. Each baseline layout is then checked with this project's
memory model, using the engine's convention for tensor and pipeline sizes.

Run: python benchmarks/planner_vs_baseline.py
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.catalog import Engine, GpuShape, Model, load_catalog  # noqa: E402
from generator.errors import GeneratorError  # noqa: E402
from generator.layout import choose_layout  # noqa: E402
from generator.memory import GIB, kv_bytes_per_token  # noqa: E402
from generator.planner import evaluate_layout, plan, planned_checkpoint_bytes  # noqa: E402

KAITO_WEIGHT_FACTOR = 1.02
KAITO_USABLE_FRACTION = 0.84
KAITO_FIXED_RESERVE_BYTES = int(2.3 * GIB)
KAITO_ROOM_DIVISOR = 1.05
MAX_NODES = 8

CASES = [
    ("meta-llama/Llama-3.1-8B-Instruct", "vllm", "a10-24gb-x1"),
    ("meta-llama/Llama-3.1-8B-Instruct", "sglang", "l4-24gb-x1"),
    ("meta-llama/Llama-3.1-8B-Instruct", "vllm", "h100-80gb-x8"),
    ("meta-llama/Llama-3.1-70B-Instruct", "vllm", "h100-80gb-x8"),
    ("meta-llama/Llama-3.1-70B-Instruct", "sglang", "l40s-48gb-x8"),
    ("meta-llama/Llama-3.1-70B-Instruct", "lmdeploy", "a100-40gb-x8"),
    ("meta-llama/Llama-3.3-70B-Instruct", "vllm", "rtx4090-24gb-x8"),
    ("meta-llama/Llama-3.1-405B-Instruct", "vllm", "h100-80gb-x8"),
    ("meta-llama/Llama-3.1-405B-Instruct", "sglang", "h200-141gb-x8"),
    ("meta-llama/Llama-3.1-405B-Instruct", "vllm", "a100-80gb-x8"),
    ("meta-llama/Llama-3.1-405B-Instruct-FP8", "vllm", "h100-80gb-x8"),
    ("meta-llama/Llama-3.1-405B-Instruct-FP8", "sglang", "l40s-48gb-x8"),
    ("Qwen/Qwen2.5-7B-Instruct", "vllm", "a10-24gb-x1"),
    ("Qwen/Qwen2.5-32B-Instruct", "sglang", "l20-48gb-x8"),
    ("Qwen/Qwen2.5-72B-Instruct", "lmdeploy", "h800-80gb-x8"),
    ("Qwen/Qwen3-32B", "vllm", "l4-24gb-x1"),
    ("Qwen/Qwen3-235B-A22B", "lmdeploy", "l20-48gb-x8"),
    ("Qwen/Qwen3-235B-A22B", "vllm", "h100-80gb-x8"),
    ("Qwen/Qwen3-235B-A22B", "sglang", "h20-96gb-x8"),
    ("deepseek-ai/DeepSeek-V3", "sglang", "h100-80gb-x8"),
    ("deepseek-ai/DeepSeek-V3", "sglang", "h200-141gb-x8"),
    ("deepseek-ai/DeepSeek-V3", "sglang", "h20-96gb-x8"),
    ("deepseek-ai/DeepSeek-V3", "sglang", "a100-80gb-x8"),
    ("deepseek-ai/DeepSeek-V3", "vllm", "h800-80gb-x8"),
    ("deepseek-ai/DeepSeek-R1", "sglang", "b200-180gb-x8"),
    ("deepseek-ai/DeepSeek-R1", "lmdeploy", "h20-141gb-x8"),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", "vllm", "a100-40gb-x8"),
    ("mistralai/Mixtral-8x22B-Instruct-v0.1", "sglang", "h100-80gb-x8"),
    ("mistralai/Mixtral-8x22B-Instruct-v0.1", "lmdeploy", "l40s-48gb-x8"),
    ("zai-org/GLM-4.5", "sglang", "h100-80gb-x8"),
    ("zai-org/GLM-4.5", "vllm", "h200-141gb-x8"),
    ("zai-org/GLM-4.5-FP8", "sglang", "h100-80gb-x8"),
    ("zai-org/GLM-4.5-FP8", "sglang", "a800-80gb-x8"),
    ("moonshotai/Kimi-K2-Instruct", "sglang", "h200-141gb-x8"),
    ("moonshotai/Kimi-K2-Instruct", "vllm", "b200-180gb-x8"),
]


def kaito_gpus(model: Model, engine: Engine, shape: GpuShape) -> int | None:
    """Return the GPU count of KAITO's estimator, or None when it finds no room for weights."""
    checkpoint_bytes, _ = planned_checkpoint_bytes(model, engine, shape)
    weights = checkpoint_bytes * KAITO_WEIGHT_FACTOR
    usable = shape.memory_bytes * KAITO_USABLE_FRACTION
    reserve = KAITO_FIXED_RESERVE_BYTES + model.max_context * kv_bytes_per_token(model, 1, 1) / shape.gpus_per_node
    room = (usable - reserve) / KAITO_ROOM_DIVISOR
    if room <= 0:
        return None
    gpus = math.floor(weights / room) + 1
    if gpus <= shape.gpus_per_node:
        tensor = 1
        while tensor < gpus:
            tensor *= 2
        return tensor if shape.gpus_per_node % tensor == 0 else shape.gpus_per_node
    return math.ceil(gpus / shape.gpus_per_node) * shape.gpus_per_node


def baseline_outcome(model: Model, engine: Engine, shape: GpuShape) -> tuple[str, str, str]:
    """Return (GPUs, fits under our model, KV tokens) for the baseline's layout."""
    gpus = kaito_gpus(model, engine, shape)
    if gpus is None:
        return "-", "no room", "-"
    nodes = max(1, gpus // shape.gpus_per_node)
    per_node = gpus if nodes == 1 else shape.gpus_per_node
    tensor, pipeline, problems = choose_layout(model, engine, gpus, per_node)
    if problems:
        return str(gpus), "invalid layout", "-"
    result = evaluate_layout(
        model, engine, shape, nodes=nodes, gpus_per_node=per_node, tensor_parallel=tensor, pipeline_parallel=pipeline,
    )
    return str(gpus), "yes" if result.fits else "no", str(result.kv_cache_tokens)


def main() -> int:
    catalog = load_catalog()
    header = ("model", "engine", "gpu", "ours GPUs", "ours TPxPP", "ours KV tokens", "baseline GPUs", "baseline fits", "baseline KV tokens")
    rows = []
    baseline_not_fitting = 0
    ours_larger = []
    baseline_larger = 0
    ours_failed = 0
    for model_id, engine_name, shape_id in CASES:
        model, engine, shape = catalog.model(model_id), catalog.engine(engine_name), catalog.shape(shape_id)
        try:
            result = plan(model, engine, shape, max_nodes=MAX_NODES)
            ours = (str(result.total_gpus), f"{result.tensor_parallel}x{result.pipeline_parallel}", str(result.kv_cache_tokens))
        except GeneratorError:
            result = None
            ours_failed += 1
            ours = ("-", "does not fit", "-")
        base = baseline_outcome(model, engine, shape)
        if base[1] != "yes":
            baseline_not_fitting += 1
        elif result is not None and result.total_gpus > int(base[0]):
            ours_larger.append(f"{model_id} {engine_name} {shape_id}")
        elif result is not None and result.total_gpus < int(base[0]):
            baseline_larger += 1
        rows.append((model_id, engine_name, shape_id, *ours, *base))

    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"cases: {len(rows)}; max model length = each model's maximum context; concurrency 1; up to {MAX_NODES} nodes")
    print(f"planner found no fitting deployment: {ours_failed}")
    print(f"baseline layouts that do not fit or are invalid under this memory model: {baseline_not_fitting}")
    print(f"cases where the planner uses more GPUs than a fitting baseline: {len(ours_larger)}")
    for case in ours_larger:
        print(f"  {case}")
    print(f"cases where a fitting baseline uses more GPUs than the planner: {baseline_larger}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
