"""Day-2 objects: autoscalers, Prometheus monitors and alerts, and the helm test pod."""
from __future__ import annotations

import pytest

from conftest import RenderError, container, helm_template, render_objects, the_lws

BASE = {
    "model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "servedName": "llama", "checkpointGiB": 15},
    "engine": {"name": "vllm"},
    "accelerator": {"countPerPod": 1},
    "group": {"size": 2},
    "replicas": 2,
}


def with_values(**overrides) -> dict:
    values = {key: (dict(value) if isinstance(value, dict) else value) for key, value in BASE.items()}
    values.update(overrides)
    return values


def of_kind(objects: dict[str, dict], kind: str) -> list[dict]:
    return [item for item in objects.values() if item["kind"] == kind]


def test_hpa_targets_the_lws_and_owns_replicas(helm: str):
    values = with_values(
        resources={"requests": {"cpu": "8"}},
        autoscaling={"enabled": True, "minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": 70,
                     "podsMetric": {"name": "vllm:num_requests_waiting", "averageValue": 5}},
    )
    objects = render_objects(helm, values)
    (hpa,) = of_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": "llm"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 4)
    metrics = {metric["type"]: metric for metric in hpa["spec"]["metrics"]}
    assert metrics["Resource"]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert metrics["Pods"]["pods"] == {"metric": {"name": "vllm:num_requests_waiting"}, "target": {"type": "AverageValue", "averageValue": "5"}}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600
    assert "replicas" not in the_lws(objects)["spec"]


