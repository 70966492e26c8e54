"""`status`: show whether a LeaderWorkerSet has rolled out, per group and per pod, and optionally wait for it."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from generator.errors import GeneratorError, Problem, UsageError
from generator.groups import NAME_LABEL, GroupView, group_views
from generator.kube import Connection, add_connection_arguments, api_problem, connect, read_json
from generator.rollout import RolloutResult, evaluate, read_counts

LWS_GROUP = "leaderworkerset.x-k8s.io"
LWS_VERSION = "v1"
LWS_PLURAL = "leaderworkersets"


@dataclass(frozen=True)
class Snapshot:
    """One reading of a LeaderWorkerSet and its pods."""

    name: str
    namespace: str
    result: RolloutResult
    groups: tuple[GroupView, ...]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the rollout state of a LeaderWorkerSet and its groups",
        description=(
            "Read a LeaderWorkerSet and its pods and report Healthy, Progressing or Degraded. "
            "Without --wait the exit code is 0 whatever the state. With --wait it is 0 once the "
            "LeaderWorkerSet has rolled out and 1 on timeout. A missing object exits with 1."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="LeaderWorkerSet name")
    parser.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's namespace)")
    parser.add_argument("--wait", action="store_true", help="poll until the LeaderWorkerSet has rolled out")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S", help="seconds --wait polls before failing (default: 600)")
    parser.add_argument("--interval", type=float, default=5.0, metavar="S", help="seconds between polls with --wait (default: 5)")
    parser.add_argument("--output", choices=("table", "json"), default="table", help="output format (default: table)")
    add_connection_arguments(parser)
    parser.set_defaults(run=run)


def read_snapshot(connection: Connection, name: str, namespace: str) -> Snapshot:
    """Read the LeaderWorkerSet and its pods, and apply the rollout rule."""
    resource = f"LeaderWorkerSet {namespace}/{name}"
    custom = client.CustomObjectsApi(connection.api_client)
    core = client.CoreV1Api(connection.api_client)
    try:
        lws = read_json(custom.get_namespaced_custom_object, LWS_GROUP, LWS_VERSION, namespace, LWS_PLURAL, name)
    except ApiException as error:
        if error.status == 404:
            raise GeneratorError(
                Problem(
                    "NAME",
                    f"{resource} not found",
                    "check the name and -n NAMESPACE, and that the LeaderWorkerSet CRD is installed",
                )
            ) from None
        raise api_problem(error, connection.server, resource) from None
    except urllib3.exceptions.HTTPError as error:
        raise api_problem(error, connection.server, resource) from None

    try:
        pod_list = read_json(core.list_namespaced_pod, namespace, label_selector=f"{NAME_LABEL}={name}")
    except (ApiException, urllib3.exceptions.HTTPError) as error:
        raise api_problem(error, connection.server, f"pods of {resource}") from None

    result = evaluate(lws)
    template = (lws.get("spec") or {}).get("leaderWorkerTemplate") or {}
    size = template.get("size") if isinstance(template.get("size"), int) else 1
    groups = group_views(pod_list.get("items") or [], result.counts.desired, size)
    return Snapshot(name, namespace, result, tuple(groups))


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """Build the --output json document. Keys keep this insertion order."""
    counts = snapshot.result.counts
    return {
        "name": snapshot.name,
        "namespace": snapshot.namespace,
        "state": snapshot.result.state,
        "message": snapshot.result.message,
        "rolledOut": snapshot.result.rolled_out,
        "generation": {"metadata": counts.generation, "observed": counts.observed_generation},
        "replicas": {
            "spec": counts.desired,
            "status": counts.current,
            "ready": counts.ready,
            "updated": counts.updated,
            "updatedTarget": counts.updated_target,
            "partition": counts.partition,
        },
        "groups": [
            {
                "index": group.index,
                "state": group.state,
                "surge": group.surge,
                "size": group.size,
                "readyPods": group.ready_pods,
                "pods": [
                    {
                        "name": pod.name,
                        "workerIndex": pod.worker_index,
                        "phase": pod.phase,
                        "ready": pod.ready,
                        "restarts": pod.restarts,
                        "state": pod.state,
                    }
                    for pod in group.pods
                ],
            }
            for group in snapshot.groups
        ],
    }


def _format_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]


def _index_text(index: int | None) -> str:
    return "?" if index is None else str(index)


def snapshot_table(snapshot: Snapshot) -> str:
    """Build the --output table text: a summary line, a group table and a pod table."""
    result = snapshot.result
    counts = result.counts
    lines = [
        f"LeaderWorkerSet {snapshot.namespace}/{snapshot.name}: {result.state}: {result.message}",
        f"generation {counts.generation} (observed {counts.observed_generation}); replicas: spec {counts.desired}, "
        f"status {counts.current}, ready {counts.ready}, updated {counts.updated} (target {counts.updated_target})",
        "",
    ]
    group_rows = [
        [_index_text(group.index), group.state + (" (surge)" if group.surge else ""), f"{group.ready_pods}/{group.size}"]
        for group in snapshot.groups
    ]
    lines += _format_rows(["GROUP", "STATE", "READY"], group_rows)
    pod_rows = [
        [
            pod.name,
            _index_text(group.index),
            _index_text(pod.worker_index),
            pod.phase,
            "true" if pod.ready else "false",
            str(pod.restarts),
            pod.state,
        ]
        for group in snapshot.groups
        for pod in group.pods
    ]
    if pod_rows:
        lines.append("")
        lines += _format_rows(["POD", "GROUP", "WORKER", "PHASE", "READY", "RESTARTS", "STATE"], pod_rows)
    return "\n".join(lines)


def pending_problems(snapshot: Snapshot) -> list[Problem]:
    """List what keeps the LeaderWorkerSet from being rolled out: the rule's reason, then each unready group."""
    problems = [Problem("", f"{snapshot.result.state}: {snapshot.result.message}")]
    for group in snapshot.groups:
        if group.ready and not group.surge:
            continue
        if group.surge:
            problems.append(Problem("", f"group {_index_text(group.index)}: surge group still present"))
            continue
        unready = ", ".join(f"{pod.name} {pod.state}" for pod in group.pods if not pod.ready)
        detail = f"; not ready: {unready}" if unready else ""
        problems.append(
            Problem(
                "",
                f"group {_index_text(group.index)}: {group.ready_pods} of {group.size} pods ready, "
                f"{len(group.pods)} exist{detail}",
            )
        )
    return problems


