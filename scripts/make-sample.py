#!/usr/bin/python3
"""Regenerate samples/sample.mp4 and samples/sample.gt.txt: the clip the quick start tracks.

Only public-domain / CC0 photos from Debian's python3-skimage are used (see samples/README.md):
the target is an elliptical cut-out of the cat's face in chelsea.png (CC0, Stefan van der Walt)
gliding on a smooth path over coffee.png (CC0, Rachel Michetti) while the camera pans slowly.
Everything is a closed-form function of the frame index, so the ground truth is exact: the
axis-aligned box of the ellipse, in frame pixels.

    /usr/bin/python3 scripts/make-sample.py [--out samples] [--frames 60]

Needs numpy, OpenCV (python3-opencv), python3-skimage and ffmpeg with libx264. The encode is
bit-exact flagged and single-threaded, so the same tools give the same bytes.
"""
from __future__ import annotations

import argparse
import math
import subprocess
from pathlib import Path

import cv2
import numpy as np

SKIMAGE_DATA = Path("/usr/lib/python3/dist-packages/skimage/data")
WIDTH, HEIGHT, FPS = 320, 240, 30
# The cat's face in chelsea.png (451x300): eyes, nose and mouth, as (x0, y0, x1, y1).
FACE = (120, 60, 360, 270)
# Target size in the first frame; it grows by up to 25 % as it "approaches the camera".
TARGET_W0, TARGET_H0 = 64.0, 56.0


def read_rgb(name: str) -> np.ndarray:
    bgr = cv2.imread(str(SKIMAGE_DATA / name), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"Expected the skimage photo {SKIMAGE_DATA / name} (apt-get install python3-skimage)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def target_sprite() -> tuple[np.ndarray, np.ndarray]:
    """The face cut-out (float32 RGB) and its soft elliptical alpha (float32 0..1), same size."""
    x0, y0, x1, y1 = FACE
    face = read_rgb("chelsea.png")[y0:y1, x0:x1].astype(np.float32)
    h, w = face.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Normalised elliptical radius; alpha falls from 1 to 0 over the outer 4 % of the radius.
    r = np.sqrt(((xx + 0.5 - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - h / 2) / (h / 2)) ** 2)
    alpha = np.clip((1.0 - r) / 0.04, 0.0, 1.0).astype(np.float32)
    return face, alpha


def target_box(i: int, n: int) -> tuple[float, float, float, float]:
    """Ground-truth box (x, y, w, h) of frame i: a Lissajous-like path with a slow zoom."""
    t = i / max(1, n - 1)
    scale = 1.0 + 0.25 * (0.5 - 0.5 * math.cos(math.pi * t))
    w, h = TARGET_W0 * scale, TARGET_H0 * scale
    cx = WIDTH / 2 + 95 * math.sin(2 * math.pi * t - math.pi / 2) * 0.9 + 10 * math.sin(6 * math.pi * t)
    cy = HEIGHT / 2 + 55 * math.sin(4 * math.pi * t)
    return cx - w / 2, cy - h / 2, w, h


def background(i: int, n: int, coffee: np.ndarray) -> np.ndarray:
    """A 320x240 window panning slowly across coffee.png scaled to 480x320."""
    t = i / max(1, n - 1)
    ox = 20 + 120 * (0.5 - 0.5 * math.cos(math.pi * t))
    oy = 40 + 25 * math.sin(2 * math.pi * t)
    m = np.array([[1, 0, -ox], [0, 1, -oy]], dtype=np.float32)
    return cv2.warpAffine(coffee, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def render(i: int, n: int, coffee: np.ndarray, face: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    x, y, w, h = target_box(i, n)
    sh, sw = alpha.shape
    # Sprite pixel (u, v) → frame (x + u * w / sw, y + v * h / sh); pixel centres at +0.5.
    sx, sy = w / sw, h / sh
    m = np.array([[sx, 0, x + 0.5 * sx - 0.5], [0, sy, y + 0.5 * sy - 0.5]], dtype=np.float32)
    face_f = cv2.warpAffine(face, m, (WIDTH, HEIGHT), flags=cv2.INTER_AREA, borderValue=0)
    alpha_f = cv2.warpAffine(alpha, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    frame = background(i, n, coffee) * (1 - alpha_f) + face_f * alpha_f
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "samples")
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    coffee = cv2.resize(read_rgb("coffee.png"), (480, 320), interpolation=cv2.INTER_AREA).astype(np.float32)
    face, alpha = target_sprite()
    video = args.out / "sample.mp4"
    encoder = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}",
         "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "slow", "-crf", "20", "-pix_fmt", "yuv420p",
         "-threads", "1", "-x264-params", "threads=1", "-fflags", "+bitexact", "-flags", "+bitexact",
         "-map_metadata", "-1", "-movflags", "+faststart", str(video)],
        stdin=subprocess.PIPE,
    )
    assert encoder.stdin is not None
    lines = []
    for i in range(args.frames):
        encoder.stdin.write(render(i, args.frames, coffee, face, alpha).tobytes())
        x, y, w, h = target_box(i, args.frames)
        lines.append(f"{x:.2f},{y:.2f},{w:.2f},{h:.2f}")
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise SystemExit("ffmpeg failed to encode the sample")
    (args.out / "sample.gt.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {video} ({video.stat().st_size} bytes, {args.frames} frames) and sample.gt.txt")


if __name__ == "__main__":
    main()
