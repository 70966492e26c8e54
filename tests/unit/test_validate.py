"""The checks behind `python -m generator check`, run on real renders and on broken copies of them."""
from __future__ import annotations

import copy

import pytest

from conftest import HELM_BINARIES, LWS_CRD
from generator import cli, render
from generator.checks import commands, kubernetes, lws
from generator.validate import CheckOptions, check_rendered

ENGINES = {
    "sglang-2-pods": {"model": {"id": "org/model"}, "group": {"size": 2}, "accelerator": {"countPerPod": 8}},
    "vllm-mp-2-pods": {"model": {"id": "org/model"}, "engine": {"name": "vllm"}, "group": {"size": 2}, "accelerator": {"countPerPod": 8}},
    "vllm-ray-2-pods": {
        "model": {"id": "org/model"},
        "engine": {"name": "vllm", "vllm": {"backend": "ray"}},
        "group": {"size": 2},
        "accelerator": {"countPerPod": 8},
    },
    "lmdeploy-2-pods": {"model": {"id": "org/model"}, "engine": {"name": "lmdeploy"}, "group": {"size": 2}, "accelerator": {"countPerPod": 4}},
    "sglang-1-pod": {"model": {"id": "org/model"}, "accelerator": {"countPerPod": 1}},
}


def render_values(tmp_path_factory, values: dict) -> list[dict]:
    import yaml

    path = tmp_path_factory.mktemp("values") / "values.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return render.parse_manifest(render.template([path], helm=HELM_BINARIES["helm4"]))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    return {name: render_values(tmp_path_factory, values) for name, values in ENGINES.items()}


@pytest.fixture(scope="module")
def options() -> CheckOptions:
    if not LWS_CRD.is_file():
        pytest.skip(f"LWS CRD not found at {LWS_CRD}; the CRD checks need the shared/ folder beside the repository")
    return CheckOptions(crd_file=LWS_CRD, kube_versions=kubernetes.default_versions())


def the_lws(objects: list[dict]) -> dict:
    return next(document for document in objects if document["kind"] == "LeaderWorkerSet")


def container(objects: list[dict], role: str) -> dict:
    return the_lws(objects)["spec"]["leaderWorkerTemplate"][f"{role}Template"]["spec"]["containers"][0]


def paths(problems) -> list[str]:
    return [problem.path for problem in problems]


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_chart_render_is_clean(rendered, options, name):
    problems = check_rendered(rendered[name], ENGINES[name], options, "values.yaml")
    assert [problem.format() for problem in problems] == []


def test_default_versions_cover_oldest_and_newest():
    versions = kubernetes.default_versions()
    assert versions[0] == "1.27"
    assert versions[-1] == kubernetes.available_versions()[-1]
    assert len(versions) == 2


def test_openapi_rejects_unknown_container_field(rendered):
    objects = copy.deepcopy(rendered["sglang-2-pods"])
    container(objects, "worker")["imagePullPolicys"] = "Always"

    problems = kubernetes.check_openapi(objects, ("1.27",), "f")

    assert paths(problems) == ["$.LeaderWorkerSet.spec.leaderWorkerTemplate.workerTemplate.spec.containers[0]"]
    assert "imagePullPolicys" in problems[0].message


def test_openapi_rejects_bad_service_port(rendered):
    objects = copy.deepcopy(rendered["sglang-2-pods"])
    service = next(document for document in objects if document["kind"] == "Service")
    service["spec"]["ports"][0]["port"] = "http"

    problems = kubernetes.check_openapi(objects, ("1.37",), "f")

    assert paths(problems) == ["$.Service.spec.ports[0].port"]


def test_env_value_must_be_string(rendered):
    objects = copy.deepcopy(rendered["sglang-2-pods"])
    container(objects, "leader").setdefault("env", []).append({"name": "FLAG", "value": True})

    problems = kubernetes.check_env_values(objects, "f")

    assert len(problems) == 1
    assert "bool value" in problems[0].message


def test_label_value_must_be_valid(rendered):
    objects = copy.deepcopy(rendered["sglang-2-pods"])
    the_lws(objects)["spec"]["leaderWorkerTemplate"]["workerTemplate"]["metadata"]["labels"]["model"] = "org/model"

    problems = kubernetes.check_labels(objects, "f")

    assert paths(problems) == ["$.LeaderWorkerSet.spec.leaderWorkerTemplate.workerTemplate.metadata.labels.model"]


