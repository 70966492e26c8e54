"""Check LeaderWorkerSet objects against the LWS CRD schema and the LWS admission rules.

The admission rules are those the validating webhook of LWS v0.10.0 applies, plus the name budget that
keeps the worker pods' controller-revision-hash label within 63 characters.
"""
from __future__ import annotations

import copy
import math
import re
from functools import cache
from pathlib import Path
from typing import Any, Callable

import jsonschema
import yaml

from generator.errors import GeneratorError, Problem

MAX_INT32 = 2_147_483_647
MAX_REPLICAS = 1_000_000
SUBGROUP_EXCLUSIVE_TOPOLOGY = "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology"
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PERCENT = re.compile(r"^(\d+)%$")
# The StatefulSet controller labels pods with `<statefulset>-<hash>`; the hash has at most
# 10 characters, and a worker StatefulSet is named `<lws>-<group index>`.
_REVISION_HASH_SUFFIX = 12

# LeaderWorkerSet fields the chart fills from one values key, so a problem can name the key.
VALUE_KEYS = {
    "metadata.name": "fullnameOverride",
    "spec.replicas": "replicas",
    "spec.leaderWorkerTemplate.size": "group.size",
    "spec.leaderWorkerTemplate.restartPolicy": "group.restartPolicy",
    "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize": "group.subGroup.size",
    "spec.startupPolicy": "group.startupPolicy",
    "spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable": "rollout.maxUnavailable",
    "spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge": "rollout.maxSurge",
    "spec.rolloutStrategy.rollingUpdateConfiguration.partition": "rollout.partition",
}


def _path(field: str) -> str:
    return f"$.LeaderWorkerSet.{field}"


def _hint(field: str) -> str:
    key = VALUE_KEYS.get(field)
    return f"set by values key {key}" if key else ""


def _strict(schema: Any) -> Any:
    """Copy a CRD schema and reject unknown fields where the API server would prune them."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@cache
def _crd_validator(crd_file: str) -> jsonschema.Draft4Validator:
    path = Path(crd_file)
    try:
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise GeneratorError(Problem("", f"failed to read the LWS CRD: {error}", "pass --crd with the CRD YAML", crd_file)) from error
    versions = [version for version in (crd.get("spec") or {}).get("versions", []) if version.get("name") == "v1"]
    if not versions:
        raise GeneratorError(Problem("spec.versions", "has no v1 version", "pass the leaderworkersets.leaderworkerset.x-k8s.io CRD", crd_file))
    schema = copy.deepcopy(versions[0]["schema"]["openAPIV3Schema"])
    # metadata is validated by the API server itself, not by the CRD schema.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return jsonschema.Draft4Validator(_strict(schema))


def check_crd(document: dict[str, Any], crd_file: str, file: str) -> list[Problem]:
    """Validate one LeaderWorkerSet against the openAPIV3Schema of the CRD's v1 version."""
    problems = []
    for error in _crd_validator(crd_file).iter_errors(document):
        field = ".".join(str(part) if not isinstance(part, int) else f"[{part}]" for part in error.absolute_path).replace(".[", "[")
        problems.append(Problem(_path(field), f"{_short(error.message)} (LWS CRD schema)", _hint(field), file))
    return problems


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def resolve_percent(value: Any, replicas: int, round_up: bool) -> int | None:
    """Resolve an int-or-percent rollout value the way LWS does; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _PERCENT.match(str(value))
    if not match:
        return None
    scaled = int(match.group(1)) * replicas / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def check_admission(document: dict[str, Any], file: str) -> list[Problem]:
    """Apply the LWS webhook's validation rules to one LeaderWorkerSet."""
    problems: list[Problem] = []

    def report(field: str, message: str) -> None:
        problems.append(Problem(_path(field), message, _hint(field), file))

    metadata = document.get("metadata") or {}
    spec = document.get("spec") or {}
    template = spec.get("leaderWorkerTemplate") or {}
    name = str(metadata.get("name", ""))
    replicas = spec.get("replicas", 1)
    size = template.get("size", 1)

    if len(name) > 63 or not _DNS_1035.match(name):
        report("metadata.name", f"{name!r} is not a DNS-1035 label (at most 63 characters of [a-z0-9-], starting with a letter)")
    if not isinstance(replicas, int) or not 0 <= replicas <= MAX_REPLICAS:
        report("spec.replicas", f"{replicas!r} is outside 0..{MAX_REPLICAS}")
    if not isinstance(size, int) or size < 1:
        report("spec.leaderWorkerTemplate.size", f"{size!r} must be at least 1")
    if isinstance(replicas, int) and isinstance(size, int) and replicas * size > MAX_INT32:
        report("spec.leaderWorkerTemplate.size", f"replicas ({replicas}) x size ({size}) is above {MAX_INT32}")

    if isinstance(replicas, int) and isinstance(size, int) and size > 1 and _DNS_1035.match(name):
        highest_index = max(replicas - 1, 0)
        budget = 63 - _REVISION_HASH_SUFFIX - len(str(highest_index))
        if len(name) > budget:
            report(
                "metadata.name",
                f"{name!r} has {len(name)} characters; with {replicas} groups the worker pods' controller-revision-hash label needs at most {budget}",
            )

    _check_subgroup(metadata, template, size, report)
    _check_rollout(spec, replicas, report)
    return problems


