"""`presets`: write or check values-presets/<engine>/<shape>.yaml for every engine and shape."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.catalog import load_catalog
from generator.presets import PRESET_DIR, build_presets, stale_presets
from generator.values_file import write_atomically


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "presets",
        help="write the committed values presets for every engine and GPU shape",
        description="Write values-presets/<engine>/<shape>.yaml for every engine and GPU shape.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a committed preset is missing or stale")
    parser.add_argument("--directory", type=Path, default=PRESET_DIR, metavar="DIR", help="presets folder (default: values-presets/ of this repository)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(tuple(args.catalog))
    root = args.directory
    presets = build_presets(catalog, root)
    if args.check:
        problems = stale_presets(presets, root)
        for problem in problems:
            print(f"error: {problem.format()}", file=sys.stderr)
        print(f"checked {len(presets)} presets under {root}/: {len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0

    for preset in presets:
        write_atomically(preset.path, preset.text)
    expected = {preset.path for preset in presets}
    for path in sorted(root.glob("*/*.yaml")):
        if path not in expected:
            path.unlink()
            print(f"removed {path}", file=sys.stderr)
    print(f"wrote {len(presets)} presets under {root}/", file=sys.stderr)
    return 0
