"""Committed values presets: one per engine and GPU shape, under values-presets/<engine>/<shape>.yaml.

Each shape has a list of reference models, largest first. A preset uses the first one that the
planner can fit on that shape with that engine within PRESET_MAX_NODES nodes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.catalog import Catalog
from generator.errors import GeneratorError, Problem
from generator.planner import plan
from generator.render import REPO_ROOT
from generator.values_file import render_values_file

PRESET_DIR = REPO_ROOT / "values-presets"
PRESET_ENGINES = ("sglang", "vllm", "lmdeploy")
PRESET_MAX_NODES = 4
REGENERATE_COMMAND = "python -m generator presets"

# Reference models per shape, in order of preference. Multi-GPU shapes get a model that needs
# more than one node where one exists, because that is what the chart is for.
REFERENCE_MODELS: dict[str, tuple[str, ...]] = {
    "a10-24gb-x1": ("meta-llama/Llama-3.1-8B-Instruct",),
    "l4-24gb-x1": ("Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
    "rtx4090-24gb-x8": ("Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-32B-Instruct"),
    "l20-48gb-x8": ("Qwen/Qwen3-235B-A22B", "Qwen/Qwen2.5-72B-Instruct"),
    "l40s-48gb-x8": ("meta-llama/Llama-3.1-405B-Instruct-FP8", "Qwen/Qwen3-235B-A22B", "Qwen/Qwen2.5-72B-Instruct"),
    "a100-40gb-x8": ("Qwen/Qwen3-235B-A22B", "Qwen/Qwen2.5-72B-Instruct"),
    "a100-80gb-x8": ("meta-llama/Llama-3.1-405B-Instruct", "Qwen/Qwen3-235B-A22B"),
    "a800-80gb-x8": ("meta-llama/Llama-3.1-405B-Instruct", "Qwen/Qwen3-235B-A22B"),
    "h100-80gb-x8": ("deepseek-ai/DeepSeek-V3", "meta-llama/Llama-3.1-405B-Instruct"),
    "h800-80gb-x8": ("deepseek-ai/DeepSeek-R1", "meta-llama/Llama-3.1-405B-Instruct"),
    "h20-96gb-x8": ("deepseek-ai/DeepSeek-V3", "meta-llama/Llama-3.1-405B-Instruct"),
    "h20-141gb-x8": ("moonshotai/Kimi-K2-Instruct", "deepseek-ai/DeepSeek-V3"),
    "h200-141gb-x8": ("moonshotai/Kimi-K2-Instruct", "deepseek-ai/DeepSeek-V3"),
    "b200-180gb-x8": ("moonshotai/Kimi-K2-Instruct", "deepseek-ai/DeepSeek-V3"),
}


@dataclass(frozen=True)
class Preset:
    engine: str
    shape: str
    path: Path
    text: str


def preset_path(engine: str, shape: str, root: Path = PRESET_DIR) -> Path:
    return root / engine / f"{shape}.yaml"


def build_presets(catalog: Catalog, root: Path = PRESET_DIR) -> list[Preset]:
    """Return every preset, in engine then shape order. Raises GeneratorError if one cannot be planned."""
    missing = sorted(set(catalog.shapes) - set(REFERENCE_MODELS))
    if missing:
        raise GeneratorError(
            Problem("shapes", f"no reference model for shape(s) {', '.join(missing)}", "add them to REFERENCE_MODELS in generator/presets.py")
        )
    presets: list[Preset] = []
    for engine_name in PRESET_ENGINES:
        engine = catalog.engine(engine_name)
        for shape_id in sorted(catalog.shapes):
            shape = catalog.shape(shape_id)
            presets.append(_build_one(catalog, engine_name, shape_id, root))
    return presets


def _build_one(catalog: Catalog, engine_name: str, shape_id: str, root: Path) -> Preset:
    engine = catalog.engine(engine_name)
    shape = catalog.shape(shape_id)
    failures: list[str] = []
    for model_id in REFERENCE_MODELS[shape_id]:
        model = catalog.model(model_id)
        try:
            chosen = plan(model, engine, shape, max_nodes=PRESET_MAX_NODES)
        except GeneratorError as error:
            failures.append(f"{model_id}: {error.problems[0].message}")
            continue
        text = render_values_file(model, engine, shape, chosen, REGENERATE_COMMAND)
        return Preset(engine_name, shape_id, preset_path(engine_name, shape_id, root), text)
    raise GeneratorError(
        Problem(f"presets.{engine_name}.{shape_id}", "no reference model fits", "; ".join(failures))
    )


def stale_presets(presets: list[Preset], root: Path = PRESET_DIR) -> list[Problem]:
    """Compare the presets with the files on disk; report missing, changed and extra files."""
    problems: list[Problem] = []
    expected = {preset.path: preset for preset in presets}
    for path, preset in expected.items():
        if not path.exists():
            problems.append(Problem("", "missing", f"run `{REGENERATE_COMMAND}`", str(path)))
        elif path.read_text(encoding="utf-8") != preset.text:
            problems.append(Problem("", "stale: differs from what the generator writes now", f"run `{REGENERATE_COMMAND}`", str(path)))
    for path in sorted(root.glob("*/*.yaml")):
        if path not in expected:
            problems.append(Problem("", "not produced by the generator", f"delete it or run `{REGENERATE_COMMAND}`", str(path)))
    return problems


def committed_presets(root: Path = PRESET_DIR) -> list[Path]:
    return sorted(root.glob("*/*.yaml"))
