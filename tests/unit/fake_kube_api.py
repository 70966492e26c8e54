"""A small Kubernetes API stand-in for tests: an http.server on 127.0.0.1 that serves JSON objects.

Routes map a URL path to a list of responses. Each request takes the next response and the
last one repeats, so a test can change the responses between polls. A response is a JSON
object (status 200) or a `(status, object)` pair. Pod lists are filtered by an equality
`labelSelector`, so a wrong selector in the code under test shows up as missing pods.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

Response = dict[str, Any] | tuple[int, dict[str, Any]]


def not_found(kind: str, name: str) -> tuple[int, dict[str, Any]]:
    return 404, {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f'{kind} "{name}" not found',
        "reason": "NotFound",
        "code": 404,
    }


def _matches(labels: dict[str, str], selector: str) -> bool:
    for requirement in filter(None, selector.split(",")):
        key, _, value = requirement.partition("=")
        if labels.get(key) != value:
            return False
    return True


class FakeApiServer:
    """Serves the routes it is given and records every request path with its query string."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Response]] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        handler = self._make_handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def set(self, path: str, *responses: Response) -> None:
        with self._lock:
            self.routes[path] = list(responses)

    def _next_response(self, path: str) -> Response:
        with self._lock:
            responses = self.routes.get(path)
            if not responses:
                return not_found("path", path)
            if len(responses) > 1:
                return responses.pop(0)
            return responses[0]

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                url = urlsplit(self.path)
                server.requests.append(self.path)
                response = server._next_response(url.path)
                status, body = response if isinstance(response, tuple) else (200, response)
                selector = parse_qs(url.query).get("labelSelector", [""])[0]
                if status == 200 and body.get("kind", "").endswith("List") and selector:
                    items = [item for item in body.get("items", []) if _matches(item["metadata"].get("labels", {}), selector)]
                    body = {**body, "items": items}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    def write_kubeconfig(self, path: Path, namespace: str = "serving") -> Path:
        """Write a kubeconfig whose only context points at this server, without credentials."""
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {}}],
            "contexts": [
                {"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": namespace}},
                {"name": "other", "context": {"cluster": "fake", "user": "fake", "namespace": "other-ns"}},
            ],
            "current-context": "fake",
        }
        path.write_text(yaml.safe_dump(kubeconfig), encoding="utf-8")
        return path


@contextmanager
def running_server() -> Iterator[FakeApiServer]:
    server = FakeApiServer()
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def server_with_kubeconfig(monkeypatch: Any, kubeconfig_path: Path) -> Iterator[FakeApiServer]:
    """Run the server with a kubeconfig for it at kubeconfig_path (as `server.kubeconfig`).

    Proxy variables and KUBECONFIG are removed for the test, because the kubernetes client would
    otherwise send requests for 127.0.0.1 through a proxy or read another cluster's config.
    """
    for variable in (*PROXY_VARIABLES, "KUBECONFIG"):
        monkeypatch.delenv(variable, raising=False)
    with running_server() as fake:
        fake.kubeconfig = fake.write_kubeconfig(kubeconfig_path)
        yield fake
