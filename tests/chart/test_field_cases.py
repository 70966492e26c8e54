"""Field failures reported by people running multi-node LLM serving on Kubernetes.

Each test asserts the correct rendered value for the whole kind of fault, for every engine
where the fault applies.
"""
from __future__ import annotations

import re

import pytest

from conftest import CHART_DIR, RenderError, container, helm_template, render_objects, the_lws

ENGINES = ["sglang", "vllm", "lmdeploy"]
LWS_VARIABLES = {"LWS_LEADER_ADDRESS", "LWS_GROUP_SIZE", "LWS_WORKER_INDEX"}


def multi_node(engine_name: str, **overrides) -> dict:
    values = {
        "model": {"id": "example-org/Example-70B", "checkpointGiB": 140},
        "engine": {"name": engine_name},
        "accelerator": {"countPerPod": 8},
        "group": {"size": 2},
    }
    for key, value in overrides.items():
        values[key] = value
    return values


def ray_or(engine: str) -> dict:
    """Multi-node values for an engine name, where "vllm-ray" means vLLM with the Ray backend."""
    if engine == "vllm-ray":
        return multi_node("vllm", engine={"name": "vllm", "vllm": {"backend": "ray"}})
    return multi_node(engine)


def containers_by_role(lws: dict) -> dict[str, dict]:
    return {role: container(lws, role) for role in ("leader", "worker")}


def rendered_strings(lws: dict) -> list[str]:
    strings: list[str] = []
    for engine in containers_by_role(lws).values():
        strings += engine.get("command", []) + engine.get("args", [])
    return strings


# Workers start before the leader's DNS name exists.
@pytest.mark.parametrize("engine", ENGINES + ["vllm-ray"])
def test_worker_waits_for_leader_address(helm: str, engine: str):
    values = ray_or(engine)
    lws = the_lws(render_objects(helm, values))
    worker = container(lws, "worker")
    assert worker["command"][:2] == ["/bin/sh", "-c"]
    script = worker["command"][2]
    wait_seconds = int(re.search(r"^wait_seconds=(\d+)$", script, re.MULTILINE).group(1))
    assert wait_seconds >= 300
    assert 'leader_ip=`resolve "$LWS_LEADER_ADDRESS"`' in script
    assert "exit 1" in script
    assert script.rstrip().endswith('exec "$@"')
    for text in rendered_strings(lws):
        assert "--dist-init-addr :" not in text
        assert "tcp://:" not in text
        assert "--address=:" not in text


