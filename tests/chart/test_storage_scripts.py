"""Run the rendered model download init containers with /bin/sh against a temporary directory.

The directory replaces the shared PVC. A fake `huggingface_hub` package, first on
PYTHONPATH, replaces the real download: it appends one line per call to a log, waits a moment
so that other pods can run into the lock, and writes a weights file. No test contacts a network
address.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import render_objects, the_lws

FAKE_HUB = '''
import os
import time
from pathlib import Path


def snapshot_download(repo_id, revision, local_dir):
    with open(os.environ["FAKE_HUB_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.environ['FAKE_POD']} {repo_id} {revision}\\n")
    time.sleep(float(os.environ.get("FAKE_HUB_SECONDS", "0")))
    Path(local_dir, "model.safetensors").write_text(repo_id, encoding="utf-8")
    return local_dir
'''


@pytest.fixture
def fake_hub(tmp_path: Path) -> Path:
    package = tmp_path / "fakehub" / "huggingface_hub"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_HUB, encoding="utf-8")
    return package.parent


def init_containers(helm: str, mount: Path, storage_type: str = "sharedPVC", **storage) -> dict[str, dict]:
    values = {
        "model": {"id": "example-org/Example-70B"},
        "engine": {"name": "sglang"},
        "accelerator": {"countPerPod": 8},
        "group": {"size": 2},
        "storage": {"type": storage_type, "mountPath": str(mount), **storage},
    }
    lws = the_lws(render_objects(helm, values))
    return {
        role: lws["spec"]["leaderWorkerTemplate"][f"{role}Template"]["spec"]["initContainers"][0]
        for role in ("leader", "worker")
    }


def start(init: dict, pod: str, fake_hub: Path, log: Path, download_seconds: float = 0) -> subprocess.Popen:
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(fake_hub),
        "FAKE_HUB_LOG": str(log),
        "FAKE_HUB_SECONDS": str(download_seconds),
        "FAKE_POD": pod,
    }
    return subprocess.Popen(
        init["command"] + init["args"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 60) -> str:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr
    return stderr


def downloads(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_script_avoids_command_substitution(helm4: str, tmp_path: Path):
    script = init_containers(helm4, tmp_path)["leader"]["command"][2]

    assert "$(" not in script


def test_only_leader_downloads_worker_waits(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"
    init = init_containers(helm4, mount)
    marker = Path(init["leader"]["args"][4])

    worker = start(init["worker"], "group0-worker", fake_hub, log)
    time.sleep(1)
    assert worker.poll() is None, "the worker finished before any download"
    leader = start(init["leader"], "group0-leader", fake_hub, log, download_seconds=1)
    finish(leader)
    worker_log = finish(worker)

    assert downloads(log) == ["group0-leader example-org/Example-70B main"]
    assert marker.read_text(encoding="utf-8").strip() == "example-org/Example-70B@main"
    assert (mount / "example-org" / "Example-70B" / "main" / "model.safetensors").is_file()
    assert "waiting for the leader" in worker_log
    assert not Path(init["leader"]["args"][5]).exists(), "the lock was not released"


def test_second_group_reuses_download(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"
    init = init_containers(helm4, mount)

    finish(start(init["leader"], "group0-leader", fake_hub, log))
    second_log = finish(start(init["leader"], "group1-leader", fake_hub, log))

    assert downloads(log) == ["group0-leader example-org/Example-70B main"]
    assert "already complete" in second_log


def test_two_groups_at_once_download_once(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"
    init = init_containers(helm4, mount)

    first = start(init["leader"], "group0-leader", fake_hub, log, download_seconds=3)
    time.sleep(1)
    second = start(init["leader"], "group1-leader", fake_hub, log, download_seconds=3)
    finish(first)
    second_log = finish(second)

    assert downloads(log) == ["group0-leader example-org/Example-70B main"]
    assert "completed by another pod" in second_log


def test_new_revision_downloads_again(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"

    finish(start(init_containers(helm4, mount)["leader"], "group0-leader", fake_hub, log))
    finish(start(init_containers(helm4, mount, revision="v2")["leader"], "group0-leader", fake_hub, log))

    assert downloads(log) == [
        "group0-leader example-org/Example-70B main",
        "group0-leader example-org/Example-70B v2",
    ]


def test_stale_lock_taken_over(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"
    init = init_containers(helm4, mount, lockStaleSeconds=30)
    lock = Path(init["leader"]["args"][5])
    lock.mkdir(parents=True)
    an_hour_ago = time.time() - 3600
    os.utime(lock, (an_hour_ago, an_hour_ago))

    stderr = finish(start(init["leader"], "group0-leader", fake_hub, log))

    assert downloads(log) == ["group0-leader example-org/Example-70B main"]
    assert "taking it over" in stderr


def test_live_lock_is_respected(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"
    init = init_containers(helm4, mount, lockStaleSeconds=30)
    Path(init["leader"]["args"][5]).mkdir(parents=True)

    waiting = start(init["leader"], "group1-leader", fake_hub, log)
    time.sleep(2)

    assert waiting.poll() is None, "the pod did not wait for a fresh lock"
    assert downloads(log) == []
    waiting.kill()
    waiting.communicate()


def test_failed_download_leaves_no_marker(helm4: str, tmp_path: Path, fake_hub: Path):
    mount = tmp_path / "pvc"
    log = tmp_path / "downloads.log"
    init = init_containers(helm4, mount)
    (fake_hub / "huggingface_hub" / "__init__.py").write_text(
        "def snapshot_download(**kwargs):\n    raise OSError('network unreachable')\n", encoding="utf-8"
    )

    process = start(init["leader"], "group0-leader", fake_hub, log)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 1
    assert "download of example-org/Example-70B@main failed" in stderr
    assert not Path(init["leader"]["args"][4]).exists()
    assert not Path(init["leader"]["args"][5]).exists(), "the lock was not released"


def test_host_path_each_pod_downloads_into_its_node(helm4: str, tmp_path: Path, fake_hub: Path):
    log = tmp_path / "downloads.log"
    node_a = init_containers(helm4, tmp_path / "node-a", "hostPath")
    node_b = init_containers(helm4, tmp_path / "node-b", "hostPath")

    finish(start(node_a["leader"], "node-a-leader", fake_hub, log))
    finish(start(node_b["worker"], "node-b-worker", fake_hub, log))
    finish(start(node_a["worker"], "node-a-later-pod", fake_hub, log))

    assert downloads(log) == [
        "node-a-leader example-org/Example-70B main",
        "node-b-worker example-org/Example-70B main",
    ]
