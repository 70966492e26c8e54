"""Model storage: each storage.type renders the volume, the model path, the offline switch and
(for sharedPVC and hostPath) the download init containers, and the LeaderWorkerSet stays valid."""
from __future__ import annotations

import pytest

from conftest import assert_valid_lws, pod_spec, REPO_ROOT, RenderError, container, render_objects, the_lws

H20_SGLANG_PRESET = REPO_ROOT / "values-presets" / "sglang" / "h20-96gb-x8.yaml"
ROLES = ("leader", "worker")


def group_values(engine: str = "sglang", **overrides) -> dict:
    values = {
        "model": {"id": "example-org/Example-70B", "checkpointGiB": 100},
        "engine": {"name": engine},
        "accelerator": {"countPerPod": 8},
        "group": {"size": 2},
    }
    values.update(overrides)
    return values


STORAGE = {
    "hub": {"type": "hub"},
    "sharedPVC": {"type": "sharedPVC", "sharedPVC": {"claimName": "models-rwx"}},
    "hostPath": {"type": "hostPath"},
    "pvc": {"type": "pvc", "pvc": {"claimName": "weights"}},
    "image": {"type": "image", "image": {"reference": "registry.example/models/example-70b:v1"}},
}



def env_map(lws: dict, role: str) -> dict[str, str]:
    return {entry["name"]: entry.get("value") for entry in container(lws, role).get("env", [])}


def volume(lws: dict, role: str, name: str) -> dict:
    matches = [item for item in pod_spec(lws, role)["volumes"] if item["name"] == name]
    assert len(matches) == 1, f"expected one volume {name}, got {len(matches)}"
    return matches[0]


def mount(lws: dict, role: str, name: str) -> dict:
    matches = [item for item in container(lws, role)["volumeMounts"] if item["name"] == name]
    assert len(matches) == 1, f"expected one mount {name}, got {len(matches)}"
    return matches[0]


def startup_budget(lws: dict) -> int:
    probe = container(lws, "leader")["startupProbe"]
    return probe["failureThreshold"] * probe["periodSeconds"]



@pytest.mark.parametrize("storage", sorted(STORAGE))
def test_storage_renders_valid_lws(helm: str, storage: str):
    lws = the_lws(render_objects(helm, group_values(storage=STORAGE[storage])))

    assert_valid_lws(lws)
    for role in ROLES:
        assert mount(lws, role, "dshm")["mountPath"] == "/dev/shm"


@pytest.mark.parametrize("role", ROLES)
def test_hub_cache_volume_and_hf_home(helm: str, role: str):
    values = group_values(storage={"type": "hub", "hub": {"sizeLimit": "800Gi"}})
    lws = the_lws(render_objects(helm, values))

    assert volume(lws, role, "model-cache")["emptyDir"] == {"sizeLimit": "800Gi"}
    assert mount(lws, role, "model-cache")["mountPath"] == "/cache"
    assert env_map(lws, role)["HF_HOME"] == "/cache/huggingface"
    assert "HF_HUB_OFFLINE" not in env_map(lws, role)
    assert "initContainers" not in pod_spec(lws, role)
    assert "example-org/Example-70B" in container(lws, role)["args"]


@pytest.mark.parametrize(
    ("engine", "switch"),
    [("sglang", "SGLANG_USE_MODELSCOPE"), ("vllm", "VLLM_USE_MODELSCOPE"), ("lmdeploy", "LMDEPLOY_USE_MODELSCOPE")],
)
def test_modelscope_sets_engine_switch(helm: str, engine: str, switch: str):
    lws = the_lws(render_objects(helm, group_values(engine, storage={"source": "modelscope"})))

    for role in ROLES:
        env = env_map(lws, role)
        assert env[switch] == "true"
        assert env["MODELSCOPE_CACHE"] == "/cache/modelscope"


def test_modelscope_rejected_with_shared_pvc(helm: str):
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(storage={"type": "sharedPVC", "source": "modelscope"}))

    assert "storage.source: modelscope works only with storage.type hub" in str(error.value)


@pytest.mark.parametrize("storage", ["sharedPVC", "hostPath", "pvc", "image"])
def test_local_weights_are_offline_and_read_only(helm: str, storage: str):
    lws = the_lws(render_objects(helm, group_values(storage=STORAGE[storage])))

    for role in ROLES:
        assert env_map(lws, role)["HF_HUB_OFFLINE"] == "1"
        assert "HF_HOME" not in env_map(lws, role)
        assert mount(lws, role, "models") == {"name": "models", "mountPath": "/models", "readOnly": True}


