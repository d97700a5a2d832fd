"""The engines' shared Gaussian noise generator (docs/model.md, "Noise").

Every engine (this reference, the C++ CPU and CUDA backends) makes the trajectory noise
itself from one 64-bit seed, so a decode call is reproducible across engines without
shipping noise tensors. Integer arithmetic is mod 2^64; the Box-Muller step runs in
float64 and the result is cast to float32 once at the end.
"""
from __future__ import annotations

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB


def splitmix64_int(x: int) -> int:
    """splitmix64 finalizer on one Python int (the readable definition)."""
    z = (x + GOLDEN_GAMMA) & MASK64
    z = ((z ^ (z >> 30)) * MIX_1) & MASK64
    z = ((z ^ (z >> 27)) * MIX_2) & MASK64
    return z ^ (z >> 31)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """Vectorized splitmix64 on uint64 arrays (numpy wraps uint64 arithmetic mod 2^64)."""
    z = np.asarray(x, dtype=np.uint64) + np.uint64(GOLDEN_GAMMA)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX_1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX_2)
    return z ^ (z >> np.uint64(31))


def uniform(seed: int, n: np.ndarray) -> np.ndarray:
    """uniform(seed, n) = ((splitmix64(seed ^ splitmix64(n)) >> 11) + 1) * 2^-53, in (0, 1]."""
    seed64 = np.uint64(seed & MASK64)
    bits = splitmix64(seed64 ^ splitmix64(np.asarray(n, dtype=np.uint64)))
    # Top 53 bits + 1 are exact in float64; multiplying by 2^-53 is exact too.
    return ((bits >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * (2.0 ** -53)


def gaussian(seed: int, index: np.ndarray) -> np.ndarray:
    """Standard normal number `index` of stream `seed`, float64 (Box-Muller, cosine branch)."""
    index = np.asarray(index, dtype=np.uint64)
    u1 = uniform(seed, index * np.uint64(2))
    u2 = uniform(seed, index * np.uint64(2) + np.uint64(1))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def trajectory_noise(seed: int, frames: int, dim: int) -> np.ndarray:
    """eps[f, j-1, c] = gaussian(seed, ((f*4) + (j-1))*dim + c) for coordinate slots j = 1..4.

    Returns float32 [frames, 4, dim]: the noise added to the 4 coordinate slots of each frame
    (the Begin/End slots are never noised).
    """
    index = np.arange(frames * 4 * dim, dtype=np.uint64)
    return gaussian(seed, index).astype(np.float32).reshape(frames, 4, dim)
