"""GPU shapes found on cluster nodes, matched against the catalog and written as catalog entries.

Node facts come from the labels that NVIDIA GPU feature discovery (GFD) sets:
`nvidia.com/gpu.product`, `nvidia.com/gpu.count`, `nvidia.com/gpu.memory` (MiB per GPU) and
`nvidia.com/gpu.compute.major`/`.minor`. Without a count label, the node's allocatable
`nvidia.com/gpu` is the count.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from generator.catalog import Catalog, GpuShape

PRODUCT_LABEL = "nvidia.com/gpu.product"
COUNT_LABEL = "nvidia.com/gpu.count"
MEMORY_LABEL = "nvidia.com/gpu.memory"
COMPUTE_MAJOR_LABEL = "nvidia.com/gpu.compute.major"
COMPUTE_MINOR_LABEL = "nvidia.com/gpu.compute.minor"
GPU_RESOURCE = "nvidia.com/gpu"

# Product-name words that do not identify the GPU model, dropped when building a new shape id.
_PRODUCT_NOISE = re.compile(r"^(nvidia|geforce|tesla|sxm\d*|pcie|hbm\d*e?|nvl|[0-9]+gb)$")
# FP8 tensor cores arrived with compute capability 8.9 (Ada) and exist on 9.0 (Hopper) and later.
_FP8_COMPUTE_CAPABILITY = (8, 9)

Match = Literal["matched", "new"]


@dataclass(frozen=True)
class NodeGpus:
    """The GPU facts of one node."""

    node: str
    product: str
    count: int
    memory_mib: int
    compute_capability: tuple[int, int] | None


@dataclass(frozen=True)
class SkippedNode:
    """A node with GPUs that cannot become a shape, and why."""

    node: str
    reason: str


@dataclass(frozen=True)
class DiscoveredShape:
    """A catalog shape found on one or more nodes, with where its field values came from."""

    shape: GpuShape
    match: Match
    nodes: tuple[str, ...]
    notes: tuple[str, ...]


def _integer_label(labels: Mapping[str, Any], key: str) -> int | None:
    value = labels.get(key)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _allocatable_gpus(node: Mapping[str, Any]) -> int | None:
    value = ((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def read_node(node: Mapping[str, Any]) -> NodeGpus | SkippedNode | None:
    """Read one Node object. Returns None for a node without NVIDIA GPUs."""
    metadata = node.get("metadata") or {}
    name = str(metadata.get("name", ""))
    labels = metadata.get("labels") or {}
    product = labels.get(PRODUCT_LABEL)
    count = _integer_label(labels, COUNT_LABEL)
    if count is None:
        count = _allocatable_gpus(node)
    if not product and not count:
        return None

    if not product:
        return SkippedNode(name, f"has {count} allocatable {GPU_RESOURCE} but no {PRODUCT_LABEL} label; is GPU feature discovery running?")
    if not count:
        return SkippedNode(name, f"has no {COUNT_LABEL} label and no allocatable {GPU_RESOURCE}")
    memory_mib = _integer_label(labels, MEMORY_LABEL)
    if memory_mib is None:
        return SkippedNode(name, f"has no {MEMORY_LABEL} label, so the GPU memory is unknown")

    major = _integer_label(labels, COMPUTE_MAJOR_LABEL)
    minor = _integer_label(labels, COMPUTE_MINOR_LABEL)
    compute_capability = (major, minor) if major is not None and minor is not None else None
    return NodeGpus(name, str(product), count, memory_mib, compute_capability)


def _gpu_slug(product: str) -> str:
    words = [word for word in re.split(r"[^a-z0-9]+", product.lower()) if word and not _PRODUCT_NOISE.match(word)]
    return "".join(words) or "gpu"


def _display_name(product: str) -> str:
    name = product.removeprefix("NVIDIA-").replace("-", " ")
    return name or product


def _new_shape(nodes: list[NodeGpus], catalog: Catalog) -> tuple[GpuShape, list[str]]:
    """Build a shape for nodes that match no catalog entry, copying fields from a catalog shape with the same product."""
    first = nodes[0]
    memory_mib = min(node.memory_mib for node in nodes)
    notes = []
    if len({node.memory_mib for node in nodes}) > 1:
        notes.append(f"nodes report different GPU memory; using the smallest, {memory_mib} MiB")

    same_product = next((shape for shape in catalog.shapes.values() if shape.product == first.product), None)
    if same_product is not None:
        slug = same_product.id.split("-", 1)[0]
        gpu = same_product.gpu
        fp8 = same_product.fp8
        interconnect = same_product.interconnect
        fabric = same_product.fabric
        notes.append(f"gpu, fp8, interconnect and fabric copied from {same_product.id}, which has the same product")
    else:
        slug = _gpu_slug(first.product)
        gpu = _display_name(first.product)
        capabilities = {node.compute_capability for node in nodes}
        capability = first.compute_capability if len(capabilities) == 1 else None
        fp8 = capability is not None and capability >= _FP8_COMPUTE_CAPABILITY
        if capability is None:
            notes.append("fp8 set to false because the compute capability labels are missing or differ; check it")
        else:
            notes.append(f"fp8 from compute capability {capability[0]}.{capability[1]}")
        interconnect = "pcie"
        fabric = "tcp"
        notes.append("interconnect pcie and fabric tcp are assumed because node labels do not show NVLink or RDMA; correct them if needed")

    # NOTE: without a same-product shape of equal memory to copy the size from, the gigabyte
    # figure is GiB rounded up, which can differ from the marketing size (23028 MiB gives 23gb).
    memory_gb = math.ceil(memory_mib / 1024)
    if same_product is not None and same_product.memory_mib == memory_mib:
        memory_gb = int(same_product.id.split("-")[-2].removesuffix("gb"))
    shape_id = f"{slug}-{memory_gb}gb-x{first.count}"
    shape = GpuShape(
        id=shape_id,
        gpu=gpu,
        product=first.product,
        resource_name=GPU_RESOURCE,
        gpus_per_node=first.count,
        memory_mib=memory_mib,
        fp8=fp8,
        interconnect=interconnect,
        fabric=fabric,
    )
    if shape_id in catalog.shapes:
        known = catalog.shapes[shape_id]
        notes.append(
            f"same id as the catalog shape {shape_id} ({known.memory_mib} MiB per GPU); "
            f"passing this file with --catalog replaces that entry"
        )
    return shape, notes


def discover_shapes(nodes: Iterable[Mapping[str, Any]], catalog: Catalog) -> tuple[list[DiscoveredShape], list[SkippedNode]]:
    """Group GPU nodes by (product, count, memory) and match each group to a catalog shape.

    A group matches when a catalog shape has the same product, GPUs per node and memoryMiB.
    Results are sorted by shape id, and node names within a shape by name.
    """
    node_groups: dict[tuple[str, int, int], list[NodeGpus]] = {}
    skipped = []
    for node in nodes:
        found = read_node(node)
        if isinstance(found, SkippedNode):
            skipped.append(found)
        elif found is not None:
            node_groups.setdefault((found.product, found.count, found.memory_mib), []).append(found)

    matched_by_id: dict[str, tuple[GpuShape, list[NodeGpus]]] = {}
    new_by_id: dict[str, list[NodeGpus]] = {}
    for (product, count, memory_mib), members in node_groups.items():
        known = next(
            (
                shape
                for shape in catalog.shapes.values()
                if shape.product == product and shape.gpus_per_node == count and shape.memory_mib == memory_mib
            ),
            None,
        )
        if known is not None:
            matched_by_id[known.id] = (known, members)
            continue
        provisional, _ = _new_shape(members, catalog)
        new_by_id.setdefault(provisional.id, []).extend(members)

    # Node groups whose memory differs slightly get the same id. They become one entry with the
    # smallest memory, so a plan never assumes more memory than some of the nodes have.
    for shape_id in new_by_id:
        if shape_id in matched_by_id:
            new_by_id[shape_id].extend(matched_by_id.pop(shape_id)[1])

    discovered = []
    for known, members in matched_by_id.values():
        discovered.append(DiscoveredShape(known, "matched", tuple(sorted(node.node for node in members)), ()))
    for members in new_by_id.values():
        shape, notes = _new_shape(members, catalog)
        discovered.append(DiscoveredShape(shape, "new", tuple(sorted(node.node for node in members)), tuple(notes)))

    discovered.sort(key=lambda found: (found.shape.id, found.match))
    skipped.sort(key=lambda node: node.node)
    return discovered, skipped


def shape_entry(shape: GpuShape) -> dict[str, Any]:
    """Return the catalog YAML fields of a shape, in the order catalogs/gpus.yaml uses."""
    entry: dict[str, Any] = {
        "gpu": shape.gpu,
        "product": shape.product,
        "resourceName": shape.resource_name,
        "gpusPerNode": shape.gpus_per_node,
        "memoryMiB": shape.memory_mib,
        "fp8": shape.fp8,
        "interconnect": shape.interconnect,
    }
    if shape.fabric != "tcp":
        entry["fabric"] = shape.fabric
    if shape.rdma_resource:
        entry["rdmaResource"] = shape.rdma_resource
    return entry


def catalog_yaml(discovered: list[DiscoveredShape]) -> str:
    """Render discovered shapes as a catalog file with a `shapes:` section and a comment per entry."""
    lines = [
        "# GPU shapes found on cluster nodes by `python -m generator discover`.",
        "# Pass this file with `--catalog`; an entry with the id of a built-in shape replaces it.",
        "shapes:",
    ]
    for found in discovered:
        node_list = ", ".join(found.nodes)
        if found.match == "matched":
            lines.append(f"  # matches the catalog shape {found.shape.id}; nodes: {node_list}")
        else:
            lines.append(f"  # new shape; nodes: {node_list}")
            lines += [f"  # {note}" for note in found.notes]
        body = yaml.safe_dump({found.shape.id: shape_entry(found.shape)}, sort_keys=False, allow_unicode=True)
        lines += [f"  {line}" for line in body.splitlines()]
    return "\n".join(lines) + "\n"
