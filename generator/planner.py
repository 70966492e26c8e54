"""Sizing planner: choose nodes, tensor and pipeline parallel sizes for a model, engine and GPU shape.

The search tries deployments in order of GPU count, then node count, and returns the first
whose weights and KV cache fit the per-GPU memory model in `generator.memory`. A one-node plan
may use part of the node's GPUs (a divisor of its GPU count). A multi-node plan uses every GPU
of each node, one pod per node.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from generator.catalog import Engine, GpuShape, Model
from generator.errors import GeneratorError, Problem
from generator.layout import choose_layout
from generator.memory import GIB, MemoryEstimate, estimate_memory, kv_heads_per_rank

# Startup probe budget: a fixed allowance for image start, rendezvous and CUDA graph capture,
# plus reading the checkpoint at an assumed 400 MiB/s, and never less than 10 minutes.
STARTUP_BASE_SECONDS = 300
STARTUP_LOAD_BYTES_PER_SECOND = 400 * 1024 * 1024
STARTUP_MIN_SECONDS = 600
# Hub download bandwidth the chart assumes by default (storage.downloadMiBPerSecond), an
# estimate: with storage.type hub the engine downloads after its container starts.
STARTUP_DOWNLOAD_BYTES_PER_SECOND = 200 * 1024 * 1024


@dataclass(frozen=True)
class Plan:
    """A deployment for one model, engine and GPU shape, with its per-GPU memory estimate."""

    model: str
    engine: str
    gpu: str
    nodes: int
    gpus_per_node: int
    total_gpus: int
    tensor_parallel: int
    pipeline_parallel: int
    fits: bool
    weights_bytes_per_gpu: int
    kv_cache_bytes_per_gpu: int
    kv_cache_tokens: int
    max_model_len: int
    concurrency: int
    checkpoint_bytes: int
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "engine": self.engine,
            "gpu": self.gpu,
            "nodes": self.nodes,
            "gpusPerNode": self.gpus_per_node,
            "totalGpus": self.total_gpus,
            "tensorParallel": self.tensor_parallel,
            "pipelineParallel": self.pipeline_parallel,
            "fits": self.fits,
            "weightsBytesPerGpu": self.weights_bytes_per_gpu,
            "kvCacheBytesPerGpu": self.kv_cache_bytes_per_gpu,
            "kvCacheTokens": self.kv_cache_tokens,
            "maxModelLen": self.max_model_len,
            "concurrency": self.concurrency,
            "checkpointBytes": self.checkpoint_bytes,
            "startupBudgetSeconds": startup_budget_seconds(self.checkpoint_bytes),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


def startup_budget_seconds(checkpoint_bytes: int, download_bytes_per_second: int | None = None) -> int:
    """Return a startup probe budget in seconds for a checkpoint of this size.

    With download_bytes_per_second the budget also covers downloading the checkpoint at that
    rate, as the engine does with the chart's storage.type hub.
    """
    load_seconds = math.ceil(checkpoint_bytes / STARTUP_LOAD_BYTES_PER_SECOND)
    if download_bytes_per_second:
        load_seconds += math.ceil(checkpoint_bytes / download_bytes_per_second)
    return max(STARTUP_MIN_SECONDS, STARTUP_BASE_SECONDS + load_seconds)


def planned_checkpoint_bytes(model: Model, engine: Engine, shape: GpuShape) -> tuple[int, str | None]:
    """Return the weight size the engine loads on this GPU, and an assumption when it is not the checkpoint's."""
    if model.dtype != "fp8" or shape.fp8:
        return model.checkpoint_bytes, None
    if engine.name == "vllm":
        return model.checkpoint_bytes, (
            f"{shape.gpu} has no FP8 tensor cores: vLLM runs the FP8 checkpoint as weight-only FP8, "
            "so weights keep their FP8 size"
        )
    return model.bf16_checkpoint_bytes, (
        f"{shape.gpu} has no FP8 tensor cores: {engine.name} is planned with BF16 weights "
        f"({_gb(model.bf16_checkpoint_bytes)} instead of {_gb(model.checkpoint_bytes)})"
    )


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB"


def _gib(size: int) -> str:
    return f"{size / GIB:.1f} GiB"


