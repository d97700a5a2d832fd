"""Crop + bilinear resize + normalization, defined to the bit in float32 (docs/model.md,
"Preprocessing"). Numpy float32 ufuncs round after every operation and never fuse a
multiply-add, which is what makes the result reproducible by the C++ engines.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

F32 = np.float32
FORMAT_CHANNELS = {"rgb": 3, "bgr": 3, "rgba": 4, "gray": 1}


def to_rgb(frame: np.ndarray, fmt: str) -> np.ndarray:
    """uint8 [H, W, C] (or [H, W] for gray) in `fmt` -> uint8 [H, W, 3] RGB (gray replicated)."""
    if fmt not in FORMAT_CHANNELS:
        raise ValueError(f"Expected a pixel format in {sorted(FORMAT_CHANNELS)} but received {fmt!r}")
    if frame.dtype != np.uint8:
        raise ValueError(f"Expected a uint8 frame but received {frame.dtype}")
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.shape[2] != FORMAT_CHANNELS[fmt]:
        raise ValueError(f"Expected {FORMAT_CHANNELS[fmt]} channels for {fmt} but received {frame.shape[2]}")
    if fmt == "rgb":
        return frame
    if fmt == "bgr":
        return frame[:, :, ::-1]
    if fmt == "rgba":
        return frame[:, :, :3]
    return np.repeat(frame, 3, axis=2)


def padded_crop(rgb: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """P[i, j] = image[y0 + i, x0 + j] inside the image, 0 outside; uint8 [side, side, 3]."""
    if side <= 0:
        raise ValueError(f"Expected a positive crop side but received {side}")
    height, width = rgb.shape[:2]
    out = np.zeros((side, side, 3), dtype=np.uint8)
    ys, ye = max(y0, 0), min(y0 + side, height)
    xs, xe = max(x0, 0), min(x0 + side, width)
    if ys < ye and xs < xe:
        out[ys - y0:ye - y0, xs - x0:xe - x0] = rgb[ys:ye, xs:xe]
    return out


def resize_taps(side: int, out: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source taps and weight along one axis (OpenCV INTER_LINEAR, half-pixel centers).

    scale = f32(side) / f32(out); s = (f32(o) + 0.5) * scale - 0.5 (float32, op by op);
    s < 0 -> (i0 = 0, w = 0); else i0 = floor(s), w = s - i0; i0 >= side-1 -> (side-1, 0);
    i1 = min(i0 + 1, side - 1).
    """
    scale = F32(side) / F32(out)
    s = (np.arange(out, dtype=F32) + F32(0.5)) * scale - F32(0.5)
    s = np.maximum(s, F32(0.0))
    i0 = np.floor(s).astype(np.int64)
    w = (s - i0.astype(F32)).astype(F32)
    last = i0 >= side - 1
    i0[last] = side - 1
    w[last] = F32(0.0)
    i1 = np.minimum(i0 + 1, side - 1)
    return i0, i1, w


def resize_bilinear(crop: np.ndarray, out: int) -> np.ndarray:
    """uint8 [side, side, 3] -> float32 [out, out, 3] in 0..255.

    v = (1 - wy) * ((1 - wx) * P[y0, x0] + wx * P[y0, x1]) + wy * ((1 - wx) * P[y1, x0] + wx * P[y1, x1])
    """
    side = crop.shape[0]
    y0, y1, wy = resize_taps(side, out)
    x0, x1, wx = resize_taps(side, out)
    p = crop.astype(F32)
    wx_ = wx[None, :, None]
    one_minus_wx = (F32(1.0) - wx)[None, :, None]
    top = one_minus_wx * p[y0][:, x0] + wx_ * p[y0][:, x1]
    bottom = one_minus_wx * p[y1][:, x0] + wx_ * p[y1][:, x1]
    wy_ = wy[:, None, None]
    return (F32(1.0) - wy_) * top + wy_ * bottom


def normalize(pixels: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """float32 [H, W, 3] 0..255 -> float32 [3, H, W]: ((v / 255) - mean_c) / std_c, float32 ops."""
    mean32 = np.asarray(mean, dtype=F32)
    std32 = np.asarray(std, dtype=F32)
    out = ((pixels / F32(255.0)) - mean32) / std32
    return np.ascontiguousarray(out.transpose(2, 0, 1).astype(F32))


def preprocess(frame: np.ndarray, fmt: str, x0: int, y0: int, side: int, out: int,
               mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """The whole stage: frame uint8 HWC + crop -> normalized float32 CHW [3, out, out]."""
    rgb = to_rgb(frame, fmt)
    return normalize(resize_bilinear(padded_crop(rgb, int(x0), int(y0), int(side)), int(out)), mean, std)
