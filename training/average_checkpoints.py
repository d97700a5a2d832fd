#!/usr/bin/env python3
"""Average the weights of training runs that started from one checkpoint ("model soup").

Stage-2 continuations of one checkpoint with different seeds end in nearby minima whose
uniform weight average usually tracks at least as well as either (docs/training.md, "The
tenth CPU run"). The output is a checkpoint that `training/export.py` exports and that
`train.py --init-from` continues from; it holds no optimizer state, so it cannot be resumed
with `--resume`.

    python3 training/average_checkpoints.py runs/a/last.pt runs/b/last.pt --out runs/ab/last.pt
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sctdiff.checkpoint import CHECKPOINT_VERSION, atomic_save, load_checkpoint  # noqa: E402

# Parts of a checkpoint that are weights: averaged entry by entry.
WEIGHT_ENTRIES = ("model", "aux_head")


def average_weights(states: List[Dict[str, torch.Tensor]], what: str) -> Dict[str, torch.Tensor]:
    """Entry-wise mean of float tensors (in float64, stored in each entry's dtype); other tensors must agree."""
    names = list(states[0])
    for index, state in enumerate(states[1:], start=2):
        if sorted(state) != sorted(names):
            missing = sorted(set(names) ^ set(state))
            raise ValueError(f"Expected checkpoint {index} to hold the same {what} tensors as the first "
                             f"but received a different set (differing: {', '.join(missing[:5])})")
    out: Dict[str, torch.Tensor] = {}
    for name in names:
        tensors = [state[name] for state in states]
        shapes = {tuple(t.shape) for t in tensors}
        if len(shapes) != 1:
            raise ValueError(f"Expected one shape for {what} tensor {name!r} but received {sorted(shapes)}")
        if tensors[0].is_floating_point():
            mean = torch.stack([t.double() for t in tensors]).mean(dim=0)
            if not torch.isfinite(mean).all():
                raise ValueError(f"Expected finite weights but {what} tensor {name!r} is not finite")
            out[name] = mean.to(tensors[0].dtype)
        else:
            if not all(torch.equal(tensors[0], t) for t in tensors[1:]):
                raise ValueError(f"Expected the non-float {what} tensor {name!r} to be equal in every checkpoint")
            out[name] = tensors[0].clone()
    return out


def average_checkpoints(paths: List[Path]) -> Dict[str, Any]:
    if len(paths) < 2:
        raise ValueError(f"Expected at least 2 checkpoints to average but received {len(paths)}")
    loaded = [load_checkpoint(path) for path in paths]
    first = loaded[0]
    for path, checkpoint in zip(paths[1:], loaded[1:]):
        if checkpoint.get("config") != first.get("config"):
            raise ValueError(f"Expected checkpoints of one model config but {path} holds another than {paths[0]}")
        stage = (checkpoint.get("args") or {}).get("stage")
        if stage != (first.get("args") or {}).get("stage"):
            raise ValueError(f"Expected checkpoints of one training stage but {path} is stage {stage}")
    out: Dict[str, Any] = {"version": CHECKPOINT_VERSION, "config": first["config"]}
    for entry in WEIGHT_ENTRIES:
        present = [entry in checkpoint for checkpoint in loaded]
        if all(present):
            out[entry] = average_weights([checkpoint[entry] for checkpoint in loaded], entry)
        elif any(present):
            raise ValueError(f"Expected every checkpoint or none to hold {entry!r} but only some do")
    # The record export.py writes: the first run's settings, the clips seen by all, and where
    # the weights came from.
    out["step"] = max(int(checkpoint.get("step", 0)) for checkpoint in loaded)
    out["data_position"] = sum(int(checkpoint.get("data_position", 0)) for checkpoint in loaded)
    args = dict(first.get("args") or {})
    args["seed"] = [(checkpoint.get("args") or {}).get("seed") for checkpoint in loaded]
    out["args"] = args
    out["averaged_from"] = [{"checkpoint": str(path), "step": int(checkpoint.get("step", 0)),
                             "seed": (checkpoint.get("args") or {}).get("seed")}
                            for path, checkpoint in zip(paths, loaded)]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", type=Path, help="training checkpoints (last.pt) of one config and stage")
    parser.add_argument("--out", type=Path, required=True, help="where to write the averaged checkpoint")
    args = parser.parse_args(argv)
    try:
        averaged = average_checkpoints(args.checkpoints)
    except (ValueError, OSError) as error:
        print(f"average_checkpoints: {error}", file=sys.stderr)
        return 2
    atomic_save(averaged, args.out)
    print(f"averaged {len(args.checkpoints)} checkpoints into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
