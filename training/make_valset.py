"""Write the fixed validation set: synthetic sequences from held-out photos, GOT-10k layout.

  /usr/bin/python3 training/make_valset.py [--out training/valset] [--sequences 20] [--frames 100]

Layout (what GOT-10k's val split looks like, so every GOT-10k tool reads it):
  <out>/val/list.txt
  <out>/val/<seq>/00000001.jpg ... , groundtruth.txt (x,y,w,h), absence.label, cover.label
  <out>/val/meta.json   seeds, photo ids and generator settings, to regenerate it exactly

Only photos of the manifest's `val` split are used (none of them is ever trained on). The
same seed always gives the same set; sequences whose target is not fully visible in the
first frame are skipped, deterministically, as a tracker needs a clean initial box.
The folder gets a .gitignore of its own: the set is regenerated, never committed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sctdiff.datasets import write_got10k_sequence  # noqa: E402
from sctdiff.photos import PhotoLibrary  # noqa: E402
from sctdiff.synth import SynthConfig, SyntheticSequence  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "valset"


def make_valset(out: Path, sequences: int = 20, frames: int = 100, width: int = 320, height: int = 240,
                seed: int = 2024, photos: str | None = None) -> list:
    library = PhotoLibrary.load("val", cache_dir=Path(photos) if photos else None)
    config = SynthConfig(length=frames, width=width, height=height)
    split = Path(out) / "val"
    split.mkdir(parents=True, exist_ok=True)
    (Path(out) / ".gitignore").write_text("*\n")
    names, meta = [], []
    candidate = 0
    while len(names) < sequences:
        seq_seed = seed * 100_003 + candidate
        candidate += 1
        seq = SyntheticSequence.generate(library, seq_seed, config)
        if seq.cover[0] != 8 or min(seq.boxes[0, 2:]) < 8:
            continue
        name = f"SCT-Val_{len(names) + 1:06d}"
        write_got10k_sequence(split / name, (seq.frame(i) for i in range(frames)), seq.boxes, seq.absent, seq.cover)
        names.append(name)
        meta.append({"name": name, "seed": seq_seed, "absent_frames": int(seq.absent.sum()),
                     "distractors": len(seq.distractors), "occluders": len(seq.occluders)})
    (split / "list.txt").write_text("".join(n + "\n" for n in names))
    (split / "meta.json").write_text(json.dumps({"photos": library.ids, "missing_photos": library.missing,
                                                 "config": asdict(config), "seed": seed, "sequences": meta}, indent=1))
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sequences", type=int, default=20)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--photos", default=None, help="photo cache folder (default training/photos/cache)")
    args = parser.parse_args(argv)
    names = make_valset(args.out, args.sequences, args.frames, args.width, args.height, args.seed, args.photos)
    print(f"wrote {len(names)} sequences to {args.out / 'val'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
