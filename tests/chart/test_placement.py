"""Scheduling and placement: Kueue and Volcano queues, the scheduler of both templates, and
anti-affinity between the leaders of different groups."""
from __future__ import annotations

import pytest

from conftest import assert_valid_lws, pod_spec, RenderError, render_objects, the_lws

ROLES = ("leader", "worker")


def group_values(**overrides) -> dict:
    values = {
        "model": {"id": "example-org/Example-70B"},
        "engine": {"name": "vllm"},
        "accelerator": {"countPerPod": 8},
        "group": {"size": 2},
        "replicas": 2,
    }
    values.update(overrides)
    return values




def test_kueue_queue_label_on_lws(helm: str):
    lws = the_lws(render_objects(helm, group_values(scheduling={"kueue": {"queueName": "team-a"}})))

    assert lws["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
    for role in ROLES:
        assert "schedulerName" not in pod_spec(lws, role)
    assert_valid_lws(lws)


def test_volcano_scheduler_on_both_templates(helm: str):
    scheduling = {"volcano": {"enabled": True, "queue": "inference"}}
    lws = the_lws(render_objects(helm, group_values(scheduling=scheduling)))

    for role in ROLES:
        assert pod_spec(lws, role)["schedulerName"] == "volcano"
    assert lws["metadata"]["annotations"]["scheduling.volcano.sh/queue-name"] == "inference"
    assert_valid_lws(lws)


def test_no_scheduling_by_default(helm: str):
    lws = the_lws(render_objects(helm, group_values()))

    assert "kueue.x-k8s.io/queue-name" not in lws["metadata"]["labels"]
    assert "annotations" not in lws["metadata"]
    for role in ROLES:
        assert "schedulerName" not in pod_spec(lws, role)
        assert "affinity" not in pod_spec(lws, role)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"schedulerName": "other", "scheduling": {"volcano": {"enabled": True}}},
            "schedulerName: other conflicts with scheduling.volcano.enabled",
        ),
        ({"scheduling": {"volcano": {"queue": "q"}}}, "scheduling.volcano.queue: has no effect"),
        (
            {"scheduling": {"kueue": {"queueName": "a"}}, "lwsLabels": {"kueue.x-k8s.io/queue-name": "b"}},
            "lwsLabels.kueue.x-k8s.io/queue-name: is also set by scheduling.kueue.queueName",
        ),
        (
            {
                "scheduling": {"volcano": {"enabled": True, "queue": "a"}},
                "lwsAnnotations": {"scheduling.volcano.sh/queue-name": "b"},
            },
            "lwsAnnotations.scheduling.volcano.sh/queue-name: is also set by scheduling.volcano.queue",
        ),
    ],
    ids=["scheduler-conflict", "queue-without-volcano", "kueue-label-twice", "volcano-queue-twice"],
)
def test_scheduling_conflicts_rejected(helm: str, values: dict, message: str):
    with pytest.raises(RenderError) as error:
        render_objects(helm, group_values(**values))

    assert message in str(error.value)


def expected_term() -> dict:
    return {
        "labelSelector": {
            "matchLabels": {"leaderworkerset.sigs.k8s.io/name": "llm", "leaderworkerset.sigs.k8s.io/worker-index": "0"}
        },
        "topologyKey": "kubernetes.io/hostname",
    }


def test_spread_groups_preferred_on_leaders(helm: str):
    lws = the_lws(render_objects(helm, group_values(placement={"spreadGroups": "preferred"})))
    anti = pod_spec(lws, "leader")["affinity"]["podAntiAffinity"]

    assert anti["preferredDuringSchedulingIgnoredDuringExecution"] == [{"weight": 100, "podAffinityTerm": expected_term()}]
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
    assert "affinity" not in pod_spec(lws, "worker")
    assert_valid_lws(lws)


def test_spread_groups_required_on_leaders(helm: str):
    lws = the_lws(render_objects(helm, group_values(placement={"spreadGroups": "required"})))
    anti = pod_spec(lws, "leader")["affinity"]["podAntiAffinity"]

    assert anti["requiredDuringSchedulingIgnoredDuringExecution"] == [expected_term()]
    assert_valid_lws(lws)


def test_spread_groups_keeps_user_affinity(helm: str):
    user_term = {"labelSelector": {"matchLabels": {"app": "other"}}, "topologyKey": "kubernetes.io/hostname"}
    node_affinity = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]}]
        }
    }
    affinity = {"nodeAffinity": node_affinity, "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [user_term]}}
    lws = the_lws(render_objects(helm, group_values(affinity=affinity, placement={"spreadGroups": "required"})))

    leader = pod_spec(lws, "leader")["affinity"]
    assert leader["nodeAffinity"] == node_affinity
    assert leader["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [user_term, expected_term()]
    assert pod_spec(lws, "worker")["affinity"] == affinity


def test_exclusive_topology_with_spread(helm: str):
    values = group_values(group={"size": 2, "exclusiveTopology": "topology.example.com/rack"}, placement={"spreadGroups": "preferred"})
    lws = the_lws(render_objects(helm, values))

    assert lws["metadata"]["annotations"]["leaderworkerset.sigs.k8s.io/exclusive-topology"] == "topology.example.com/rack"
    assert_valid_lws(lws)


def test_priority_class_on_both_templates(helm: str):
    lws = the_lws(render_objects(helm, group_values(priorityClassName="inference-high")))

    for role in ROLES:
        assert pod_spec(lws, role)["priorityClassName"] == "inference-high"
