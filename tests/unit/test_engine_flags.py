"""Tests for the committed engine flag lists, the checker and the extraction script."""
from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from generator import engine_flags
from generator.engine_flags import find_unknown_flags, flag_list_version

REPO_ROOT = Path(__file__).resolve().parents[2]

PINNED_VERSIONS = {"sglang": "0.5.9", "vllm": "0.18.1", "lmdeploy": "0.16.0"}

# Flags the chart's launch lines rely on.
REQUIRED_FLAGS = {
    "sglang": [
        "--model-path", "--tp-size", "--tensor-parallel-size", "--pp-size", "--dist-init-addr",
        "--nnodes", "--node-rank", "--host", "--port", "--trust-remote-code", "--enable-metrics",
        "--served-model-name", "--context-length", "--mem-fraction-static", "--dist-timeout",
    ],
    "vllm": [
        "--tensor-parallel-size", "--pipeline-parallel-size", "--nnodes", "--node-rank",
        "--master-addr", "--master-port", "--headless", "--distributed-executor-backend",
        "--host", "--port", "--served-model-name", "--max-model-len", "--trust-remote-code",
        "--gpu-memory-utilization",
    ],
    "lmdeploy": [
        "--backend", "--tp", "--server-name", "--server-port", "--model-name", "--session-len",
        "--cache-max-entry-count", "--trust-remote-code", "--log-level", "--nnodes",
        "--node-rank", "--distributed-executor-backend",
    ],
}


def _load_extract_script():
    path = REPO_ROOT / "scripts" / "extract_engine_flags.py"
    spec = importlib.util.spec_from_file_location("extract_engine_flags", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


extract = _load_extract_script()


@pytest.mark.parametrize("engine", sorted(PINNED_VERSIONS))
def test_flag_list_matches_pin(engine):
    data = json.loads((engine_flags.FLAGS_DIR / f"{engine}.json").read_text())

    assert data["engine"] == engine
    assert data["version"] == PINNED_VERSIONS[engine]
    assert flag_list_version(engine) == PINNED_VERSIONS[engine]
    assert data["package"].startswith(f"{engine}-{PINNED_VERSIONS[engine]}-")
    assert len(data["sha256"]) == 64
    assert data["flags"] == sorted(set(data["flags"]))
    assert data["modules"] == sorted(data["modules"])


@pytest.mark.parametrize("engine", sorted(REQUIRED_FLAGS))
def test_flag_list_contains_launch_flags(engine):
    flags = engine_flags.load_flag_list(engine).flags

    for flag in REQUIRED_FLAGS[engine]:
        assert flag in flags, f"{engine} {PINNED_VERSIONS[engine]} does not define {flag}"


def test_vllm_bool_fields_have_negations():
    flags = engine_flags.load_flag_list("vllm").flags

    # ModelConfig.enforce_eager goes through get_kwargs, and FrontendArgs fields through the f-string.
    assert "--no-enforce-eager" in flags
    assert "--no-enable-auto-tool-choice" in flags
    assert "--no-port" not in flags


def test_vllm_misspelled_flag_reported():
    argv = ["vllm", "serve", "org/model", "--tensor-paralel-size", "8", "--port", "8000"]

    assert find_unknown_flags("vllm", argv) == ["--tensor-paralel-size"]


def test_equals_form_reported_without_value():
    argv = ["--tensor-paralel-size=8", "--pipeline-parallel-size=2", "--api-key=secret-value"]

    assert find_unknown_flags("vllm", argv) == ["--tensor-paralel-size"]


def test_equals_form_known_flag_accepted():
    argv = ["python3", "-m", "sglang.launch_server", "--model-path=/models/m", "--node-rank=$(LWS_WORKER_INDEX)"]

    assert find_unknown_flags("sglang", argv) == []


def test_program_part_skipped():
    argv = ["python3", "-m", "sglang.launch_server", "--model-path", "m", "--port", "30000"]

    # `-m` belongs to python3, not to SGLang.
    assert find_unknown_flags("sglang", argv) == []


def test_values_and_negative_numbers_ignored():
    argv = ["--nnodes", "$(LWS_GROUP_SIZE)", "--dist-timeout", "-1", "--context-length", "-1.5e3", "model"]

    assert find_unknown_flags("sglang", argv) == []


def test_tokens_after_double_dash_ignored():
    assert find_unknown_flags("sglang", ["--port", "1", "--", "--not-a-flag"]) == []


def test_sglang_tp_abbreviation_reported():
    # SGLang 0.5.9 defines only --tp-size; `--tp` works solely as an argparse prefix.
    assert find_unknown_flags("sglang", ["--tp", "16"]) == ["--tp"]


def test_underscore_spelling_follows_engine_parser():
    assert find_unknown_flags("vllm", ["--tensor_parallel_size", "8"]) == []
    assert find_unknown_flags("lmdeploy", ["lmdeploy", "serve", "api_server", "m", "--server_port", "1"]) == []
    assert find_unknown_flags("sglang", ["--model_path", "m"]) == ["--model_path"]


def test_vllm_dotted_and_optimization_forms():
    argv = ["--compilation-config.mode", "3", "-O3", "--bogus-config.key", "1"]

    assert find_unknown_flags("vllm", argv) == ["--bogus-config.key"]


def test_unknown_flag_reported_once():
    assert find_unknown_flags("lmdeploy", ["--tpp", "2", "--tpp", "2"]) == ["--tpp"]


def test_custom_engine_not_checked():
    assert find_unknown_flags("custom", ["--anything", "--goes"]) == []


SYNTHETIC_CLI = '''
import argparse
from dataclasses import dataclass


@dataclass
class BaseFrontend:
    verbose: bool = False
    api_key: str | None = None

    @classmethod
    def add_cli_args(cls, parser):
        frontend_kwargs = get_kwargs(cls)
        for key, value in frontend_kwargs.items():
            parser.add_argument(f"--{key.replace('_', '-')}", **value)


@dataclass
class Frontend(BaseFrontend):
    port: int = 8000


@dataclass
class CacheConfig:
    prefix_caching: "bool | None" = None
    block_size: int = 16


class Helper:
    @staticmethod
    def tp(parser):
        return parser.add_argument("--tp", "-t", type=int)


def get_kwargs(cls):
    return {}


def build(parser):
    parser.add_argument("model")
    parser.add_argument("--metrics", action=argparse.BooleanOptionalAction)
    cache_kwargs = get_kwargs(CacheConfig)
    parser.add_argument("--enable-prefix-caching", **cache_kwargs["prefix_caching"])
    parser.add_argument("--block-size", **cache_kwargs["block_size"])
    parser.add_argument(NAME_FROM_ELSEWHERE)
    Helper.tp(parser)
    Frontend.add_cli_args(parser)


def unrelated(parser):
    parser.add_argument("--not-on-the-server")
'''


def _write_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "fakeengine-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fakeengine/__init__.py", "")
        archive.writestr("fakeengine/cli.py", textwrap.dedent(SYNTHETIC_CLI))
    return wheel