def _build_plan(
    model: Model, engine: Engine, shape: GpuShape, nodes: int, gpus_per_node: int,
    tensor: int, pipeline: int, max_model_len: int, concurrency: int,
    checkpoint_bytes: int, checkpoint_note: str | None, max_len_is_default: bool,
) -> tuple[Plan, MemoryEstimate]:
    memory = estimate_memory(model, engine, shape, checkpoint_bytes, tensor, pipeline)
    needed_tokens = max_model_len * concurrency
    fits = memory.kv_cache_bytes > 0 and memory.kv_cache_tokens >= needed_tokens

    assumptions = [memory.budget_note]
    if max_len_is_default:
        assumptions.append(f"max model length {max_model_len}: the model's maximum context (set --max-model-len to plan for less)")
    assumptions.append(f"concurrency {concurrency}: KV cache for {needed_tokens} tokens of full-length requests")
    assumptions.append("KV cache in BF16, no data-parallel attention, no speculative decoding")
    if checkpoint_note:
        assumptions.append(checkpoint_note)
    if model.estimated:
        assumptions.append(f"checkpoint size of {model.id} is estimated from its parameter count, not read from the checkpoint")

    warnings = []
    if not model.uses_mla and tensor > model.kv_heads:
        copies = tensor // model.kv_heads
        warnings.append(
            f"tensor size {tensor} exceeds the {model.kv_heads} KV heads: each head is stored on {copies} GPUs, "
            f"so the KV cache takes {copies}x the memory it needs ({kv_heads_per_rank(model, tensor)} head per GPU)"
        )

    plan = Plan(
        model=model.id, engine=engine.name, gpu=shape.id,
        nodes=nodes, gpus_per_node=gpus_per_node, total_gpus=nodes * gpus_per_node,
        tensor_parallel=tensor, pipeline_parallel=pipeline, fits=fits,
        weights_bytes_per_gpu=memory.weights_bytes, kv_cache_bytes_per_gpu=max(0, memory.kv_cache_bytes),
        kv_cache_tokens=memory.kv_cache_tokens, max_model_len=max_model_len, concurrency=concurrency,
        checkpoint_bytes=checkpoint_bytes, assumptions=tuple(assumptions), warnings=tuple(warnings),
    )
    return plan, memory


def _shortfall(plan: Plan, memory: MemoryEstimate) -> str:
    """Describe why a layout does not fit, in one sentence."""
    if memory.kv_cache_bytes <= 0:
        return (
            f"on {plan.total_gpus} GPUs the weights take {_gib(memory.weights_bytes)} per GPU "
            f"and leave no room for KV cache"
        )
    needed = plan.max_model_len * plan.concurrency
    return (
        f"on {plan.total_gpus} GPUs the KV cache holds {plan.kv_cache_tokens} tokens per replica "
        f"but {needed} are needed"
    )


def _infeasible(plan: Plan, memory: MemoryEstimate, shape: GpuShape, scope: str, option: str, searched: bool) -> GeneratorError:
    fixes = ["a GPU shape with more memory per GPU", "a quantized (FP8) checkpoint"]
    if memory.kv_cache_bytes > 0 and plan.kv_cache_tokens >= plan.concurrency:
        fixes.insert(0, f"--max-model-len {plan.kv_cache_tokens // plan.concurrency} or less")
    fixes.insert(0, "a larger --max-nodes" if searched else "a larger --nodes")
    return GeneratorError(Problem(
        option,
        f"{plan.model} does not fit {scope} of {shape.id} with {plan.engine}: {_shortfall(plan, memory)}",
        "try " + ", ".join(fixes),
    ))


def evaluate_layout(
    model: Model,
    engine: Engine,
    shape: GpuShape,
    *,
    nodes: int,
    gpus_per_node: int,
    tensor_parallel: int,
    pipeline_parallel: int,
    max_model_len: int | None = None,
    concurrency: int = 1,
) -> Plan:
    """Compute the memory of a given layout without checking its constraints or raising when it does not fit.

    Callers that compare other sizing rules with the planner use this, for example the benchmark.
    """
    checkpoint_bytes, checkpoint_note = planned_checkpoint_bytes(model, engine, shape)
    length = max_model_len if max_model_len is not None else model.max_context
    result, _ = _build_plan(
        model, engine, shape, nodes, gpus_per_node, tensor_parallel, pipeline_parallel,
        max_model_len=length, concurrency=concurrency, checkpoint_bytes=checkpoint_bytes,
        checkpoint_note=checkpoint_note, max_len_is_default=max_model_len is None,
    )
    return result


