"""Plot a model's training curves (the model card's PNG) from the runs' log.jsonl files.

  /usr/bin/python3 training/plot_curves.py runs/tiny-s1/log.jsonl runs/tiny-s2/log.jsonl \
      --labels "stage 1" "stage 2" --out docs/images/sctdiff-tiny-curves.png

Stages are drawn one after the other on a shared axis of samples seen (a stage-2 sample is a
clip, so steps of different stages are not comparable). Left: training loss and its CE and
2 x SIoU parts (moving average over `--smooth` log lines). Right: the held-out metrics the
trainer logs every `eval_every` steps (val_loss; val_iou_t_new, the mean IoU of one-step
predictions from pure noise).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np


def read_log(path: Path) -> List[Dict[str, float]]:
    """The JSON lines of a training log; lines that are not JSON objects are skipped."""
    records = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    head = np.array([values[: i + 1].mean() for i in range(window - 1)])
    return np.concatenate([head, np.convolve(values, kernel, mode="valid")])


def x_offsets(ends: Sequence[float], parallel: bool) -> List[float]:
    """Where each log's samples start on the shared axis: after the previous log's last sample
    (stages run one after another), or all at 0 (`parallel`: runs from one checkpoint)."""
    if parallel:
        return [0.0] * len(ends)
    offsets, at = [], 0.0
    for end in ends:
        offsets.append(at)
        at += end
    return offsets


def plot(logs: Sequence[Path], labels: Sequence[str], batch_sizes: Sequence[int], out: Path, smooth: int,
         title: str, parallel: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    right_iou = right.twinx()
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    runs = []
    for path, batch in zip(logs, batch_sizes):
        records = read_log(path)
        train = [r for r in records if "loss" in r]
        if not train:
            raise SystemExit(f"{path}: no training records")
        runs.append((train, [r for r in records if "val_loss" in r]))
    offsets = x_offsets([train[-1]["step"] * batch for (train, _), batch in zip(runs, batch_sizes)], parallel)
    for k, ((train, val), label, batch, offset) in enumerate(zip(runs, labels, batch_sizes, offsets)):
        x = offset + np.array([r["step"] for r in train], dtype=np.float64) * batch
        for key, style in (("loss", "-"), ("ce", "--"), ("siou", ":")):
            y = np.array([r[key] * (2.0 if key == "siou" else 1.0) for r in train])
            name = {"loss": "loss", "ce": "CE", "siou": "2 SIoU"}[key]
            left.plot(x, moving_average(y, smooth), style, color=colours[k % 4], label=f"{label}: {name}")
        if val:
            xv = offset + np.array([r["step"] for r in val], dtype=np.float64) * batch
            right.plot(xv, [r["val_loss"] for r in val], "o-", color=colours[k % 4], label=f"{label}: val loss")
            right_iou.plot(xv, [r["val_iou_t_new"] for r in val], "s--", color=colours[k % 4],
                           label=f"{label}: val IoU (t_new)")
        if not parallel:
            for axis in (left, right):
                axis.axvline(float(x[-1]), color="#999999", linewidth=0.6)
    left.set_xlabel("samples seen (stage 2: clips)")
    left.set_ylabel("training loss")
    left.set_title("training")
    left.legend(fontsize=7)
    right.set_xlabel("samples seen (stage 2: clips)")
    right.set_ylabel("val loss")
    right_iou.set_ylabel("val IoU from noise")
    right_iou.set_ylim(0, 1)
    right.set_title("held-out photos")
    handles = right.get_legend_handles_labels()
    handles_iou = right_iou.get_legend_handles_labels()
    right.legend(handles[0] + handles_iou[0], handles[1] + handles_iou[1], fontsize=7, loc="center right")
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", type=Path, help="log.jsonl of each stage, in order")
    parser.add_argument("--labels", nargs="+", help="one label per log (default: stage 1, stage 2, ...)")
    parser.add_argument("--batch-sizes", nargs="+", type=int,
                        help="samples per step of each log (default: read from the run's config line)")
    parser.add_argument("--smooth", type=int, default=5, help="moving average over this many log lines (5)")
    parser.add_argument("--title", default="SCT-Diff training")
    parser.add_argument("--parallel", action="store_true",
                        help="the logs are runs from one checkpoint (e.g. seeds to be averaged): draw them all "
                             "from 0 instead of one after another")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    args = parser.parse_args(argv)
    labels = args.labels or [f"stage {i + 1}" for i in range(len(args.logs))]
    if len(labels) != len(args.logs):
        parser.error("give one label per log")
    sizes = args.batch_sizes or [run_batch_size(p) for p in args.logs]
    if len(sizes) != len(args.logs):
        parser.error("give one batch size per log")
    plot(args.logs, labels, sizes, args.out, args.smooth, args.title, parallel=args.parallel)
    print(f"wrote {args.out}")
    return 0


def run_batch_size(log: Path) -> int:
    """The batch size a run was started with (its last.pt's saved arguments)."""
    checkpoint = log.parent / "last.pt"
    if not checkpoint.exists():
        raise SystemExit(f"{log}: give --batch-sizes (no {checkpoint} to read the run's batch size from)")
    import torch

    return int(torch.load(checkpoint, map_location="cpu")["args"]["batch_size"])


if __name__ == "__main__":
    raise SystemExit(main())