def test_extraction_on_synthetic_package(tmp_path):
    sources = extract.read_package_sources(_write_wheel(tmp_path))

    flags, modules, unresolved = extract.extract_flags(
        sources, "fakeengine/cli.py", "build", ("fakeengine/cli.py",)
    )

    assert modules == ["fakeengine/cli.py"]
    assert flags == sorted([
        "--metrics", "--no-metrics",
        "--enable-prefix-caching", "--no-enable-prefix-caching",
        "--block-size",
        "--tp", "-t",
        "--verbose", "--no-verbose", "--api-key", "--port",
    ])
    line = SYNTHETIC_CLI.splitlines().index("    parser.add_argument(NAME_FROM_ELSEWHERE)") + 1
    assert unresolved == [f"fakeengine/cli.py:{line}: NAME_FROM_ELSEWHERE"]


def test_extraction_output_deterministic(tmp_path):
    wheel = _write_wheel(tmp_path)
    spec = extract.EngineSpec("fakeengine", "1.0", "fakeengine/cli.py", "build", ("fakeengine/*.py",))
    extract.ENGINES["fakeengine"] = spec
    try:
        first = extract.write_catalog(extract.build_catalog("fakeengine", "1.0", wheel), tmp_path / "a")
        second = extract.write_catalog(extract.build_catalog("fakeengine", "1.0", wheel), tmp_path / "b")
    finally:
        del extract.ENGINES["fakeengine"]

    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text())
    assert data["package"] == wheel.name
    assert data["modules"] == ["fakeengine/__init__.py", "fakeengine/cli.py"]


def test_extraction_missing_entry_raises(tmp_path):
    sources = extract.read_package_sources(_write_wheel(tmp_path))

    with pytest.raises(extract.ExtractionError, match="not found"):
        extract.extract_flags(sources, "fakeengine/cli.py", "Missing.add_cli_args", ("fakeengine/cli.py",))