@pytest.mark.parametrize(
    ("key", "valid"),
    [("app", True), ("example.com/tier", True), ("Example.com/tier", False), ("a" * 64, False), ("-x", False)],
)
def test_label_keys(key, valid):
    assert (kubernetes.label_key_problem(key) == "") is valid


def test_crd_rejects_unknown_and_mistyped_fields(rendered, options):
    document = copy.deepcopy(the_lws(rendered["sglang-2-pods"]))
    document["spec"]["leaderWorkerTemplate"]["sizes"] = 2
    document["spec"]["startupPolicy"] = "LeaderStarted"

    problems = lws.check_crd(document, str(options.crd_file), "f")

    assert sorted(paths(problems)) == ["$.LeaderWorkerSet.spec.leaderWorkerTemplate", "$.LeaderWorkerSet.spec.startupPolicy"]


@pytest.mark.parametrize(
    ("change", "expected_path", "fragment"),
    [
        ({"metadata.name": "Serve"}, "$.LeaderWorkerSet.metadata.name", "DNS-1035"),
        ({"metadata.name": "s" * 64}, "$.LeaderWorkerSet.metadata.name", "DNS-1035"),
        ({"metadata.name": "s" * 50, "spec.replicas": 12}, "$.LeaderWorkerSet.metadata.name", "controller-revision-hash"),
        ({"spec.replicas": 1000001}, "$.LeaderWorkerSet.spec.replicas", "outside 0..1000000"),
        ({"spec.replicas": 1000000, "spec.leaderWorkerTemplate.size": 4000}, "$.LeaderWorkerSet.spec.leaderWorkerTemplate.size", "2147483647"),
        ({"spec.leaderWorkerTemplate.size": 0}, "$.LeaderWorkerSet.spec.leaderWorkerTemplate.size", "at least 1"),
        (
            {"spec.leaderWorkerTemplate.size": 5, "spec.leaderWorkerTemplate.subGroupPolicy": {"subGroupSize": 3}},
            "$.LeaderWorkerSet.spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize",
            "divides neither",
        ),
        (
            {"spec.leaderWorkerTemplate.size": 4, "spec.leaderWorkerTemplate.subGroupPolicy": {"subGroupSize": 2, "subGroupPolicyType": "LeaderExcluded"}},
            "$.LeaderWorkerSet.spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize",
            "size - 1",
        ),
        (
            {"metadata.annotations": {lws.SUBGROUP_EXCLUSIVE_TOPOLOGY: "example.com/rack"}},
            f"$.LeaderWorkerSet.metadata.annotations.{lws.SUBGROUP_EXCLUSIVE_TOPOLOGY}",
            "subGroupPolicy",
        ),
        (
            {"spec.replicas": 3, "spec.rolloutStrategy.rollingUpdateConfiguration": {"maxUnavailable": "10%", "maxSurge": 0}},
            "$.LeaderWorkerSet.spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable",
            "both resolve to 0",
        ),
        (
            {"spec.rolloutStrategy.rollingUpdateConfiguration": {"maxUnavailable": 1, "maxSurge": "120%"}},
            "$.LeaderWorkerSet.spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge",
            "above 100%",
        ),
    ],
    ids=lambda value: str(value)[:60] if not isinstance(value, dict) else "-".join(f"{key}={str(item)[:12]}" for key, item in value.items()),
)
def test_admission_rules(rendered, change, expected_path, fragment):
    document = copy.deepcopy(the_lws(rendered["sglang-2-pods"]))
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node = document
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value

    problems = lws.check_admission(document, "f")

    assert expected_path in paths(problems), [problem.format() for problem in problems]
    assert any(fragment in problem.message for problem in problems if problem.path == expected_path)


def test_admission_accepts_percent_that_resolves_above_zero(rendered):
    document = copy.deepcopy(the_lws(rendered["sglang-2-pods"]))
    document["spec"]["replicas"] = 10
    document["spec"]["rolloutStrategy"]["rollingUpdateConfiguration"] = {"maxUnavailable": "10%", "maxSurge": 0}

    assert lws.check_admission(document, "f") == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("$(LWS_LEADER_ADDRESS):20000", ["LWS_LEADER_ADDRESS"]),
        ("$$(NOT_A_REFERENCE) $(A)", ["A"]),
        ("${SHELL_VAR} $HOME `date`", []),
        ("$(A)$(B)", ["A", "B"]),
    ],
)
def test_variable_references(text, names):
    assert commands.variable_references(text) == names


