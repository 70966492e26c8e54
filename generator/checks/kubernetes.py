"""Check rendered objects against the Kubernetes OpenAPI schemas and the label rules.

The schemas come from the `kubernetes-validate` package, which ships the OpenAPI schemas of
Kubernetes 1.25 to 1.37 (package release 1.37.0). The strict variant is used, so an unknown
field fails as it does under `kubectl apply --validate=strict`. By default objects are checked
against the oldest version the chart supports (Chart.yaml kubeVersion >=1.27) and the newest
version the package ships. A LeaderWorkerSet is checked here only for its pod templates, as
io.k8s.api.core.v1.PodTemplateSpec; the rest of it is checked against the LWS CRD (checks/lws.py).
"""
from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema
import referencing
from packaging.version import Version

from generator.errors import Problem

OLDEST_SUPPORTED_KUBE_VERSION = "1.27"
_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
POD_TEMPLATE_REF = f"{_DEFINITIONS_ID}#/$defs/io.k8s.api.core.v1.PodTemplateSpec"

_QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _schema_root():
    import importlib.resources

    return importlib.resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")


@cache
def available_versions() -> tuple[str, ...]:
    """Return the Kubernetes minor versions (e.g. "1.37") with schemas, oldest first."""
    versions = set()
    for entry in _schema_root().iterdir():
        match = re.fullmatch(r"v(\d+\.\d+)\.\d+-local-strict", entry.name)
        if match:
            versions.add(match.group(1))
    return tuple(sorted(versions, key=Version))


def default_versions() -> tuple[str, ...]:
    """Return the Kubernetes versions checked when none is given: the oldest supported and the newest shipped."""
    newest = available_versions()[-1]
    return tuple(dict.fromkeys((OLDEST_SUPPORTED_KUBE_VERSION, newest)))


def _schema_dir(version: str):
    return _schema_root().joinpath(f"v{version}.0-local-strict")


@cache
def _registry(version: str) -> referencing.Registry:
    definitions = json.loads(_schema_dir(version).joinpath("_definitions.json").read_text(encoding="utf-8"))
    return referencing.Registry().with_resource(_DEFINITIONS_ID, referencing.Resource.from_contents(definitions))


@cache
def _object_validator(version: str, kind: str, api_version: str) -> jsonschema.Draft202012Validator | None:
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _schema_dir(version).joinpath(f"{kind.lower()}-{group_version}.json")
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


@cache
def _pod_template_validator(version: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": POD_TEMPLATE_REF}, registry=_registry(version))


def _path(prefix: str, parts: Any) -> str:
    text = prefix
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _errors(validator: jsonschema.Draft202012Validator, document: Any, prefix: str, version: str, file: str) -> list[Problem]:
    problems = []
    for error in validator.iter_errors(document):
        problems.append(Problem(_path(prefix, error.absolute_path), f"{error.message} (Kubernetes {version} OpenAPI schema)", "", file))
    return problems


def check_openapi(objects: list[dict[str, Any]], versions: tuple[str, ...], file: str) -> list[Problem]:
    """Validate each object against the OpenAPI schema of each Kubernetes version.

    Kinds the package has no schema for (custom resources) are skipped, except that the pod
    templates of a LeaderWorkerSet are validated as PodTemplateSpec.
    """
    problems: list[Problem] = []
    for version in versions:
        for document in objects:
            kind = document.get("kind", "")
            prefix = f"$.{kind}"
            if kind == "LeaderWorkerSet":
                template = document.get("spec", {}).get("leaderWorkerTemplate", {})
                for role in ("leaderTemplate", "workerTemplate"):
                    if role in template:
                        problems += _errors(
                            _pod_template_validator(version),
                            template[role],
                            f"{prefix}.spec.leaderWorkerTemplate.{role}",
                            version,
                            file,
                        )
                continue
            validator = _object_validator(version, kind, document.get("apiVersion", ""))
            if validator is not None:
                problems += _errors(validator, document, prefix, version, file)
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def label_key_problem(key: str) -> str:
    """Return why `key` is not a valid label key, or "" when it is."""
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_1123_SUBDOMAIN.match(prefix)):
        return f"label key {key!r} has an invalid prefix (a DNS-1123 subdomain of at most 253 characters)"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"label key {key!r} is invalid (name part: at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends)"
    return ""


def label_value_problem(value: Any) -> str:
    """Return why `value` is not a valid label value, or "" when it is."""
    if not isinstance(value, str):
        return f"label value {value!r} is a {type(value).__name__}, not a string"
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        return f"label value {value!r} is invalid (at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends)"
    return ""


def _label_maps(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    kind = document.get("kind", "")
    maps = [(f"$.{kind}.metadata.labels", document.get("metadata", {}).get("labels") or {})]
    spec = document.get("spec", {}) or {}
    if kind == "Service":
        maps.append((f"$.{kind}.spec.selector", spec.get("selector") or {}))
    template = spec.get("leaderWorkerTemplate", {}) or {}
    for role in ("leaderTemplate", "workerTemplate"):
        labels = (template.get(role) or {}).get("metadata", {}).get("labels") or {}
        maps.append((f"$.{kind}.spec.leaderWorkerTemplate.{role}.metadata.labels", labels))
    return maps


def check_labels(objects: list[dict[str, Any]], file: str) -> list[Problem]:
    """Check every label key and value (and Service selectors) of the rendered objects."""
    problems: list[Problem] = []
    for document in objects:
        for prefix, labels in _label_maps(document):
            for key, value in labels.items():
                for message in (label_key_problem(str(key)), label_value_problem(value)):
                    if message:
                        problems.append(Problem(f"{prefix}.{key}", message, "", file))
    return problems


def check_env_values(objects: list[dict[str, Any]], file: str) -> list[Problem]:
    """Check that every env entry of every container has a string value or a valueFrom."""
    problems: list[Problem] = []
    for document in objects:
        for prefix, container in containers(document):
            for index, entry in enumerate(container.get("env") or []):
                path = f"{prefix}.env[{index}]"
                if "value" in entry and not isinstance(entry["value"], str):
                    problems.append(
                        Problem(path, f"env {entry.get('name')!r} has a {type(entry['value']).__name__} value; Kubernetes needs a string", "quote the value", file)
                    )
                if "value" not in entry and "valueFrom" not in entry:
                    problems.append(Problem(path, f"env {entry.get('name')!r} has neither value nor valueFrom", "", file))
    return problems


def containers(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """List (path, container) for every container of a LeaderWorkerSet's pod templates."""
    found = []
    kind = document.get("kind", "")
    template = (document.get("spec") or {}).get("leaderWorkerTemplate") or {}
    for role in ("leaderTemplate", "workerTemplate"):
        pod_spec = ((template.get(role) or {}).get("spec")) or {}
        for index, container in enumerate(pod_spec.get("containers") or []):
            found.append((f"$.{kind}.spec.leaderWorkerTemplate.{role}.spec.containers[{index}]", container))
    return found
