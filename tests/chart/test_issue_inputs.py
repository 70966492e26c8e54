"""The four deployments the generator must get right, from `generator new` through `helm template`."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import container, render_objects, the_lws
from generator.cli import main


def generate(tmp_path: Path, *words: str) -> Path:
    output = tmp_path / "values.yaml"
    assert main(["new", *words, "-o", str(output)]) == 0
    return output


def flag_value(args: list[str], flag: str) -> str:
    assert flag in args, f"{flag} missing from {args}"
    return args[args.index(flag) + 1]


def test_quickstart_sglang_llama_8b(tmp_path: Path, helm: str):
    values = generate(
        tmp_path,
        "--engine", "sglang", "--gpu", "a10-24gb-x1", "--model", "meta-llama/Llama-3.1-8B-Instruct",
        "--replicas", "2", "--nodes", "2", "--port", "40000",
    )
    objects = render_objects(helm, values_files=[values])
    lws = the_lws(objects)
    template = lws["spec"]["leaderWorkerTemplate"]
    assert lws["spec"]["replicas"] == 2
    assert template["size"] == 2
    assert template["restartPolicy"] == "RecreateGroupOnPodRestart"

    leader = container(lws, "leader")
    worker = container(lws, "worker")
    for role in (leader, worker):
        args = role["args"]
        # SGLang 0.5.9 defines --tp-size (alias of --tensor-parallel-size); there is no --tp flag.
        assert flag_value(args, "--tp-size") == "2"
        assert flag_value(args, "--nnodes") == "$(LWS_GROUP_SIZE)"
        assert flag_value(args, "--node-rank") == "$(LWS_WORKER_INDEX)"
    assert flag_value(leader["args"], "--dist-init-addr") == flag_value(worker["args"], "--dist-init-addr")
    assert flag_value(leader["args"], "--dist-init-addr") == "$(LWS_LEADER_ADDRESS):20000"
    assert flag_value(leader["args"], "--port") == "40000"
    assert flag_value(leader["args"], "--host") == "0.0.0.0"
    assert "--port" not in worker["args"]

    assert leader["ports"] == [{"name": "http", "containerPort": 40000, "protocol": "TCP"}]
    assert leader["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    service = objects["Service/llm-api"]
    assert service["spec"]["ports"][0]["port"] == 40000
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_deepseek_v3_sglang_two_h20_nodes(tmp_path: Path, helm: str):
    values = generate(tmp_path, "--engine", "sglang", "--gpu", "h20-96gb-x8", "--model", "deepseek-ai/DeepSeek-V3", "--nodes", "2")
    lws = the_lws(render_objects(helm, values_files=[values]))
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    for role in ("leader", "worker"):
        engine = container(lws, role)
        assert flag_value(engine["args"], "--tp-size") == "16"
        assert engine["resources"]["limits"]["nvidia.com/gpu"] == 8
        assert engine["resources"]["requests"]["nvidia.com/gpu"] == 8
        assert "--trust-remote-code" in engine["args"]


def test_deepseek_v3_sglang_planned_nodes(tmp_path: Path, helm: str):
    values = generate(tmp_path, "--engine", "sglang", "--gpu", "h20-96gb-x8", "--model", "deepseek-ai/DeepSeek-V3")
    lws = the_lws(render_objects(helm, values_files=[values]))
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2


def test_llama_405b_vllm_two_h100_nodes(tmp_path: Path, helm: str):
    values = generate(tmp_path, "--engine", "vllm", "--gpu", "h100-80gb-x8", "--model", "meta-llama/Llama-3.1-405B-Instruct")
    lws = the_lws(render_objects(helm, values_files=[values]))
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    leader = container(lws, "leader")
    worker = container(lws, "worker")
    for engine in (leader, worker):
        assert flag_value(engine["args"], "--tensor-parallel-size") == "8"
        assert flag_value(engine["args"], "--pipeline-parallel-size") == "2"
        assert flag_value(engine["args"], "--master-addr") == "$(LWS_LEADER_ADDRESS)"
    assert "--headless" in worker["args"]
    assert "--headless" not in leader["args"]


def test_qwen3_235b_lmdeploy_two_l20_nodes(tmp_path: Path, helm: str):
    values = generate(tmp_path, "--engine", "lmdeploy", "--gpu", "l20-48gb-x8", "--model", "Qwen/Qwen3-235B-A22B", "--nodes", "2")
    header = values.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "4 KV heads" in header
    assert "duplicat" in header

    lws = the_lws(render_objects(helm, values_files=[values]))
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    leader = container(lws, "leader")
    worker = container(lws, "worker")
    assert leader["args"][:3] == ["lmdeploy", "serve", "api_server"]
    assert flag_value(leader["args"], "--tp") == "16"
    assert flag_value(leader["args"], "--backend") == "pytorch"
    assert "ray start --head" in leader["command"][2]
    assert worker["args"][:2] == ["ray", "start"]
    assert "--address=$(LWS_LEADER_ADDRESS):6379" in worker["args"]
    for engine in (leader, worker):
        env = {item["name"]: item for item in engine["env"]}
        assert env["LMDEPLOY_EXECUTOR_BACKEND"]["value"] == "ray"


@pytest.mark.parametrize("words, option", [
    (["--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "deepseek-ai/DeepSeek-V3", "--nodes", "1"], "--nodes"),
    (["--engine", "lmdeploy", "--gpu", "h100-80gb-x8", "--model", "Qwen/Qwen2.5-72B-Instruct", "--nodes", "1", "--tensor-parallel", "6"], "--tensor-parallel"),
])
def test_new_rejects_impossible_layouts(tmp_path: Path, capsys: pytest.CaptureFixture, words: list[str], option: str):
    output = tmp_path / "values.yaml"
    assert main(["new", *words, "-o", str(output)]) == 1
    assert not output.exists()
    assert option in capsys.readouterr().err
