"""Engine, GPU shape and model catalogs, loaded from YAML data files.

The built-in catalogs live in `generator/catalogs/`. Users extend them without code by passing
extra YAML files with the same top-level keys (`engines`, `shapes`, `models`). An entry in an
extra file replaces the built-in entry with the same id.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from generator.errors import GeneratorError, Problem

CATALOG_DIR = Path(__file__).parent / "catalogs"
SHAPE_ID = re.compile(r"^[a-z0-9]+-[0-9]+gb-x[0-9]+$")

Launch = Literal["sglang", "vllm", "ray", "custom"]
ParallelismConvention = Literal["tensor-across-nodes", "pipeline-across-nodes"]
Dtype = Literal["bf16", "fp16", "fp8"]
# Inter-node network of a shape, as the chart's fabric.type names it.
Fabric = Literal["tcp", "infiniband", "roce", "custom"]
FABRICS: tuple[str, ...] = ("tcp", "infiniband", "roce", "custom")

BYTES_PER_PARAMETER: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0}


@dataclass(frozen=True)
class Engine:
    """A serving engine and how it launches over a LeaderWorkerSet group."""

    name: str
    image_repository: str
    image_tag: str
    port: int
    health_path: str
    metrics_path: str
    launch: Launch
    parallelism: ParallelismConvention
    tensor_power_of_two: bool


@dataclass(frozen=True)
class GpuShape:
    """A node type: which GPU, how many per node, and the labels and resources the scheduler matches."""

    id: str
    gpu: str
    product: str
    resource_name: str
    gpus_per_node: int
    memory_mib: int
    fp8: bool
    interconnect: str
    fabric: Fabric = "tcp"
    # Extended resource of the RDMA device on these nodes, e.g. rdma/hca_shared_devices_a.
    # None keeps the chart's default (fabric.rdma.resourceName).
    rdma_resource: str | None = None

    @property
    def memory_bytes(self) -> int:
        return self.memory_mib * 1024 * 1024


@dataclass(frozen=True)
class Model:
    """Model facts the planner and the chart need, from the model's config and checkpoint."""

    id: str
    parameters: int
    dtype: Dtype
    checkpoint_bytes: int
    layers: int
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    max_context: int
    estimated: bool = False
    active_parameters: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    bf16_variant: str | None = None
    trust_remote_code: bool = False

    @property
    def uses_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def bf16_checkpoint_bytes(self) -> int:
        """Size of the weights once converted to BF16, as engines that cannot run FP8 load them."""
        if self.dtype == "fp8":
            return self.parameters * 2
        return self.checkpoint_bytes


@dataclass(frozen=True)
class Catalog:
    engines: dict[str, Engine] = field(default_factory=dict)
    shapes: dict[str, GpuShape] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)

    def engine(self, name: str) -> Engine:
        return _lookup(self.engines, name, "engine", "--engine")

    def shape(self, shape_id: str) -> GpuShape:
        return _lookup(self.shapes, shape_id, "GPU shape", "--gpu")

    def model(self, model_id: str) -> Model:
        return _lookup(self.models, model_id, "model", "--model")


def _lookup(entries: dict[str, Any], key: str, kind: str, option: str) -> Any:
    if key in entries:
        return entries[key]
    close = difflib.get_close_matches(key, list(entries), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]}? Known: {', '.join(sorted(entries))}"
    else:
        hint = f"choose one of: {', '.join(sorted(entries))}"
    if kind in ("model", "GPU shape"):
        hint += "; add your own with --catalog FILE"
    raise GeneratorError(Problem(option, f"unknown {kind} {key!r}", hint))


TYPE_NAMES = {int: "an integer", str: "a string", bool: "true or false"}
KNOWN_KEYS = {
    "engines": {"image", "port", "healthPath", "metricsPath", "launch", "parallelism", "tensorPowerOfTwo"},
    "shapes": {"gpu", "product", "resourceName", "gpusPerNode", "memoryMiB", "fp8", "interconnect", "fabric", "rdmaResource"},
    "models": {
        "parameters", "activeParameters", "dtype", "checkpointBytes", "estimated", "layers", "hiddenSize",
        "attentionHeads", "kvHeads", "headDim", "maxContext", "kvLoraRank", "qkRopeHeadDim", "bf16Variant",
        "trustRemoteCode",
    },
}


