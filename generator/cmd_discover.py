"""`discover`: read GPU node labels from the cluster and print or write the GPU shapes as catalog entries."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from generator.catalog import load_catalog
from generator.discovery import DiscoveredShape, catalog_yaml, discover_shapes
from generator.errors import GeneratorError, Problem
from generator.kube import add_connection_arguments, api_problem, connect, read_json


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "discover",
        help="find the GPU shapes of the cluster's nodes and print them as catalog entries",
        description=(
            "Read the nvidia.com/gpu.* node labels that GPU feature discovery sets and print one catalog "
            "shape per distinct (product, GPUs per node, memory), marked as matching a catalog shape or new."
        ),
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="write the catalog to FILE instead of stdout, for use with --catalog FILE",
    )
    add_connection_arguments(parser)
    parser.set_defaults(run=run)


def write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same directory, so a failure leaves no partial file."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise GeneratorError(Problem("--write", f"cannot write {str(path)!r}: {error.strerror}", "check the directory")) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise GeneratorError(Problem("--write", f"cannot write {str(path)!r}: {error.strerror}", "check the path")) from None


def _summary_lines(discovered: list[DiscoveredShape]) -> list[str]:
    lines = []
    for found in discovered:
        label = "matched" if found.match == "matched" else "new    "
        lines.append(f"{label} {found.shape.id} ({len(found.nodes)} nodes)")
    return lines


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(tuple(args.catalog))
    connection = connect(args.kubeconfig, args.context)
    core = client.CoreV1Api(connection.api_client)
    try:
        node_list = read_json(core.list_node)
    except (ApiException, urllib3.exceptions.HTTPError) as error:
        raise api_problem(error, connection.server, "the node list") from None

    discovered, skipped = discover_shapes(node_list.get("items") or [], catalog)
    for node in skipped:
        print(f"warning: node {node.node} skipped: {node.reason}", file=sys.stderr)
    if not discovered:
        raise GeneratorError(
            Problem(
                "",
                f"no node with NVIDIA GPU labels found among {len(node_list.get('items') or [])} nodes",
                "install GPU feature discovery (part of the NVIDIA GPU operator) or check --context",
            )
        )

    text = catalog_yaml(discovered)
    for line in _summary_lines(discovered):
        print(line, file=sys.stderr)
    if args.write is None:
        sys.stdout.write(text)
        return 0

    write_atomically(args.write, text)
    print(f"wrote {len(discovered)} shapes to {args.write}; use it with --catalog {args.write}", file=sys.stderr)
    return 0
