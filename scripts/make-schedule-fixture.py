#!/usr/bin/python3
"""Golden numbers for lib/model/schedule.ts, computed independently of the TypeScript code.

Run with Debian's interpreter (it has numpy and torch):
    /usr/bin/python3 scripts/make-schedule-fixture.py > test/fixtures/schedule-golden.json

- betas / alphas_cumprod: DiffuSeq's `betas_for_alpha_bar` recipe (Python floats, math.cos)
  followed by numpy's cumprod, as in its GaussianDiffusion.
- DDIM time pairs: DiffusionDet's `torch.linspace(-1, T - 1, steps + 1)` in torch's default
  float32, `.int()`, reversed, zipped.
- q_sample / DDIM step: float64 numpy on float32 inputs, cast to float32 at the end.
"""
import json
import math

import numpy as np
import torch


def betas_for_alpha_bar(T, s, max_beta=0.999):
    def alpha_bar(u):
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    return np.array([min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), max_beta) for i in range(T)], dtype=np.float64)


def ddim_pairs(T, steps):
    times = torch.linspace(-1, T - 1, steps=steps + 1)
    times = list(reversed(times.int().tolist()))
    return [list(p) for p in zip(times[:-1], times[1:])]


def main():
    schedules = []
    for T, s in [(1000, 0.008), (50, 0.008), (10, 0.1)]:
        betas = betas_for_alpha_bar(T, s)
        abar = np.cumprod(1.0 - betas)
        picks = sorted({0, 1, 2, T // 4, T // 2, T - 2, T - 1})
        schedules.append({
            "T": T,
            "s": s,
            "t": picks,
            "betas": [float(betas[t]) for t in picks],
            "alphas_cumprod": [float(abar[t]) for t in picks],
        })

    pairs = []
    for T in [1000, 10, 7, 3]:
        for steps in sorted({1, 2, 3, 4, 5, 7, 10, T // 2, T} & set(range(1, T + 1))):
            pairs.append({"T": T, "steps": steps, "pairs": ddim_pairs(T, steps)})

    rng = np.random.default_rng(20251125)
    x0 = rng.standard_normal(8).astype(np.float32)
    eps = rng.standard_normal(8).astype(np.float32)
    T = 1000
    abar = np.cumprod(1.0 - betas_for_alpha_bar(T, 0.008))
    t = 999
    xt = (math.sqrt(abar[t]) * x0.astype(np.float64) + math.sqrt(1 - abar[t]) * eps.astype(np.float64)).astype(np.float32)
    t2 = 500
    xt2 = (math.sqrt(abar[t2]) * x0.astype(np.float64) + math.sqrt(1 - abar[t2]) * eps.astype(np.float64)).astype(np.float32)
    x0hat = rng.standard_normal(8).astype(np.float32)
    # DiffusionDet's predict_noise_from_start followed by the eta = 0 DDIM update.
    eps_hat = (xt2.astype(np.float64) / math.sqrt(abar[t2]) - x0hat.astype(np.float64)) / math.sqrt(1 / abar[t2] - 1)
    x_next = (math.sqrt(abar[100]) * x0hat.astype(np.float64) + math.sqrt(1 - abar[100]) * eps_hat).astype(np.float32)

    golden = {
        "generator": "scripts/make-schedule-fixture.py",
        "numpy": np.__version__,
        "torch": torch.__version__,
        "schedules": schedules,
        "ddim_pairs": pairs,
        "q_sample": [
            {"t": t, "x0": x0.tolist(), "eps": eps.tolist(), "xt": xt.tolist()},
            {"t": t2, "x0": x0.tolist(), "eps": eps.tolist(), "xt": xt2.tolist()},
        ],
        "ddim_step": {"t": t2, "t_next": 100, "xt": xt2.tolist(), "x0hat": x0hat.tolist(), "x_next": x_next.tolist()},
    }
    print(json.dumps(golden, indent=1))


if __name__ == "__main__":
    main()
