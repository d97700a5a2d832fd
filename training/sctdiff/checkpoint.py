"""Resumable training checkpoints, written atomically.

A run may be stopped at any moment (a GPU lease ends, the machine is taken back) and go on
later on a different machine. A checkpoint therefore holds everything the next step
depends on: model, optimizer and LR-scheduler state, the step, the data position (index of
the next training sample; samples are a pure function of their index), the random states
of python, numpy and torch (CPU and, when present, CUDA), and the run's arguments.

The file is a plain `torch.save` dict whose "model" and "config" entries are what
training/export.py reads, so any checkpoint can be exported directly.

Writes go to a temporary file in the same folder, are flushed and fsynced, then renamed
over the target (`os.replace` is atomic on POSIX): a crash mid-write leaves the previous
checkpoint intact, never a truncated one.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

CHECKPOINT_VERSION = 1
LAST = "last.pt"
PORTABLE_INDEX = "last.pt.index.json"
# Machines lent for training return at most 16 MiB per file and 64 MiB in all.
PORTABLE_PART_BYTES = 15 * 2 ** 20


def rng_state() -> Dict[str, Any]:
    """Every global random state training touches, as tensors and plain Python values only.

    torch >= 2.6 loads with `weights_only=True` by default, which refuses numpy arrays; keeping
    checkpoints to tensors/ints/tuples lets training/export.py read them on any torch version.
    """
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: Dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"name": str(name), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Dict[str, Any]) -> None:
    """Inverse of `rng_state`; CUDA states are restored only where the device count matches."""
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu() if hasattr(state["torch"], "cpu") else state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save to `path` through a fsynced temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(buffer.getbuffer())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    # Persist the rename itself (the directory entry) as well.
    try:
        fd = os.open(str(path.parent), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def save_checkpoint(out_dir: Path, *, model: torch.nn.Module, config: Dict[str, Any], optimizer: torch.optim.Optimizer,
                    scheduler: Any, step: int, data_position: int, args: Dict[str, Any],
                    metrics: Optional[Dict[str, float]] = None, keep_copy: bool = False,
                    portable_dir: Optional[Path] = None, extra: Optional[Dict[str, Any]] = None) -> Path:
    """Write out_dir/last.pt (and out_dir/step_<step>.pt when keep_copy, and a `write_portable`
    copy in portable_dir when given); returns last.pt's path. `extra` entries (for example a
    training-only head's weights) are stored next to the model's."""
    state = {
        "version": CHECKPOINT_VERSION,
        "torch_version": str(torch.__version__),
        "model": {k: v.detach().cpu() for k, v in unwrap(model).state_dict().items()},
        "config": config,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": step,
        "data_position": data_position,
        "rng": rng_state(),
        "args": args,
        "metrics": metrics or {},
    }
    state.update(extra or {})
    last = Path(out_dir) / LAST
    atomic_save(state, last)
    if keep_copy:
        atomic_save(state, Path(out_dir) / f"step_{step:07d}.pt")
    if portable_dir is not None:
        write_portable(state, Path(portable_dir))
    return last


def write_portable(state: Dict[str, Any], folder: Path, part_bytes: int = PORTABLE_PART_BYTES) -> List[Path]:
    """A compact copy of a checkpoint that fits a lent machine's file limits.

    Adam's moment estimates are stored in bf16 (same exponent range as fp32; optimizer
    load_state_dict casts them back to the parameters' dtype), which takes tiny from about
    72 MB to 48 MB; the bytes are then cut into parts of at most `part_bytes`, and an index
    with each part's size and SHA-256 is written last, so a half-written copy is never read.
    """
    compact = dict(state)
    optimizer = dict(state["optimizer"])
    optimizer["state"] = {key: {name: (value.to(torch.bfloat16) if torch.is_tensor(value) and name != "step"
                                       and value.is_floating_point() else value)
                                for name, value in slot.items()}
                          for key, slot in state["optimizer"]["state"].items()}
    compact["optimizer"] = optimizer
    compact["portable"] = True
    buffer = io.BytesIO()
    torch.save(compact, buffer)
    blob = buffer.getvalue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for number, start in enumerate(range(0, len(blob), part_bytes)):
        chunk = blob[start:start + part_bytes]
        name = f"{LAST}.part{number:03d}"
        atomic_write_bytes(folder / name, chunk)
        parts.append({"name": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    index = {"step": state["step"], "data_position": state["data_position"], "parts": parts,
             "sha256": hashlib.sha256(blob).hexdigest()}
    atomic_write_bytes(folder / PORTABLE_INDEX, json.dumps(index, indent=1).encode())
    return [folder / p["name"] for p in parts] + [folder / PORTABLE_INDEX]


def read_portable(index_path: Path) -> Dict[str, Any]:
    """Reassemble and verify a `write_portable` copy; raises ValueError on a missing or corrupt part."""
    index_path = Path(index_path)
    index = json.loads(index_path.read_text())
    blob = bytearray()
    for part in index["parts"]:
        chunk = (index_path.parent / part["name"]).read_bytes()
        if len(chunk) != part["bytes"] or hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise ValueError(f"Expected part {part['name']} of {part['bytes']} bytes with its recorded SHA-256 "
                             f"but received {len(chunk)} bytes that do not match")
        blob += chunk
    if hashlib.sha256(bytes(blob)).hexdigest() != index["sha256"]:
        raise ValueError(f"Expected the parts of {index_path} to reassemble to the recorded SHA-256 but received another")
    return torch.load(io.BytesIO(bytes(blob)), map_location="cpu", weights_only=False)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = Path(path).with_name(f".{Path(path).name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> Dict[str, Any]:
    """Read a checkpoint onto the CPU (the caller moves tensors where they belong).

    `path` is a file written by `save_checkpoint`, or a portable copy's index file.
    """
    if str(path).endswith(".index.json"):
        return read_portable(Path(path))
    # Our own files: full unpickling (torch 1.13's weights-only reader rejects plain floats).
    state = torch.load(str(path), map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"Expected a training checkpoint dict with a 'model' entry but received {type(state).__name__}")
    return state


SAFE_TYPES = (dict, list, tuple, int, float, str, bool, type(None), torch.Tensor)


def only_safe_types(obj: Any) -> bool:
    """Whether `obj` holds only what torch's weights-only loader (torch >= 2.6's default) accepts."""
    if isinstance(obj, dict):
        return all(isinstance(k, (str, int)) and only_safe_types(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(only_safe_types(v) for v in obj)
    return isinstance(obj, SAFE_TYPES)


def find_resume_path(resume: str, out_dir: Path) -> Optional[Path]:
    """--resume value -> checkpoint path: "auto" = out_dir/last.pt if it exists, else the given path."""
    if resume == "auto":
        candidate = Path(out_dir) / LAST
        return candidate if candidate.exists() else None
    path = Path(resume)
    if path.is_dir():
        # A run folder (last.pt) or a folder holding only a portable copy.
        path = path / LAST if (path / LAST).exists() or not (path / PORTABLE_INDEX).exists() else path / PORTABLE_INDEX
    if not path.exists():
        raise FileNotFoundError(f"Expected a checkpoint at {path} but received nothing there")
    return path


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The underlying module of a torch.compile'd or DDP-wrapped model (state_dict names stay clean)."""
    inner = getattr(model, "_orig_mod", model)
    return getattr(inner, "module", inner)


def main(argv: Optional[List[str]] = None) -> int:
    """`python3 -m sctdiff.checkpoint join PORTABLE_DIR OUT.pt`: a portable copy back to one file
    (what training/export.py --checkpoint and --resume read)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m sctdiff.checkpoint")
    sub = parser.add_subparsers(dest="command", required=True)
    join = sub.add_parser("join", help="reassemble a portable copy into a single checkpoint file")
    join.add_argument("portable_dir", type=Path)
    join.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    index = args.portable_dir / PORTABLE_INDEX if args.portable_dir.is_dir() else args.portable_dir
    state = read_portable(index)
    atomic_save(state, args.out)
    print(f"wrote {args.out} (step {state['step']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
