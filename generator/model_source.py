"""Model facts from a local model directory or a model hub, for models not in the catalog.

A model directory is what `huggingface-cli download` or `modelscope download` leaves: a
Hugging Face style `config.json` and safetensors weights. The checkpoint size comes from
`model.safetensors.index.json` (`metadata.total_size`) or, for a single-file checkpoint,
from the header of `model.safetensors`. Only these small files are read, never the weights.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any, Callable

from generator.catalog import BYTES_PER_PARAMETER, Model
from generator.errors import GeneratorError, Problem

CONFIG_FILE = "config.json"
INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"

# A safetensors file starts with an 8-byte little-endian header length, then a JSON header.
# Headers beyond this size are rejected rather than read into memory.
MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024

TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16"}


def _invalid(where: str, message: str, hint: str = "") -> GeneratorError:
    return GeneratorError(Problem("", message, hint, where))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _invalid(str(path), "file not found", "download the model's config and safetensors index into this directory") from None
    except OSError as error:
        raise _invalid(str(path), f"cannot read file: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise _invalid(str(path), f"invalid JSON: {error}") from None
    if not isinstance(data, dict):
        raise _invalid(str(path), "expected a JSON object")
    return data


def read_safetensors_header(path: Path) -> tuple[int, int]:
    """Return (parameter count, tensor bytes) of one safetensors file from its header alone."""
    try:
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise _invalid(str(path), "not a safetensors file: shorter than its 8-byte header length")
            (header_length,) = struct.unpack("<Q", prefix)
            if header_length > MAX_SAFETENSORS_HEADER_BYTES:
                raise _invalid(str(path), f"safetensors header of {header_length} bytes is larger than the limit of {MAX_SAFETENSORS_HEADER_BYTES}")
            header = json.loads(handle.read(header_length))
    except OSError as error:
        raise _invalid(str(path), f"cannot read file: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _invalid(str(path), f"invalid safetensors header: {error}") from None

    parameters = 0
    size = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = tensor["data_offsets"]
            parameters += math.prod(tensor["shape"])
        except (KeyError, TypeError, ValueError):
            raise _invalid(str(path), f"tensor {name!r} has no valid shape and data_offsets in the header") from None
        size += end - start
    return parameters, size


def _index_size(index_path: Path) -> tuple[int, int | None]:
    """Return (metadata.total_size, metadata.total_parameters or None) of a safetensors index."""
    metadata = _read_json(index_path).get("metadata") or {}
    total_size = metadata.get("total_size")
    if isinstance(total_size, bool) or not isinstance(total_size, int) or total_size <= 0:
        raise _invalid(str(index_path), "metadata.total_size is missing or not a positive integer")
    total_parameters = metadata.get("total_parameters")
    return total_size, total_parameters if isinstance(total_parameters, int) else None


def _checkpoint_size(directory: Path, where: str) -> tuple[int, int | None]:
    """Return (checkpoint bytes, parameter count or None) from the index or the single-file header."""
    index_path = directory / INDEX_FILE
    if index_path.is_file():
        return _index_size(index_path)
    single_path = directory / SINGLE_FILE
    if single_path.is_file():
        parameters, size = read_safetensors_header(single_path)
        return size, parameters
    raise _invalid(where, f"neither {INDEX_FILE} nor {SINGLE_FILE} found", "the planner reads checkpoint sizes from safetensors files only")


def _dtype(config: dict[str, Any], where: str) -> str:
    quantization = config.get("quantization_config")
    if isinstance(quantization, dict):
        method = quantization.get("quant_method")
        if method == "fp8":
            return "fp8"
        raise _invalid(where, f"quantization method {method!r} is not supported by the planner", "use a BF16, FP16 or FP8 checkpoint")
    name = config.get("torch_dtype") or config.get("dtype") or "bfloat16"
    if name not in TORCH_DTYPES:
        raise _invalid(where, f"checkpoint dtype {name!r} is not supported by the planner", "use a BF16, FP16 or FP8 checkpoint")
    return TORCH_DTYPES[name]


def _positive_int(config: dict[str, Any], key: str, where: str) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(where, f"{key} is missing or not a positive integer")
    return value


def model_from_config(model_id: str, config: dict[str, Any], checkpoint_bytes: int, parameters: int | None, where: str) -> Model:
    """Build a Model from a Hugging Face config.json and a checkpoint size.

    Multimodal configs keep the language model's fields under `text_config`, which is used when
    the top level has no `num_hidden_layers`. Without a parameter count the count is estimated
    as checkpoint bytes over bytes per parameter of the checkpoint dtype.
    """
    dtype = _dtype(config, where)
    if "num_hidden_layers" not in config and isinstance(config.get("text_config"), dict):
        config = config["text_config"]
    heads = _positive_int(config, "num_attention_heads", where)
    hidden_size = _positive_int(config, "hidden_size", where)
    kv_heads = config.get("num_key_value_heads") or heads
    head_dim = config.get("head_dim") or hidden_size // heads
    if parameters is None:
        parameters = int(checkpoint_bytes / BYTES_PER_PARAMETER[dtype])
    return Model(
        id=model_id,
        parameters=parameters,
        dtype=dtype,  # type: ignore[arg-type]
        checkpoint_bytes=checkpoint_bytes,
        layers=_positive_int(config, "num_hidden_layers", where),
        hidden_size=hidden_size,
        attention_heads=heads,
        kv_heads=int(kv_heads),
        head_dim=int(head_dim),
        max_context=_positive_int(config, "max_position_embeddings", where),
        kv_lora_rank=config.get("kv_lora_rank"),
        qk_rope_head_dim=config.get("qk_rope_head_dim") if config.get("kv_lora_rank") else None,
    )


def load_model_dir(directory: Path, model_id: str | None = None) -> Model:
    """Read a model's facts from a local directory. The id defaults to the directory name."""
    if not directory.is_dir():
        raise _invalid(str(directory), "model directory not found", "pass the directory that contains config.json")
    config = _read_json(directory / CONFIG_FILE)
    checkpoint_bytes, parameters = _checkpoint_size(directory, str(directory))
    return model_from_config(model_id or directory.name, config, checkpoint_bytes, parameters, str(directory / CONFIG_FILE))


