"""Tensor and pipeline layouts: fill in the sizes a user left open and check them against the model.

The constraints are the engines' own: attention heads split evenly over tensor ranks, KV heads
either split evenly or are copied whole, LMDeploy wants a power-of-two tensor size, and a
pipeline stage needs at least one layer.
"""
from __future__ import annotations

from generator.catalog import Engine, Model
from generator.errors import Problem


def layout_problems(model: Model, engine: Engine, tensor_parallel: int, pipeline_parallel: int) -> list[Problem]:
    """Check a tensor and pipeline size against the model and the engine's launch convention."""
    problems = []
    if model.attention_heads % tensor_parallel:
        problems.append(Problem(
            "--tensor-parallel",
            f"{model.attention_heads} attention heads of {model.id} are not divisible by tensor size {tensor_parallel}",
            "choose a tensor size that divides the head count",
        ))
    if not model.uses_mla and model.kv_heads % tensor_parallel and tensor_parallel % model.kv_heads:
        problems.append(Problem(
            "--tensor-parallel",
            f"tensor size {tensor_parallel} and the {model.kv_heads} KV heads of {model.id} do not divide one another",
            "choose a tensor size that divides the KV head count or is a multiple of it",
        ))
    if engine.tensor_power_of_two and tensor_parallel & (tensor_parallel - 1):
        problems.append(Problem(
            "--tensor-parallel",
            f"{engine.name} requires a power-of-two tensor size, got {tensor_parallel}",
            "use 1, 2, 4, 8, 16 or 32 GPUs in the group",
        ))
    if pipeline_parallel > model.layers:
        problems.append(Problem(
            "--pipeline-parallel",
            f"pipeline size {pipeline_parallel} exceeds the {model.layers} layers of {model.id}",
            "use fewer nodes",
        ))
    if engine.parallelism == "tensor-across-nodes" and pipeline_parallel != 1:
        problems.append(Problem(
            "--pipeline-parallel",
            f"{engine.name} is launched with one tensor-parallel group over all GPUs, so pipeline size must be 1",
            "drop --pipeline-parallel or set it to 1",
        ))
    return problems


def choose_layout(
    model: Model,
    engine: Engine,
    total_gpus: int,
    gpus_per_node: int,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
) -> tuple[int, int, list[Problem]]:
    """Fill in the tensor and pipeline sizes the user left open and check the result.

    SGLang and LMDeploy use one tensor group over every GPU. vLLM keeps tensor parallelism
    inside a node and pipelines across nodes: the tensor size is the largest valid divisor of
    the GPUs per node, and the pipeline size covers the rest.
    """
    if tensor_parallel is not None and pipeline_parallel is not None:
        if tensor_parallel * pipeline_parallel != total_gpus:
            return tensor_parallel, pipeline_parallel, [Problem(
                "--tensor-parallel",
                f"tensor size {tensor_parallel} x pipeline size {pipeline_parallel} must equal "
                f"the {total_gpus} GPUs of the group",
                f"set --tensor-parallel to {max(1, total_gpus // pipeline_parallel)} or change --nodes",
            )]
        return tensor_parallel, pipeline_parallel, layout_problems(model, engine, tensor_parallel, pipeline_parallel)

    if tensor_parallel is not None or pipeline_parallel is not None:
        if tensor_parallel is not None:
            requested_size, option = tensor_parallel, "--tensor-parallel"
        else:
            requested_size, option = pipeline_parallel, "--pipeline-parallel"
        if requested_size < 1 or total_gpus % requested_size:
            return requested_size, 1, [Problem(
                option,
                f"{requested_size} does not divide the {total_gpus} GPUs of the group",
                "choose a divisor of nodes x GPUs per node",
            )]
        remaining_size = total_gpus // requested_size
        if tensor_parallel is not None:
            tensor, pipeline = requested_size, remaining_size
        else:
            tensor, pipeline = remaining_size, requested_size
        return tensor, pipeline, layout_problems(model, engine, tensor, pipeline)

    if engine.parallelism == "tensor-across-nodes":
        return total_gpus, 1, layout_problems(model, engine, total_gpus, 1)

    first_problems: list[Problem] = []
    for tensor in range(gpus_per_node, 0, -1):
        if gpus_per_node % tensor:
            continue
        pipeline = total_gpus // tensor
        problems = layout_problems(model, engine, tensor, pipeline)
        if not problems:
            return tensor, pipeline, []
        first_problems = first_problems or problems
    return gpus_per_node, total_gpus // gpus_per_node, first_problems
