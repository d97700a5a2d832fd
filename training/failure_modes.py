"""Where a tracker's AO goes on a generated sequence set: lost targets against imprecise boxes.

  /usr/bin/python3 training/failure_modes.py SET EVAL [EVAL ...]

SET is a folder made by make_valset.py (its val/meta.json lists each sequence's distractors,
occluders and absent frames); each EVAL is the output folder of `sct-diff eval` on that set
(results/NAME/NAME_001.txt). For each EVAL it prints, next to one another:

- the set's per-sequence mean AO and the mean IoU on frames where the box overlaps the target
  at all (how precise the tracker is while it tracks);
- the share of frames with IoU 0 (lost);
- the sequences that lose the target for good (LOST_FOR_GOOD below) and how much of the AO
  missing from 1 they account for;
- the mean AO by number of distractors, with and without an occluder, with and without frames
  where the target is absent.

Frames count as GOT-10k counts them (frames 1.. whose cover label is above 0), with got10k's IoU
bounded by the image (eval_opencv.rect_iou), as lib/eval computes it. Why: the ship rule
(docs/training.md) says whether a model is better; this says which
failure it gets better at, so that the next training run can aim at it (more distractors or
occlusions in the data, or more steps for precision).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_opencv import rect_iou  # noqa: E402  (got10k's IoU, bounded by the image, as lib/eval)
from sctdiff.datasets import read_box_file, read_flag_file  # noqa: E402

# A sequence "loses the target for good" when its box misses the target entirely (IoU 0) on more
# than LOST_SHARE of its counted frames and, from the first such frame on, fewer than
# RECOVERED_SHARE of the counted frames are tracked again (IoU > 0.5).
LOST_SHARE = 0.2
RECOVERED_SHARE = 0.25


@dataclass(frozen=True)
class SequenceOutcome:
    name: str
    ao: float
    lost_share: float  # counted frames with IoU 0
    overlap_iou: float  # mean IoU over counted frames with IoU > 0 (nan when none)
    recovered_share: float  # frames with IoU > 0.5 from the first lost frame on (1 when never lost)
    distractors: int
    occluders: int
    absent_frames: int

    @property
    def lost_for_good(self) -> bool:
        return self.lost_share > LOST_SHARE and self.recovered_share < RECOVERED_SHARE


def read_results(path: Path) -> np.ndarray:
    """A tracker's boxes; every one must be finite (sct-diff writes no NaN)."""
    boxes = read_box_file(path)
    if not np.all(np.isfinite(boxes)):
        raise ValueError(f"{path}: a box that is not finite")
    return boxes


def outcome(sequence_dir: Path, results_file: Path, attributes: dict, image_size: Tuple[int, int]) -> SequenceOutcome:
    truth = read_box_file(sequence_dir / "groundtruth.txt")
    boxes = read_results(results_file)
    if len(boxes) != len(truth):
        raise ValueError(f"{results_file}: {len(boxes)} boxes for the {len(truth)} frames of {sequence_dir.name}")
    cover_file = sequence_dir / "cover.label"
    counted = read_flag_file(cover_file, len(truth), 8) > 0
    if len(counted) != len(truth):
        raise ValueError(f"{cover_file}: {len(counted)} labels for the {len(truth)} frames of {sequence_dir.name}")
    counted[0] = False
    iou = rect_iou(boxes, truth, image_size)[counted]
    if iou.size == 0:
        raise ValueError(f"{sequence_dir.name}: no frame past the first shows the target")
    lost = np.flatnonzero(iou == 0)
    return SequenceOutcome(
        name=sequence_dir.name,
        ao=float(iou.mean()),
        lost_share=float(lost.size / iou.size),
        overlap_iou=float(iou[iou > 0].mean()) if np.any(iou > 0) else float("nan"),
        recovered_share=float((iou[lost[0]:] > 0.5).mean()) if lost.size else 1.0,
        distractors=int(attributes.get("distractors", 0)),
        occluders=int(attributes.get("occluders", 0)),
        absent_frames=int(attributes.get("absent_frames", 0)),
    )


def read_outcomes(set_dir: Path, eval_dir: Path) -> List[SequenceOutcome]:
    meta_file = set_dir / "val" / "meta.json"
    if not meta_file.exists():
        raise ValueError(f"{meta_file}: not found; SET must be a folder made by make_valset.py")
    meta = json.loads(meta_file.read_text())
    config = meta.get("config", {})
    if "width" not in config or "height" not in config or "sequences" not in meta:
        raise ValueError(f"{meta_file}: no config.width, config.height and sequences; SET must be a folder made by make_valset.py")
    image_size = (config["width"], config["height"])
    sequences = meta["sequences"]
    results = eval_dir / "results"
    if not results.is_dir():
        raise ValueError(f"{results}: not found; EVAL must be the --out folder of `sct-diff eval`")
    return [outcome(set_dir / "val" / s["name"], results / s["name"] / f"{s['name']}_001.txt", s, image_size) for s in sequences]


def summary(outcomes: Sequence[SequenceOutcome]) -> Dict[str, float]:
    """The figures of one column of the report, keyed by row label."""
    ao = np.array([o.ao for o in outcomes])
    gone = [o for o in outcomes if o.lost_for_good]
    rows: Dict[str, float] = {
        "sequences": len(outcomes),
        "mean AO per sequence": float(ao.mean()),
        "IoU where it overlaps": float(np.nanmean([o.overlap_iou for o in outcomes])),
        "frames lost (IoU 0)": float(np.mean([o.lost_share for o in outcomes])),
        "sequences lost for good": len(gone),
        "AO points they cost": float(sum(1 - o.ao for o in gone) / len(outcomes)),
        "AO points the rest cost": float(sum(1 - o.ao for o in outcomes if not o.lost_for_good) / len(outcomes)),
    }
    groups = [(f"distractors {k}", lambda o, k=k: o.distractors == k) for k in range(max(o.distractors for o in outcomes) + 1)]
    groups += [("no occluder", lambda o: o.occluders == 0), ("occluder", lambda o: o.occluders > 0),
               ("target never absent", lambda o: o.absent_frames == 0), ("target absent a while", lambda o: o.absent_frames > 0)]
    for label, member in groups:
        chosen = [o.ao for o in outcomes if member(o)]
        rows[f"AO, {label} (n={len(chosen)})"] = float(np.mean(chosen)) if chosen else float("nan")
    return rows


def report(columns: Sequence[Tuple[str, Dict[str, float]]]) -> str:
    """One column per (name, summary) pair, in the order given."""
    labels = list(dict.fromkeys(label for _, rows in columns for label in rows))
    width = max(len(label) for label in labels)
    lines = [" " * width + "".join(f"  {name:>12}" for name, _ in columns)]
    for label in labels:
        cells = []
        for _, rows in columns:
            value = rows.get(label, float("nan"))
            cells.append(f"  {int(value):>12d}" if label in ("sequences", "sequences lost for good") else f"  {value:>12.3f}")
        lines.append(f"{label:<{width}}" + "".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set", type=Path, help="a folder made by make_valset.py")
    parser.add_argument("evals", type=Path, nargs="+", help="`sct-diff eval --out` folders of that set")
    args = parser.parse_args(argv)
    try:
        # Columns are named by folder, or by the paths as given when two folders share a name.
        unique = len({path.name for path in args.evals}) == len(args.evals)
        columns = [(path.name if unique else str(path), summary(read_outcomes(args.set, path))) for path in args.evals]
    except (ValueError, OSError) as error:
        print(f"failure_modes: {error}", file=sys.stderr)
        return 1
    print(report(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
