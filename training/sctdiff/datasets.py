"""Readers for the tracking datasets the paper trains on, plus the synthetic source.

Every source exposes the same small interface the sampler uses:

    len(source)                    number of sequences
    source.sequence(i) -> Sequence with .name, .boxes [L, 4] (x, y, w, h pixels),
                                   .visible [L] bool, .frame(f) -> uint8 RGB, len()

Layouts (as the official downloads unpack them):

- GOT-10k:     <root>/<split>/list.txt, <root>/<split>/<seq>/00000001.jpg ...,
               groundtruth.txt (x,y,w,h per line), absence.label, cover.label (0..8).
               Visible = not absent and cover > 0.
- LaSOT:       <root>/<class>/<class>-<k>/img/00000001.jpg ..., groundtruth.txt,
               full_occlusion.txt, out_of_view.txt (one comma-separated line of 0/1 each).
- TrackingNet: <root>/TRAIN_<k>/frames/<seq>/0.jpg ... (0-based), <root>/TRAIN_<k>/anno/<seq>.txt.
- COCO:        <root>/annotations/instances_<split>.json, <root>/<split>/<file_name>; every
               non-crowd object becomes a one-frame "sequence" (stage-1 pairs are two jittered
               crops of the same image, as STARK/OSTrack train on COCO).

`write_got10k_sequence` writes the GOT-10k layout (used by make_valset and the tests).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence as Seq

import cv2
import numpy as np

from .photos import PhotoLibrary
from .synth import SynthConfig, SyntheticSequence


def read_rgb_frame(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"Expected a readable image at {path} but received nothing")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_box_file(path: Path) -> np.ndarray:
    """Boxes [n, 4] of an annotation file: one box per line, comma, tab or space separated; NaN kept."""
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        parts = line.replace("\t", ",").replace(" ", ",").split(",")
        values = [float(p) if p.lower() not in ("nan", "") else float("nan") for p in parts if p != ""]
        rows.append(values[:4])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def read_flag_file(path: Path, length: int, default: int = 0) -> np.ndarray:
    """Integer labels of a per-frame file (cover.label, absence.label, ...); `default` for each of `length` frames when absent."""
    if not path.exists():
        return np.full(length, default, np.int64)
    text = path.read_text().replace(",", "\n").split()
    return np.asarray([int(float(v)) for v in text], dtype=np.int64)


@dataclass
class Sequence:
    """One annotated sequence; frames are read lazily."""

    name: str
    boxes: np.ndarray
    visible: np.ndarray
    frame_loader: Callable[[int], np.ndarray]
    # Optional fast path (synthetic sequences render a crop directly): (f, x0, y0, side, out) -> uint8.
    cropper: Optional[Callable[[int, int, int, int, int], np.ndarray]] = None

    def __len__(self) -> int:
        return len(self.boxes)

    def frame(self, index: int) -> np.ndarray:
        return self.frame_loader(index)


def _valid_boxes(boxes: np.ndarray) -> np.ndarray:
    return np.isfinite(boxes).all(1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)


class Got10k:
    """GOT-10k (train, val or test split folder)."""

    name = "got10k"

    def __init__(self, root: str, split: str = "train"):
        self.root = Path(root) / split
        listing = self.root / "list.txt"
        if listing.exists():
            self.names = [n.strip() for n in listing.read_text().split() if n.strip()]
        else:
            self.names = sorted(p.name for p in self.root.iterdir() if (p / "groundtruth.txt").exists())

    def __len__(self) -> int:
        return len(self.names)

    def sequence(self, index: int) -> Sequence:
        folder = self.root / self.names[index]
        boxes = read_box_file(folder / "groundtruth.txt")
        absence = read_flag_file(folder / "absence.label", len(boxes), 0)
        cover = read_flag_file(folder / "cover.label", len(boxes), 8)
        visible = (absence == 0) & (cover > 0) & _valid_boxes(boxes)
        return Sequence(self.names[index], boxes, visible,
                        lambda f, d=folder: read_rgb_frame(str(d / f"{f + 1:08d}.jpg")))


class LaSOT:
    """LaSOT (all class folders under the root; optionally only the listed sequence names)."""

    name = "lasot"

    def __init__(self, root: str, names: Optional[Iterable[str]] = None):
        self.root = Path(root)
        if names is None:
            names = sorted(f"{c.name}/{s.name}" for c in self.root.iterdir() if c.is_dir()
                           for s in c.iterdir() if (s / "groundtruth.txt").exists())
        else:
            names = [n if "/" in n else f"{n.rsplit('-', 1)[0]}/{n}" for n in names]
        self.names: List[str] = list(names)

    def __len__(self) -> int:
        return len(self.names)

    def sequence(self, index: int) -> Sequence:
        folder = self.root / self.names[index]
        boxes = read_box_file(folder / "groundtruth.txt")
        occluded = read_flag_file(folder / "full_occlusion.txt", len(boxes))
        out_of_view = read_flag_file(folder / "out_of_view.txt", len(boxes))
        visible = (occluded == 0) & (out_of_view == 0) & _valid_boxes(boxes)
        return Sequence(self.names[index].split("/")[-1], boxes, visible,
                        lambda f, d=folder: read_rgb_frame(str(d / "img" / f"{f + 1:08d}.jpg")))


class TrackingNet:
    """TrackingNet (chunks TRAIN_0..TRAIN_11 by default; any folders holding frames/ and anno/)."""

    name = "trackingnet"

    def __init__(self, root: str, chunks: Optional[Seq[str]] = None):
        self.root = Path(root)
        if chunks is None:
            chunks = sorted(p.name for p in self.root.iterdir() if (p / "anno").is_dir())
        self.entries: List[tuple] = []
        for chunk in chunks:
            for anno in sorted((self.root / chunk / "anno").glob("*.txt")):
                self.entries.append((chunk, anno.stem))

    def __len__(self) -> int:
        return len(self.entries)

    def sequence(self, index: int) -> Sequence:
        chunk, seq = self.entries[index]
        boxes = read_box_file(self.root / chunk / "anno" / f"{seq}.txt")
        frames = self.root / chunk / "frames" / seq
        return Sequence(seq, boxes, _valid_boxes(boxes), lambda f, d=frames: read_rgb_frame(str(d / f"{f}.jpg")))


class Coco:
    """COCO detection annotations; each non-crowd object of at least `min_area` px is a 1-frame sequence."""

    name = "coco"

    def __init__(self, root: str, split: str = "train2017", min_area: float = 100.0):
        self.root = Path(root)
        self.split = split
        data = json.loads((self.root / "annotations" / f"instances_{split}.json").read_text())
        files: Dict[int, str] = {img["id"]: img["file_name"] for img in data["images"]}
        self.objects = [(files[a["image_id"]], np.asarray(a["bbox"], np.float64)) for a in data["annotations"]
                        if not a.get("iscrowd", 0) and a["bbox"][2] * a["bbox"][3] >= min_area]

    def __len__(self) -> int:
        return len(self.objects)

    def sequence(self, index: int) -> Sequence:
        file_name, box = self.objects[index]
        path = str(self.root / self.split / file_name)
        return Sequence(f"{Path(file_name).stem}-{index}", box[None], np.array([True]), lambda f, p=path: read_rgb_frame(p))


class SyntheticSource:
    """Endless synthetic sequences: sequence i is generated from hash(seed, i) on demand."""

    name = "synthetic"

    def __init__(self, library: PhotoLibrary, config: SynthConfig = SynthConfig(), seed: int = 0,
                 count: int = 1_000_000, vary_size: bool = True):
        self.library = library
        self.config = config
        self.seed = seed
        self.count = count
        self.vary_size = vary_size

    def __len__(self) -> int:
        return self.count

    def sequence(self, index: int) -> Sequence:
        digest = hashlib.blake2b(f"{self.seed}:{index}".encode(), digest_size=8).digest()
        seed = int.from_bytes(digest, "little") & 0x7FFFFFFFFFFFFFFF
        config = self.config
        if self.vary_size:
            # Frame sizes vary like real videos do (4:3 and 16:9, 240p to 480p).
            rng = np.random.default_rng(seed)
            height = int(rng.choice([240, 288, 360, 480]))
            width = int(round(height * float(rng.choice([4 / 3, 16 / 9])) / 2) * 2)
            config = SynthConfig(**{**config.__dict__, "width": width, "height": height})
        seq = SyntheticSequence.generate(self.library, seed, config)
        return Sequence(f"synthetic-{index}", seq.boxes, seq.absent == 0, seq.frame, seq.crop)


def write_got10k_sequence(folder: Path, frames: Iterable[np.ndarray], boxes: np.ndarray, absence: np.ndarray,
                          cover: np.ndarray, quality: int = 95) -> None:
    """Write one sequence in GOT-10k's layout (frames are uint8 RGB), with a meta_info.ini whose
    `resolution: (W, H)` line lets evaluators clip boxes to the image as the got10k toolkit does."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    size = None
    for i, frame in enumerate(frames):
        size = (frame.shape[1], frame.shape[0])
        cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, quality])
    (folder / "groundtruth.txt").write_text("".join(f"{b[0]:.4f},{b[1]:.4f},{b[2]:.4f},{b[3]:.4f}\n" for b in boxes))
    (folder / "absence.label").write_text("".join(f"{int(a)}\n" for a in absence))
    (folder / "cover.label").write_text("".join(f"{int(c)}\n" for c in cover))
    if size is not None:
        (folder / "meta_info.ini").write_text("[METAINFO]\nobject_class: synthetic\nmotion_class: synthetic\n"
                                               f"resolution: ({size[0]}, {size[1]})\n")


def open_source(spec: str, library: Optional[PhotoLibrary] = None, seed: int = 0):
    """A source from a command-line spec: synthetic, got10k:<root>[:split], lasot:<root>,
    trackingnet:<root>, coco:<root>[:split]."""
    kind, _, rest = spec.partition(":")
    if kind == "synthetic":
        if library is None:
            raise ValueError("Expected a photo library for the synthetic source but received none")
        return SyntheticSource(library, seed=seed)
    root, _, split = rest.partition(":")
    if kind == "got10k":
        return Got10k(root, split or "train")
    if kind == "lasot":
        return LaSOT(root)
    if kind == "trackingnet":
        return TrackingNet(root)
    if kind == "coco":
        return Coco(root, split or "train2017")
    raise ValueError(f"Expected a source spec synthetic|got10k:|lasot:|trackingnet:|coco: but received {spec!r}")
