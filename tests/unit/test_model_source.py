"""Tests for reading model facts from local model directories and (faked) hub clients."""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from generator.catalog import load_catalog
from generator.errors import GeneratorError
from generator.model_source import load_hub_model, load_model_dir, read_safetensors_header
from generator.planner import plan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def test_llama_directory_reads_config_and_index():
    model = load_model_dir(FIXTURES / "llama-3.1-8b-instruct")
    assert model.id == "llama-3.1-8b-instruct"
    assert model.dtype == "bf16"
    assert model.checkpoint_bytes == 16060522496
    assert model.parameters == 16060522496 // 2
    assert model.layers == 32
    assert model.attention_heads == 32
    assert model.kv_heads == 8
    assert model.head_dim == 128
    assert model.max_context == 131072
    assert not model.uses_mla


def test_directory_model_id_override():
    model = load_model_dir(FIXTURES / "llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct")
    assert model.id == "meta-llama/Llama-3.1-8B-Instruct"


def test_directory_model_plans_like_catalog_entry():
    catalog = load_catalog()
    local = load_model_dir(FIXTURES / "llama-3.1-8b-instruct")
    result = plan(local, catalog.engine("sglang"), catalog.shape("a10-24gb-x1"), nodes=2)
    assert result.tensor_parallel == 2
    assert result.fits


def test_single_file_header_counts_parameters():
    parameters, size = read_safetensors_header(FIXTURES / "tiny-mla-fp8" / "model.safetensors")
    assert parameters == 40 * 64 + 1 + 64
    assert size == 40 * 64 * 1 + 4 + 64 * 2


def test_mla_fp8_directory():
    model = load_model_dir(FIXTURES / "tiny-mla-fp8")
    assert model.dtype == "fp8"
    assert model.uses_mla
    assert model.kv_lora_rank == 32
    assert model.qk_rope_head_dim == 8
    assert model.parameters == 2625
    assert model.bf16_checkpoint_bytes == 2 * 2625


def test_text_config_and_total_parameters():
    model = load_model_dir(FIXTURES / "multimodal-text-config")
    assert model.layers == 28
    assert model.kv_heads == 4
    assert model.head_dim == 3584 // 28
    assert model.parameters == 8292166656
    assert model.max_context == 128000


def test_missing_checkpoint_files_rejected():
    with pytest.raises(GeneratorError) as caught:
        load_model_dir(FIXTURES / "missing-index")
    assert "model.safetensors.index.json" in caught.value.problems[0].message


def test_missing_directory_rejected(tmp_path):
    with pytest.raises(GeneratorError) as caught:
        load_model_dir(tmp_path / "absent")
    assert "not found" in caught.value.problems[0].message


def test_unsupported_quantization_rejected(tmp_path):
    config = json.loads((FIXTURES / "llama-3.1-8b-instruct" / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "awq", "bits": 4}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors.index.json").write_text('{"metadata": {"total_size": 5000000000}}')
    with pytest.raises(GeneratorError) as caught:
        load_model_dir(tmp_path)
    assert "'awq'" in caught.value.problems[0].message


def test_index_without_total_size_rejected(tmp_path):
    (tmp_path / "config.json").write_text((FIXTURES / "llama-3.1-8b-instruct" / "config.json").read_text())
    (tmp_path / "model.safetensors.index.json").write_text('{"metadata": {}, "weight_map": {}}')
    with pytest.raises(GeneratorError) as caught:
        load_model_dir(tmp_path)
    assert "total_size" in caught.value.problems[0].message


def test_truncated_safetensors_rejected(tmp_path):
    (tmp_path / "config.json").write_text((FIXTURES / "llama-3.1-8b-instruct" / "config.json").read_text())
    (tmp_path / "model.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(GeneratorError) as caught:
        load_model_dir(tmp_path)
    assert "not a safetensors file" in caught.value.problems[0].message


def _block_hub_packages(monkeypatch):
    # A None entry in sys.modules makes `import` raise ImportError.
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    monkeypatch.setitem(sys.modules, "modelscope", None)
    monkeypatch.setitem(sys.modules, "modelscope.hub", None)
    monkeypatch.setitem(sys.modules, "modelscope.hub.file_download", None)


def test_hub_without_clients_reports_both(monkeypatch):
    _block_hub_packages(monkeypatch)
    with pytest.raises(GeneratorError) as caught:
        load_hub_model("example-org/example-model")
    problem = caught.value.problems[0]
    assert problem.path == "--model"
    assert "huggingface_hub is not installed" in problem.message
    assert "modelscope is not installed" in problem.message
    assert "--model-dir" in problem.hint


def test_hub_reads_downloaded_files(monkeypatch):
    _block_hub_packages(monkeypatch)
    requests = []

    def hf_hub_download(repo_id: str, filename: str) -> str:
        requests.append((repo_id, filename))
        return str(FIXTURES / "llama-3.1-8b-instruct" / filename)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))
    model = load_hub_model("meta-llama/Llama-3.1-8B-Instruct")
    assert model.id == "meta-llama/Llama-3.1-8B-Instruct"
    assert model.checkpoint_bytes == 16060522496
    assert requests == [
        ("meta-llama/Llama-3.1-8B-Instruct", "config.json"),
        ("meta-llama/Llama-3.1-8B-Instruct", "model.safetensors.index.json"),
    ]


def test_hub_failure_falls_back_to_modelscope(monkeypatch):
    _block_hub_packages(monkeypatch)

    def hf_hub_download(repo_id: str, filename: str) -> str:
        raise OSError("network unreachable")

    def model_file_download(model_id: str, file_path: str) -> str:
        return str(FIXTURES / "llama-3.1-8b-instruct" / file_path)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))
    modelscope = types.ModuleType("modelscope")
    hub = types.ModuleType("modelscope.hub")
    file_download = types.ModuleType("modelscope.hub.file_download")
    file_download.model_file_download = model_file_download
    monkeypatch.setitem(sys.modules, "modelscope", modelscope)
    monkeypatch.setitem(sys.modules, "modelscope.hub", hub)
    monkeypatch.setitem(sys.modules, "modelscope.hub.file_download", file_download)
    model = load_hub_model("LLM-Research/Meta-Llama-3.1-8B-Instruct")
    assert model.layers == 32


def test_hub_failure_message_names_error(monkeypatch):
    _block_hub_packages(monkeypatch)

    def hf_hub_download(repo_id: str, filename: str) -> str:
        raise OSError("network unreachable")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))
    with pytest.raises(GeneratorError) as caught:
        load_hub_model("example-org/example-model")
    assert "Hugging Face: OSError: network unreachable" in caught.value.problems[0].message
