"""Network fabric presets: every rank of a group gets the same NCCL settings, devices and
capabilities, and the LeaderWorkerSet stays valid for the LWS CRD."""
from __future__ import annotations

import pytest

from conftest import assert_valid_lws, pod_spec, RenderError, container, render_objects, the_lws

ROLES = ("leader", "worker")
FABRIC_NAMES = {
    "NCCL_SOCKET_IFNAME",
    "GLOO_SOCKET_IFNAME",
    "NCCL_IB_DISABLE",
    "NCCL_IB_HCA",
    "NCCL_IB_GID_INDEX",
    "NVSHMEM_IB_GID_INDEX",
    "NCCL_DEBUG",
    "FI_PROVIDER",
}


def group_values(**overrides) -> dict:
    values = {
        "model": {"id": "example-org/Example-70B", "checkpointGiB": 140},
        "engine": {"name": "sglang"},
        "accelerator": {"countPerPod": 8},
        "group": {"size": 2},
    }
    values.update(overrides)
    return values


def fabric_env(lws: dict, role: str) -> list[dict]:
    return [entry for entry in container(lws, role).get("env", []) if entry["name"] in FABRIC_NAMES]


def env_map(lws: dict, role: str) -> dict[str, str]:
    return {entry["name"]: entry.get("value") for entry in container(lws, role).get("env", [])}




FABRICS = {
    "tcp": {"type": "tcp"},
    "infiniband": {"type": "infiniband", "rdma": {"hca": "mlx5"}},
    "roce": {"type": "roce", "rdma": {"resourceName": "nvidia.com/hostdev", "count": 2}, "roce": {"gidIndex": 5}},
    "custom": {
        "type": "custom",
        "custom": {
            "env": {"FI_PROVIDER": "efa"},
            "resources": {"vpc.amazonaws.com/efa": 4},
            "annotations": {"example.com/multi-nic": "enabled"},
        },
    },
}


@pytest.mark.parametrize("fabric", sorted(FABRICS))
def test_fabric_env_same_on_every_rank(helm: str, fabric: str):
    lws = the_lws(render_objects(helm, group_values(fabric=FABRICS[fabric])))

    leader_env = fabric_env(lws, "leader")
    assert leader_env, "the fabric renders no environment"
    assert fabric_env(lws, "worker") == leader_env
    assert container(lws, "worker")["resources"] == container(lws, "leader")["resources"]
    assert container(lws, "worker").get("securityContext") == container(lws, "leader").get("securityContext")
    assert_valid_lws(lws)


@pytest.mark.parametrize("role", ROLES)
def test_tcp_disables_ib_and_names_interface(helm: str, role: str):
    lws = the_lws(render_objects(helm, group_values()))
    env = env_map(lws, role)

    assert env["NCCL_IB_DISABLE"] == "1"
    assert env["NCCL_SOCKET_IFNAME"] == "eth0"
    assert env["GLOO_SOCKET_IFNAME"] == "eth0"
    assert "securityContext" not in container(lws, role)
    assert set(container(lws, role)["resources"]["limits"]) == {"nvidia.com/gpu"}


@pytest.mark.parametrize("role", ROLES)
def test_infiniband_requests_rdma_and_ipc_lock(helm: str, role: str):
    lws = the_lws(render_objects(helm, group_values(fabric=FABRICS["infiniband"])))
    engine = container(lws, role)
    env = env_map(lws, role)

    assert env["NCCL_IB_DISABLE"] == "0"
    assert env["NCCL_IB_HCA"] == "mlx5"
    assert "NCCL_IB_GID_INDEX" not in env
    assert engine["resources"]["requests"]["rdma/hca_shared_devices_a"] == 1
    assert engine["resources"]["limits"]["rdma/hca_shared_devices_a"] == 1
    assert engine["securityContext"]["capabilities"]["add"] == ["IPC_LOCK"]


@pytest.mark.parametrize("role", ROLES)
def test_roce_sets_gid_index_and_resource(helm: str, role: str):
    lws = the_lws(render_objects(helm, group_values(fabric=FABRICS["roce"])))
    env = env_map(lws, role)

    assert env["NCCL_IB_GID_INDEX"] == "5"
    assert env["NVSHMEM_IB_GID_INDEX"] == "5"
    assert container(lws, role)["resources"]["limits"]["nvidia.com/hostdev"] == 2
    assert "rdma/hca_shared_devices_a" not in container(lws, role)["resources"]["limits"]


@pytest.mark.parametrize("role", ROLES)
def test_custom_fabric_uses_given_env_resources_annotations(helm: str, role: str):
    lws = the_lws(render_objects(helm, group_values(fabric=FABRICS["custom"])))
    env = env_map(lws, role)
    template = lws["spec"]["leaderWorkerTemplate"][f"{role}Template"]

    assert env["FI_PROVIDER"] == "efa"
    assert "NCCL_IB_DISABLE" not in env
    assert container(lws, role)["resources"]["limits"]["vpc.amazonaws.com/efa"] == 4
    assert template["metadata"]["annotations"]["example.com/multi-nic"] == "enabled"
    assert "securityContext" not in container(lws, role)