def _reject_unknown_keys(section: str, key: str, entry: dict[str, Any], source: str) -> None:
    unknown = sorted(set(entry) - KNOWN_KEYS[section])
    if unknown:
        suggestions = difflib.get_close_matches(unknown[0], sorted(KNOWN_KEYS[section]), n=1)
        hint = f"did you mean {suggestions[0]}?" if suggestions else f"known keys: {', '.join(sorted(KNOWN_KEYS[section]))}"
        raise GeneratorError(Problem(f"{section}.{key}.{unknown[0]}", "unknown key", hint, source))


def _require(entry: dict[str, Any], key: str, kind: type, where: str, source: str) -> Any:
    value = entry.get(key)
    if isinstance(value, bool) and kind is not bool:
        value = None
    if not isinstance(value, kind):
        raise GeneratorError(
            Problem(f"{where}.{key}", f"missing or not {TYPE_NAMES.get(kind, kind.__name__)}", "fix the catalog entry", source)
        )
    return value


def _optional_int(entry: dict[str, Any], key: str, where: str, source: str) -> int | None:
    if key not in entry:
        return None
    return _require(entry, key, int, where, source)


def _parse_engine(name: str, entry: dict[str, Any], source: str) -> Engine:
    where = f"engines.{name}"
    image = entry.get("image") or {}
    launch = _require(entry, "launch", str, where, source)
    if launch not in ("sglang", "vllm", "ray", "custom"):
        raise GeneratorError(
            Problem(f"{where}.launch", f"unknown launch style {launch!r}", "use sglang, vllm, ray or custom", source)
        )
    parallelism = _require(entry, "parallelism", str, where, source)
    if parallelism not in ("tensor-across-nodes", "pipeline-across-nodes"):
        raise GeneratorError(
            Problem(
                f"{where}.parallelism",
                f"unknown parallelism convention {parallelism!r}",
                "use tensor-across-nodes or pipeline-across-nodes",
                source,
            )
        )
    return Engine(
        name=name,
        image_repository=_require(image, "repository", str, f"{where}.image", source),
        image_tag=_require(image, "tag", str, f"{where}.image", source),
        port=_require(entry, "port", int, where, source),
        health_path=_require(entry, "healthPath", str, where, source),
        metrics_path=_require(entry, "metricsPath", str, where, source),
        launch=launch,
        parallelism=parallelism,
        tensor_power_of_two=bool(entry.get("tensorPowerOfTwo", False)),
    )


def _parse_shape(shape_id: str, entry: dict[str, Any], source: str) -> GpuShape:
    where = f"shapes.{shape_id}"
    if not SHAPE_ID.match(shape_id):
        raise GeneratorError(
            Problem(where, f"shape id {shape_id!r} is not of the form <gpu>-<memory>gb-x<gpus per node>", "rename it, e.g. h100-80gb-x8", source)
        )
    gpus_per_node = _require(entry, "gpusPerNode", int, where, source)
    declared = int(shape_id.rsplit("-x", 1)[1])
    if declared != gpus_per_node:
        raise GeneratorError(
            Problem(f"{where}.gpusPerNode", f"is {gpus_per_node} but the id says x{declared}", "make the id and gpusPerNode agree", source)
        )
    fabric = entry.get("fabric", "tcp")
    if fabric not in FABRICS:
        raise GeneratorError(
            Problem(f"{where}.fabric", f"unknown fabric {fabric!r}", f"use one of {', '.join(FABRICS)}", source)
        )
    rdma_resource = entry.get("rdmaResource")
    if rdma_resource is not None and (not isinstance(rdma_resource, str) or fabric not in ("infiniband", "roce")):
        raise GeneratorError(
            Problem(f"{where}.rdmaResource", "must be a resource name and needs fabric infiniband or roce", "fix the catalog entry", source)
        )
    return GpuShape(
        id=shape_id,
        gpu=_require(entry, "gpu", str, where, source),
        product=_require(entry, "product", str, where, source),
        resource_name=_require(entry, "resourceName", str, where, source),
        gpus_per_node=gpus_per_node,
        memory_mib=_require(entry, "memoryMiB", int, where, source),
        fp8=_require(entry, "fp8", bool, where, source),
        interconnect=_require(entry, "interconnect", str, where, source),
        fabric=fabric,
        rdma_resource=rdma_resource,
    )


