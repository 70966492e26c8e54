"""helm lint --strict passes for the chart with presets and with an explicit minimal values file."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import CHART_DIR, REPO_ROOT

PRESETS = sorted((REPO_ROOT / "values-presets").glob("*/*.yaml"))


def lint(helm: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm, "lint", "--strict", str(CHART_DIR), *arguments], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("preset", PRESETS[::5], ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_lint_strict_on_presets(helm: str, preset: Path):
    result = lint(helm, "-f", str(preset))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


def test_lint_strict_with_model_only(helm: str):
    result = lint(helm, "--set", "model.id=meta-llama/Llama-3.1-8B-Instruct")
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_strict_with_chart_defaults(helm: str):
    """helm lint tolerates the template's `fail` for the missing model.id; helm template does not."""
    result = lint(helm)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = subprocess.run([helm, "template", "llm", str(CHART_DIR)], capture_output=True, text=True, timeout=120, check=False)
    assert rendered.returncode != 0
    assert "model.id: is required" in rendered.stderr
