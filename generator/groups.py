"""Per-group and per-pod view of a LeaderWorkerSet, built from its pods' labels and status."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"
GROUP_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/group-index"
WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
SIZE_ANNOTATION = "leaderworkerset.sigs.k8s.io/size"


@dataclass(frozen=True)
class PodView:
    """One pod of a group: its worker index (0 is the leader), phase, readiness and restarts."""

    name: str
    group_index: int | None
    worker_index: int | None
    phase: str
    ready: bool
    restarts: int
    state: str


@dataclass(frozen=True)
class GroupView:
    """One group: the pods that exist for it and how many of `size` are ready."""

    index: int | None
    size: int
    surge: bool
    pods: tuple[PodView, ...]

    @property
    def ready_pods(self) -> int:
        return sum(1 for pod in self.pods if pod.ready)

    @property
    def ready(self) -> bool:
        return len(self.pods) >= self.size and self.ready_pods == len(self.pods)

    @property
    def state(self) -> str:
        if self.ready:
            return "Ready"
        if len(self.pods) < self.size:
            return "MissingPods"
        return "NotReady"


def _label_index(labels: Mapping[str, Any], key: str) -> int | None:
    value = labels.get(key)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _condition_true(status: Mapping[str, Any], condition_type: str) -> bool:
    for condition in status.get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition.get("status") == "True"
    return False


def _pod_state(metadata: Mapping[str, Any], status: Mapping[str, Any], ready: bool) -> str:
    """Describe why a pod is not ready, in the words `kubectl get pods` uses where it can."""
    if metadata.get("deletionTimestamp"):
        return "Terminating"
    if status.get("reason"):
        return str(status["reason"])
    container_statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    for container in container_statuses:
        state = container.get("state") or {}
        for phase_key in ("waiting", "terminated"):
            reason = (state.get(phase_key) or {}).get("reason")
            if reason and reason != "Completed":
                return str(reason)
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return str(condition.get("reason") or "Unschedulable")
    if ready:
        return "Ready"
    return str(status.get("phase") or "Unknown")


def pod_view(pod: Mapping[str, Any]) -> PodView:
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    labels = metadata.get("labels") or {}
    ready = _condition_true(status, "Ready")
    container_statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    restarts = sum(int(container.get("restartCount") or 0) for container in container_statuses)
    return PodView(
        name=str(metadata.get("name", "")),
        group_index=_label_index(labels, GROUP_INDEX_LABEL),
        worker_index=_label_index(labels, WORKER_INDEX_LABEL),
        phase=str(status.get("phase") or "Unknown"),
        ready=ready,
        restarts=restarts,
        state=_pod_state(metadata, status, ready),
    )


def _sort_key(index: int | None) -> tuple[bool, int]:
    return (index is None, index or 0)


def group_views(pods: Iterable[Mapping[str, Any]], desired_groups: int, default_size: int) -> list[GroupView]:
    """Group pods by group index. Groups 0..desired_groups-1 appear even when they have no pods.

    The expected pod count of a group comes from the size annotation that LWS puts on its pods,
    so a group whose pods still carry an old size during a rolling update is judged by that size.
    """
    pods_by_group: dict[int | None, list[PodView]] = {index: [] for index in range(desired_groups)}
    sizes: dict[int | None, int] = {}
    for pod in pods:
        view = pod_view(pod)
        pods_by_group.setdefault(view.group_index, []).append(view)
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        size = annotations.get(SIZE_ANNOTATION)
        if isinstance(size, str) and size.isdigit():
            sizes[view.group_index] = int(size)

    groups = []
    for index in sorted(pods_by_group, key=_sort_key):
        members = sorted(pods_by_group[index], key=lambda view: (_sort_key(view.worker_index), view.name))
        groups.append(
            GroupView(
                index=index,
                size=sizes.get(index, default_size),
                surge=index is not None and index >= desired_groups,
                pods=tuple(members),
            )
        )
    return groups
