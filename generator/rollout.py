"""The rollout rule for a LeaderWorkerSet: Healthy, Progressing or Degraded, from the object alone.

`argocd/health/leaderworkerset.lua` implements the same rule for Argo CD, and the tests check
that both return the same state and message for every fixture. Change both together.

The rule, in order (status fields from LWS v0.9.0 or later, which writes observedGeneration):

1. No status, or `status.observedGeneration` differs from `metadata.generation`: Progressing.
   Right after a spec change the old counts still look finished, so they cannot be trusted.
2. Condition `UpdateInProgress` is True: Progressing. The controller keeps it True from the start
   of a rolling update until every group is updated and ready.
3. `status.replicas` exceeds `spec.replicas`: Progressing, because surge groups still exist.
4. Degraded when the `Available` condition is present with status False, `status.replicas`
   equals `spec.replicas` and `status.readyReplicas` is below `spec.replicas`. The controller
   only ever adds a condition as True and later flips it to False, so a False `Available` means
   every group was ready at some point and at least one is not ready now, with no update running.
5. Healthy when `status.replicas` and `status.readyReplicas` equal `spec.replicas` and
   `status.updatedReplicas` reaches the update target.
6. Otherwise Progressing (groups are still being created or are loading).

The update target is `spec.replicas` minus `rollingUpdateConfiguration.partition`, because groups
with an index below the partition keep their old revision. Groups below the partition that were
created on the current revision also count as updated, so any count from the target up passes.
Missing status fields count as 0 (LWS omits zero values) and a missing `spec.replicas` is 1, the
CRD default.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

HealthState = Literal["Healthy", "Progressing", "Degraded"]


@dataclass(frozen=True)
class RolloutCounts:
    """The numbers the rule compares, with defaults applied for missing fields."""

    generation: int
    observed_generation: int
    has_observed_generation: bool
    desired: int
    partition: int
    current: int
    ready: int
    updated: int

    @property
    def updated_target(self) -> int:
        return max(self.desired - self.partition, 0)


@dataclass(frozen=True)
class RolloutResult:
    """The state of one LeaderWorkerSet and a one-line reason."""

    state: HealthState
    message: str
    counts: RolloutCounts

    @property
    def rolled_out(self) -> bool:
        return self.state == "Healthy"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _integer(value: Any, default: int = 0) -> int:
    """Return value as an int, or default when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)


def _condition_status(status: Mapping[str, Any], condition_type: str) -> str | None:
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        return None
    for condition in conditions:
        if isinstance(condition, Mapping) and condition.get("type") == condition_type:
            return str(condition.get("status"))
    return None


def read_counts(lws: Mapping[str, Any]) -> RolloutCounts:
    """Read the generation and replica counts of a LeaderWorkerSet object (a JSON mapping)."""
    metadata = _mapping(lws.get("metadata"))
    spec = _mapping(lws.get("spec"))
    status = _mapping(lws.get("status"))
    rolling_update = _mapping(_mapping(spec.get("rolloutStrategy")).get("rollingUpdateConfiguration"))
    return RolloutCounts(
        generation=_integer(metadata.get("generation")),
        observed_generation=_integer(status.get("observedGeneration")),
        has_observed_generation=status.get("observedGeneration") is not None,
        desired=_integer(spec.get("replicas"), default=1),
        partition=_integer(rolling_update.get("partition")),
        current=_integer(status.get("replicas")),
        ready=_integer(status.get("readyReplicas")),
        updated=_integer(status.get("updatedReplicas")),
    )


def evaluate(lws: Mapping[str, Any]) -> RolloutResult:
    """Apply the rollout rule in the module docstring to a LeaderWorkerSet object."""
    counts = read_counts(lws)
    status = _mapping(lws.get("status"))

    def result(state: HealthState, message: str) -> RolloutResult:
        return RolloutResult(state, message, counts)

    if not status:
        return result("Progressing", "waiting for the LeaderWorkerSet controller to write status")
    if not counts.has_observed_generation:
        return result(
            "Progressing",
            "status.observedGeneration is missing; LWS v0.9.0 or later sets it",
        )
    if counts.observed_generation != counts.generation:
        return result(
            "Progressing",
            f"status is for generation {counts.observed_generation}, spec is at generation {counts.generation}",
        )

    if _condition_status(status, "UpdateInProgress") == "True":
        return result(
            "Progressing",
            f"rolling update in progress: {counts.updated} groups updated (target {counts.updated_target}), "
            f"{counts.ready} of {counts.desired} ready",
        )
    if counts.current > counts.desired:
        return result(
            "Progressing",
            f"{counts.current - counts.desired} surge groups still exist ({counts.current} groups for {counts.desired} replicas)",
        )

    # NOTE: a scale-up after all groups were ready also matches until the new groups are ready,
    # because the status fields do not tell a new group apart from one that failed.
    lost_availability = _condition_status(status, "Available") == "False"
    if lost_availability and counts.current == counts.desired and counts.ready < counts.desired:
        return result(
            "Degraded",
            f"{counts.desired - counts.ready} of {counts.desired} groups not ready after all were ready, with no update in progress",
        )

    if counts.current == counts.desired and counts.ready == counts.desired and counts.updated >= counts.updated_target:
        if counts.desired == 0:
            return result("Healthy", "scaled to 0 groups")
        return result("Healthy", f"all {counts.desired} groups ready and updated")

    return result(
        "Progressing",
        f"{counts.ready} of {counts.desired} groups ready, {counts.updated} updated (target {counts.updated_target}), "
        f"{counts.current} exist",
    )