def test_shared_pvc_leader_downloads_worker_waits(helm: str):
    values = group_values(storage=STORAGE["sharedPVC"], huggingface={"tokenSecret": {"name": "hf", "key": "token"}})
    lws = the_lws(render_objects(helm, values))
    leader_init = pod_spec(lws, "leader")["initContainers"]
    worker_init = pod_spec(lws, "worker")["initContainers"]

    assert [item["name"] for item in leader_init] == ["model-download"]
    assert [item["name"] for item in worker_init] == ["model-wait"]
    assert leader_init[0]["args"][0] == "download"
    assert worker_init[0]["args"][0] == "wait"
    assert leader_init[0]["image"] == container(lws, "leader")["image"]
    assert leader_init[0]["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "hf", "key": "token"}
    assert "env" not in worker_init[0]
    assert leader_init[0]["args"][1:] == worker_init[0]["args"][1:]
    assert volume(lws, "worker", "models")["persistentVolumeClaim"] == {"claimName": "models-rwx"}


def test_shared_pvc_marker_per_model_and_revision(helm: str):
    values = group_values(storage={"type": "sharedPVC", "revision": "refs/pr/1"})
    lws = the_lws(render_objects(helm, values))
    args = pod_spec(lws, "leader")["initContainers"][0]["args"]

    assert args[1:] == [
        "example-org/Example-70B",
        "refs/pr/1",
        "/models/example-org/Example-70B/refs--pr--1",
        "/models/.lws-inference/example-org--Example-70B@refs--pr--1.complete",
        "/models/.lws-inference/example-org--Example-70B@refs--pr--1.lock",
    ]
    model_argument = container(lws, "leader")["args"].index("--model-path") + 1
    assert container(lws, "leader")["args"][model_argument] == "/models/example-org/Example-70B/refs--pr--1"


def test_shared_pvc_default_claim_name(helm: str):
    lws = the_lws(render_objects(helm, group_values(storage={"type": "sharedPVC"})))

    assert volume(lws, "leader", "models")["persistentVolumeClaim"]["claimName"] == "llm-models"


def test_host_path_every_pod_downloads(helm: str):
    lws = the_lws(render_objects(helm, group_values(storage=STORAGE["hostPath"])))

    for role in ROLES:
        init = pod_spec(lws, role)["initContainers"]
        assert [item["name"] for item in init] == ["model-download"]
        assert volume(lws, role, "models")["hostPath"] == {
            "path": "/var/lib/lws-inference/models",
            "type": "DirectoryOrCreate",
        }


@pytest.mark.parametrize("engine", ["sglang", "vllm", "lmdeploy"])
def test_pvc_model_path_under_mount(helm: str, engine: str):
    lws = the_lws(render_objects(helm, group_values(engine, storage=STORAGE["pvc"])))

    assert volume(lws, "leader", "models")["persistentVolumeClaim"] == {"claimName": "weights", "readOnly": True}
    assert "/models/example-org/Example-70B" in container(lws, "leader")["args"]


def test_pvc_model_path_override(helm: str):
    storage = {"type": "pvc", "pvc": {"claimName": "weights"}, "modelPath": "/models/llama"}
    lws = the_lws(render_objects(helm, group_values(storage=storage)))
    args = container(lws, "worker")["args"]

    assert args[args.index("--model-path") + 1] == "/models/llama"
    assert args[args.index("--served-model-name") + 1] == "example-org/Example-70B"


def test_image_volume_reference(helm: str):
    lws = the_lws(render_objects(helm, group_values(storage=STORAGE["image"])))

    assert volume(lws, "worker", "models")["image"] == {
        "reference": "registry.example/models/example-70b:v1",
        "pullPolicy": "IfNotPresent",
    }


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ({"type": "pvc"}, "storage.pvc.claimName: is required"),
        ({"type": "image"}, "storage.image.reference: is required"),
    ],
)
def test_missing_source_rejected(helm: str, storage: dict, message: str):
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(storage=storage))

    assert message in str(error.value)


def test_download_of_path_rejected(helm: str):
    values = group_values(storage={"type": "hostPath"})
    values["model"] = {"id": "/weights/llama"}
    with pytest.raises(RenderError) as error:
        render_objects(helm, values)

    assert "model.id: /weights/llama is a path, but storage.type hostPath downloads a hub id" in str(error.value)


def test_hub_budget_includes_download(helm: str):
    hub = the_lws(render_objects(helm, group_values()))
    shared = the_lws(render_objects(helm, group_values(storage={"type": "sharedPVC"})))

    # 100 GiB: 300 s base + 256 s load at 400 MiB/s, plus 512 s download at 200 MiB/s with hub,
    # rounded up to whole 10 s probe periods.
    assert startup_budget(shared) == 600
    assert startup_budget(hub) == 1070
    faster = the_lws(render_objects(helm, group_values(storage={"downloadMiBPerSecond": 1024})))
    assert startup_budget(faster) == 660


def test_shm_same_on_every_rank(helm: str):
    for storage in STORAGE.values():
        lws = the_lws(render_objects(helm, group_values(storage=storage)))
        assert volume(lws, "leader", "dshm") == volume(lws, "worker", "dshm")
        assert volume(lws, "worker", "dshm")["emptyDir"] == {"medium": "Memory", "sizeLimit": "32Gi"}


def test_reserved_volume_name_rejected(helm: str):
    values = group_values(volumes=[{"name": "models", "emptyDir": {}}])
    with pytest.raises(RenderError) as error:
        render_objects(helm, values)

    assert "volumes: the name models is used by the chart" in str(error.value)


def test_deepseek_preset_switches_with_two_values(helm: str):
    """The DeepSeek-V3 SGLang preset on 2 x 8 x H20 moves to InfiniBand and a shared PVC with two values."""
    values = {"fabric": {"type": "infiniband"}, "storage": {"type": "sharedPVC"}}
    lws = the_lws(render_objects(helm, values, values_files=[H20_SGLANG_PRESET]))

    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    for role in ROLES:
        engine = container(lws, role)
        env = env_map(lws, role)
        assert env["NCCL_IB_DISABLE"] == "0"
        assert env["HF_HUB_OFFLINE"] == "1"
        assert engine["resources"]["limits"]["rdma/hca_shared_devices_a"] == 1
        assert engine["securityContext"]["capabilities"]["add"] == ["IPC_LOCK"]
        assert volume(lws, role, "models")["persistentVolumeClaim"]["claimName"] == "llm-models"
        assert "/models/deepseek-ai/DeepSeek-V3/main" in engine["args"]
    assert pod_spec(lws, "leader")["initContainers"][0]["args"][0] == "download"
    assert pod_spec(lws, "worker")["initContainers"][0]["args"][0] == "wait"
    assert_valid_lws(lws)
