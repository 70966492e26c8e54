"""Extract the command-line flags an engine release defines, from its published package.

Usage:
    python scripts/extract_engine_flags.py sglang 0.5.9
    python scripts/extract_engine_flags.py --all
    python scripts/extract_engine_flags.py vllm 0.18.1 --package-file vllm-0.18.1-....whl

The script downloads the release with `pip download --no-deps` into a temporary directory,
opens the wheel (zip) or sdist (tar) without installing or importing it, and parses the
server CLI modules with `ast`. It starts at one entry function per engine (for example
`ServerArgs.add_cli_args` for SGLang) and follows calls to functions and methods defined in
the modules it read, so helpers such as LMDeploy's `ArgumentHelper.tp(parser)` are resolved.
Every string constant starting with `-` that is passed positionally to `add_argument(...)`
becomes a flag.

Two argparse features add flags that are not written as string constants:

* `action=argparse.BooleanOptionalAction` also defines `--no-<name>` for each `--<name>`.
* vLLM builds keyword arguments from config dataclasses with `get_kwargs(SomeConfig)` in
  `vllm/engine/arg_utils.py`. A dataclass field whose type contains `bool` (and no nested
  dataclass) gets `BooleanOptionalAction`, so `add_argument("--enforce-eager",
  **model_kwargs["enforce_eager"])` also defines `--no-enforce-eager`. The script reads the
  field annotation of that dataclass to decide this. `BaseFrontendArgs.add_cli_args` in
  `vllm/entrypoints/openai/cli_args.py` goes further and registers every field of the
  dataclass as `f"--{key.replace('_', '-')}"`. The script recognises that f-string and
  expands it to `--<field-name-in-kebab-case>` for each field of the receiving class,
  base classes included, with the same `bool` rule.

Option arguments that are neither string constants nor that f-string are listed under
`unresolved` in the output with their file and line, so a gap is visible, not silent.
Flags that argparse adds on its own (`-h`, `--help`) are not listed.

Output: `generator/catalogs/flags/<engine>.json` with sorted keys and a sorted flag list,
so two runs on the same package produce identical files.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = REPO_ROOT / "generator" / "catalogs" / "flags"

# pip platform tags used when downloading, so every machine fetches the same file. The
# Python sources of the CLI modules are the same in every wheel of one release.
DOWNLOAD_PLATFORMS = ("manylinux_2_35_x86_64", "manylinux_2_31_x86_64", "manylinux_2_28_x86_64")
DOWNLOAD_PYTHON_VERSION = "3.12"

# Functions that turn a config dataclass into per-field argparse keyword arguments (vLLM).
KWARGS_FACTORIES = frozenset({"get_kwargs"})


@dataclass(frozen=True)
class EngineSpec:
    """Location of one engine's server CLI inside its package."""

    package: str
    pinned_version: str
    entry_module: str
    entry_function: str
    # Glob patterns, relative to the package root, of every module the parser reads.
    module_patterns: tuple[str, ...]


ENGINES: dict[str, EngineSpec] = {
    "sglang": EngineSpec(
        package="sglang",
        pinned_version="0.5.9",
        entry_module="sglang/srt/server_args.py",
        entry_function="ServerArgs.add_cli_args",
        module_patterns=("sglang/srt/server_args.py",),
    ),
    "vllm": EngineSpec(
        package="vllm",
        pinned_version="0.18.1",
        entry_module="vllm/entrypoints/cli/serve.py",
        entry_function="ServeSubcommand.subparser_init",
        module_patterns=(
            "vllm/entrypoints/cli/serve.py",
            "vllm/entrypoints/openai/cli_args.py",
            "vllm/engine/arg_utils.py",
            # Config dataclasses, read for the field types behind get_kwargs(...).
            "vllm/config/*.py",
        ),
    ),
    "lmdeploy": EngineSpec(
        package="lmdeploy",
        pinned_version="0.16.0",
        entry_module="lmdeploy/cli/serve.py",
        entry_function="SubCliServe.add_parser_api_server",
        module_patterns=("lmdeploy/cli/serve.py", "lmdeploy/cli/utils.py"),
    ),
}


class ExtractionError(Exception):
    """The package does not have the layout the engine spec expects."""


# --------------------------------------------------------------------------- package I/O