def test_leader_wait_is_configurable(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", group={"size": 2, "leaderWaitSeconds": 1200})))
    assert "wait_seconds=1200" in container(lws, "worker")["command"][2]


# $VAR is not expanded in exec form, and $(VAR) must name a defined variable.
@pytest.mark.parametrize("engine", ENGINES + ["vllm-ray"])
def test_variable_references_are_defined(helm: str, engine: str):
    values = ray_or(engine)
    lws = the_lws(render_objects(helm, values))
    for role, engine_container in containers_by_role(lws).items():
        defined = LWS_VARIABLES | {item["name"] for item in engine_container.get("env", [])}
        for token in engine_container["args"]:
            assert "$LWS_" not in token, f"{role} arg {token!r} uses $VAR, which exec form never expands"
            for name in re.findall(r"(?<!\$)\$\(([^)]*)\)", token):
                assert name in defined, f"{role} arg {token!r} references undefined $({name})"
        script = engine_container["command"][2]
        assert re.findall(r"(?<!\$)\$\(", script) == [], f"{role} script uses $( which Kubernetes reads as a variable"


def test_sglang_ranks_share_rendezvous(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", engine={"name": "sglang", "sglang": {"distInitPort": 5000}})))
    leader, worker = container(lws, "leader")["args"], container(lws, "worker")["args"]
    for args in (leader, worker):
        assert args[args.index("--dist-init-addr") + 1] == "$(LWS_LEADER_ADDRESS):5000"
        assert args[args.index("--nnodes") + 1] == "$(LWS_GROUP_SIZE)"
        assert args[args.index("--node-rank") + 1] == "$(LWS_WORKER_INDEX)"
    assert "python3 -c 'import socket, sys; socket.create_connection" in container(lws, "worker")["command"][2]
    assert '"$leader_ip" 5000' in container(lws, "worker")["command"][2]


# Group size derived from the parallelism shape.
@pytest.mark.parametrize("tensor, pipeline, per_pod, size", [
    (2, 1, 1, 2),
    (8, 2, 8, 2),
    (16, 1, 8, 2),
    (4, 1, 4, 1),
])
def test_group_size_matches_parallelism(helm: str, tensor: int, pipeline: int, per_pod: int, size: int):
    engine = "vllm" if pipeline > 1 else "sglang"
    values = multi_node(engine, accelerator={"countPerPod": per_pod}, group={"size": size}, parallelism={"tensor": tensor, "pipeline": pipeline})
    lws = the_lws(render_objects(helm, values))
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == tensor * pipeline // per_pod
    for engine_container in containers_by_role(lws).values():
        assert engine_container["resources"]["limits"]["nvidia.com/gpu"] == per_pod


@pytest.mark.parametrize("tensor, per_pod, size, message", [
    (2, 1, 1, "parallelism.tensor (2) x parallelism.pipeline (1) must equal group.size (1) x accelerator.countPerPod (1): set group.size to 2"),
    (6, 4, 2, "6 is not a multiple of accelerator.countPerPod (4), so no group size fits"),
])
def test_inconsistent_parallelism_is_refused(helm: str, tensor: int, per_pod: int, size: int, message: str):
    values = multi_node("sglang", accelerator={"countPerPod": per_pod}, group={"size": size}, parallelism={"tensor": tensor, "pipeline": 1})
    with pytest.raises(RenderError) as failure:
        helm_template(helm, values)
    assert message in str(failure.value)


# Ray node IPs must equal VLLM_HOST_IP.
def test_ray_node_ip_is_pod_ip(helm: str):
    lws = the_lws(render_objects(helm, multi_node("vllm", engine={"name": "vllm", "vllm": {"backend": "ray"}})))
    for role, engine_container in containers_by_role(lws).items():
        env = {item["name"]: item for item in engine_container["env"]}
        assert env["VLLM_HOST_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}, role
    leader_script = container(lws, "leader")["command"][2]
    assert 'ray start --head --port=6379 --node-ip-address="$VLLM_HOST_IP"' in leader_script
    assert "--node-ip-address=$(VLLM_HOST_IP)" in container(lws, "worker")["args"]
    assert "--distributed-executor-backend" in container(lws, "leader")["args"]
    for text in rendered_strings(lws):
        assert not re.search(r"\b\d+\.\d+\.\d+\.\d+\b", text.replace("0.0.0.0", "")), f"hard-coded IP in {text!r}"


# /dev/shm must not depend on how tensor parallelism is expressed.
def assert_shm_on_every_rank(lws: dict, size: str) -> None:
    for role in ("leader", "worker"):
        pod = lws["spec"]["leaderWorkerTemplate"][f"{role}Template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": size}, role
        mounts = {mount["mountPath"]: mount["name"] for mount in pod["containers"][0]["volumeMounts"]}
        assert mounts["/dev/shm"] == "dshm", role


@pytest.mark.parametrize("engine", ENGINES)
def test_shm_with_tensor_size_in_extra_args(helm: str, engine: str):
    values = multi_node(engine, shm={"sizeLimit": "20Gi"})
    values["engine"] = {"name": engine, "extraArgs": ["--tensor-parallel-size", "8"]}
    assert_shm_on_every_rank(the_lws(render_objects(helm, values)), "20Gi")


def test_shm_with_pipeline_only(helm: str):
    values = multi_node("vllm", shm={"sizeLimit": "20Gi"}, accelerator={"countPerPod": 1}, parallelism={"tensor": 1, "pipeline": 2})
    assert_shm_on_every_rank(the_lws(render_objects(helm, values)), "20Gi")


def test_shm_default_grows_with_gpus(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang")))
    pod = lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]
    assert pod["volumes"][0]["emptyDir"]["sizeLimit"] == "32Gi"


# The startup probe must outlast a large model's load.
def test_startup_budget_covers_405b_load(helm: str):
    values = multi_node("vllm", model={"id": "example-org/Example-405B", "checkpointGiB": 756})
    lws = the_lws(render_objects(helm, values))
    leader = container(lws, "leader")
    startup = leader["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 1800
    for probe in ("readinessProbe", "livenessProbe"):
        assert leader[probe].get("initialDelaySeconds", 0) == 0
    worker = container(lws, "worker")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert probe not in worker
    assert "ports" not in worker


def test_startup_budget_has_floor(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", model={"id": "small", "checkpointGiB": 1})))
    startup = container(lws, "leader")["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] == 600


# Group restart behaviour by group size.
@pytest.mark.parametrize("size, policy", [(1, "None"), (2, "RecreateGroupOnPodRestart"), (4, "RecreateGroupOnPodRestart")])
def test_restart_policy_by_size(helm: str, size: int, policy: str):
    values = multi_node("sglang", group={"size": size})
    lws = the_lws(render_objects(helm, values))
    assert lws["spec"]["leaderWorkerTemplate"]["restartPolicy"] == policy


def test_restart_after_start_is_kept(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", group={"size": 2, "restartPolicy": "RecreateGroupAfterStart"})))
    assert lws["spec"]["leaderWorkerTemplate"]["restartPolicy"] == "RecreateGroupAfterStart"


@pytest.mark.parametrize("policy", ["Default", "None"])
def test_restart_policy_that_keeps_half_groups_is_refused(helm: str, policy: str):
    with pytest.raises(RenderError) as failure:
        helm_template(helm, multi_node("sglang", group={"size": 2, "restartPolicy": policy}))
    assert re.search(r"group[./]restartPolicy", str(failure.value))


# Long names break worker pods; names must be DNS-1035 labels.
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize("release, replicas", [("a" * 50, 12), ("a" * 50, 1), ("405b-serve", 1), ("b" * 53, 150)])
def test_names_fit_lws_limits(helm: str, release: str, replicas: int):
    objects = render_objects(helm, multi_node("sglang", replicas=replicas), release=release)
    lws = the_lws(objects)
    name = lws["metadata"]["name"]
    digits = len(str(max(replicas - 1, 0)))
    assert len(name) <= 63 - 12 - digits
    assert DNS_1035.match(name), name
    worker_revision_label = f"{name}-{max(replicas - 1, 0)}-abcdefghij"
    assert len(worker_revision_label) <= 63
    for key, item in objects.items():
        assert DNS_1035.match(item["metadata"]["name"]), key
        assert len(item["metadata"]["name"]) <= 63, key


def test_long_name_is_stable_and_hashed(helm: str):
    first = the_lws(render_objects(helm, multi_node("sglang"), release="a" * 50))["metadata"]["name"]
    other = the_lws(render_objects(helm, multi_node("sglang"), release="a" * 49 + "b"))["metadata"]["name"]
    assert first != other
    assert re.match(r"^a+-[0-9a-f]{6}$", first)


def test_model_id_label_is_valid(helm: str):
    model = "Org.With.Dots/" + "Very-Long-Model-Name-" * 4 + "Instruct"
    lws = the_lws(render_objects(helm, multi_node("sglang", model={"id": model})))
    for role in ("leaderTemplate", "workerTemplate"):
        labels = lws["spec"]["leaderWorkerTemplate"][role]["metadata"]["labels"]
        value = labels["lws-inference/model"]
        assert len(value) <= 63
        assert re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", value)


def test_selectors_never_carry_model_or_user_labels(helm: str):
    values = multi_node("sglang", podLabels={"team": "search"}, commonLabels={"cost-center": "42"})
    objects = render_objects(helm, values)
    for name in ("Service/llm-api", "Service/llm-leaders"):
        assert objects[name]["spec"]["selector"] == {
            "leaderworkerset.sigs.k8s.io/name": "llm",
            "leaderworkerset.sigs.k8s.io/worker-index": "0",
        }


# Rolling updates that stall.
def test_rollout_default_never_surges(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", replicas=1)))
    assert lws["spec"]["rolloutStrategy"]["rollingUpdateConfiguration"] == {"maxUnavailable": 1, "maxSurge": 0, "partition": 0}


def test_rollout_zero_unavailable_gets_surge(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", rollout={"maxUnavailable": 0})))
    configuration = lws["spec"]["rolloutStrategy"]["rollingUpdateConfiguration"]
    assert configuration["maxUnavailable"] == 0
    assert configuration["maxSurge"] >= 1


@pytest.mark.parametrize("rollout", [
    {"maxUnavailable": 0, "maxSurge": 0},
    {"maxUnavailable": "25%", "maxSurge": 0},
])
def test_rollout_that_cannot_progress_is_refused(helm: str, rollout: dict):
    with pytest.raises(RenderError) as failure:
        helm_template(helm, multi_node("sglang", replicas=2, rollout=rollout))
    assert "both resolve to 0" in str(failure.value)


def test_rollout_percentages_are_kept_for_lws(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", replicas=1, rollout={"maxUnavailable": "25%", "maxSurge": "25%"})))
    assert lws["spec"]["rolloutStrategy"]["rollingUpdateConfiguration"]["maxSurge"] == "25%"


# The same input renders the same bytes, and no template uses a source of change.
def test_render_is_deterministic(helm: str):
    values = multi_node("vllm", huggingface={"tokenSecret": {"name": "hf", "key": "token"}}, env={"B": "2", "A": "1"})
    assert helm_template(helm, values) == helm_template(helm, values)


def test_templates_use_no_random_or_time_functions():
    forbidden = re.compile(r"\b(randAlphaNum|randAlpha|randNumeric|randAscii|randBytes|uuidv4|now|date|dateInZone|lookup|genCA|genPrivateKey|genSelfSignedCert)\b|\.Release\.Time")
    for path in sorted(CHART_DIR.rglob("*")):
        if path.suffix in {".yaml", ".tpl", ".txt"} and "templates" in path.parts:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                for action in re.findall(r"\{\{(.*?)\}\}", line):
                    assert not forbidden.search(action), f"{path.name}:{number}: {action.strip()}"


def test_token_comes_from_secret(helm: str):
    lws = the_lws(render_objects(helm, multi_node("sglang", huggingface={"tokenSecret": {"name": "hf-token", "key": "token"}})))
    for engine_container in containers_by_role(lws).values():
        env = {item["name"]: item for item in engine_container["env"]}
        assert env["HF_TOKEN"] == {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}


def test_literal_token_is_refused(helm: str):
    with pytest.raises(RenderError) as failure:
        helm_template(helm, multi_node("sglang", env={"HF_TOKEN": "hf_abc"}))
    assert "env.HF_TOKEN" in str(failure.value)
    assert "hf_abc" not in str(failure.value)


# Env values must be strings, and large integers must not use exponent notation.
def test_scalars_render_as_strings(helm: str):
    values = multi_node("vllm", env={"SGLANG_SET_CPU_AFFINITY": True, "VLLM_PORT": 8000, "LOG_LEVEL": "INFO"})
    values["engine"] = {"name": "vllm", "args": {"maxModelLen": 1048576, "maxNumBatchedTokens": 16384}, "port": 8000}
    lws = the_lws(render_objects(helm, values))
    for role, engine_container in containers_by_role(lws).items():
        env = {item["name"]: item.get("value") for item in engine_container["env"]}
        assert env["SGLANG_SET_CPU_AFFINITY"] == "true"
        assert env["VLLM_PORT"] == "8000"
        assert env["LOG_LEVEL"] == "INFO"
        args = engine_container["args"]
        assert args[args.index("--max-model-len") + 1] == "1048576"
        assert args[args.index("--max-num-batched-tokens") + 1] == "16384"
        assert not any("e+" in token for token in args)
        assert isinstance(engine_container["resources"]["limits"]["nvidia.com/gpu"], int)
    leader = container(lws, "leader")
    assert leader["ports"][0]["containerPort"] == 8000
    assert leader["readinessProbe"]["httpGet"]["port"] == "http"
