"""`python -m generator status` and the rollout rule in generator/rollout.py.

No Kubernetes API server runs in tests. Each CLI test starts the http.server stand-in from
fake_kube_api.py on 127.0.0.1 (port 0), which serves a LeaderWorkerSet and a pod list as JSON,
and points the real `kubernetes` client at it with a kubeconfig file written to tmp_path.
Proxy variables are removed from the environment so the client connects to 127.0.0.1 directly.
"""
from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fake_kube_api import not_found, server_with_kubeconfig
from generator import cli
from generator.groups import group_views
from generator.rollout import evaluate

LWS_PATH = "/apis/leaderworkerset.x-k8s.io/v1/namespaces/serving/leaderworkersets/llama"
PODS_PATH = "/api/v1/namespaces/serving/pods"


def make_lws(
    replicas: int | None = 2,
    generation: int = 2,
    status: dict[str, Any] | None = None,
    partition: int | None = None,
    size: int = 2,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"leaderWorkerTemplate": {"size": size}}
    if replicas is not None:
        spec["replicas"] = replicas
    if partition is not None:
        spec["rolloutStrategy"] = {"type": "RollingUpdate", "rollingUpdateConfiguration": {"partition": partition}}
    lws: dict[str, Any] = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "llama", "namespace": "serving", "generation": generation},
        "spec": spec,
    }
    if status is not None:
        lws["status"] = status
    return lws


def healthy_status(replicas: int = 2, generation: int = 2) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "replicas": replicas,
        "readyReplicas": replicas,
        "updatedReplicas": replicas,
        "conditions": [{"type": "Available", "status": "True", "reason": "AllGroupsReady"}],
    }


def loading_status(ready: int, replicas: int = 2, generation: int = 2) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "replicas": replicas,
        "readyReplicas": ready,
        "updatedReplicas": replicas,
        "conditions": [{"type": "Progressing", "status": "True", "reason": "GroupsProgressing"}],
    }


def make_pod(
    group: int,
    worker: int,
    ready: bool = True,
    restarts: int = 0,
    waiting: str | None = None,
    name: str = "llama",
    size: int = 2,
) -> dict[str, Any]:
    pod_name = f"{name}-{group}" if worker == 0 else f"{name}-{group}-{worker}"
    container_state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {
            "name": pod_name,
            "namespace": "serving",
            "labels": {
                "leaderworkerset.sigs.k8s.io/name": name,
                "leaderworkerset.sigs.k8s.io/group-index": str(group),
                "leaderworkerset.sigs.k8s.io/worker-index": str(worker),
            },
            "annotations": {"leaderworkerset.sigs.k8s.io/size": str(size)},
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "engine", "restartCount": restarts, "state": container_state}],
        },
    }