def download_package(package: str, version: str, directory: Path) -> Path:
    """Download one release file of `package==version` with pip and return its path."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
        "--only-binary=:all:", "--implementation", "cp",
        "--python-version", DOWNLOAD_PYTHON_VERSION,
        "--dest", str(directory),
    ]
    for platform in DOWNLOAD_PLATFORMS:
        command += ["--platform", platform]
    command.append(f"{package}=={version}")

    print(f"running: {' '.join(command)}", file=sys.stderr)
    subprocess.run(command, check=True)

    files = sorted(p for p in directory.iterdir() if p.is_file())
    if len(files) != 1:
        raise ExtractionError(f"expected one downloaded file in {directory}, found {files}")
    return files[0]


def read_package_sources(package_file: Path) -> dict[str, str]:
    """Return the `.py` files of a wheel or sdist, keyed by path relative to the import root."""
    sources: dict[str, str] = {}
    name = package_file.name

    if name.endswith(".whl") or name.endswith(".zip"):
        with zipfile.ZipFile(package_file) as archive:
            for member in archive.namelist():
                if member.endswith(".py"):
                    sources[member] = archive.read(member).decode("utf-8")
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(package_file) as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.endswith(".py"):
                    handle = archive.extractfile(member)
                    assert handle is not None
                    # An sdist wraps everything in `<name>-<version>/`, and some projects
                    # keep the package under `python/` (SGLang) or `src/`.
                    relative = PurePosixPath(*PurePosixPath(member.name).parts[1:])
                    for prefix in ("python", "src"):
                        if relative.parts and relative.parts[0] == prefix:
                            relative = PurePosixPath(*relative.parts[1:])
                    sources[str(relative)] = io.TextIOWrapper(handle, encoding="utf-8").read()
    else:
        raise ExtractionError(f"{package_file}: not a wheel or sdist (.whl, .zip, .tar.gz)")
    return sources


def select_modules(sources: dict[str, str], patterns: tuple[str, ...]) -> dict[str, ast.Module]:
    """Parse the sources matching `patterns`; fail if a pattern matches nothing."""
    selected: dict[str, ast.Module] = {}
    for pattern in patterns:
        matches = sorted(path for path in sources if PurePosixPath(path).match(pattern))
        if not matches:
            raise ExtractionError(f"no module matches {pattern!r} in the package")
        for path in matches:
            selected[path] = ast.parse(sources[path], filename=path)
    return dict(sorted(selected.items()))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- AST index


@dataclass
class ModuleIndex:
    """Top-level classes and functions of the parsed modules, for resolving calls."""

    modules: dict[str, ast.Module]
    classes: dict[str, list[tuple[str, ast.ClassDef]]] = field(default_factory=dict)
    functions: dict[str, list[tuple[str, ast.FunctionDef]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, tree in self.modules.items():
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    self.classes.setdefault(node.name, []).append((path, node))
                elif isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append((path, node))

    def find_class(self, name: str, near: str) -> tuple[str, ast.ClassDef] | None:
        return _prefer_module(self.classes.get(name, []), near)

    def find_function(self, name: str, near: str) -> tuple[str, ast.FunctionDef] | None:
        return _prefer_module(self.functions.get(name, []), near)

    def find_method(self, class_name: str, method: str, near: str) -> tuple[str, ast.FunctionDef] | None:
        """Find `method` on `class_name` or, as Python's MRO would, on its base classes."""
        found = self.find_class(class_name, near)
        if found is None:
            return None
        path, class_node = found
        for node in class_node.body:
            if isinstance(node, ast.FunctionDef) and node.name == method:
                return path, node
        for base in class_node.bases:
            if isinstance(base, ast.Name):
                inherited = self.find_method(base.id, method, path)
                if inherited is not None:
                    return inherited
        return None

    def dataclass_fields(self, class_name: str, near: str) -> list[tuple[str, ast.expr]]:
        """Return (name, annotation) of the fields of a dataclass, base-class fields first."""
        found = self.find_class(class_name, near)
        if found is None:
            raise ExtractionError(f"class {class_name} not found in the parsed modules")
        path, class_node = found

        fields: dict[str, ast.expr] = {}
        for base in class_node.bases:
            if isinstance(base, ast.Name) and self.find_class(base.id, path) is not None:
                fields.update(self.dataclass_fields(base.id, path))
        for node in class_node.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if "ClassVar" in ast.unparse(node.annotation):
                    continue
                fields[node.target.id] = node.annotation
        return list(fields.items())

    def field_is_bool(self, class_name: str, field_name: str, near: str) -> bool:
        """Apply vLLM's get_kwargs rule: a bool field without a nested dataclass type."""
        annotations = dict(self.dataclass_fields(class_name, near))
        if field_name not in annotations:
            raise ExtractionError(f"{class_name} has no field {field_name!r}")
        names = _annotation_names(annotations[field_name])
        nested_dataclass = any(self.find_class(name, near) is not None for name in names)
        return "bool" in names and not nested_dataclass