def _print_snapshot(snapshot: Snapshot, output: str) -> None:
    if output == "json":
        print(json.dumps(snapshot_json(snapshot), indent=2))
    else:
        print(snapshot_table(snapshot))


def _check_arguments(args: argparse.Namespace) -> None:
    problems = []
    if not args.timeout > 0:
        problems.append(Problem("--timeout", f"must be more than 0 seconds, got {args.timeout:g}"))
    if not args.interval > 0:
        problems.append(Problem("--interval", f"must be more than 0 seconds, got {args.interval:g}"))
    if problems:
        raise UsageError(problems)


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    connection = connect(args.kubeconfig, args.context)
    namespace = args.namespace or connection.default_namespace

    snapshot = read_snapshot(connection, args.name, namespace)
    if not args.wait:
        _print_snapshot(snapshot, args.output)
        return 0

    deadline = time.monotonic() + args.timeout
    last_message = ""
    while not snapshot.result.rolled_out:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _print_snapshot(snapshot, args.output)
            print(
                f"error: timed out after {args.timeout:g} s waiting for LeaderWorkerSet {namespace}/{args.name} to roll out",
                file=sys.stderr,
            )
            for problem in pending_problems(snapshot):
                print(f"pending: {problem.message}", file=sys.stderr)
            return 1
        message = f"{snapshot.result.state}: {snapshot.result.message}"
        if message != last_message:
            print(f"waiting: {message}", file=sys.stderr)
            last_message = message
        time.sleep(min(args.interval, remaining))
        snapshot = read_snapshot(connection, args.name, namespace)

    _print_snapshot(snapshot, args.output)
    return 0
