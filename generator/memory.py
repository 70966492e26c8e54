"""Per-GPU memory model: weights, runtime overhead, engine memory budget and KV cache size.

Every figure is per GPU and in bytes. Engine defaults come from the engines' own source:

- vLLM: `gpu_memory_utilization` is a fraction of total GPU memory for weights, activations
  and KV cache (vllm/config/cache.py, 0.92 in recent releases and 0.9 in older ones).
- SGLang: `mem_fraction_static` is a fraction of total GPU memory for weights and the KV pool,
  computed from the GPU size (python/sglang/srt/server_args.py, `_handle_gpu_memory_settings`).
- LMDeploy: `cache_max_entry_count` 0.8 is the fraction of the memory still free after the
  weights are loaded that goes to the KV cache (lmdeploy/messages.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from generator.catalog import Engine, GpuShape, Model

MIB = 1024 * 1024
GIB = 1024 * MIB

# The KV cache is stored in the model's activation dtype, BF16, unless an FP8 KV cache is
# requested. This holds for FP8 checkpoints too: vLLM and SGLang default to `auto`.
KV_CACHE_BYTES_PER_ELEMENT = 2

# vLLM: fraction of total GPU memory one instance may use (vllm/config/cache.py). Releases
# before the per-instance limit used 0.9.
VLLM_GPU_MEMORY_UTILIZATION = 0.92

# LMDeploy: fraction of the free memory after weight loading given to the KV cache
# (lmdeploy/messages.py, `cache_max_entry_count`, v0.16.0).
LMDEPLOY_CACHE_MAX_ENTRY_COUNT = 0.8

# Runtime overheads. These are estimates, not measurements: the CUDA context with cuBLAS
# workspaces, and the NCCL and custom all-reduce buffers of a distributed group.
CUDA_CONTEXT_BYTES = 1 * GIB
COMMUNICATION_BUFFER_BYTES = GIB // 2

# vLLM CUDA graphs: an estimate for the captured graphs at the default capture sizes.
VLLM_CUDA_GRAPH_BYTES = GIB // 2

# vLLM profiles activations with one batch of `max_num_batched_tokens` tokens. Its default for
# the OpenAI server is 8192 on GPUs of at least 70 GiB other than A100, and 2048 otherwise
# (vllm/engine/arg_utils.py). The peak is estimated as that many tokens times hidden_size
# BF16 values times a width factor covering the QKV, MLP and residual tensors alive at once.
VLLM_LARGE_GPU_BYTES = 70 * GIB
VLLM_ACTIVATION_WIDTH_FACTOR = 16

# SGLang: the memory kept outside mem_fraction_static has a floor of 10240 MiB on GPUs with
# more than 60 GiB (python/sglang/srt/server_args.py).
SGLANG_RESERVED_FLOOR_MIB = 10240
SGLANG_FLOOR_MIN_GPU_MIB = 60 * 1024

# SGLang defaults by GPU memory: (upper bound in MiB, chunked_prefill_size,
# cuda_graph_max_bs below TP 4, cuda_graph_max_bs from TP 4).
SGLANG_GPU_TIERS: tuple[tuple[float, int, int, int], ...] = (
    (35 * 1024, 2048, 24, 80),
    (60 * 1024, 4096, 32, 160),
    (90 * 1024, 8192, 256, 512),
    (160 * 1024, 8192, 256, 512),
    (math.inf, 16384, 512, 512),
)


@dataclass(frozen=True)
class MemoryEstimate:
    """The per-GPU memory of one layout: what the weights take and what is left for KV cache."""

    weights_bytes: int
    overhead_bytes: int
    kv_cache_bytes: int
    kv_bytes_per_token: int
    kv_cache_tokens: int
    budget_note: str


def kv_heads_per_rank(model: Model, tensor_parallel: int) -> int:
    """Return the KV heads each tensor-parallel rank stores. Above kv_heads ranks, heads are copied."""
    return max(1, model.kv_heads // tensor_parallel)


def kv_bytes_per_token(model: Model, tensor_parallel: int, pipeline_parallel: int) -> int:
    """Return the KV cache bytes one token takes on one GPU of the largest pipeline stage.

    GQA and MHA store K and V for each KV head of the rank in every layer of the stage. MLA
    stores one latent of kv_lora_rank + qk_rope_head_dim values per layer, copied on every
    tensor-parallel rank because the planner does not enable data-parallel attention.
    """
    layers_per_stage = math.ceil(model.layers / pipeline_parallel)
    if model.uses_mla:
        latent = (model.kv_lora_rank or 0) + (model.qk_rope_head_dim or 0)
        return layers_per_stage * latent * KV_CACHE_BYTES_PER_ELEMENT
    heads = kv_heads_per_rank(model, tensor_parallel)
    return 2 * layers_per_stage * heads * model.head_dim * KV_CACHE_BYTES_PER_ELEMENT


def sglang_mem_fraction_static(shape: GpuShape, tensor_parallel: int, pipeline_parallel: int) -> float:
    """Compute SGLang's automatic mem_fraction_static for a GPU and layout.

    reserved MiB = 512 + 1.5 x max(chunked_prefill_size, 2048) + 2 x cuda_graph_max_bs
    + 1024 x tp x pp / 8, with a floor on large GPUs. Data-parallel attention and speculative
    decoding reserve more and are not modelled.
    """
    gpu_mib = shape.memory_mib
    for limit, chunked_prefill, graph_bs_small_tp, graph_bs_large_tp in SGLANG_GPU_TIERS:
        if gpu_mib < limit:
            break
    cuda_graph_max_bs = graph_bs_small_tp if tensor_parallel < 4 else graph_bs_large_tp
    reserved_mib = (
        512
        + 1.5 * max(chunked_prefill, 2048)
        + 2 * cuda_graph_max_bs
        + 1024 * tensor_parallel * pipeline_parallel / 8
    )
    if gpu_mib > SGLANG_FLOOR_MIN_GPU_MIB:
        reserved_mib = max(reserved_mib, SGLANG_RESERVED_FLOOR_MIB)
    return round((gpu_mib - reserved_mib) / gpu_mib, 3)


def vllm_activation_bytes(model: Model, shape: GpuShape) -> int:
    """Estimate vLLM's profiled activation peak from its default max_num_batched_tokens."""
    large = shape.memory_bytes >= VLLM_LARGE_GPU_BYTES and "a100" not in shape.gpu.lower()
    max_num_batched_tokens = 8192 if large else 2048
    return max_num_batched_tokens * model.hidden_size * 2 * VLLM_ACTIVATION_WIDTH_FACTOR


