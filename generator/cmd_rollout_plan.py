"""`rollout-plan`: GPUs and nodes at steady state and at the peak of a rolling update."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generator.capacity import capacity_from_lws, capacity_warnings
from generator.errors import GeneratorError, Problem
from generator.render import parse_manifest, template


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollout-plan",
        help="show the GPUs and nodes a rolling update needs at its peak",
        description=(
            "Render the chart with the values files and print GPUs and nodes at steady state and at the "
            "peak of a rolling update (replicas plus surge groups), and the order in which LWS replaces groups."
        ),
    )
    parser.add_argument("-f", "--values", dest="values", action="append", type=Path, required=True, metavar="VALUES", help="values file; may be repeated")
    parser.add_argument("--free-gpus", type=int, metavar="N", help="GPUs free in the cluster besides those this release uses; warns when a surge needs more")
    parser.add_argument("--output", choices=("table", "json"), default="table", help="output format (default: table)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for path in args.values:
        if not path.is_file():
            raise GeneratorError(Problem("", "values file not found", "check the path given to -f", str(path)))
    if args.free_gpus is not None and args.free_gpus < 0:
        raise GeneratorError(Problem("--free-gpus", f"must be 0 or more, got {args.free_gpus}", "give the count of free GPUs"))

    objects = parse_manifest(template(args.values))
    lws = next((item for item in objects if item.get("kind") == "LeaderWorkerSet"), None)
    if lws is None:
        raise GeneratorError(Problem("", "the chart rendered no LeaderWorkerSet", "check the values files", ", ".join(map(str, args.values))))
    resource_name = _resource_name(args.values)
    plan = capacity_from_lws(lws, resource_name)
    warnings = capacity_warnings(plan, args.free_gpus)

    if args.output == "json":
        document = {
            "name": plan.name,
            "replicas": plan.replicas,
            "groupSize": plan.size,
            "acceleratorsPerPod": plan.accelerators_per_pod,
            "resourceName": plan.resource_name,
            "maxUnavailable": plan.max_unavailable,
            "maxSurge": plan.max_surge,
            "partition": plan.partition,
            "steady": {"gpus": plan.steady_gpus, "nodes": plan.steady_nodes},
            "peak": {"gpus": plan.peak_gpus, "nodes": plan.peak_nodes},
            "minReadyGroups": plan.min_ready_groups,
            "updateOrder": plan.update_order(),
            "warnings": warnings,
        }
        print(json.dumps(document, indent=2))
    else:
        print(f"LeaderWorkerSet {plan.name}: {plan.replicas} group(s) of {plan.size} pod(s) x {plan.accelerators_per_pod} {plan.resource_name}")
        print(f"rollout: maxUnavailable {plan.max_unavailable}, maxSurge {plan.max_surge}, partition {plan.partition} (effective integers)")
        print(f"{'':12}{'GPUS':>6}{'NODES':>7}")
        print(f"{'steady':12}{plan.steady_gpus:>6}{plan.steady_nodes:>7}")
        print(f"{'update peak':12}{plan.peak_gpus:>6}{plan.peak_nodes:>7}")
        print(f"groups ready during the update: at least {plan.min_ready_groups}")
        print("update order:")
        for number, step in enumerate(plan.update_order(), start=1):
            print(f"  {number}. {step}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _resource_name(values_files: list[Path]) -> str:
    """Return the accelerator resource name the values choose (the chart default is nvidia.com/gpu)."""
    import yaml

    name = "nvidia.com/gpu"
    for path in values_files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        accelerator = data.get("accelerator") if isinstance(data, dict) else None
        if isinstance(accelerator, dict) and isinstance(accelerator.get("resourceName"), str):
            name = accelerator["resourceName"]
    return name