def test_ipc_lock_merges_with_security_context(helm: str):
    values = group_values(
        fabric={"type": "roce"},
        securityContext={"runAsUser": 0, "capabilities": {"add": ["SYS_RESOURCE"], "drop": ["NET_RAW"]}},
    )
    lws = the_lws(render_objects(helm, values))

    for role in ROLES:
        context = container(lws, role)["securityContext"]
        assert context["runAsUser"] == 0
        assert context["capabilities"]["add"] == ["SYS_RESOURCE", "IPC_LOCK"]
        assert context["capabilities"]["drop"] == ["NET_RAW"]


def test_ipc_lock_not_added_twice(helm: str):
    values = group_values(fabric={"type": "infiniband"}, securityContext={"capabilities": {"add": ["IPC_LOCK"]}})
    lws = the_lws(render_objects(helm, values))

    assert container(lws, "worker")["securityContext"]["capabilities"]["add"] == ["IPC_LOCK"]


@pytest.mark.parametrize("role", ROLES)
def test_host_network_sets_dns_policy(helm: str, role: str):
    values = group_values(fabric={"type": "infiniband", "hostNetwork": True})
    lws = the_lws(render_objects(helm, values))
    spec = pod_spec(lws, role)

    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert "NCCL_SOCKET_IFNAME" not in env_map(lws, role)
    assert_valid_lws(lws)


def test_host_network_keeps_given_interface(helm: str):
    values = group_values(fabric={"type": "tcp", "hostNetwork": True, "socketIfname": "ens1f0"})
    lws = the_lws(render_objects(helm, values))

    for role in ROLES:
        assert env_map(lws, role)["NCCL_SOCKET_IFNAME"] == "ens1f0"
        assert env_map(lws, role)["GLOO_SOCKET_IFNAME"] == "ens1f0"


def test_pod_network_by_default(helm: str):
    lws = the_lws(render_objects(helm, group_values()))

    for role in ROLES:
        assert "hostNetwork" not in pod_spec(lws, role)
        assert "dnsPolicy" not in pod_spec(lws, role)


def test_networks_annotation_on_every_rank(helm: str):
    values = group_values(fabric={"type": "roce", "networks": "gpu-ns/rdma-net"})
    lws = the_lws(render_objects(helm, values))

    for role in ROLES:
        annotations = lws["spec"]["leaderWorkerTemplate"][f"{role}Template"]["metadata"]["annotations"]
        assert annotations["k8s.v1.cni.cncf.io/networks"] == "gpu-ns/rdma-net"


def test_nccl_debug_on_every_rank(helm: str):
    lws = the_lws(render_objects(helm, group_values(fabric={"ncclDebug": "INFO"})))

    assert env_map(lws, "leader")["NCCL_DEBUG"] == "INFO"
    assert env_map(lws, "worker")["NCCL_DEBUG"] == "INFO"


@pytest.mark.parametrize("name", ["NCCL_SOCKET_IFNAME", "NCCL_IB_DISABLE", "NCCL_IB_GID_INDEX", "HF_HUB_OFFLINE"])
def test_env_rejects_chart_managed_name(helm: str, name: str):
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(env={name: "x"}))

    assert f"env.{name}: is set by the chart" in str(error.value)


def test_custom_env_rejects_socket_interface(helm: str):
    fabric = {"type": "custom", "custom": {"env": {"NCCL_SOCKET_IFNAME": "eth1"}}}
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(fabric=fabric))

    assert "fabric.custom.env.NCCL_SOCKET_IFNAME: is set by the chart" in str(error.value)


def test_custom_values_rejected_with_other_type(helm: str):
    fabric = {"type": "roce", "custom": {"env": {"FI_PROVIDER": "efa"}}}
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(fabric=fabric))

    assert "fabric.custom.env: is used only with fabric.type custom, but fabric.type is roce" in str(error.value)


def test_rdma_resource_twice_rejected(helm: str):
    values = group_values(fabric={"type": "infiniband"}, resources={"limits": {"rdma/hca_shared_devices_a": 1}})
    with pytest.raises(RenderError) as error:
        render_objects(helm, values)

    assert "fabric.rdma.resourceName: rdma/hca_shared_devices_a is also requested" in str(error.value)


def test_networks_annotation_twice_rejected(helm: str):
    values = group_values(fabric={"networks": "a"}, podAnnotations={"k8s.v1.cni.cncf.io/networks": "b"})
    with pytest.raises(RenderError) as error:
        render_objects(helm, values)

    assert "podAnnotations.k8s.v1.cni.cncf.io/networks: is also set by fabric.networks" in str(error.value)


def test_interface_list_rejected_by_schema(helm: str):
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(fabric={"socketIfname": "eth0,eth1"}))

    assert "socketIfname" in str(error.value)
