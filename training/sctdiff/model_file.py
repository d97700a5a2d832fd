"""The sct-diff model file (docs/model.md, "Weight file"): what makes a .safetensors file one.

One check for every tool that reads an exported model back (export.load_model, export.py
--history, train.py --init-from), so that a foreign or damaged file is refused the same way
everywhere, with the path and the reason in the message.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, NamedTuple, Optional

import torch

from .config import ModelConfig
from .safetensors_io import load_file

FORMAT = "sct-diff"
FORMAT_VERSION = "1"


class ModelFile(NamedTuple):
    tensors: Dict[str, torch.Tensor]
    metadata: Dict[str, str]
    config: ModelConfig


def model_config_of(metadata: Dict[str, str], path: str) -> ModelConfig:
    """The config recorded in an sct-diff file's metadata; ValueError naming `path` otherwise."""
    if metadata.get("format") != FORMAT:
        raise ValueError(f"Expected an sct-diff model file (metadata format {FORMAT!r}) but {path} "
                         f"has format {metadata.get('format')!r} (metadata keys {sorted(metadata)})")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"Expected sct-diff format version {FORMAT_VERSION} but {path} has "
                         f"{metadata.get('format_version')!r}; re-export it with this version of export.py")
    if "config" not in metadata:
        raise ValueError(f"Expected a 'config' entry in the metadata of {path} but it has {sorted(metadata)}")
    try:
        config = ModelConfig.from_json(metadata["config"])  # validates the sizes
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"Expected a valid model config in {path} but reading it failed: {error}") from None
    return config


def read_model_file(path: str) -> ModelFile:
    """Tensors, metadata and config of an sct-diff model file; ValueError for anything else."""
    try:
        tensors, metadata = load_file(path)
    except (ValueError, KeyError, TypeError) as error:  # JSON and UTF-8 errors are ValueErrors
        raise ValueError(f"Expected a safetensors file but {path} could not be read: {error}") from None
    return ModelFile(tensors, metadata, model_config_of(metadata, path))


def recorded_stages(metadata: Dict[str, str]) -> List[Any]:
    """The "stages" list of an exported file's "training" record (export.py), oldest first;
    empty when the file has no record. Raises ValueError when the record is malformed."""
    try:
        record = json.loads(metadata.get("training") or "{}")
    except ValueError as error:
        raise ValueError(f"its 'training' metadata is not JSON ({error})") from None
    if not isinstance(record, dict):
        raise ValueError("its 'training' metadata is not a JSON object")
    stages = record.get("stages") or []
    if not isinstance(stages, list):
        raise ValueError("its training stages are not a list")
    return stages


def exported_stage(metadata: Dict[str, str]) -> Optional[int]:
    """The training stage of the last run an exported file came from (export.py's "training"
    metadata), or None when the file does not say (random init, another exporter)."""
    try:
        stages = recorded_stages(metadata)
    except ValueError:
        return None
    last = stages[-1] if stages else None
    run = last.get("run") if isinstance(last, dict) else None
    stage = run.get("stage") if isinstance(run, dict) else None
    return stage if isinstance(stage, int) else None