def _check_subgroup(metadata: dict[str, Any], template: dict[str, Any], size: Any, report: Callable[[str, str], None]) -> None:
    policy = template.get("subGroupPolicy")
    annotations = metadata.get("annotations") or {}
    if SUBGROUP_EXCLUSIVE_TOPOLOGY in annotations and not policy:
        report(f"metadata.annotations.{SUBGROUP_EXCLUSIVE_TOPOLOGY}", "needs spec.leaderWorkerTemplate.subGroupPolicy (set group.subGroup.size)")
    if not policy or not isinstance(size, int):
        return

    field = "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize"
    sub_size = policy.get("subGroupSize")
    policy_type = policy.get("subGroupPolicyType", "LeaderWorker")
    if not isinstance(sub_size, int) or sub_size < 1:
        report(field, f"{sub_size!r} must be at least 1")
    elif sub_size > size:
        report(field, f"{sub_size} is larger than size ({size})")
    elif policy_type == "LeaderExcluded" and (size - 1) % sub_size != 0:
        report(field, f"{sub_size} does not divide size - 1 ({size - 1}), which LeaderExcluded requires")
    elif size % sub_size != 0 and (size - 1) % sub_size != 0:
        report(field, f"{sub_size} divides neither size ({size}) nor size - 1 ({size - 1})")


def _check_rollout(spec: dict[str, Any], replicas: Any, report: Callable[[str, str], None]) -> None:
    configuration = (spec.get("rolloutStrategy") or {}).get("rollingUpdateConfiguration") or {}
    replicas = replicas if isinstance(replicas, int) else 0
    unavailable_field = "spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable"
    surge_field = "spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge"
    resolved = {}
    for field, default, round_up in ((unavailable_field, 1, False), (surge_field, 0, True)):
        value = configuration.get(field.rsplit(".", 1)[1], default)
        percent = _PERCENT.match(str(value))
        if percent and int(percent.group(1)) > 100:
            report(field, f"{value!r} is above 100%")
        number = resolve_percent(value, replicas, round_up)
        if number is None or number < 0:
            report(field, f"{value!r} is not a non-negative integer or percentage")
            return
        resolved[field] = number
    if replicas > 0 and resolved[unavailable_field] == 0 and resolved[surge_field] == 0:
        report(unavailable_field, f"maxUnavailable and maxSurge both resolve to 0 with {replicas} replicas, so no update can proceed")
    partition = configuration.get("partition", 0)
    if not isinstance(partition, int) or partition < 0:
        report("spec.rolloutStrategy.rollingUpdateConfiguration.partition", f"{partition!r} must be a non-negative integer")