def pod_list(*pods: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PodList", "apiVersion": "v1", "items": list(pods)}


def all_ready_pods(groups: int = 2, name: str = "llama") -> dict[str, Any]:
    return pod_list(*(make_pod(group, worker, name=name) for group in range(groups) for worker in range(2)))


@pytest.fixture
def server(monkeypatch, tmp_path):
    with server_with_kubeconfig(monkeypatch, tmp_path / "kubeconfig") as fake:
        yield fake


def run_status(server, *arguments: str) -> int:
    return cli.main(["status", "llama", "--kubeconfig", str(server.kubeconfig), *arguments])


# The rollout rule on cases the fixtures do not cover.


def test_rule_partition_above_replicas():
    lws = make_lws(replicas=2, partition=5, status={**healthy_status(), "updatedReplicas": 0})
    result = evaluate(lws)
    assert result.state == "Healthy"
    assert result.counts.updated_target == 0


def test_rule_partition_allows_more_updated():
    lws = make_lws(replicas=4, partition=2, status=healthy_status(replicas=4))
    assert evaluate(lws).state == "Healthy"


def test_rule_updated_below_target():
    lws = make_lws(status={**healthy_status(), "updatedReplicas": 1})
    result = evaluate(lws)
    assert result.state == "Progressing"
    assert result.message == "2 of 2 groups ready, 1 updated (target 2), 2 exist"


def test_rule_missing_replicas_defaults_to_one():
    lws = make_lws(replicas=None, status=healthy_status(replicas=2))
    result = evaluate(lws)
    assert result.counts.desired == 1
    assert result.state == "Progressing"
    assert result.message == "1 surge groups still exist (2 groups for 1 replicas)"


def test_rule_non_number_counts_are_zero():
    lws = make_lws(status={**healthy_status(), "readyReplicas": "2", "replicas": True})
    result = evaluate(lws)
    assert result.counts.ready == 0
    assert result.counts.current == 0
    assert result.state == "Progressing"


def test_group_views_mark_surge_and_missing():
    pods = [make_pod(0, 0), make_pod(0, 1), make_pod(2, 0)]
    groups = group_views(pods, desired_groups=2, default_size=2)

    assert [group.index for group in groups] == [0, 1, 2]
    assert groups[0].state == "Ready"
    assert groups[1].state == "MissingPods"
    assert groups[1].pods == ()
    assert groups[2].surge is True
    assert groups[2].state == "MissingPods"


# The CLI against the fake API server.


def test_status_rolled_out_table(server, capsys):
    server.set(LWS_PATH, make_lws(status=healthy_status()))
    server.set(PODS_PATH, all_ready_pods())

    code = run_status(server)
    output = capsys.readouterr().out

    assert code == 0
    assert output.splitlines()[0] == "LeaderWorkerSet serving/llama: Healthy: all 2 groups ready and updated"
    assert "llama-1-1  1      1       Running  true   0         Ready" in output
    pod_requests = [path for path in server.requests if path.startswith(PODS_PATH)]
    assert pod_requests
    query = parse_qs(urlsplit(pod_requests[0]).query)
    assert query["labelSelector"] == ["leaderworkerset.sigs.k8s.io/name=llama"]


def test_status_ignores_other_lws_pods(server, capsys):
    server.set(LWS_PATH, make_lws(status=healthy_status()))
    server.set(PODS_PATH, pod_list(*all_ready_pods()["items"], *all_ready_pods(name="other")["items"]))

    code = run_status(server, "--output", "json")
    document = json.loads(capsys.readouterr().out)

    assert code == 0
    names = [pod["name"] for group in document["groups"] for pod in group["pods"]]
    assert names == ["llama-0", "llama-0-1", "llama-1", "llama-1-1"]


def test_status_json_key_order(server, capsys):
    server.set(LWS_PATH, make_lws(status=loading_status(ready=1)))
    server.set(PODS_PATH, pod_list(make_pod(0, 0), make_pod(0, 1), make_pod(1, 0), make_pod(1, 1, ready=False, restarts=3, waiting="CrashLoopBackOff")))

    code = run_status(server, "--output", "json")
    document = json.loads(capsys.readouterr().out)

    assert code == 0
    assert list(document) == ["name", "namespace", "state", "message", "rolledOut", "generation", "replicas", "groups"]
    assert list(document["replicas"]) == ["spec", "status", "ready", "updated", "updatedTarget", "partition"]
    assert document["state"] == "Progressing"
    assert document["rolledOut"] is False
    assert document["groups"][1]["state"] == "NotReady"
    assert document["groups"][1]["readyPods"] == 1
    worker = document["groups"][1]["pods"][1]
    assert list(worker) == ["name", "workerIndex", "phase", "ready", "restarts", "state"]
    assert worker == {"name": "llama-1-1", "workerIndex": 1, "phase": "Running", "ready": False, "restarts": 3, "state": "CrashLoopBackOff"}


def test_status_not_found(server, capsys):
    server.set(LWS_PATH, not_found("leaderworkersets.leaderworkerset.x-k8s.io", "llama"))

    code = run_status(server)
    error = capsys.readouterr().err

    assert code == 1
    assert "LeaderWorkerSet serving/llama not found" in error
    assert "Traceback" not in error


def test_status_forbidden(server, capsys):
    server.set(LWS_PATH, (403, {"kind": "Status", "message": "leaderworkersets is forbidden", "code": 403}))

    code = run_status(server)
    error = capsys.readouterr().err

    assert code == 1
    assert "access to LeaderWorkerSet serving/llama denied (403): leaderworkersets is forbidden" in error


def test_status_namespace_from_context(server, capsys):
    other_path = "/apis/leaderworkerset.x-k8s.io/v1/namespaces/other-ns/leaderworkersets/llama"
    server.set(other_path, make_lws(status=healthy_status()))
    server.set("/api/v1/namespaces/other-ns/pods", all_ready_pods())

    code = run_status(server, "--context", "other")

    assert code == 0
    assert "LeaderWorkerSet other-ns/llama: Healthy" in capsys.readouterr().out


def test_status_namespace_option(server, capsys):
    server.set("/apis/leaderworkerset.x-k8s.io/v1/namespaces/team-a/leaderworkersets/llama", make_lws(status=healthy_status()))
    server.set("/api/v1/namespaces/team-a/pods", all_ready_pods())

    code = run_status(server, "-n", "team-a")

    assert code == 0
    assert "LeaderWorkerSet team-a/llama: Healthy" in capsys.readouterr().out


def test_status_degraded_without_wait(server, capsys):
    status = loading_status(ready=1)
    status["conditions"].append({"type": "Available", "status": "False", "reason": "AllGroupsReady"})
    server.set(LWS_PATH, make_lws(status=status))
    server.set(PODS_PATH, pod_list(make_pod(0, 0), make_pod(0, 1), make_pod(1, 0, ready=False)))

    code = run_status(server)
    output = capsys.readouterr().out

    assert code == 0
    assert "Degraded: 1 of 2 groups not ready after all were ready" in output
    assert "1      MissingPods  0/2" in output


def test_status_wait_until_rolled_out(server, capsys):
    server.set(
        LWS_PATH,
        make_lws(generation=3, status=healthy_status(generation=2)),
        make_lws(generation=3, status=loading_status(ready=1, generation=3)),
        make_lws(generation=3, status=healthy_status(generation=3)),
    )
    server.set(PODS_PATH, all_ready_pods())

    code = run_status(server, "--wait", "--interval", "0.05", "--timeout", "10")
    captured = capsys.readouterr()

    assert code == 0
    assert "Healthy: all 2 groups ready and updated" in captured.out
    assert "waiting: Progressing: status is for generation 2, spec is at generation 3" in captured.err
    assert "waiting: Progressing: 1 of 2 groups ready" in captured.err
    lws_requests = [path for path in server.requests if path.startswith(LWS_PATH)]
    assert len(lws_requests) == 3


def test_status_wait_times_out(server, capsys):
    server.set(LWS_PATH, make_lws(status=loading_status(ready=1)))
    server.set(PODS_PATH, pod_list(make_pod(0, 0), make_pod(0, 1), make_pod(1, 0), make_pod(1, 1, ready=False, waiting="CrashLoopBackOff")))

    code = run_status(server, "--wait", "--interval", "0.05", "--timeout", "0.3")
    captured = capsys.readouterr()

    assert code == 1
    assert "timed out after 0.3 s waiting for LeaderWorkerSet serving/llama to roll out" in captured.err
    assert "pending: Progressing: 1 of 2 groups ready, 2 updated (target 2), 2 exist" in captured.err
    assert "pending: group 1: 1 of 2 pods ready, 2 exist; not ready: llama-1-1 CrashLoopBackOff" in captured.err
    assert "group 0" not in captured.err
    assert len([path for path in server.requests if path.startswith(LWS_PATH)]) >= 2


def test_status_invalid_interval(server, capsys):
    code = run_status(server, "--wait", "--interval", "0")

    assert code == 2
    assert "--interval: must be more than 0 seconds, got 0" in capsys.readouterr().err
    assert server.requests == []


def test_status_missing_kubeconfig(server, tmp_path, capsys):
    code = cli.main(["status", "llama", "--kubeconfig", str(tmp_path / "absent")])

    assert code == 1
    assert "not found" in capsys.readouterr().err


def test_status_unreachable_server(server, tmp_path, capsys):
    # Bind and close a socket to get a 127.0.0.1 port that has no listener.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = tmp_path / "closed-kubeconfig"
    config.write_text(server.kubeconfig.read_text().replace(server.url, closed_url), encoding="utf-8")

    code = cli.main(["status", "llama", "--kubeconfig", str(config)])

    assert code == 1
    assert f"cannot reach the API server at {closed_url}" in capsys.readouterr().err
