"""Exit codes and messages of the CLI: 0 success, 1 invalid input, 2 usage error, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*words: str) -> subprocess.CompletedProcess:
    """Run `python -m generator` as a user would, in a child process."""
    return subprocess.run([sys.executable, "-m", "generator", *words], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_new_writes_values_and_header(tmp_path: Path, capsys: pytest.CaptureFixture):
    output = tmp_path / "values.yaml"
    assert main(["new", "--engine", "vllm", "--gpu", "h100-80gb-x8", "--model", "meta-llama/Llama-3.1-405B-Instruct-FP8", "-o", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# lws-inference values: meta-llama/Llama-3.1-405B-Instruct-FP8 with vllm on h100-80gb-x8.")
    assert "#   python -m generator new --engine vllm --gpu h100-80gb-x8 --model meta-llama/Llama-3.1-405B-Instruct-FP8 -o " in text
    values = yaml.safe_load(text)
    assert values["group"]["size"] == 1
    assert values["parallelism"] == {"tensor": 8, "pipeline": 1}
    assert values["accelerator"] == {"resourceName": "nvidia.com/gpu", "countPerPod": 8, "product": "NVIDIA-H100-80GB-HBM3"}
    assert "planned 1 node(s) x 8 GPU(s)" in capsys.readouterr().err


def test_new_is_deterministic(tmp_path: Path):
    words = ["new", "--engine", "sglang", "--gpu", "h20-96gb-x8", "--model", "deepseek-ai/DeepSeek-V3"]
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert main([*words, "-o", str(first)]) == 0
    assert main([*words, "-o", str(second)]) == 0
    assert first.read_text(encoding="utf-8").replace(str(first), "X") == second.read_text(encoding="utf-8").replace(str(second), "X")


def test_new_prints_to_stdout_without_output(capsys: pytest.CaptureFixture):
    assert main(["new", "--engine", "sglang", "--gpu", "a10-24gb-x1", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--nodes", "2"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["group"]["size"] == 2


@pytest.mark.parametrize("words, code, message", [
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8"], 2, "--model: missing: pass --model or --model-dir"),
    (["new", "--engine", "tgi", "--gpu", "h100-80gb-x8", "--model", "m"], 1, "--engine: unknown engine 'tgi' (choose one of: lmdeploy, sglang, vllm)"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb", "--model", "deepseek-ai/DeepSeek-V3"], 1, "--gpu: unknown GPU shape 'h100-80gb'"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "nobody/Nothing"], 1, "--model: 'nobody/Nothing' is not in the catalog"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "meta-llama/Llama-3.1-8B-Instrukt"], 1, "(did you mean meta-llama/Llama-3.1-8B-Instruct?)"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "Llama"], 1, "--model: unknown model 'Llama'"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "m", "--catalog", "x.yaml"], 2, "put --catalog before the command"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "deepseek-ai/DeepSeek-V3", "--replicas", "-1"], 1, "--replicas: must be between 0 and 1000000"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "deepseek-ai/DeepSeek-V3", "--port", "70000"], 1, "--port: must be between 1 and 65535"),
    (["new", "--engine", "sglang", "--gpu", "h100-80gb-x8", "--model", "deepseek-ai/DeepSeek-V3", "--nodes", "x"], 2, "argument --nodes: invalid int value: 'x'"),
    (["new", "--engine", "vllm", "--gpu", "h100-80gb-x8", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--tensor-parallel", "3"], 1, "--tensor-parallel: 3 fits no group of 1 to 8 node(s) of h100-80gb-x8"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    (["render", "-f", "no-such-file.yaml"], 1, "no-such-file.yaml: $: values file not found"),
])
def test_cli_error_codes_and_messages(words: list[str], code: int, message: str):
    result = run_cli(*words)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_new_writes_nothing_when_it_fails(tmp_path: Path):
    output = tmp_path / "values.yaml"
    result = run_cli("new", "--engine", "sglang", "--gpu", "a10-24gb-x1", "--model", "deepseek-ai/DeepSeek-V3", "-o", str(output))
    assert result.returncode == 1
    assert "does not fit" in result.stderr
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_render_reports_chart_problems_with_paths(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("model: {id: m}\ngroup: {size: 2}\naccelerator: {countPerPod: 4}\nparallelism: {tensor: 16}\nreplicas: 0\nrollout: {maxUnavailable: 0, maxSurge: 0}\nenv: {HF_TOKEN: x}\n", encoding="utf-8")
    result = run_cli("render", "-f", str(values))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"error: {values}: $.parallelism.tensor: 16 does not divide the group's 8 accelerators, group.size 2 x accelerator.countPerPod 4 (choose a divisor of 8)" in lines
    assert f"error: {values}: $.env.HF_TOKEN: a token must not be written into values (store it in a Secret and set huggingface.tokenSecret.name)" in lines
    assert "Traceback" not in result.stderr


def test_render_prints_manifests(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("model: {id: m}\n", encoding="utf-8")
    result = run_cli("render", "-f", str(values), "--release", "demo", "--namespace", "ns")
    assert result.returncode == 0, result.stderr
    kinds = [document["kind"] for document in yaml.safe_load_all(result.stdout) if document]
    assert "LeaderWorkerSet" in kinds


def test_presets_check_passes_on_committed_presets():
    result = run_cli("presets", "--check")
    assert result.returncode == 0, result.stderr


def test_presets_check_reports_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture):
    import shutil

    copy = tmp_path / "values-presets"
    shutil.copytree(REPO_ROOT / "values-presets", copy)
    (copy / "vllm" / "h100-80gb-x8.yaml").write_text("model: {id: edited}\n", encoding="utf-8")
    (copy / "vllm" / "extra.yaml").write_text("model: {id: extra}\n", encoding="utf-8")
    (copy / "sglang" / "a10-24gb-x1.yaml").unlink()

    assert main(["presets", "--check", "--directory", str(copy)]) == 1
    errors = capsys.readouterr().err
    assert f"{copy / 'vllm' / 'h100-80gb-x8.yaml'}: $: stale" in errors
    assert f"{copy / 'sglang' / 'a10-24gb-x1.yaml'}: $: missing" in errors
    assert f"{copy / 'vllm' / 'extra.yaml'}: $: not produced by the generator" in errors

    assert main(["presets", "--directory", str(copy)]) == 0
    assert not (copy / "vllm" / "extra.yaml").exists()
    assert main(["presets", "--check", "--directory", str(copy)]) == 0


@pytest.mark.parametrize("major", ["helm-v3", "helm-v4"])
def test_render_reports_schema_errors_with_paths(tmp_path: Path, major: str):
    import os

    values = tmp_path / "values.yaml"
    values.write_text("model: {id: m}\ngroup: {restartPolicy: Default, sizee: 2}\n", encoding="utf-8")
    environment = {**os.environ, "HELM": str(REPO_ROOT / ".tools" / major / "helm")}
    result = subprocess.run([sys.executable, "-m", "generator", "render", "-f", str(values)], cwd=REPO_ROOT, env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"error: {values}: $.group.restartPolicy: ") for line in lines), lines
    assert any(line.startswith(f"error: {values}: $.group: ") and "sizee" in line for line in lines), lines
    assert all(line.startswith(f"error: {values}: $.") for line in lines), lines


def test_closed_stdout_ends_quietly():
    reader = subprocess.Popen([sys.executable, "-m", "generator", "plan", "--model", "deepseek-ai/DeepSeek-V3", "--engine", "sglang", "--gpu", "all", "--output", "json"],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    reader.stdout.read(1)
    reader.stdout.close()
    _, errors = reader.communicate(timeout=120)
    assert b"Traceback" not in errors
    assert reader.returncode == 0


def test_missing_kubeconfig_from_environment_is_named(tmp_path: Path):
    import os

    missing = tmp_path / "nothing-here"
    environment = {**os.environ, "KUBECONFIG": str(missing)}
    result = subprocess.run([sys.executable, "-m", "generator", "status", "llm"], cwd=REPO_ROOT, env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert f"error: KUBECONFIG: names {missing}, which does not exist" in result.stderr


def test_check_reports_invalid_yaml_on_one_line(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("model: {id: m\n  x: [\n", encoding="utf-8")
    result = run_cli("check", str(values))
    assert result.returncode == 1
    assert f"{values}: $: invalid YAML at line 2, column 4: expected ',' or '}}', but got ':' (fix the YAML syntax)" in result.stderr.splitlines()
