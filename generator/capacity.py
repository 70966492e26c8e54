"""Capacity preview of a rolling update: GPUs and nodes at steady state and at the surge peak.

The numbers come from the LeaderWorkerSet the chart renders, so they reflect every default the
chart applies. The LWS v0.10.0 controller runs an update in this order:

1. It creates the surge groups first, as new group indices above spec.replicas, on the new revision.
2. It moves the partition down from the highest index and recreates up to maxUnavailable
   (plus unused surge) groups at a time. Groups below rollingUpdateConfiguration.partition keep
   the old revision.
3. It deletes the surge groups from the top.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from generator.errors import GeneratorError, Problem

MAX_LISTED_STEPS = 12


@dataclass(frozen=True)
class CapacityPlan:
    name: str
    replicas: int
    size: int
    accelerators_per_pod: int
    resource_name: str
    max_unavailable: int
    max_surge: int
    partition: int

    @property
    def gpus_per_group(self) -> int:
        return self.size * self.accelerators_per_pod

    @property
    def steady_gpus(self) -> int:
        return self.replicas * self.gpus_per_group

    @property
    def steady_nodes(self) -> int:
        return self.replicas * self.size

    @property
    def peak_gpus(self) -> int:
        return (self.replicas + self.max_surge) * self.gpus_per_group

    @property
    def peak_nodes(self) -> int:
        return (self.replicas + self.max_surge) * self.size

    @property
    def surge_gpus(self) -> int:
        return self.max_surge * self.gpus_per_group

    @property
    def min_ready_groups(self) -> int:
        """Groups of the old or new revision that stay ready throughout the update."""
        return max(self.replicas - self.max_unavailable, 0)

    def update_order(self) -> list[str]:
        """List, in words, the steps LWS takes for a change of the pod templates."""
        steps: list[str] = []
        name = self.name
        if self.max_surge:
            first, last = self.replicas, self.replicas + self.max_surge - 1
            surge = f"{name}-{first}" if first == last else f"{name}-{first} .. {name}-{last}"
            steps.append(f"create surge group(s) {surge} on the new revision")
        updated = list(range(self.replicas - 1, self.partition - 1, -1))
        batch = max(self.max_unavailable + self.max_surge, 1)
        for start in range(0, len(updated), batch):
            chunk = updated[start:start + batch]
            if len(steps) >= MAX_LISTED_STEPS:
                steps.append(f"... {len(updated) - start} more group(s), {batch} at a time, down to index {self.partition}")
                break
            listed = ", ".join(f"{name}-{index}" for index in chunk)
            steps.append(f"recreate {listed} on the new revision and wait until ready")
        if self.partition:
            old_groups = f"{name}-0" if self.partition == 1 else f"{name}-0 .. {name}-{self.partition - 1}"
            steps.append(f"keep {old_groups} on the old revision (partition {self.partition})")
        if self.max_surge:
            steps.append("delete the surge group(s) from the top once the others are updated and ready")
        return steps


def _resolve(value: Any, replicas: int, round_up: bool, path: str) -> int:
    if isinstance(value, str) and value.endswith("%"):
        try:
            percent = int(value[:-1])
        except ValueError:
            raise GeneratorError(Problem(path, f"invalid percentage {value!r}", "use an integer or a value like 25%")) from None
        scaled = percent * replicas / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value)


def capacity_from_lws(lws: dict[str, Any], resource_name: str) -> CapacityPlan:
    """Read the numbers of a rendered LeaderWorkerSet (percentages resolved like the LWS webhook)."""
    spec = lws["spec"]
    template = spec["leaderWorkerTemplate"]
    replicas = int(spec.get("replicas", 1))
    rolling = spec.get("rolloutStrategy", {}).get("rollingUpdateConfiguration", {})
    leader = template.get("leaderTemplate") or template["workerTemplate"]
    limits = leader["spec"]["containers"][0].get("resources", {}).get("limits", {})
    surge = _resolve(rolling.get("maxSurge", 0), replicas, True, "rollout.maxSurge")
    return CapacityPlan(
        name=lws["metadata"]["name"],
        replicas=replicas,
        size=int(template.get("size", 1)),
        accelerators_per_pod=int(limits.get(resource_name, 0)),
        resource_name=resource_name,
        max_unavailable=_resolve(rolling.get("maxUnavailable", 1), replicas, False, "rollout.maxUnavailable"),
        max_surge=min(surge, replicas),
        partition=int(rolling.get("partition", 0)),
    )


def capacity_warnings(plan: CapacityPlan, free_gpus: int | None) -> list[str]:
    warnings: list[str] = []
    if plan.max_surge and free_gpus is not None and plan.surge_gpus > free_gpus:
        warnings.append(
            f"a rolling update needs {plan.surge_gpus} spare {plan.resource_name} for {plan.max_surge} surge group(s) "
            f"but only {free_gpus} are free: the surge pods stay Pending and the update waits "
            "(free GPUs, or set rollout.maxSurge to 0 and rollout.maxUnavailable to 1)"
        )
    if plan.max_surge and free_gpus is None:
        warnings.append(
            f"a rolling update needs {plan.surge_gpus} spare {plan.resource_name} on {plan.max_surge * plan.size} "
            "free node(s) for its surge group(s); pass --free-gpus to check"
        )
    if plan.replicas and plan.min_ready_groups == 0:
        warnings.append(
            f"with {plan.replicas} replica(s) and maxUnavailable {plan.max_unavailable}, no group serves while the update replaces it"
        )
    return warnings