def _parse_model(model_id: str, entry: dict[str, Any], source: str) -> Model:
    where = f"models.{model_id}"
    dtype = _require(entry, "dtype", str, where, source)
    if dtype not in BYTES_PER_PARAMETER:
        raise GeneratorError(
            Problem(f"{where}.dtype", f"unknown dtype {dtype!r}", f"use one of {', '.join(BYTES_PER_PARAMETER)}", source)
        )
    parameters = _require(entry, "parameters", int, where, source)
    checkpoint_bytes = entry.get("checkpointBytes")
    if checkpoint_bytes is None:
        checkpoint_bytes = int(parameters * BYTES_PER_PARAMETER[dtype])
    return Model(
        id=model_id,
        parameters=parameters,
        dtype=dtype,
        checkpoint_bytes=int(checkpoint_bytes),
        layers=_require(entry, "layers", int, where, source),
        hidden_size=_require(entry, "hiddenSize", int, where, source),
        attention_heads=_require(entry, "attentionHeads", int, where, source),
        kv_heads=_require(entry, "kvHeads", int, where, source),
        head_dim=_require(entry, "headDim", int, where, source),
        max_context=_require(entry, "maxContext", int, where, source),
        estimated=bool(entry.get("estimated", False)),
        active_parameters=_optional_int(entry, "activeParameters", where, source),
        kv_lora_rank=_optional_int(entry, "kvLoraRank", where, source),
        qk_rope_head_dim=_optional_int(entry, "qkRopeHeadDim", where, source),
        bf16_variant=entry.get("bf16Variant"),
        trust_remote_code=bool(entry.get("trustRemoteCode", False)),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise GeneratorError(Problem("", f"cannot read catalog: {error.strerror}", "check the path", str(path))) from None
    except yaml.YAMLError as error:
        raise GeneratorError(Problem("", f"invalid YAML: {error}", "fix the syntax", str(path))) from None
    if not isinstance(data, dict):
        raise GeneratorError(Problem("", "a catalog file must be a mapping", "use the keys engines, shapes or models", str(path)))
    unknown = sorted(set(data) - {"engines", "shapes", "models"})
    if unknown:
        raise GeneratorError(
            Problem(unknown[0], "unknown catalog section", "use engines, shapes or models", str(path))
        )
    return data


def load_catalog(extra_files: tuple[Path, ...] = ()) -> Catalog:
    """Load the built-in catalogs, then apply each extra file in order."""
    files = (CATALOG_DIR / "engines.yaml", CATALOG_DIR / "gpus.yaml", CATALOG_DIR / "models.yaml", *extra_files)
    return _load(tuple(files))


@cache
def _load(files: tuple[Path, ...]) -> Catalog:
    catalog = Catalog()
    parsers = {"engines": (_parse_engine, catalog.engines), "shapes": (_parse_shape, catalog.shapes), "models": (_parse_model, catalog.models)}
    for path in files:
        data = _read_yaml(path)
        for section, (parse, target) in parsers.items():
            entries = data.get(section) or {}
            if not isinstance(entries, dict):
                raise GeneratorError(Problem(section, "must be a mapping of id to entry", "", str(path)))
            for key, entry in entries.items():
                if not isinstance(entry, dict):
                    raise GeneratorError(Problem(f"{section}.{key}", "must be a mapping", "", str(path)))
                _reject_unknown_keys(section, str(key), entry, str(path))
                target[str(key)] = parse(str(key), entry, str(path))
    return catalog
