"""Check rendered engine command lines against the flags the pinned engine release defines.

The flag lists in `generator/catalogs/flags/<engine>.json` are extracted from each engine's
published package by `scripts/extract_engine_flags.py`. docs/engine-flags.md explains how to
refresh them. An engine without a list (for example `custom`) is not checked.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from generator.errors import GeneratorError, Problem

FLAGS_DIR = Path(__file__).parent / "catalogs" / "flags"

# Tokens that end the program part of a command, after which the engine's own parser takes
# over: `python3 -m sglang.launch_server`, `vllm serve`, `lmdeploy serve api_server`.
_ENTRY_TOKENS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sglang": (("sglang.launch_server",), ("sglang", "serve")),
    "vllm": (("vllm.entrypoints.openai.api_server",), ("vllm", "serve")),
    "lmdeploy": (("serve", "api_server"),),
}

# vLLM 0.18.1 and LMDeploy 0.16.0 parse with a `FlexibleArgumentParser` that rewrites `_` to
# `-` in option names (vllm/utils/argparse_utils.py, lmdeploy/cli/utils.py).
_UNDERSCORE_ENGINES = frozenset({"vllm", "lmdeploy"})

_NUMBER = re.compile(r"-\d+(\.\d*)?([eE][-+]?\d+)?|-\.\d+")


@dataclass(frozen=True)
class FlagList:
    """The flags one engine release defines, as stored in its JSON file."""

    engine: str
    version: str
    package: str
    flags: frozenset[str]


@cache
def load_flag_list(engine: str) -> FlagList | None:
    """Load the flag list of `engine`, or return None when the engine has none."""
    path = FLAGS_DIR / f"{engine}.json"
    if not path.is_file():
        return None

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise GeneratorError(
            Problem("", f"invalid JSON: {error}", "rerun scripts/extract_engine_flags.py", str(path))
        ) from error

    for key in ("engine", "version", "package", "flags"):
        if key not in data:
            raise GeneratorError(
                Problem(key, "missing key", "rerun scripts/extract_engine_flags.py", str(path))
            )
    return FlagList(data["engine"], data["version"], data["package"], frozenset(data["flags"]))


def flag_list_version(engine: str) -> str:
    """Return the engine release the flag list of `engine` was extracted from."""
    flag_list = load_flag_list(engine)
    if flag_list is None:
        raise GeneratorError(
            Problem("engine", f"no flag list for engine {engine!r}", f"expected {FLAGS_DIR / (engine + '.json')}")
        )
    return flag_list.version


def find_unknown_flags(engine: str, argv: list[str]) -> list[str]:
    """Return the flags in `argv` that the pinned release of `engine` does not define.

    `argv` is a rendered command or args list. Tokens up to the engine entry point
    (`sglang.launch_server`, `vllm serve`, `lmdeploy serve api_server`) belong to the program
    and are skipped. When `argv` has no entry point, every token is an engine argument. Values,
    negative numbers and positionals are ignored, and so is everything after `--`. Each
    unknown flag is returned once, in order, as rendered but without its `=value` part.
    Unique-prefix abbreviations that argparse would accept (SGLang `--tp` for `--tp-size`)
    are reported, because a later release that adds a flag with the same prefix breaks them.
    """
    flag_list = load_flag_list(engine)
    if flag_list is None:
        return []

    unknown: list[str] = []
    for token in argv[_engine_arguments_start(engine, argv):]:
        if token == "--":
            break
        if not token.startswith("-") or token == "-" or _NUMBER.fullmatch(token):
            continue

        rendered = token.split("=", 1)[0]
        if _canonical_option(engine, rendered) not in flag_list.flags and rendered not in unknown:
            unknown.append(rendered)
    return unknown


def _engine_arguments_start(engine: str, argv: list[str]) -> int:
    for entry in _ENTRY_TOKENS.get(engine, ()):
        for index in range(len(argv) - len(entry) + 1):
            window = [Path(token).name for token in argv[index : index + len(entry)]]
            if window == list(entry):
                return index + len(entry)
    return 0


def _canonical_option(engine: str, option: str) -> str:
    """Rewrite `option` the way the engine's parser does before argparse parses it."""
    if engine not in _UNDERSCORE_ENGINES:
        return option

    if engine == "vllm":
        # vLLM turns `-O3` into `--optimization-level 3` and `--compilation-config.mode 3`
        # into a JSON value for `--compilation-config` (FlexibleArgumentParser in 0.18.1).
        if option.startswith("-O") and not option.startswith("--"):
            return "--optimization-level"
        if option.startswith("--") and "." in option:
            option = option.split(".", 1)[0]

    if option.startswith("--"):
        option = "--" + option[2:].replace("_", "-")
    return option
