"""Write SCT-Diff weights as safetensors for the engines (docs/model.md, "Weight file").

  /usr/bin/python3 training/export.py --config tiny --random-seed 0 --out models/x.safetensors
  /usr/bin/python3 training/export.py --checkpoint ckpt.pt --out models/tiny.safetensors [--dtype BF16]

Metadata: format = "sct-diff", format_version = "1", config = the model config as JSON.
A checkpoint is a torch.save'd dict with "model" (a state_dict) and "config" (config dict or
JSON), or a bare state_dict together with --config.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any, Dict, List, Optional

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sctdiff.config import CONFIGS, ModelConfig, get_config  # noqa: E402
from sctdiff.model import SCTDiff, build_model  # noqa: E402
from sctdiff.model_file import FORMAT, FORMAT_VERSION, read_model_file, recorded_stages  # noqa: E402
from sctdiff.safetensors_io import save_file  # noqa: E402

EXPORT_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def export_state(model: SCTDiff, path: str, dtype: str = "F32", training: Optional[Dict[str, Any]] = None) -> None:
    """Write every weight of `model` (names = state_dict keys) with the format metadata.

    `training`, when given, is stored as JSON under the metadata key "training" (how the
    weights were made: stage, step, samples seen, the run's main settings); the engines
    ignore it and `sct-diff inspect` shows it.
    """
    if dtype not in EXPORT_DTYPES:
        raise ValueError(f"Expected a dtype in {sorted(EXPORT_DTYPES)} but received {dtype!r}")
    tensors = {name: value.detach().to(EXPORT_DTYPES[dtype]) for name, value in model.state_dict().items()}
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.cfg.to_json()}
    if training is not None:
        metadata["training"] = json.dumps(training, sort_keys=True)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    save_file(tensors, path, metadata)


def load_model(path: str) -> SCTDiff:
    """Read a file written by `export_state` back into a float32 model (checks names/shapes)."""
    tensors, _, config = read_model_file(path)
    model = SCTDiff(config)
    model.load_state_dict({name: t.float() for name, t in tensors.items()}, strict=True)
    return model


def strip_wrapper_prefixes(name: str) -> str:
    """Drop the prefixes torch.compile ("_orig_mod.") and DDP ("module.") add to weight names."""
    while True:
        for prefix in ("_orig_mod.", "module."):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        else:
            return name


def model_from_checkpoint(path: str, config_name: Optional[str]) -> SCTDiff:
    return model_from_loaded(torch.load(path, map_location="cpu"), config_name)


def model_from_loaded(checkpoint: Any, config_name: Optional[str]) -> SCTDiff:
    """The model of a checkpoint already read with torch.load (a training checkpoint or a bare state_dict)."""
    state: Dict[str, torch.Tensor]
    if isinstance(checkpoint, dict) and "model" in checkpoint:
        state = checkpoint["model"]
        raw = checkpoint.get("config")
        if raw is not None:
            cfg = ModelConfig.from_dict(json.loads(raw) if isinstance(raw, str) else raw)
        elif config_name:
            cfg = get_config(config_name)
        else:
            raise ValueError("Expected a checkpoint with a 'config' entry or --config but received neither")
    else:
        if not config_name:
            raise ValueError("Expected --config for a bare state_dict checkpoint but received none")
        state, cfg = checkpoint, get_config(config_name)
    state = {strip_wrapper_prefixes(k): v for k, v in state.items()}
    model = SCTDiff(cfg)
    model.load_state_dict(state, strict=True)
    return model


# The run settings worth carrying into a model file (TrainConfig field names).
PROVENANCE_ARGS = ("stage", "steps", "batch_size", "lr", "high_t_fraction", "clip_lengths", "sources", "seed",
                   "init_from")


def with_clip_len(model: SCTDiff, clip_len: int) -> SCTDiff:
    """The same weights as a model of `clip_len` frames per window (the first rows of the temporal table).

    Why: a stage-1 checkpoint has only ever decoded single frames (N = 1); its temporal rows
    past the first are untrained, so as an N = 6 model it cannot track. Exported with
    clip_len 1, the engines run it as the single-frame tracker it is (stride 1), which is how
    stage 1 is evaluated before stage 2 exists."""
    trained = model.cfg.decoder.clip_len
    if not 1 <= clip_len <= trained:
        raise ValueError(f"Expected a clip length from 1 to {trained} (the model's) but received {clip_len}")
    if clip_len == trained:
        return model
    decoder = dataclasses.replace(model.cfg.decoder, clip_len=clip_len)
    cfg = dataclasses.replace(model.cfg, decoder=decoder)
    state = dict(model.state_dict())
    state["decoder.temporal"] = state["decoder.temporal"][:clip_len].clone()
    out = SCTDiff(cfg)
    out.load_state_dict(state, strict=True)
    return out


def training_provenance(checkpoint: Any) -> Optional[Dict[str, Any]]:
    """Stage, step, samples seen and main settings of a loaded training checkpoint (None for a bare state_dict)."""
    if not isinstance(checkpoint, dict) or "step" not in checkpoint:
        return None
    args = checkpoint.get("args") or {}
    stage = {
        "checkpoint_step": int(checkpoint["step"]),
        "samples_seen": int(checkpoint.get("data_position", 0)),
        "run": {k: args[k] for k in PROVENANCE_ARGS if k in args},
    }
    if checkpoint.get("averaged_from"):  # training/average_checkpoints.py
        stage["averaged_from"] = checkpoint["averaged_from"]
    return stage


def history_stages(path: str) -> List[Dict[str, Any]]:
    """The training stages behind an earlier checkpoint or exported model, oldest first.

    A checkpoint is one stage. An exported .safetensors file carries its own record, so a run
    that continues a shipped model whose checkpoints are gone (train.py --init-from the file)
    still exports the whole history.
    """
    if path.endswith(".safetensors"):
        try:
            return recorded_stages(read_model_file(path).metadata)
        except ValueError as error:
            raise ValueError(f"--history {path}: {error}") from None
    stage = training_provenance(torch.load(path, map_location="cpu"))
    return [] if stage is None else [stage]


def clip_len_option(value: str) -> Any:
    if value == "stage":
        return value
    try:
        frames = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of frames or 'stage', got {value!r}") from None
    if frames < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 frame, got {frames}")
    return frames


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), help="named config (random init or bare state_dict)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--random-seed", type=int, help="export a freshly initialized model")
    source.add_argument("--checkpoint", help="torch checkpoint to export")
    parser.add_argument("--out", required=True, help="output .safetensors path")
    parser.add_argument("--dtype", default="F32", choices=sorted(EXPORT_DTYPES))
    parser.add_argument("--history", nargs="*", default=[],
                        help="earlier checkpoints of the same model (e.g. stage 1), or exported models whose "
                             "recorded stages are carried over, listed in the file's 'training' metadata before "
                             "--checkpoint")
    parser.add_argument("--clip-len", type=clip_len_option, default=None,
                        help="frames per window of the exported model (default: the checkpoint's); 1 exports a "
                             "stage-1 checkpoint as the single-frame tracker it was trained as (track with --stride 1); "
                             "'stage' picks that: 1 for a stage-1 checkpoint, the checkpoint's own for stage 2")
    args = parser.parse_args(argv)
    if args.random_seed is not None:
        model = build_model(get_config(args.config or "tiny"), seed=args.random_seed)
        training = {"random_init_seed": args.random_seed}
    else:
        checkpoint = torch.load(args.checkpoint, map_location="cpu")  # read once: weights and record
        model = model_from_loaded(checkpoint, args.config)
        history = [stage for p in args.history for stage in history_stages(p)]
        own = training_provenance(checkpoint)
        training = {"stages": [s for s in [*history, own] if s is not None]}
        if args.clip_len == "stage":
            args.clip_len = 1 if own is not None and own["run"].get("stage", 1) == 1 else None
    if args.clip_len == "stage":
        parser.error("--clip-len stage needs --checkpoint")
    if args.clip_len is not None:
        model = with_clip_len(model, args.clip_len)
        training["clip_len"] = args.clip_len
    export_state(model, args.out, args.dtype, training)
    count = sum(t.numel() for t in model.state_dict().values())
    print(f"wrote {args.out}: {model.cfg.name}, {count} parameters, {args.dtype}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
