"""Run the rendered launch wrappers with /bin/sh, as a worker pod would.

The tests put a fake `getent` first on PATH so that the leader's name resolves to 127.0.0.1
(or not at all) without any DNS query, and open the leader's rendezvous port on 127.0.0.1
themselves. The engine command is replaced by a small python3 call that prints its arguments.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import container, render_objects, the_lws


def fake_getent(directory: Path, address: str) -> None:
    script = directory / "getent"
    body = f'echo "{address} $2"' if address else "exit 2"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)


def worker_command(helm: str, port: int, wait_seconds: int) -> list[str]:
    values = {
        "model": {"id": "example-org/Example"},
        "engine": {"name": "sglang", "sglang": {"distInitPort": port}},
        "accelerator": {"countPerPod": 1},
        "group": {"size": 2, "leaderWaitSeconds": wait_seconds},
    }
    return container(the_lws(render_objects(helm, values)), "worker")["command"]


def run_wrapper(command: list[str], path_dir: Path, leader_address: str, timeout: float = 30) -> subprocess.CompletedProcess:
    environment = {
        "PATH": f"{path_dir}{os.pathsep}{os.environ['PATH']}",
        "LWS_LEADER_ADDRESS": leader_address,
        "LWS_GROUP_SIZE": "2",
        "LWS_WORKER_INDEX": "1",
    }
    engine = [sys.executable, "-c", "import sys; print('engine started with', sys.argv[1:])", "--dist-init-addr", f"{leader_address}:x"]
    return subprocess.run(command + engine, env=environment, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def listening_port():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server.getsockname()[1]
    server.close()


def test_worker_starts_engine_once_leader_is_reachable(helm4: str, tmp_path: Path, listening_port: int):
    fake_getent(tmp_path, "127.0.0.1")
    result = run_wrapper(worker_command(helm4, listening_port, 30), tmp_path, "llm-0.llm.default")
    assert result.returncode == 0, result.stderr
    assert "resolved to 127.0.0.1" in result.stderr
    assert f"leader port {listening_port} is open" in result.stderr
    assert "engine started with ['--dist-init-addr', 'llm-0.llm.default:x']" in result.stdout


def test_worker_exits_when_leader_never_resolves(helm4: str, tmp_path: Path):
    fake_getent(tmp_path, "")
    result = run_wrapper(worker_command(helm4, 20000, 3), tmp_path, "llm-0.llm.default")
    assert result.returncode == 1
    assert "llm-0.llm.default did not resolve within 3 s" in result.stderr
    assert "engine started" not in result.stdout


def test_worker_exits_when_leader_address_is_empty(helm4: str, tmp_path: Path):
    fake_getent(tmp_path, "127.0.0.1")
    result = run_wrapper(worker_command(helm4, 20000, 3), tmp_path, "")
    assert result.returncode == 1
    assert "LWS_LEADER_ADDRESS is empty" in result.stderr
    assert "engine started" not in result.stdout


def test_worker_exits_when_leader_port_stays_closed(helm4: str, tmp_path: Path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    fake_getent(tmp_path, "127.0.0.1")
    result = run_wrapper(worker_command(helm4, closed_port, 3), tmp_path, "llm-0.llm.default")
    assert result.returncode == 1
    assert f"did not open port {closed_port} within 3 s" in result.stderr
    assert "engine started" not in result.stdout


def ray_leader_command(helm: str, wait_seconds: int) -> list[str]:
    values = {
        "model": {"id": "example-org/Example"},
        "engine": {"name": "vllm", "vllm": {"backend": "ray"}},
        "accelerator": {"countPerPod": 1},
        "group": {"size": 2, "leaderWaitSeconds": wait_seconds},
    }
    return container(the_lws(render_objects(helm, values)), "leader")["command"]


def fake_ray(directory: Path, alive_nodes: int) -> Path:
    """A `ray` command that records its arguments, and a `ray` Python module reporting alive nodes."""
    log = directory / "ray-start.log"
    command = directory / "ray"
    command.write_text(f'#!/bin/sh\necho "$@" >> {log}\n', encoding="utf-8")
    command.chmod(0o755)
    modules = directory / "modules"
    modules.mkdir()
    (modules / "ray.py").write_text(
        "def init(address=None, logging_level=None):\n    pass\n\n"
        f"def nodes():\n    return [{{'Alive': True}}] * {alive_nodes} + [{{'Alive': False}}]\n",
        encoding="utf-8",
    )
    return log


def run_ray_leader(command: list[str], directory: Path) -> subprocess.CompletedProcess:
    environment = {
        "PATH": f"{directory}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(directory / "modules"),
        "LWS_LEADER_ADDRESS": "llm-0.llm.default",
        "LWS_GROUP_SIZE": "2",
        "LWS_WORKER_INDEX": "0",
        "VLLM_HOST_IP": "127.0.0.1",
    }
    engine = [sys.executable, "-c", "print('server started')"]
    return subprocess.run(command + engine, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_ray_leader_starts_server_when_group_joined(helm4: str, tmp_path: Path):
    fake_getent(tmp_path, "127.0.0.1")
    log = fake_ray(tmp_path, alive_nodes=2)
    result = run_ray_leader(ray_leader_command(helm4, 30), tmp_path)
    assert result.returncode == 0, result.stderr
    assert log.read_text(encoding="utf-8").split() == ["start", "--head", "--port=6379", "--node-ip-address=127.0.0.1"]
    assert "all 2 Ray nodes joined" in result.stderr
    assert "server started" in result.stdout


def test_ray_leader_exits_when_workers_never_join(helm4: str, tmp_path: Path):
    fake_getent(tmp_path, "127.0.0.1")
    fake_ray(tmp_path, alive_nodes=1)
    result = run_ray_leader(ray_leader_command(helm4, 3), tmp_path)
    assert result.returncode == 1
    assert "1 of 2 Ray nodes joined within 3 s" in result.stderr
    assert "server started" not in result.stdout
