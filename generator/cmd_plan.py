"""`plan`: size a deployment (nodes, tensor and pipeline parallel sizes, KV cache) for a model on a GPU shape."""
from __future__ import annotations

import argparse
import difflib
import json
from pathlib import Path
from typing import Any

from generator.catalog import Catalog, GpuShape, Model, load_catalog
from generator.errors import GeneratorError, Problem, UsageError
from generator.model_source import load_hub_model, load_model_dir
from generator.planner import Plan, plan, startup_budget_seconds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="choose nodes and tensor/pipeline sizes for a model on a GPU shape",
        description=(
            "Find the smallest deployment whose weights and KV cache fit in GPU memory under the "
            "engine's default memory settings, or check a given --nodes layout. Exit code 1 when "
            "nothing fits; the message says what would."
        ),
    )
    parser.add_argument("--model", help="model id: a catalog entry, a hub id, or the name to give --model-dir")
    parser.add_argument("--model-dir", type=Path, metavar="DIR", help="local model directory with config.json and safetensors index")
    parser.add_argument("--engine", required=True, help="serving engine from the catalog, e.g. vllm, sglang, lmdeploy")
    parser.add_argument("--gpu", required=True, metavar="SHAPE", help="GPU shape id from the catalog, or `all` for one row per shape")
    parser.add_argument("--max-model-len", type=_positive_int, metavar="TOKENS", help="context length to plan KV cache for (default: the model's maximum)")
    parser.add_argument("--concurrency", type=_positive_int, default=1, metavar="N", help="requests of --max-model-len tokens held in KV cache at once (default: 1)")
    parser.add_argument("--max-nodes", type=_positive_int, default=8, metavar="N", help="largest group size the search tries (default: 8)")
    parser.add_argument("--nodes", type=_positive_int, metavar="N", help="check this group size instead of searching")
    parser.add_argument("--tensor-parallel", type=_positive_int, metavar="N", help="tensor-parallel size (default: the engine's convention)")
    parser.add_argument("--pipeline-parallel", type=_positive_int, metavar="N", help="pipeline-parallel size (default: the engine's convention)")
    parser.add_argument("--output", choices=("table", "json"), default="table", help="output format (default: table)")
    parser.set_defaults(run=run)


def plan_options(args: argparse.Namespace) -> dict[str, int | None]:
    """Collect the planner keyword arguments, which `plan` and `new` read from the same options."""
    return {
        "max_model_len": args.max_model_len,
        "concurrency": args.concurrency,
        "max_nodes": args.max_nodes,
        "nodes": args.nodes,
        "tensor_parallel": args.tensor_parallel,
        "pipeline_parallel": args.pipeline_parallel,
    }


def resolve_model(catalog: Catalog, model_id: str | None, model_dir: Path | None) -> Model:
    """Return the model from --model-dir, the catalog, or a model hub, in that order."""
    if model_dir is not None:
        return load_model_dir(model_dir, model_id)
    if model_id is None:
        raise UsageError(Problem("--model", "missing: pass --model or --model-dir", "see `python -m generator plan --help`"))
    if model_id in catalog.models or "/" not in model_id:
        return catalog.model(model_id)
    try:
        return load_hub_model(model_id)
    except GeneratorError as hub_error:
        close = difflib.get_close_matches(model_id, list(catalog.models), n=1, cutoff=0.8)
        hub_problem = hub_error.problems[0]
        hint = f"did you mean {close[0]}?" if close else f"{hub_problem.hint}; or add the model with --catalog FILE"
        raise GeneratorError(Problem(
            "--model",
            f"{model_id!r} is not in the catalog, and {hub_problem.message}",
            hint,
        )) from None


def _gib(size: int) -> str:
    return f"{size / 1024**3:.1f} GiB"


def format_plan(result: Plan) -> str:
    rows = [
        ("model", result.model),
        ("engine", result.engine),
        ("gpu", result.gpu),
        ("nodes", str(result.nodes)),
        ("gpus per node", str(result.gpus_per_node)),
        ("total gpus", str(result.total_gpus)),
        ("tensor parallel", str(result.tensor_parallel)),
        ("pipeline parallel", str(result.pipeline_parallel)),
        ("weights per gpu", _gib(result.weights_bytes_per_gpu)),
        ("kv cache per gpu", _gib(result.kv_cache_bytes_per_gpu)),
        ("kv cache tokens", str(result.kv_cache_tokens)),
        ("max model len", str(result.max_model_len)),
        ("concurrency", str(result.concurrency)),
        ("startup budget", f"{startup_budget_seconds(result.checkpoint_bytes)} s"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
    lines += [f"assumption: {text}" for text in result.assumptions]
    lines += [f"warning: {text}" for text in result.warnings]
    return "\n".join(lines)


def format_rows(rows: list[tuple[GpuShape, Plan | GeneratorError]]) -> str:
    header = ("GPU", "NODES", "GPUS", "TP", "PP", "KV TOKENS", "NOTE")
    table = [header]
    for shape, outcome in rows:
        if isinstance(outcome, Plan):
            table.append((
                shape.id, str(outcome.nodes), str(outcome.total_gpus), str(outcome.tensor_parallel),
                str(outcome.pipeline_parallel), str(outcome.kv_cache_tokens), "; ".join(outcome.warnings[:1]),
            ))
        else:
            table.append((shape.id, "-", "-", "-", "-", "-", outcome.problems[0].message))
    widths = [max(len(row[column]) for row in table) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1]
        for row in table
    ).rstrip()


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(tuple(args.catalog))
    engine = catalog.engine(args.engine)
    model = resolve_model(catalog, args.model, args.model_dir)
    options = plan_options(args)

    if args.gpu != "all":
        result = plan(model, engine, catalog.shape(args.gpu), **options)
        print(json.dumps(result.to_json(), indent=2) if args.output == "json" else format_plan(result))
        return 0

    rows: list[tuple[GpuShape, Plan | GeneratorError]] = []
    for shape in catalog.shapes.values():
        try:
            rows.append((shape, plan(model, engine, shape, **options)))
        except GeneratorError as error:
            rows.append((shape, error))
    if args.output == "json":
        entries = [
            outcome.to_json() if isinstance(outcome, Plan)
            else {"gpu": shape.id, "fits": False, "problems": [problem.format() for problem in outcome.problems]}
            for shape, outcome in rows
        ]
        print(json.dumps(entries, indent=2))
    else:
        print(format_rows(rows))
    return 0