def _prefer_module(candidates: list, near: str):
    for candidate in candidates:
        if candidate[0] == near:
            return candidate
    return candidates[0] if candidates else None


def _annotation_names(annotation: ast.expr) -> set[str]:
    # `from __future__ import annotations` code may store annotations as strings.
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body
    names: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


# --------------------------------------------------------------------------- flag collection


@dataclass
class FlagCollector:
    """Walks entry functions and the functions they call, collecting add_argument flags."""

    index: ModuleIndex
    flags: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)
    visited: set[tuple[str, int, str | None]] = field(default_factory=set)

    def visit_function(self, path: str, function: ast.FunctionDef, receiver: str | None) -> None:
        """Collect flags from `function`; `receiver` is the class bound to `cls`, if any."""
        key = (path, function.lineno, receiver)
        if key in self.visited:
            return
        self.visited.add(key)

        kwargs_classes = self._kwargs_factory_variables(function, receiver)
        loop_classes = self._loop_key_classes(function, kwargs_classes)

        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
                self._collect_add_argument(path, node, kwargs_classes, loop_classes)
            else:
                self._follow_call(path, node, receiver)

    def _kwargs_factory_variables(self, function: ast.FunctionDef, receiver: str | None) -> dict[str, str]:
        """Map variables assigned `get_kwargs(SomeClass)` to the class name."""
        variables: dict[str, str] = {}
        for node in ast.walk(function):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            call = node.value
            if not (isinstance(call.func, ast.Name) and call.func.id in KWARGS_FACTORIES and call.args):
                continue
            argument = call.args[0]
            if not isinstance(argument, ast.Name):
                continue
            class_name = receiver if argument.id == "cls" else argument.id
            if class_name is None:
                continue
            for target in node.targets:
                if isinstance(target, ast.Name):
                    variables[target.id] = class_name
        return variables

    def _loop_key_classes(self, function: ast.FunctionDef, kwargs_classes: dict[str, str]) -> dict[str, str]:
        """Map loop variables of `for key, value in <kwargs>.items()` to the dataclass."""
        loops: dict[str, str] = {}
        for node in ast.walk(function):
            if not isinstance(node, ast.For):
                continue
            iterator = node.iter
            if not (
                isinstance(iterator, ast.Call)
                and isinstance(iterator.func, ast.Attribute)
                and iterator.func.attr == "items"
                and isinstance(iterator.func.value, ast.Name)
                and iterator.func.value.id in kwargs_classes
            ):
                continue
            if isinstance(node.target, ast.Tuple) and node.target.elts:
                key = node.target.elts[0]
                if isinstance(key, ast.Name):
                    loops[key.id] = kwargs_classes[iterator.func.value.id]
        return loops

    def _collect_add_argument(
        self,
        path: str,
        call: ast.Call,
        kwargs_classes: dict[str, str],
        loop_classes: dict[str, str],
    ) -> None:
        options: list[str] = []
        boolean_optional = any(
            keyword.arg == "action" and ast.unparse(keyword.value).endswith("BooleanOptionalAction")
            for keyword in call.keywords
        )

        for argument in call.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                if argument.value.startswith("-"):
                    options.append(argument.value)
                continue

            field_loop = _kebab_field_loop_variable(argument)
            if field_loop is not None and field_loop in loop_classes:
                self._collect_dataclass_fields(path, loop_classes[field_loop])
                continue

            self.unresolved.add(f"{path}:{call.lineno}: {ast.unparse(argument)}")

        for keyword in call.keywords:
            if keyword.arg is None and _is_bool_field_kwargs(self.index, path, keyword.value, kwargs_classes):
                boolean_optional = True

        self.flags.update(options)
        if boolean_optional:
            self.flags.update(_negated(option) for option in options if option.startswith("--"))

    def _collect_dataclass_fields(self, path: str, class_name: str) -> None:
        for name, _annotation in self.index.dataclass_fields(class_name, path):
            option = "--" + name.replace("_", "-")
            self.flags.add(option)
            if self.index.field_is_bool(class_name, name, path):
                self.flags.add(_negated(option))

    def _follow_call(self, path: str, call: ast.Call, receiver: str | None) -> None:
        function = call.func
        if isinstance(function, ast.Name):
            target = self.index.find_function(function.id, path)
            if target is not None:
                self.visit_function(target[0], target[1], None)
            return

        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
            owner = function.value.id
            class_name = receiver if owner == "cls" else owner
            if class_name is None:
                return
            target = self.index.find_method(class_name, function.attr, path)
            if target is not None:
                self.visit_function(target[0], target[1], class_name)


