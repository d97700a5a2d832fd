"""Crops, box transforms and augmentations for training samples.

The crop is the tracker's own (lib/geometry/crop.ts, architecture.md section 1.4): a square
of side ceil(sqrt(w h) * factor) with corner round(c - side/2) (Python's round-half-even),
zero-padded outside the image and resized with OpenCV's bilinear filter to the output size
(the same arithmetic sctdiff.preprocess defines for the engines). Boxes map to normalised
crop coordinates as u = (x - x0) / side, the exact inverse of the engine's map-back.

Jitter follows OSTrack/ARTrack's `_get_jittered_box`: size * exp(N(0,1) * scale_jitter) and
centre + sqrt(area') * center_jitter * (U(0,1) - 0.5).
"""
from __future__ import annotations

import math
from typing import Tuple

import cv2
import numpy as np

from .preprocess import padded_crop

# OSTrack/ARTrack search-region jitter; templates are not jittered.
SEARCH_SCALE_JITTER = 0.25
SEARCH_CENTER_JITTER = 3.0


def crop_params(box: np.ndarray, factor: float) -> Tuple[int, int, int]:
    """(x0, y0, side) of the square crop around box (x, y, w, h) in image pixels."""
    x, y, w, h = (float(v) for v in box)
    if not (w > 0 and h > 0 and math.isfinite(w * h)):
        raise ValueError(f"Expected a box with finite positive width and height but received {tuple(box)}")
    side = int(math.ceil(math.sqrt(w * h) * factor))
    if side < 1:
        raise ValueError(f"Expected a crop side of at least 1 pixel but received {side}")
    cx, cy = x + w / 2, y + h / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def crop_image(rgb: np.ndarray, x0: int, y0: int, side: int, out: int) -> np.ndarray:
    """uint8 [out, out, 3]: the zero-padded square crop, bilinear-resized (cv2 INTER_LINEAR)."""
    crop = padded_crop(rgb, x0, y0, side)
    if side == out:
        return crop
    return cv2.resize(crop, (out, out), interpolation=cv2.INTER_LINEAR)


def box_to_crop(box: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """Image box (x, y, w, h) -> normalised crop box (u, v, w/side, h/side)."""
    x, y, w, h = (float(v) for v in box)
    return np.array([(x - x0) / side, (y - y0) / side, w / side, h / side])


def jitter_box(rng: np.random.Generator, box: np.ndarray, scale_jitter: float = SEARCH_SCALE_JITTER,
               center_jitter: float = SEARCH_CENTER_JITTER) -> np.ndarray:
    """STARK/OSTrack's jittered search reference around box (x, y, w, h)."""
    x, y, w, h = (float(v) for v in box)
    size = np.array([w, h]) * np.exp(rng.standard_normal(2) * scale_jitter)
    max_offset = math.sqrt(float(size[0] * size[1])) * center_jitter
    centre = np.array([x + w / 2, y + h / 2]) + max_offset * (rng.random(2) - 0.5)
    return np.array([centre[0] - size[0] / 2, centre[1] - size[1] / 2, size[0], size[1]])


def corners(box_xywh: np.ndarray) -> np.ndarray:
    """(x, y, w, h) -> (x1, y1, x2, y2), any leading shape."""
    b = np.asarray(box_xywh, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)


def quantize_corners(corner_box: np.ndarray, bins: int = 400, range_min: float = -0.5,
                     range_max: float = 1.5) -> np.ndarray:
    """Tokens of normalised corners: clamp(floor((c - range_min)(bins - 1)), 0, max), int64."""
    max_token = int(round((range_max - range_min) * (bins - 1)))
    k = np.floor((np.asarray(corner_box, dtype=np.float64) - range_min) * (bins - 1))
    return np.clip(k, 0, max_token).astype(np.int64)


def flip_crop_boxes(normalised_corners: np.ndarray) -> np.ndarray:
    """Corners after a horizontal flip of the crop: x1' = 1 - x2, x2' = 1 - x1."""
    c = np.array(normalised_corners, dtype=np.float64, copy=True)
    x1 = c[..., 0].copy()
    c[..., 0] = 1.0 - c[..., 2]
    c[..., 2] = 1.0 - x1
    return c


def photometric(crop: np.ndarray, grayscale: bool, brightness: float) -> np.ndarray:
    """One crop's colour augmentation: optional grayscale, then brightness x `brightness`.

    OSTrack trains with joint grayscale (p = 0.05, same choice for every crop of a sample)
    and brightness jitter 0.2; the sampler draws those choices, this applies them.
    """
    out = crop.astype(np.float32)
    if grayscale:
        grey = out @ np.array([0.299, 0.587, 0.114], np.float32)
        out = np.repeat(grey[..., None], 3, axis=-1)
    return np.clip(out * np.float32(brightness), 0, 255).astype(np.uint8)
