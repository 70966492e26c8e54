"""Property-based tests: values inside the schema either render objects that pass every check,
or fail in validateValues with a message that starts with a value path."""
from __future__ import annotations

import re

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HELM_BINARIES, LWS_CRD, RenderError, helm_template
from generator.checks import kubernetes
from generator.validate import CheckOptions, check_rendered
from generator.values_schema import build_schema, schema_keys

SCHEMA = build_schema()
VALUE_PATHS = set(schema_keys(SCHEMA))
# A validateValues line: a value path, then ": " or " (" (as in `parallelism.tensor (16) x ...`).
_PROBLEM_LINE = re.compile(r"^(?P<path>[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*)(: | \()")

int_or_percent = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=100).map(lambda percent: f"{percent}%"),
)


@st.composite
def parallelism(draw, size: int, per_pod: int) -> dict:
    """Tensor and pipeline sizes: mostly derived (0) or consistent with the group, sometimes arbitrary."""
    mode = draw(st.sampled_from(["derived", "derived", "consistent", "consistent", "arbitrary"]))
    if mode == "derived":
        return {"tensor": 0, "pipeline": 0}
    total = size * per_pod
    if mode == "consistent" and total > 0:
        pipeline = draw(st.sampled_from([divisor for divisor in range(1, total + 1) if total % divisor == 0]))
        return {"tensor": total // pipeline, "pipeline": pipeline}
    return {
        "tensor": draw(st.sampled_from([0, 1, 2, 4, 8, 16])),
        "pipeline": draw(st.sampled_from([0, 1, 2, 4])),
    }


@st.composite
def chart_values(draw) -> dict:
    size = draw(st.integers(min_value=1, max_value=4))
    per_pod = draw(st.sampled_from([1, 2, 4, 8, 8, 3, 0]))
    return {
        "model": {"id": draw(st.sampled_from(["org/model", "Org/Model-70B-Instruct:fp8", "/models/local"]))},
        "engine": {
            "name": draw(st.sampled_from(["sglang", "vllm", "lmdeploy"])),
            "vllm": {"backend": draw(st.sampled_from(["mp", "ray"]))},
        },
        "accelerator": {"countPerPod": per_pod},
        "parallelism": draw(parallelism(size, per_pod)),
        "replicas": draw(st.integers(min_value=0, max_value=12)),
        "group": {
            "size": size,
            "restartPolicy": draw(st.sampled_from(["", "", "RecreateGroupOnPodRestart", "RecreateGroupAfterStart", "None"])),
            "startupPolicy": draw(st.sampled_from(["LeaderCreated", "LeaderCreated", "LeaderCreated", "LeaderReady"])),
            "subGroup": {
                "size": draw(st.sampled_from([0, 0, 0, 0, 1, 2, 3])),
                "type": draw(st.sampled_from(["LeaderWorker", "LeaderExcluded"])),
            },
        },
        "rollout": {"maxUnavailable": draw(int_or_percent), "maxSurge": draw(int_or_percent)},
    }


def _options() -> CheckOptions:
    crd = LWS_CRD if LWS_CRD.is_file() else None
    return CheckOptions(crd_file=crd, kube_versions=kubernetes.default_versions())


def assert_render_or_clear_failure(helm_binary: str, values: dict) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(values)
    try:
        manifest = helm_template(helm_binary, values=values)
    except RenderError as error:
        lines = [line.strip() for line in str(error).splitlines()]
        paths = [match.group("path") for match in map(_PROBLEM_LINE.match, lines) if match]
        assert paths, f"helm failed without a value path:\n{error}"
        assert set(paths) <= VALUE_PATHS, f"unknown value paths {set(paths) - VALUE_PATHS}:\n{error}"
        return

    objects = [document for document in yaml.safe_load_all(manifest) if document]
    problems = check_rendered(objects, values, _options(), "generated")
    assert [problem.format() for problem in problems] == [], yaml.safe_dump(values)


@pytest.mark.parametrize("helm_name", sorted(HELM_BINARIES))
def test_generated_values(helm_name):
    if not LWS_CRD.is_file():
        pytest.skip(f"LWS CRD not found at {LWS_CRD}; the CRD check needs the shared/ folder beside the repository")
    helm_binary = HELM_BINARIES[helm_name]

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(chart_values())
    def check(values: dict) -> None:
        assert_render_or_clear_failure(helm_binary, values)

    check()
