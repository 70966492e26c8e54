"""The JSON Schema of the chart's values, written to charts/lws-inference/values.schema.json.

The structure, types and limits of every key live here. The descriptions are read from the
`# --` comments in values.yaml, so each key is documented in one place. `build_schema()` raises
GeneratorError when values.yaml and this module disagree on the set of keys.

The schema is draft-07, which both Helm 3 (gojsonschema) and Helm 4 (santhosh-tekuri/jsonschema)
validate. Patterns use only RE2 syntax, which Go's regexp and Python's re both accept.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from generator.errors import GeneratorError, Problem
from generator.render import CHART_DIR

VALUES_FILE = CHART_DIR / "values.yaml"
SCHEMA_FILE = CHART_DIR / "values.schema.json"

Schema = dict[str, Any]

MAX_INT32 = 2_147_483_647
# The LWS admission webhook (v0.10.0) rejects spec.replicas outside this range.
MAX_REPLICAS = 1_000_000

# Kubernetes resource.Quantity without a sign, e.g. 16Gi, 500m, 1.5, 1e3.
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)?$"
# A percentage for rollout settings, 0% to 100%.
PERCENT_PATTERN = r"^(100|[1-9]?[0-9])%$"
# Qualified name of a label key or extended resource: optional DNS-1123 subdomain prefix and a
# name of at most 63 characters. The length of the prefix (253) is not expressed here.
QUALIFIED_NAME_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
# Kubernetes accepts any C identifier-like name with dots and dashes for env vars.
ENV_NAME_PATTERN = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
DNS_1123_SUBDOMAIN_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$"
SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
# A network interface name as NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME both read it: Gloo takes
# one exact name, so NCCL's prefix lists (a,b) and its ^ and = forms are not accepted.
INTERFACE_NAME_PATTERN = r"^[-_.:A-Za-z0-9]{0,15}$"
# A Prometheus duration such as 30s or 1m30s.
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w|y))+$"


def _object(properties: dict[str, Schema]) -> Schema:
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _string(**constraints: Any) -> Schema:
    return {"type": "string", **constraints}


def _integer(minimum: int = 0, maximum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _boolean() -> Schema:
    return {"type": "boolean"}


def _port(allow_zero: bool) -> Schema:
    return _integer(0 if allow_zero else 1, 65535)


def _enum(*choices: str) -> Schema:
    return {"type": "string", "enum": list(choices)}


def _map(value_schema: Schema, key_pattern: str | None = None) -> Schema:
    """Return a free-form map schema: any key (matching key_pattern when given), values of one schema."""
    schema: Schema = {"type": "object", "additionalProperties": value_schema}
    if key_pattern:
        schema["propertyNames"] = {"pattern": key_pattern}
    return schema


def _free_object() -> Schema:
    """Return the schema of an object passed to Kubernetes as it is (affinity, securityContext, volumes)."""
    return {"type": "object"}


def _int_or_percent() -> Schema:
    return {
        "oneOf": [
            {"type": "null"},
            {"type": "integer", "minimum": 0, "maximum": MAX_INT32},
            {"type": "string", "pattern": PERCENT_PATTERN},
        ]
    }


def _quantity() -> Schema:
    return {
        "oneOf": [
            {"type": "string", "pattern": QUANTITY_PATTERN},
            {"type": "number", "minimum": 0},
        ]
    }


def _quantity_or_empty() -> Schema:
    return {"anyOf": [{"const": ""}, _quantity()]}


def _scalar_list() -> Schema:
    return {"type": "array", "items": {"type": ["string", "number", "boolean"]}}


def _labels() -> Schema:
    return _map(_string(maxLength=63, pattern=LABEL_VALUE_PATTERN), QUALIFIED_NAME_PATTERN)


def _annotations() -> Schema:
    return _map(_string(), QUALIFIED_NAME_PATTERN)


def _probe(with_failure_threshold: bool) -> dict[str, Schema]:
    properties = {
        "enabled": _boolean(),
        "periodSeconds": _integer(1, MAX_INT32),
        "timeoutSeconds": _integer(1, MAX_INT32),
    }
    if with_failure_threshold:
        properties["failureThreshold"] = _integer(1, MAX_INT32)
    return properties


def _engine_args_value() -> Schema:
    """Return the schema of one engine.args value: a scalar, null, a list of scalars, or a map (rendered as JSON)."""
    return {
        "anyOf": [
            {"type": ["string", "number", "boolean", "null"]},
            {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
            {"type": "object"},
        ]
    }


def _toleration() -> Schema:
    return _object(
        {
            "key": _string(),
            "operator": _enum("Exists", "Equal"),
            "value": _string(),
            "effect": _enum("", "NoSchedule", "PreferNoSchedule", "NoExecute"),
            "tolerationSeconds": {"type": "integer"},
        }
    )


def value_structure() -> Schema:
    """Return the schema of values.yaml without descriptions."""
    custom_role = _object({"command": _scalar_list(), "args": _scalar_list()})
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Values of the lws-inference chart",
        **_object(
            {
                "nameOverride": _string(maxLength=63),
                "fullnameOverride": _string(maxLength=253),
                "model": _object(
                    {
                        "id": _string(),
                        "servedName": _string(),
                        "checkpointGiB": {"type": "number", "minimum": 0},
                        "maxModelLen": _integer(0),
                        "trustRemoteCode": _boolean(),
                    }
                ),
                "engine": _object(
                    {
                        "name": _enum("sglang", "vllm", "lmdeploy", "custom"),
                        "image": _object(
                            {
                                "repository": _string(),
                                "tag": _string(),
                                "pullPolicy": _enum("Always", "IfNotPresent", "Never"),
                            }
                        ),
                        "port": _port(allow_zero=True),
                        "healthPath": _string(pattern=r"^(/.*)?$"),
                        "metricsPath": _string(pattern=r"^(/.*)?$"),
                        "sglang": _object({"distInitPort": _port(allow_zero=False)}),
                        "vllm": _object({"backend": _enum("mp", "ray"), "masterPort": _port(allow_zero=False)}),
                        "ray": _object({"port": _port(allow_zero=False)}),
                        "args": _map(_engine_args_value(), r"^(--)?[A-Za-z0-9][-_A-Za-z0-9.]*$"),
                        "extraArgs": _scalar_list(),
                        "custom": _object({"leader": custom_role, "worker": custom_role}),
                    }
                ),
                "accelerator": _object(
                    {
                        "resourceName": _string(pattern=QUALIFIED_NAME_PATTERN),
                        "countPerPod": _integer(0, MAX_INT32),
                        "product": _string(maxLength=63, pattern=LABEL_VALUE_PATTERN),
                    }
                ),
                "parallelism": _object({"tensor": _integer(0, MAX_INT32), "pipeline": _integer(0, MAX_INT32)}),
                "replicas": _integer(0, MAX_REPLICAS),
                "group": _object(
                    {
                        "size": _integer(1, MAX_INT32),
                        "restartPolicy": _enum("", "RecreateGroupOnPodRestart", "RecreateGroupAfterStart", "None"),
                        "startupPolicy": _enum("LeaderCreated", "LeaderReady"),
                        "subdomainPolicy": _enum("Shared", "UniquePerReplica"),
                        "leaderWaitSeconds": _integer(1, MAX_INT32),
                        "subGroup": _object(
                            {"size": _integer(0, MAX_INT32), "type": _enum("LeaderWorker", "LeaderExcluded")}
                        ),
                        "exclusiveTopology": {"anyOf": [{"const": ""}, _string(pattern=QUALIFIED_NAME_PATTERN)]},
                        "subGroupExclusiveTopology": {
                            "anyOf": [{"const": ""}, _string(pattern=QUALIFIED_NAME_PATTERN)]
                        },
                    }
                ),
                "rollout": _object(
                    {
                        "maxUnavailable": _int_or_percent(),
                        "maxSurge": _int_or_percent(),
                        "partition": _integer(0, MAX_INT32),
                    }
                ),
                "service": _object(
                    {
                        "enabled": _boolean(),
                        "type": _enum("ClusterIP", "NodePort", "LoadBalancer"),
                        "port": _port(allow_zero=True),
                        "annotations": _annotations(),
                    }
                ),
                "leadersService": _object({"enabled": _boolean()}),
                "metrics": _object({"enabled": _boolean()}),
                "probes": _object(
                    {
                        "startup": _object(
                            {
                                **_probe(with_failure_threshold=False),
                                "minSeconds": _integer(1, MAX_INT32),
                                "baseSeconds": _integer(0, MAX_INT32),
                                "loadMiBPerSecond": {"type": "number", "exclusiveMinimum": 0},
                            }
                        ),
                        "readiness": _object(_probe(with_failure_threshold=True)),
                        "liveness": _object(_probe(with_failure_threshold=True)),
                    }
                ),
                "resources": _object(
                    {
                        "requests": _map(_quantity(), QUALIFIED_NAME_PATTERN),
                        "limits": _map(_quantity(), QUALIFIED_NAME_PATTERN),
                    }
                ),
                "shm": _object({"sizeLimit": {"anyOf": [{"const": ""}, _string(pattern=QUANTITY_PATTERN)]}}),
                "huggingface": _object(
                    {
                        "tokenSecret": _object(
                            {
                                "name": _string(maxLength=253, pattern=DNS_1123_SUBDOMAIN_PATTERN),
                                "key": _string(pattern=SECRET_KEY_PATTERN),
                            }
                        )
                    }
                ),
                "fabric": _object(
                    {
                        "type": _enum("tcp", "infiniband", "roce", "custom"),
                        "socketIfname": _string(pattern=INTERFACE_NAME_PATTERN),
                        "hostNetwork": _boolean(),
                        "networks": _string(),
                        "ncclDebug": _enum("", "VERSION", "WARN", "INFO", "TRACE"),
                        "rdma": _object(
                            {
                                "resourceName": _string(pattern=QUALIFIED_NAME_PATTERN),
                                "count": _integer(1, MAX_INT32),
                                "hca": _string(pattern=r"^[-_A-Za-z0-9^=:,]*$"),
                            }
                        ),
                        "roce": _object({"gidIndex": _integer(0, 255)}),
                        "custom": _object(
                            {
                                "env": _map({"type": ["string", "number", "boolean"]}, ENV_NAME_PATTERN),
                                "resources": _map(_quantity(), QUALIFIED_NAME_PATTERN),
                                "annotations": _annotations(),
                            }
                        ),
                    }
                ),
                "storage": _object(
                    {
                        "type": _enum("hub", "sharedPVC", "hostPath", "pvc", "image"),
                        "source": _enum("huggingface", "modelscope"),
                        "revision": _string(pattern=r"^[-_.A-Za-z0-9/]*$"),
                        "modelPath": _string(pattern=r"^(/.*)?$"),
                        "mountPath": _string(pattern=r"^/.+$"),
                        "downloadMiBPerSecond": _integer(1, MAX_INT32),
                        "lockStaleSeconds": _integer(30, MAX_INT32),
                        "hub": _object(
                            {"cachePath": _string(pattern=r"^/.+$"), "sizeLimit": _quantity_or_empty()}
                        ),
                        "sharedPVC": _object({"claimName": _string(maxLength=253, pattern=DNS_1123_SUBDOMAIN_PATTERN)}),
                        "hostPath": _object({"path": _string(pattern=r"^/.+$")}),
                        "pvc": _object({"claimName": _string(maxLength=253, pattern=DNS_1123_SUBDOMAIN_PATTERN)}),
                        "image": _object(
                            {"reference": _string(), "pullPolicy": _enum("Always", "IfNotPresent", "Never")}
                        ),
                    }
                ),
                "env": _map({"type": ["string", "number", "boolean"]}, ENV_NAME_PATTERN),
                "commonLabels": _labels(),
                "lwsLabels": _labels(),
                "lwsAnnotations": _annotations(),
                "podLabels": _labels(),
                "podAnnotations": _annotations(),
                "imagePullSecrets": {
                    "type": "array",
                    "items": {**_object({"name": _string(minLength=1)}), "required": ["name"]},
                },
                "serviceAccountName": _string(maxLength=253, pattern=DNS_1123_SUBDOMAIN_PATTERN),
                "priorityClassName": _string(maxLength=253),
                "schedulerName": _string(),
                "scheduling": _object(
                    {
                        "kueue": _object({"queueName": _string(maxLength=63, pattern=LABEL_VALUE_PATTERN)}),
                        "volcano": _object({"enabled": _boolean(), "queue": _string()}),
                    }
                ),
                "placement": _object({"spreadGroups": _enum("", "preferred", "required")}),
                "nodeSelector": _map(_string(), QUALIFIED_NAME_PATTERN),
                "tolerations": {"type": "array", "items": _toleration()},
                "affinity": _free_object(),
                "securityContext": _free_object(),
                "terminationGracePeriodSeconds": _integer(0),
                "volumes": {"type": "array", "items": {**_free_object(), "required": ["name"]}},
                "volumeMounts": {"type": "array", "items": {**_free_object(), "required": ["name", "mountPath"]}},
                "autoscaling": _object(
                    {
                        "enabled": _boolean(),
                        "kind": _enum("hpa", "keda"),
                        "minReplicas": _integer(0, MAX_REPLICAS),
                        "maxReplicas": _integer(1, MAX_REPLICAS),
                        "targetCPUUtilizationPercentage": _integer(0, 1000),
                        "podsMetric": _object({"name": _string(), "averageValue": _quantity_or_empty()}),
                        "scaleDownStabilizationSeconds": _integer(0, 3600),
                        "keda": _object(
                            {
                                "pollingIntervalSeconds": _integer(1, MAX_INT32),
                                "cooldownPeriodSeconds": _integer(0, MAX_INT32),
                                "prometheus": _object(
                                    {
                                        "serverAddress": _string(pattern=r"^(https?://.+)?$"),
                                        "query": _string(),
                                        "threshold": _quantity_or_empty(),
                                    }
                                ),
                            }
                        ),
                    }
                ),
                "monitoring": _object(
                    {
                        "serviceMonitor": _object(
                            {"enabled": _boolean(), "interval": _string(pattern=DURATION_PATTERN), "labels": _labels()}
                        ),
                        "podMonitor": _object(
                            {"enabled": _boolean(), "interval": _string(pattern=DURATION_PATTERN), "labels": _labels()}
                        ),
                        "prometheusRule": _object(
                            {
                                "enabled": _boolean(),
                                "severity": _string(minLength=1, maxLength=63, pattern=LABEL_VALUE_PATTERN),
                                "labels": _labels(),
                            }
                        ),
                    }
                ),
                "helmTest": _object(
                    {
                        "enabled": _boolean(),
                        "image": _object({"repository": _string(minLength=1), "tag": _string(minLength=1)}),
                        "timeoutSeconds": _integer(1, 3600),
                    }
                ),
            }
        ),
    }


_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_]+):(\s|$)")
_COMMENT_LINE = re.compile(r"^ *#(?P<text>.*)$")


def read_descriptions(values_text: str) -> dict[str, str]:
    """Map each dotted key of values.yaml to the text of the `# --` comment above it.

    A description starts at a `# --` line and continues over the `#` lines below it up to the
    key. Keys without such a comment (the parent objects) are not in the result.
    """
    descriptions: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None

    for line in values_text.splitlines():
        comment = _COMMENT_LINE.match(line)
        if comment:
            text = comment.group("text").strip()
            if text.startswith("--"):
                pending = [text.removeprefix("--").strip()]
            elif pending is not None:
                pending.append(text)
            continue

        key_match = _KEY_LINE.match(line)
        if not key_match:
            if not line.strip():
                continue
            pending = None
            continue

        indent = len(key_match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key_match.group("key")))
        if pending is not None:
            dotted = ".".join(key for _, key in stack)
            descriptions[dotted] = " ".join(part for part in pending if part)
        pending = None

    return descriptions


def schema_keys(schema: Schema, prefix: str = "") -> list[str]:
    """List the dotted keys the schema declares, parents before children."""
    keys: list[str] = []
    for name, child in schema.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        keys.extend(schema_keys(child, f"{dotted}."))
    return keys


def values_keys(values: dict[str, Any], prefix: str = "") -> list[str]:
    """List the dotted keys of a values document, descending into non-empty maps."""
    keys: list[str] = []
    for name, value in values.items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        if isinstance(value, dict) and value:
            keys.extend(values_keys(value, f"{dotted}."))
    return keys


def _describe(schema: Schema, descriptions: dict[str, str], prefix: str = "") -> None:
    for name, child in schema.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        if dotted in descriptions:
            child["description"] = descriptions[dotted]
        _describe(child, descriptions, f"{dotted}.")


def _leaf_keys(schema: Schema, prefix: str = "") -> list[str]:
    leaves: list[str] = []
    for name, child in schema.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        if "properties" in child:
            leaves.extend(_leaf_keys(child, f"{dotted}."))
        else:
            leaves.append(dotted)
    return leaves


def build_schema(values_file: Path = VALUES_FILE) -> Schema:
    """Build the values schema with descriptions from values_file.

    Raises GeneratorError when a key of values.yaml is missing from the schema, a schema key is
    missing from values.yaml, or a leaf key has no `# --` description.
    """
    import yaml

    text = values_file.read_text(encoding="utf-8")
    values = yaml.safe_load(text) or {}
    schema = value_structure()
    descriptions = read_descriptions(text)

    declared = set(schema_keys(schema))
    present = set(values_keys(values))
    problems = [
        Problem(key, "is in values.yaml but not in the schema", "add it to generator/values_schema.py", str(values_file))
        for key in sorted(present - declared)
    ]
    problems += [
        Problem(key, "is in the schema but not in values.yaml", "add it with a `# --` comment", str(values_file))
        for key in sorted(declared - present)
    ]
    problems += [
        Problem(key, "has no `# --` description", "document the key in values.yaml", str(values_file))
        for key in _leaf_keys(schema)
        if key in present and key not in descriptions
    ]
    if problems:
        raise GeneratorError(problems)

    _describe(schema, descriptions)
    return schema


def render_schema(values_file: Path = VALUES_FILE) -> str:
    """Return the text of values.schema.json: the schema as indented JSON with a final newline."""
    return json.dumps(build_schema(values_file), indent=2) + "\n"
