"""Cosine noise schedule (Nichol & Dhariwal; DiffuSeq's `betas_for_alpha_bar`), float64."""
from __future__ import annotations

import math

import numpy as np


def cosine_betas(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """beta_i = min(1 - f((i+1)/T) / f(i/T), max_beta), f(u) = cos^2((u+s)/(1+s) * pi/2)."""

    def f(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    return np.array([min(1.0 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)], dtype=np.float64)


def alphas_cumprod(T: int = 1000, s: float = 0.008) -> np.ndarray:
    """abar(t) = prod_{i<=t} (1 - beta_i) for t = 0..T-1, float64 (sequential product)."""
    out = np.empty(T, dtype=np.float64)
    running = 1.0
    for i, beta in enumerate(cosine_betas(T, s)):
        running *= 1.0 - float(beta)
        out[i] = running
    return out


def noise_coefficients(timesteps, T: int = 1000, s: float = 0.008):
    """(sqrt(abar(t)), sqrt(1 - abar(t))) in float64 for integer timesteps (any array shape).

    Engines cast these two numbers to float32 before using them (docs/model.md).
    """
    abar = alphas_cumprod(T, s)
    t = np.asarray(timesteps, dtype=np.int64)
    if t.size and (t.min() < 0 or t.max() >= T):
        raise ValueError(f"Expected timesteps in [0, {T}) but received {t.tolist()!r}")
    a = abar[t]
    return np.sqrt(a), np.sqrt(1.0 - a)