def test_keda_scaled_object(helm: str):
    prometheus = {"serverAddress": "http://prometheus.monitoring.svc:9090", "query": "sum(vllm:num_requests_waiting)", "threshold": 10}
    values = with_values(autoscaling={"enabled": True, "kind": "keda", "minReplicas": 0, "maxReplicas": 3, "keda": {"prometheus": prometheus}})
    objects = render_objects(helm, values)
    assert of_kind(objects, "HorizontalPodAutoscaler") == []
    (scaled,) = of_kind(objects, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["kind"] == "LeaderWorkerSet"
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (0, 3)
    assert scaled["spec"]["triggers"] == [{"type": "prometheus", "metadata": {**prometheus, "threshold": "10"}}]
    assert "replicas" not in the_lws(objects)["spec"]


def test_no_autoscaler_by_default(helm: str):
    objects = render_objects(helm, with_values())
    assert of_kind(objects, "HorizontalPodAutoscaler") == []
    assert of_kind(objects, "ScaledObject") == []
    assert the_lws(objects)["spec"]["replicas"] == 2


def test_autoscaler_max_replicas_counts_in_name_budget(helm: str):
    values = with_values(
        resources={"requests": {"cpu": "8"}},
        autoscaling={"enabled": True, "maxReplicas": 1000, "targetCPUUtilizationPercentage": 70},
    )
    name = the_lws(render_objects(helm, values, release="r" * 53))["metadata"]["name"]
    assert len(name) <= 63 - 12 - len("999")


@pytest.mark.parametrize("autoscaling, message", [
    ({"enabled": True}, "autoscaling.targetCPUUtilizationPercentage: the HorizontalPodAutoscaler has no metric"),
    ({"enabled": True, "targetCPUUtilizationPercentage": 70}, "which is not set (set resources.requests.cpu)"),
    ({"enabled": True, "minReplicas": 0, "podsMetric": {"name": "m", "averageValue": "1"}}, "autoscaling.minReplicas: a HorizontalPodAutoscaler needs at least 1"),
    ({"enabled": True, "minReplicas": 5, "maxReplicas": 2, "podsMetric": {"name": "m", "averageValue": "1"}}, "autoscaling.minReplicas: 5 is above autoscaling.maxReplicas (2)"),
    ({"enabled": True, "kind": "keda"}, "autoscaling.keda.prometheus.serverAddress: is required"),
])
def test_autoscaler_mistakes_are_refused(helm: str, autoscaling: dict, message: str):
    with pytest.raises(RenderError) as failure:
        helm_template(helm, with_values(autoscaling=autoscaling))
    assert message in str(failure.value)


def test_service_monitor_scrapes_leaders_metrics(helm: str):
    values = with_values(monitoring={"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}})
    objects = render_objects(helm, values)
    (monitor,) = of_kind(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    leaders = objects["Service/llm-leaders"]
    for key, value in monitor["spec"]["selector"]["matchLabels"].items():
        assert leaders["metadata"]["labels"][key] == value
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "leaders"


def test_pod_monitor_selects_leader_pods(helm: str):
    objects = render_objects(helm, with_values(monitoring={"podMonitor": {"enabled": True}}))
    (monitor,) = of_kind(objects, "PodMonitor")
    leader_labels = the_lws(objects)["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["metadata"]["labels"]
    worker_labels = the_lws(objects)["spec"]["leaderWorkerTemplate"]["workerTemplate"]["metadata"]["labels"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert all(leader_labels.get(key) == value for key, value in selector.items())
    assert not all(worker_labels.get(key) == value for key, value in selector.items())


def test_sglang_metrics_need_flag(helm: str):
    values = with_values(engine={"name": "sglang"})
    assert "--enable-metrics" in container(the_lws(render_objects(helm, values)), "leader")["args"]
    values = with_values(engine={"name": "sglang"}, metrics={"enabled": False})
    assert "--enable-metrics" not in container(the_lws(render_objects(helm, values)), "leader")["args"]


def test_service_monitor_needs_leaders_service(helm: str):
    with pytest.raises(RenderError) as failure:
        helm_template(helm, with_values(monitoring={"serviceMonitor": {"enabled": True}}, leadersService={"enabled": False}))
    assert "monitoring.serviceMonitor.enabled: the ServiceMonitor scrapes through the leaders Service" in str(failure.value)


def test_group_not_ready_alert_waits_past_startup_budget(helm: str):
    objects = render_objects(helm, with_values(monitoring={"prometheusRule": {"enabled": True}}))
    (rule,) = of_kind(objects, "PrometheusRule")
    (alert,) = rule["spec"]["groups"][0]["rules"]
    assert alert["alert"] == "LeaderWorkerSetGroupNotReady"
    assert 'pod=~"llm-[0-9]+"' in alert["expr"]
    startup = container(the_lws(objects), "leader")["startupProbe"]
    budget_minutes = startup["failureThreshold"] * startup["periodSeconds"] / 60
    assert int(alert["for"].removesuffix("m")) > budget_minutes
    assert "{{ $labels.pod }}" in alert["annotations"]["summary"]


def test_helm_test_pod_checks_models_and_completion(helm: str):
    objects = render_objects(helm, with_values(service={"port": 8080}))
    pod = objects["Pod/llm-test"]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][2]
    assert "curl -fsS --max-time 120 http://llm-api:8080/v1/models" in script
    assert "http://llm-api:8080/v1/completions" in script
    assert '"model": "llama"' in script
    assert '"max_tokens": 1' in script
    assert script.count("exit 1") == 2
    assert pod["spec"]["restartPolicy"] == "Never"


def test_helm_test_pod_can_be_turned_off(helm: str):
    assert "Pod/llm-test" not in render_objects(helm, with_values(helmTest={"enabled": False}))


class _FakeOpenAI:
    """An HTTP server on 127.0.0.1 that serves an OpenAI-compatible API, or fails completions."""

    def __init__(self, completion_status: int):
        import http.server
        import threading

        status = completion_status
        self.requests: list[tuple[str, str]] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server's method name
                requests.append(("GET", self.path))
                self._answer(200, b'{"object": "list", "data": [{"id": "llama"}]}')

            def do_POST(self):  # noqa: N802 - http.server's method name
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                requests.append(("POST", self.path + " " + body))
                self._answer(status, b'{"choices": [{"text": "!"}]}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.skipif(__import__("shutil").which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("completion_status, exit_code", [(200, 0), (500, 1)])
def test_helm_test_script_runs_against_an_api(helm4: str, completion_status: int, exit_code: int):
    """Run the test pod's script with /bin/sh, its Service URL pointed at a local fake API."""
    import subprocess

    script = render_objects(helm4, with_values())["Pod/llm-test"]["spec"]["containers"][0]["command"][2]
    server = _FakeOpenAI(completion_status)
    try:
        result = subprocess.run(["/bin/sh", "-c", script.replace("http://llm-api:8000", server.base)],
                                capture_output=True, text=True, timeout=60, check=False)
    finally:
        server.close()
    assert result.returncode == exit_code, result.stderr
    assert server.requests[0] == ("GET", "/v1/models")
    method, request = server.requests[1]
    assert method == "POST"
    assert request.startswith('/v1/completions {"model": "llama", "prompt": "Hello", "max_tokens": 1}')
    if exit_code:
        assert "FAILED: a one-token completion" in result.stderr
    else:
        assert "OK: the API lists models and completes a token" in result.stdout
