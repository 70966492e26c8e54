"""The generated values schema: up to date, in step with values.yaml, and strict where it should be."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator import cli, cmd_schema
from generator.errors import GeneratorError
from generator.values_schema import (
    SCHEMA_FILE,
    VALUES_FILE,
    build_schema,
    read_descriptions,
    render_schema,
    schema_keys,
    values_keys,
)

FREE_FORM_KEYS = {
    "engine.args",
    "fabric.custom.env",
    "fabric.custom.resources",
    "fabric.custom.annotations",
    "resources.requests",
    "resources.limits",
    "service.annotations",
    "env",
    "commonLabels",
    "lwsLabels",
    "lwsAnnotations",
    "podLabels",
    "podAnnotations",
    "nodeSelector",
    "affinity",
    "monitoring.serviceMonitor.labels",
    "monitoring.podMonitor.labels",
    "monitoring.prometheusRule.labels",
    "securityContext",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return build_schema()


@pytest.fixture(scope="module")
def validator(schema) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema)


def errors_for(validator: jsonschema.Draft7Validator, values: dict) -> list[str]:
    return [".".join(str(part) for part in error.absolute_path) for error in validator.iter_errors(values)]


def test_committed_schema_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), "run `python -m generator schema`"


def test_schema_check_fails_when_stale(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "values.schema.json"
    stale.write_text(render_schema().replace('"maximum": 65535', '"maximum": 65534', 1), encoding="utf-8")
    monkeypatch.setattr(cmd_schema, "SCHEMA_FILE", stale)

    exit_code = cli.main(["schema", "--check"])

    assert exit_code == 1
    assert "is missing or stale" in capsys.readouterr().err


def test_schema_command_writes_file(tmp_path, monkeypatch):
    target = tmp_path / "values.schema.json"
    monkeypatch.setattr(cmd_schema, "SCHEMA_FILE", target)

    assert cli.main(["schema"]) == 0
    assert target.read_text(encoding="utf-8") == render_schema()
    assert cli.main(["schema", "--check"]) == 0


def test_schema_keys_match_values_yaml(schema):
    values = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))

    assert set(values_keys(values)) - set(schema_keys(schema)) == set()
    assert set(schema_keys(schema)) - set(values_keys(values)) == set()


def test_extra_values_key_fails_build(tmp_path):
    values_file = tmp_path / "values.yaml"
    text = VALUES_FILE.read_text(encoding="utf-8")
    values_file.write_text(text + "# -- A key the schema does not declare.\nunknownKey: 1\n", encoding="utf-8")

    with pytest.raises(GeneratorError) as raised:
        build_schema(values_file)

    assert [problem.path for problem in raised.value.problems] == ["unknownKey"]


def test_missing_values_key_fails_build(tmp_path):
    values_file = tmp_path / "values.yaml"
    text = VALUES_FILE.read_text(encoding="utf-8")
    values_file.write_text(text.replace("  checkpointGiB: 0\n", ""), encoding="utf-8")

    with pytest.raises(GeneratorError) as raised:
        build_schema(values_file)

    assert [problem.path for problem in raised.value.problems] == ["model.checkpointGiB"]


def test_every_leaf_has_description(schema):
    def walk(node: dict, prefix: str) -> list[str]:
        missing = []
        for name, child in node.get("properties", {}).items():
            dotted = f"{prefix}{name}"
            if "properties" in child:
                missing += walk(child, f"{dotted}.")
            elif not child.get("description"):
                missing.append(dotted)
        return missing

    assert walk(schema, "") == []


def test_objects_reject_unknown_keys(schema):
    def walk(node: dict, prefix: str) -> list[str]:
        loose = []
        for name, child in node.get("properties", {}).items():
            dotted = f"{prefix}{name}"
            if child.get("type") == "object" and dotted not in FREE_FORM_KEYS and child.get("additionalProperties") is not False:
                loose.append(dotted)
            loose += walk(child, f"{dotted}.")
        return loose

    assert schema["additionalProperties"] is False
    assert walk(schema, "") == []


def test_chart_defaults_are_valid(validator):
    values = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))
    assert errors_for(validator, values) == []


def test_multiline_description_is_joined():
    text = "group:\n  # -- Pods per group,\n  # leader included.\n  size: 1\n"
    assert read_descriptions(text) == {"group.size": "Pods per group, leader included."}


@pytest.mark.parametrize(
    ("values", "expected_errors"),
    [
        ({"group": {"restartPolicy": "Default"}}, ["group.restartPolicy"]),
        ({"group": {"restartPolicy": ""}}, []),
        ({"group": {"restartPolicy": "RecreateGroupAfterStart"}}, []),
        ({"rollout": {"maxUnavailable": None, "maxSurge": "25%"}}, []),
        ({"rollout": {"maxUnavailable": 2}}, []),
        ({"rollout": {"maxUnavailable": "101%"}}, ["rollout.maxUnavailable"]),
        ({"rollout": {"maxSurge": -1}}, ["rollout.maxSurge"]),
        ({"resources": {"requests": {"memory": "16Gi", "cpu": "500m", "ephemeral-storage": 100}}}, []),
        ({"resources": {"limits": {"memory": "16 GB"}}}, ["resources.limits.memory"]),
        ({"engine": {"port": 0}}, []),
        ({"engine": {"port": 65536}}, ["engine.port"]),
        ({"engine": {"vllm": {"masterPort": 0}}}, ["engine.vllm.masterPort"]),
        ({"replicas": 1000000}, []),
        ({"replicas": 1000001}, ["replicas"]),
        ({"env": {"NCCL DEBUG": "INFO"}}, ["env"]),
        ({"env": {"FLAG": True, "PORT": 8000}}, []),
        ({"engine": {"args": {"gpuMemoryUtilization": 0.9, "enableX": True, "json": {"a": 1}}}}, []),
        ({"shm": {"sizeLimit": ""}}, []),
        ({"shm": {"sizeLimit": "20Gi"}}, []),
        ({"podLabels": {"team": "a b"}}, ["podLabels.team"]),
        ({"imagePullSecrets": [{"nam": "registry"}]}, ["imagePullSecrets.0", "imagePullSecrets.0"]),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else str(value),
)
def test_schema_accepts_and_rejects(validator, values, expected_errors):
    assert sorted(errors_for(validator, values)) == sorted(expected_errors)


def test_schema_is_draft_07(schema):
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_schema_file_is_json():
    assert json.loads(Path(SCHEMA_FILE).read_text(encoding="utf-8"))["type"] == "object"