def _kebab_field_loop_variable(argument: ast.expr) -> str | None:
    """Return `key` for the f-string `f"--{key.replace('_', '-')}"`, else None."""
    if not isinstance(argument, ast.JoinedStr) or len(argument.values) != 2:
        return None
    prefix, value = argument.values
    if not (isinstance(prefix, ast.Constant) and prefix.value == "--"):
        return None
    if not isinstance(value, ast.FormattedValue):
        return None
    call = value.value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "replace"
        and isinstance(call.func.value, ast.Name)
        and [ast.unparse(a) for a in call.args] in (["'_'", "'-'"], ['"_"', '"-"'])
    ):
        return None
    return call.func.value.id


def _is_bool_field_kwargs(index: ModuleIndex, path: str, value: ast.expr, kwargs_classes: dict[str, str]) -> bool:
    """True for `**model_kwargs["field"]` where that dataclass field is a bool."""
    if not (
        isinstance(value, ast.Subscript)
        and isinstance(value.value, ast.Name)
        and value.value.id in kwargs_classes
        and isinstance(value.slice, ast.Constant)
        and isinstance(value.slice.value, str)
    ):
        return False
    return index.field_is_bool(kwargs_classes[value.value.id], value.slice.value, path)


def _negated(option: str) -> str:
    return "--no-" + option[2:]


# --------------------------------------------------------------------------- entry points


def extract_flags(
    sources: dict[str, str],
    entry_module: str,
    entry_function: str,
    module_patterns: tuple[str, ...],
) -> tuple[list[str], list[str], list[str]]:
    """Return (flags, module paths read, unresolved option arguments), each sorted."""
    modules = select_modules(sources, module_patterns)
    if entry_module not in modules:
        raise ExtractionError(f"entry module {entry_module} is not among {sorted(modules)}")
    index = ModuleIndex(modules)

    class_name, _, method = entry_function.rpartition(".")
    if class_name:
        target = index.find_method(class_name, method, entry_module)
    else:
        target = index.find_function(method, entry_module)
    if target is None:
        raise ExtractionError(f"{entry_function} not found in {entry_module}")

    collector = FlagCollector(index)
    collector.visit_function(target[0], target[1], class_name or None)
    if not collector.flags:
        raise ExtractionError(f"{entry_function} in {entry_module} defines no flags")
    return sorted(collector.flags), sorted(modules), sorted(collector.unresolved)


def build_catalog(engine: str, version: str, package_file: Path) -> dict:
    spec = ENGINES[engine]
    sources = read_package_sources(package_file)
    flags, modules, unresolved = extract_flags(
        sources, spec.entry_module, spec.entry_function, spec.module_patterns
    )
    return {
        "engine": engine,
        "version": version,
        "package": package_file.name,
        "sha256": sha256_of(package_file),
        "entry": f"{spec.entry_module}:{spec.entry_function}",
        "modules": modules,
        "unresolved": unresolved,
        "flags": flags,
    }


def write_catalog(catalog: dict, output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{catalog['engine']}.json"
    path.write_text(json.dumps(catalog, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def run_one(engine: str, version: str, package_file: Path | None, output_dir: Path) -> None:
    if package_file is not None:
        catalog = build_catalog(engine, version, package_file)
    else:
        with tempfile.TemporaryDirectory(prefix=f"flags-{engine}-") as directory:
            downloaded = download_package(ENGINES[engine].package, version, Path(directory))
            catalog = build_catalog(engine, version, downloaded)

    path = write_catalog(catalog, output_dir)
    print(f"{path}: {len(catalog['flags'])} flags from {catalog['package']}", file=sys.stderr)
    for item in catalog["unresolved"]:
        print(f"{path}: unresolved option argument {item}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", nargs="?", choices=sorted(ENGINES), help="engine to extract")
    parser.add_argument("version", nargs="?", help="release version on PyPI, e.g. 0.5.9")
    parser.add_argument("--all", action="store_true", help="extract the pinned release of every engine")
    parser.add_argument("--package-file", type=Path, help="use this wheel or sdist instead of downloading")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR, help="directory for <engine>.json")
    args = parser.parse_args(argv)

    if args.all:
        if args.engine or args.package_file:
            parser.error("--all takes no engine, version or --package-file")
        jobs = [(name, spec.pinned_version) for name, spec in sorted(ENGINES.items())]
    elif args.engine and args.version:
        jobs = [(args.engine, args.version)]
    else:
        parser.error("give ENGINE VERSION, or --all")

    try:
        for engine, version in jobs:
            run_one(engine, version, args.package_file, args.output_dir)
    except (ExtractionError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
