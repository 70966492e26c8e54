"""Build a chart values file from a plan: the values mapping and its generated header."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import jinja2
import yaml

from generator.catalog import Engine, GpuShape, Model
from generator.planner import STARTUP_DOWNLOAD_BYTES_PER_SECOND, STARTUP_MIN_SECONDS, Plan, startup_budget_seconds

GIB = 1024**3
HEADER_TEMPLATE = Path(__file__).parent / "templates" / "values-header.j2"
HEADER_WIDTH = 96


def build_values(
    model: Model,
    engine: Engine,
    shape: GpuShape,
    plan: Plan,
    *,
    replicas: int = 1,
    port: int | None = None,
) -> dict[str, Any]:
    """Return chart values for one deployment of `plan`, in the order values.yaml documents them."""
    engine_values: dict[str, Any] = {"name": engine.name}
    if port is not None:
        engine_values["port"] = port
    fabric_values: dict[str, Any] = {"type": shape.fabric}
    if shape.rdma_resource:
        fabric_values["rdma"] = {"resourceName": shape.rdma_resource}
    return {
        "model": {
            "id": model.id,
            "checkpointGiB": math.ceil(plan.checkpoint_bytes / GIB),
            "maxModelLen": plan.max_model_len,
            "trustRemoteCode": model.trust_remote_code,
        },
        "engine": engine_values,
        "accelerator": {
            "resourceName": shape.resource_name,
            "countPerPod": plan.gpus_per_node,
            "product": shape.product,
        },
        "parallelism": {
            "tensor": plan.tensor_parallel,
            "pipeline": plan.pipeline_parallel,
        },
        "replicas": replicas,
        "group": {
            "size": plan.nodes,
        },
        "fabric": fabric_values,
    }


def engine_notes(model: Model, engine: Engine, plan: Plan) -> list[str]:
    """Facts about this engine and model that a reader of the values file should know."""
    notes: list[str] = []
    if engine.name == "vllm" and plan.nodes > 1:
        notes.append(
            "vLLM runs its native multi-node mode (engine.vllm.backend: mp); set engine.vllm.backend: ray "
            "to use a Ray cluster per group instead, with an image that contains Ray."
        )
    if engine.name == "lmdeploy" and plan.nodes > 1:
        notes.append("LMDeploy runs the PyTorch engine over a Ray cluster per group (Ray head on the leader).")
    if plan.tensor_parallel > model.kv_heads and not model.uses_mla:
        notes.append(
            f"{model.id} has {model.kv_heads} KV heads and tensor parallel {plan.tensor_parallel}, so the engine "
            f"duplicates each KV head on {plan.tensor_parallel // model.kv_heads} GPUs."
        )
    return notes


def _comment(text: str) -> str:
    """Wrap a line of header text so that continuation lines stay inside the comment."""
    return "\n#     ".join(textwrap.wrap(text, HEADER_WIDTH - 8)) or text


def fabric_note(shape: GpuShape, plan: Plan) -> str:
    """Describe the network the values assume between the pods of a group, and how to change it."""
    if shape.fabric == "tcp":
        text = f"fabric.type tcp: the {shape.id} catalog entry records no RDMA network, so NCCL uses TCP sockets"
        if plan.nodes > 1:
            text += " between the nodes; set fabric.type infiniband or roce if the nodes have RDMA adapters"
        return text + "."
    resource = shape.rdma_resource or "the chart's default fabric.rdma.resourceName"
    return f"fabric.type {shape.fabric} from the {shape.id} catalog entry, requesting {resource} on every pod."


def render_header(plan: Plan, regenerate: str, notes: list[str], fabric: str = "") -> str:
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["gib"] = lambda size: f"{size / GIB:.1f}"
    environment.filters["comment"] = _comment
    template = environment.from_string(HEADER_TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        plan=plan,
        regenerate=regenerate,
        notes=notes,
        fabric=fabric,
        startup_seconds=startup_budget_seconds(plan.checkpoint_bytes, STARTUP_DOWNLOAD_BYTES_PER_SECOND),
        local_startup_seconds=startup_budget_seconds(plan.checkpoint_bytes),
        min_startup_seconds=STARTUP_MIN_SECONDS,
        download_mib_per_second=STARTUP_DOWNLOAD_BYTES_PER_SECOND // (1024 * 1024),
    ).rstrip("\n") + "\n"


def dump_values(values: dict[str, Any]) -> str:
    return yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=100)


def render_values_file(
    model: Model,
    engine: Engine,
    shape: GpuShape,
    plan: Plan,
    regenerate: str,
    *,
    replicas: int = 1,
    port: int | None = None,
) -> str:
    """Return the full text of a values file: header, blank line, values."""
    values = build_values(model, engine, shape, plan, replicas=replicas, port=port)
    header = render_header(plan, regenerate, engine_notes(model, engine, plan), fabric_note(shape, plan))
    return f"{header}\n{dump_values(values)}"


def write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file, so a failure never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
