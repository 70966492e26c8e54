"""Connection to a Kubernetes API server through the official `kubernetes` Python client.

Commands that read cluster state (`status`, `discover`) share the options and error handling
here. Every API error becomes a GeneratorError that names the object and what to check next.
"""
from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from generator.errors import GeneratorError, Problem

# Seconds to wait for one API response. A slow API server fails the command instead of hanging it.
REQUEST_TIMEOUT_SECONDS = 30
SERVICE_ACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class Connection:
    """An API client plus the namespace of the selected kubeconfig context."""

    api_client: client.ApiClient
    default_namespace: str
    server: str


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config, then the in-cluster service account)",
    )
    parser.add_argument("--context", metavar="CTX", help="kubeconfig context (default: the current context)")


def _default_kubeconfig_exists() -> bool:
    if os.environ.get("KUBECONFIG"):
        return True
    return Path(config.KUBE_CONFIG_DEFAULT_LOCATION).expanduser().exists()


def _context_namespace(kubeconfig: Path | None, context: str | None) -> str:
    contexts, active = config.list_kube_config_contexts(str(kubeconfig) if kubeconfig else None)
    selected = active
    if context is not None:
        selected = next((entry for entry in contexts if entry.get("name") == context), None)
    if not selected:
        return "default"
    return str((selected.get("context") or {}).get("namespace") or "default")


def connect(kubeconfig: Path | None, context: str | None) -> Connection:
    """Load a kubeconfig file, or the in-cluster service account when no kubeconfig exists."""
    if kubeconfig is not None and not kubeconfig.is_file():
        raise GeneratorError(Problem("--kubeconfig", f"kubeconfig file {str(kubeconfig)!r} not found", "check the path"))
    listed = [Path(entry).expanduser() for entry in os.environ.get("KUBECONFIG", "").split(os.pathsep) if entry]
    if kubeconfig is None and listed and not any(path.is_file() for path in listed):
        names = ", ".join(str(path) for path in listed)
        raise GeneratorError(Problem("KUBECONFIG", f"names {names}, which does not exist", "fix KUBECONFIG or pass --kubeconfig FILE"))

    if kubeconfig is not None or _default_kubeconfig_exists():
        configuration = client.Configuration()
        try:
            config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
            namespace = _context_namespace(kubeconfig, context)
        except ConfigException as error:
            raise GeneratorError(
                Problem("--kubeconfig", f"invalid kubeconfig: {error}", "check the file and the --context name")
            ) from None
        return Connection(client.ApiClient(configuration), namespace, configuration.host)

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as error:
            raise GeneratorError(Problem("", f"invalid in-cluster configuration: {error}", "pass --kubeconfig")) from None
        namespace = "default"
        if SERVICE_ACCOUNT_NAMESPACE_FILE.is_file():
            namespace = SERVICE_ACCOUNT_NAMESPACE_FILE.read_text(encoding="utf-8").strip() or "default"
        return Connection(client.ApiClient(configuration), namespace, configuration.host)

    raise GeneratorError(
        Problem("--kubeconfig", "no kubeconfig found and not running in a cluster", "pass --kubeconfig FILE or set KUBECONFIG")
    )


def api_problem(error: ApiException | urllib3.exceptions.HTTPError, server: str, resource: str) -> GeneratorError:
    """Convert a failed API call on `resource` (e.g. "LeaderWorkerSet ns/name") into a GeneratorError."""
    if isinstance(error, urllib3.exceptions.HTTPError):
        return GeneratorError(
            Problem("", f"cannot reach the API server at {server} while reading {resource}: {error}", "check the kubeconfig and the network")
        )
    reason = error.reason
    try:
        body = json.loads(error.body or "{}")
        reason = body.get("message") or reason
    except (TypeError, ValueError):
        pass
    if error.status in (401, 403):
        return GeneratorError(Problem("", f"access to {resource} denied ({error.status}): {reason}", "check your credentials and RBAC"))
    return GeneratorError(Problem("", f"reading {resource} failed ({error.status}): {reason}", "check the API server"))


def read_json(api_call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a generated API method and return the response body as plain JSON data.

    Plain JSON keeps field names as the API spells them (camelCase), so custom resources and
    core objects are handled the same way.
    """
    response = api_call(*args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_SECONDS, **kwargs)
    try:
        data = json.loads(response.data)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise GeneratorError(Problem("", "the API server returned a response that is not a JSON object", "check the API server"))
    return data
