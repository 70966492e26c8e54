"""`new`: write a values file for one deployment of a model from the catalog, a hub or a local directory."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from generator.catalog import load_catalog
from generator.cmd_plan import plan_options, resolve_model
from generator.errors import GeneratorError, Problem
from generator.planner import plan
from generator.values_file import render_values_file, write_atomically


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "new",
        help="write a values file for one deployment",
        description=(
            "Write a values file for one deployment. Without --nodes, the planner picks the smallest "
            "group that holds the weights with room for the KV cache, and the file's header says what it assumed."
        ),
    )
    parser.add_argument("--engine", required=True, help="serving engine: sglang, vllm or lmdeploy")
    parser.add_argument("--gpu", required=True, metavar="SHAPE", help="GPU shape id, e.g. h100-80gb-x8")
    parser.add_argument("--model", help="model id: from the catalog, or a Hugging Face or ModelScope id read through the hub client when reachable")
    parser.add_argument("--model-dir", type=Path, metavar="DIR", help="local model directory (config.json and the safetensors index) to read the model's facts from; --model then sets model.id")
    parser.add_argument("--replicas", type=int, default=1, help="number of groups (LWS replicas); default 1")
    parser.add_argument("--nodes", type=int, help="pods per group, one per node (LWS size); default: planned")
    parser.add_argument("--tensor-parallel", type=int, help="tensor-parallel size; default: the engine's convention")
    parser.add_argument("--pipeline-parallel", type=int, help="pipeline-parallel size; default: the engine's convention")
    parser.add_argument("--max-model-len", type=int, help="maximum context length in tokens; default: the model's")
    parser.add_argument("--concurrency", type=int, default=1, help="sequences of full length the KV cache must hold; default 1")
    parser.add_argument("--max-nodes", type=int, default=8, help="largest group the planner considers; default 8")
    parser.add_argument("--port", type=int, help="HTTP port of the API; default: the engine's")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="file to write; default: standard output")
    parser.set_defaults(run=run)


def _regenerate_command(args: argparse.Namespace) -> str:
    words = ["python", "-m", "generator"]
    for path in args.catalog:
        words += ["--catalog", str(path)]
    words += ["new", "--engine", args.engine, "--gpu", args.gpu]
    if args.model is not None:
        words += ["--model", args.model]
    if args.model_dir is not None:
        words += ["--model-dir", str(args.model_dir)]
    optional = [
        ("--replicas", args.replicas if args.replicas != 1 else None),
        ("--nodes", args.nodes),
        ("--tensor-parallel", args.tensor_parallel),
        ("--pipeline-parallel", args.pipeline_parallel),
        ("--max-model-len", args.max_model_len),
        ("--concurrency", args.concurrency if args.concurrency != 1 else None),
        ("--port", args.port),
    ]
    for flag, value in optional:
        if value is not None:
            words += [flag, str(value)]
    if args.output is not None:
        words += ["-o", str(args.output)]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.replicas <= 1_000_000:
        raise GeneratorError(Problem("--replicas", f"must be between 0 and 1000000, got {args.replicas}", "LWS accepts that range"))
    if args.port is not None and not 1 <= args.port <= 65535:
        raise GeneratorError(Problem("--port", f"must be between 1 and 65535, got {args.port}", "choose a TCP port"))

    catalog = load_catalog(tuple(args.catalog))
    engine = catalog.engine(args.engine)
    shape = catalog.shape(args.gpu)
    model = resolve_model(catalog, args.model, args.model_dir)
    chosen = plan(model, engine, shape, **plan_options(args))
    text = render_values_file(model, engine, shape, chosen, _regenerate_command(args), replicas=args.replicas, port=args.port)

    verb = "planned" if args.nodes is None else "layout:"
    print(
        f"{verb} {chosen.nodes} node(s) x {chosen.gpus_per_node} GPU(s), tensor parallel {chosen.tensor_parallel}, "
        f"pipeline parallel {chosen.pipeline_parallel}; assumptions are in the file header",
        file=sys.stderr,
    )
    for warning in chosen.warnings:
        print(f"warning: {warning}", file=sys.stderr)

    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
