"""Run OpenCV's CSRT and KCF on a GOT-10k-layout set and write GOT-10k result files.

  /usr/bin/python3 training/eval_opencv.py [--root training/valset] [--trackers csrt kcf static]

`static` is no OpenCV tracker but the floor: the initial box repeated on every frame.

Results go to <results>/<tracker>/<seq>/<seq>_001.txt (one x,y,w,h box per frame, the first
being the initial box) and <seq>_time.txt (seconds per frame), the layout the got10k
toolkit and the package's own evaluator (lib/eval) read, so every tracker is scored by the
same code. A quick Python score is printed as a sanity check, with GOT-10k's definitions:
IoU on frames 2..end whose cover label is > 0, boxes clipped to the image, AO = mean IoU,
SR_t = fraction of IoU > t, all sequences' frames pooled.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sctdiff.datasets import Got10k  # noqa: E402

DEFAULT_ROOT = Path(__file__).resolve().parent / "valset"


class StaticTracker:
    """The floor every tracker must clear: it answers the initial box on every frame."""

    def init(self, _frame, box) -> None:
        self.box = tuple(float(v) for v in box)

    def update(self, _frame):
        return True, self.box


def _create(name: str):
    factories: Dict[str, Callable] = {
        "static": StaticTracker,
        "csrt": getattr(cv2, "TrackerCSRT_create", None) or cv2.legacy.TrackerCSRT_create,
        "kcf": getattr(cv2, "TrackerKCF_create", None) or cv2.legacy.TrackerKCF_create,
        "mil": getattr(cv2, "TrackerMIL_create", None),
        "mosse": getattr(getattr(cv2, "legacy", None), "TrackerMOSSE_create", None),
        "medianflow": getattr(getattr(cv2, "legacy", None), "TrackerMedianFlow_create", None),
    }
    factory = factories.get(name)
    if factory is None:
        raise ValueError(f"Expected a tracker in {sorted(k for k, v in factories.items() if v)} but received {name!r}")
    return factory()


def run_tracker(name: str, frames: List[np.ndarray], init_box: np.ndarray):
    """Boxes [L, 4] and seconds per frame [L]; a failed update keeps the previous box."""
    tracker = _create(name)
    boxes = np.zeros((len(frames), 4))
    times = np.zeros(len(frames))
    boxes[0] = init_box
    start = time.perf_counter()
    tracker.init(frames[0], tuple(float(v) for v in init_box) if name == "static"
                 else tuple(int(round(v)) for v in init_box))
    times[0] = time.perf_counter() - start
    for i in range(1, len(frames)):
        start = time.perf_counter()
        ok, box = tracker.update(frames[i])
        times[i] = time.perf_counter() - start
        boxes[i] = box if ok else boxes[i - 1]
    return boxes, times


def rect_iou(a: np.ndarray, b: np.ndarray, bound) -> np.ndarray:
    """got10k's rect_iou with both boxes clipped to the image (W, H)."""
    def clip(r):
        r = r.copy()
        r[:, 0] = np.clip(r[:, 0], 0, bound[0])
        r[:, 1] = np.clip(r[:, 1], 0, bound[1])
        r[:, 2] = np.clip(r[:, 2], 0, bound[0] - r[:, 0])
        r[:, 3] = np.clip(r[:, 3], 0, bound[1] - r[:, 1])
        return r
    a, b = clip(a), clip(b)
    iw = np.maximum(0, np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0]))
    ih = np.maximum(0, np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1]))
    inter = iw * ih
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0, 1)


def got10k_scores(ious: List[np.ndarray]) -> Dict[str, float]:
    pooled = np.concatenate(ious) if ious else np.zeros(0)
    return {"AO": float(pooled.mean()), "SR0.5": float((pooled > 0.5).mean()), "SR0.75": float((pooled > 0.75).mean()),
            "frames": int(len(pooled))}


def evaluate(root: Path, trackers: List[str], results: Path, split: str = "val") -> Dict[str, Dict[str, float]]:
    cv2.setNumThreads(1)
    dataset = Got10k(str(root), split)
    folder = Path(root) / split
    summary: Dict[str, Dict[str, float]] = {}
    per_tracker_ious: Dict[str, List[np.ndarray]] = {t: [] for t in trackers}
    per_tracker_fps: Dict[str, List[float]] = {t: [] for t in trackers}
    for index in range(len(dataset)):
        seq = dataset.sequence(index)
        frames = [cv2.cvtColor(seq.frame(i), cv2.COLOR_RGB2BGR) for i in range(len(seq))]
        cover = np.loadtxt(folder / seq.name / "cover.label", dtype=int).reshape(-1)
        bound = (frames[0].shape[1], frames[0].shape[0])
        for name in trackers:
            boxes, times = run_tracker(name, frames, seq.boxes[0])
            out = results / name / seq.name
            out.mkdir(parents=True, exist_ok=True)
            np.savetxt(out / f"{seq.name}_001.txt", boxes, fmt="%.3f", delimiter=",")
            np.savetxt(out / f"{seq.name}_time.txt", times, fmt="%.8f")
            keep = cover[1:] > 0
            per_tracker_ious[name].append(rect_iou(boxes[1:], seq.boxes[1:], bound)[keep])
            per_tracker_fps[name].append(float(np.mean(1.0 / np.maximum(times[1:], 1e-9))))
    for name in trackers:
        summary[name] = {**got10k_scores(per_tracker_ious[name]), "fps": float(np.mean(per_tracker_fps[name]))}
    (results / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--split", default="val")
    parser.add_argument("--trackers", nargs="+", default=["csrt", "kcf"])
    parser.add_argument("--results", type=Path, default=None, help="default <root>/results")
    args = parser.parse_args(argv)
    results = args.results or args.root / "results"
    summary = evaluate(args.root, args.trackers, results, args.split)
    print(f"{'tracker':10s} {'AO':>6s} {'SR0.5':>6s} {'SR0.75':>6s} {'fps':>7s}  (python sanity score, {results})")
    for name, s in summary.items():
        print(f"{name:10s} {s['AO']:6.3f} {s['SR0.5']:6.3f} {s['SR0.75']:6.3f} {s['fps']:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