def _huggingface_fetcher() -> Callable[[str, str], str]:
    from huggingface_hub import hf_hub_download

    return lambda model_id, filename: hf_hub_download(repo_id=model_id, filename=filename)


def _modelscope_fetcher() -> Callable[[str, str], str]:
    from modelscope.hub.file_download import model_file_download

    return lambda model_id, filename: model_file_download(model_id=model_id, file_path=filename)


HUBS: tuple[tuple[str, str, Callable[[], Callable[[str, str], str]]], ...] = (
    ("Hugging Face", "huggingface_hub", _huggingface_fetcher),
    ("ModelScope", "modelscope", _modelscope_fetcher),
)


def load_hub_model(model_id: str) -> Model:
    """Fetch config.json and the safetensors index of a hub model and read its facts.

    Tries Hugging Face through `huggingface_hub`, then ModelScope through `modelscope`, using
    whichever is installed. Both libraries honour their own offline and endpoint settings.
    """
    failures = []
    for hub, package, make_fetcher in HUBS:
        try:
            fetch = make_fetcher()
        except ImportError:
            failures.append(f"{package} is not installed")
            continue
        try:
            config_path = Path(fetch(model_id, CONFIG_FILE))
            index_path = Path(fetch(model_id, INDEX_FILE))
        except Exception as error:  # noqa: BLE001 - hub clients raise many types: HTTP, offline, not found
            failures.append(f"{hub}: {type(error).__name__}: {error}")
            continue
        total_size, parameters = _index_size(index_path)
        return model_from_config(model_id, _read_json(config_path), total_size, parameters, f"{hub} {model_id}/{CONFIG_FILE}")
    raise GeneratorError(Problem(
        "--model",
        f"cannot read {model_id!r} from a model hub: " + "; ".join(failures),
        "install huggingface_hub or modelscope and check network access, or download the model and pass --model-dir",
    ))