def plan(
    model: Model,
    engine: Engine,
    shape: GpuShape,
    *,
    max_model_len: int | None = None,
    concurrency: int = 1,
    max_nodes: int = 8,
    nodes: int | None = None,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
) -> Plan:
    """Plan a deployment: the smallest one that fits when `nodes` is None, otherwise the given one, checked.

    Raises GeneratorError when the request is invalid or nothing fits, naming the option to change.
    """
    if max_model_len is not None and not 1 <= max_model_len <= model.max_context:
        raise GeneratorError(Problem(
            "--max-model-len", f"{max_model_len} is outside 1..{model.max_context}, the maximum context of {model.id}",
            f"use a value up to {model.max_context}",
        ))
    if concurrency < 1:
        raise GeneratorError(Problem("--concurrency", f"must be at least 1, got {concurrency}", "use 1 or more"))
    length = max_model_len if max_model_len is not None else model.max_context
    checkpoint_bytes, checkpoint_note = planned_checkpoint_bytes(model, engine, shape)
    common = dict(
        max_model_len=length, concurrency=concurrency, checkpoint_bytes=checkpoint_bytes,
        checkpoint_note=checkpoint_note, max_len_is_default=max_model_len is None,
    )

    if nodes is not None:
        if nodes < 1:
            raise GeneratorError(Problem("--nodes", f"must be at least 1, got {nodes}", "use 1 or more"))
        per_node = shape.gpus_per_node
        tensor, pipeline, problems = choose_layout(model, engine, nodes * per_node, per_node, tensor_parallel, pipeline_parallel)
        if problems:
            raise GeneratorError(problems)
        result, memory = _build_plan(model, engine, shape, nodes, per_node, tensor, pipeline, **common)
        if not result.fits:
            raise _infeasible(result, memory, shape, f"{nodes} node(s)", "--nodes", searched=False)
        return result

    if max_nodes < 1:
        raise GeneratorError(Problem("--max-nodes", f"must be at least 1, got {max_nodes}", "use 1 or more"))
    last: tuple[Plan, MemoryEstimate] | None = None
    last_problems: list[Problem] = []
    for node_count, per_node in _candidates(shape, max_nodes):
        tensor, pipeline, problems = choose_layout(model, engine, node_count * per_node, per_node, tensor_parallel, pipeline_parallel)
        if problems:
            last_problems = problems
            continue
        last = _build_plan(model, engine, shape, node_count, per_node, tensor, pipeline, **common)
        if last[0].fits:
            return last[0]
    if last is None:
        if tensor_parallel is not None or pipeline_parallel is not None:
            option, size = ("--tensor-parallel", tensor_parallel) if tensor_parallel is not None else ("--pipeline-parallel", pipeline_parallel)
            reasons = "; ".join(sorted({problem.message for problem in last_problems}))
            raise GeneratorError(Problem(
                option,
                f"{size} fits no group of 1 to {max_nodes} node(s) of {shape.id} for {model.id}",
                f"at {max_nodes} node(s): {reasons}; choose another size, or give --nodes",
            ))
        raise GeneratorError(last_problems)
    raise _infeasible(last[0], last[1], shape, f"up to {max_nodes} node(s)", "--gpu", searched=True)


def _candidates(shape: GpuShape, max_nodes: int) -> list[tuple[int, int]]:
    """List (nodes, GPUs per node) in order of total GPUs: part of one node first, then whole nodes.

    A partial node uses a divisor of the node's GPU count, so the rest of the node stays usable
    by pods of the same size.
    """
    single = [(1, count) for count in range(1, shape.gpus_per_node + 1) if shape.gpus_per_node % count == 0]
    return single + [(count, shape.gpus_per_node) for count in range(2, max_nodes + 1)]