def runtime_overhead_bytes(gpus_in_group: int) -> int:
    """Estimate the CUDA context and communication buffers present before the KV cache exists."""
    overhead = CUDA_CONTEXT_BYTES
    if gpus_in_group > 1:
        overhead += COMMUNICATION_BUFFER_BYTES
    return overhead


def estimate_memory(
    model: Model,
    engine: Engine,
    shape: GpuShape,
    checkpoint_bytes: int,
    tensor_parallel: int,
    pipeline_parallel: int,
) -> MemoryEstimate:
    """Estimate one GPU's memory for a layout under the engine's default memory settings.

    kv_cache_bytes is negative when the weights and overheads alone exceed the budget.
    """
    gpus = tensor_parallel * pipeline_parallel
    weights = math.ceil(checkpoint_bytes / gpus)
    overhead = runtime_overhead_bytes(gpus)
    total = shape.memory_bytes

    if engine.name == "sglang":
        fraction = sglang_mem_fraction_static(shape, tensor_parallel, pipeline_parallel)
        kv_cache = int(total * fraction) - weights - overhead
        note = f"SGLang mem_fraction_static {fraction} (automatic value for this GPU and layout)"
    elif engine.name == "lmdeploy":
        free_after_load = total - weights - overhead
        kv_cache = int(free_after_load * LMDEPLOY_CACHE_MAX_ENTRY_COUNT) if free_after_load > 0 else free_after_load
        note = f"LMDeploy cache_max_entry_count {LMDEPLOY_CACHE_MAX_ENTRY_COUNT} of the memory free after loading weights"
    else:
        overhead += vllm_activation_bytes(model, shape) + VLLM_CUDA_GRAPH_BYTES
        kv_cache = int(total * VLLM_GPU_MEMORY_UTILIZATION) - weights - overhead
        note = (
            f"vLLM gpu_memory_utilization {VLLM_GPU_MEMORY_UTILIZATION} "
            "(the default of recent releases; older releases use 0.9)"
        )
        if engine.name != "vllm":
            note += f"; engine {engine.name!r} has no memory model of its own, so vLLM's is used"

    per_token = kv_bytes_per_token(model, tensor_parallel, pipeline_parallel)
    tokens = max(0, kv_cache) // per_token
    return MemoryEstimate(
        weights_bytes=weights,
        overhead_bytes=overhead,
        kv_cache_bytes=kv_cache,
        kv_bytes_per_token=per_token,
        kv_cache_tokens=tokens,
        budget_note=note,
    )