def test_undefined_variable_is_reported(rendered):
    objects = copy.deepcopy(rendered["sglang-2-pods"])
    worker = container(objects, "worker")
    worker["args"].append("$(LWS_LEADER_ADRESS)")

    problems = commands.check_references("$.w", worker, "f")

    assert paths(problems) == [f"$.w.args[{len(worker['args']) - 1}]"]
    assert "LWS_LEADER_ADRESS" in problems[0].message


def test_env_defined_variable_is_accepted(rendered):
    objects = copy.deepcopy(rendered["vllm-ray-2-pods"])
    worker = container(objects, "worker")

    assert any("$(VLLM_HOST_IP)" in token for token in worker["args"])
    assert commands.check_references("$.w", worker, "f") == []


def _replace_in_args(target: dict, old: str, new: str) -> None:
    replaced = [token.replace(old, new) for token in target["args"]]
    assert replaced != target["args"], f"{old!r} not found in {target['args']}"
    target["args"] = replaced


def test_sglang_rendezvous_port_mismatch(rendered):
    objects = copy.deepcopy(rendered["sglang-2-pods"])
    _replace_in_args(container(objects, "worker"), ":20000", ":20001")

    problems = commands.check_rendezvous(the_lws(objects), "f")

    assert any("--dist-init-addr" in problem.message for problem in problems)
    assert any("waits for port 20000" in problem.message for problem in problems)


def test_vllm_master_port_mismatch(rendered):
    objects = copy.deepcopy(rendered["vllm-mp-2-pods"])
    worker = container(objects, "worker")
    index = worker["args"].index("--master-port")
    worker["args"][index + 1] = "29502"

    problems = commands.check_rendezvous(the_lws(objects), "f")

    assert any("--master-port" in problem.message for problem in problems)


def test_vllm_master_addr_must_be_leader(rendered):
    objects = copy.deepcopy(rendered["vllm-mp-2-pods"])
    for role in ("leader", "worker"):
        _replace_in_args(container(objects, role), "$(LWS_LEADER_ADDRESS)", "localhost")

    problems = commands.check_rendezvous(the_lws(objects), "f")

    assert any("is not $(LWS_LEADER_ADDRESS)" in problem.message for problem in problems)


@pytest.mark.parametrize("name", ["vllm-ray-2-pods", "lmdeploy-2-pods"])
def test_ray_port_mismatch(rendered, name):
    objects = copy.deepcopy(rendered[name])
    _replace_in_args(container(objects, "worker"), ":6379", ":6380")

    problems = commands.check_rendezvous(the_lws(objects), "f")

    assert any("ray address" in problem.message for problem in problems)


def test_unknown_flag_maps_to_values_key(rendered):
    values = {"engine": {"args": {"maxModelLenght": 4096}}}
    leader = copy.deepcopy(container(rendered["sglang-2-pods"], "leader"))
    leader["args"] += ["--max-model-lenght", "4096"]

    problems = commands.check_engine_flags("$.l", "sglang", leader, values, "f")

    assert paths(problems) == ["engine.args.maxModelLenght"]


def test_unknown_flag_without_values_key(rendered):
    leader = copy.deepcopy(container(rendered["vllm-mp-2-pods"], "leader"))
    leader["args"].append("--tensor-paralel-size")

    problems = commands.check_engine_flags("$.l", "vllm", leader, {}, "f")

    assert paths(problems) == ["$.l.args"]


def test_check_command_rejects_unknown_kube_version(capsys):
    assert cli.main(["check", "--kube-version", "1.9", "missing.yaml"]) == 2
    assert "no schema for this version" in capsys.readouterr().err


def test_check_command_rejects_missing_crd(tmp_path, capsys):
    assert cli.main(["check", "--crd", str(tmp_path / "absent.yaml"), "missing.yaml"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_check_command_reports_unreadable_yaml(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n", encoding="utf-8")

    assert cli.main(["check", str(broken)]) == 1
    assert f"{broken}: $: invalid YAML" in capsys.readouterr().err
