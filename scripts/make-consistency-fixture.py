#!/usr/bin/python3
"""Cross-language consistency fixture: what the TRAINING code does, for the TypeScript side to match.

Run with Debian's interpreter (it has numpy and torch):
    /usr/bin/python3 scripts/make-consistency-fixture.py

It writes test/fixtures/consistency/training-golden.json. Every number in it comes from the
training package's own functions (training/sctdiff), never from a re-implementation here, so
test/unit/consistency.test.ts (TypeScript, inference) and training/tests/test_consistency.py
(Python, training) pin both sides to one set of values. docs/consistency.md lists which
function each section exercises on either side, and the items where the two sides differ.

Sections:
- crops:      augment.crop_params on random boxes (many leaving the image), exact .5 ties of
              the corner (positive and negative), near-ties one ulp away, exact and
              just-above-integer sides, and boxes both sides must reject;
              plus augment.box_to_crop / corners / quantize_corners of each box in its crop.
- quantize:   augment.quantize_corners and losses.quantize on coordinates in and out of the
              token range, exact bin edges, per token grid.
- dequantize: losses.dequantize of every coordinate token, per token grid.
- clips:      TrackingSamples._build (the stage-2 sample builder) with every random choice
              switched off (no jitter, no flip, no colour change, prior noise 0, refine t spread
              0, new t spread 1): the crop calls it makes (templates and the N search crops), the
              [Begin, x1, y1, x2, y2, End] targets, the prior tokens and the per-frame timesteps,
              for overlaps 0..5 (inference strides 6..1) and the 4-frame first window.
- scores:     model.decode_outputs on random logits (per-slot top-1 probability, frame score).
- schedule:   schedule.alphas_cumprod at a few timesteps, t_new and t_refine included.
- splitmix64: noise.splitmix64_int (the seed mixer both sides use).
- configs:    config.ModelConfig.to_dict() of every named config.

What the training code does not define (the sliding-window schedule, the mean-box reference of
later windows, the map back to image pixels, the refinement rule) is inference-only; see
docs/consistency.md, "Gaps".
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from sctdiff.augment import box_to_crop, corners, crop_params, jitter_box, quantize_corners  # noqa: E402
from sctdiff.config import CONFIGS, get_config  # noqa: E402
from sctdiff.data import SampleConfig, TrackingSamples  # noqa: E402
from sctdiff.datasets import Sequence  # noqa: E402
from sctdiff.losses import TokenGrid, dequantize, quantize  # noqa: E402
from sctdiff.model import decode_outputs  # noqa: E402
from sctdiff.noise import splitmix64_int  # noqa: E402
from sctdiff.schedule import alphas_cumprod  # noqa: E402

OUT = ROOT / "test" / "fixtures" / "consistency" / "training-golden.json"
SEED = 20251125
MODEL = get_config("tiny")
# Token grids: the shipped one and two others with the same vocabulary rule (range 2).
GRIDS = [TokenGrid(400, -0.5, 1.5, 800, 801), TokenGrid(256, -0.5, 1.5, 512, 513), TokenGrid(101, -0.6, 1.4, 202, 203)]


def box_list(box) -> list:
    return [float(v) for v in box]


# ------------------------------------------------------------------------------------------
# crops


def crop_case(kind: str, box, factor: float, out: int, image=None) -> dict:
    """One crop_params call; `result` is null when the training code rejects the box."""
    case = {"kind": kind, "box": box_list(box), "factor": float(factor), "out": int(out)}
    if image is not None:
        case["image"] = [int(image[0]), int(image[1])]
    try:
        x0, y0, side = crop_params(np.asarray(box, dtype=np.float64), factor)
    except ValueError as error:
        case["result"] = None
        case["error"] = str(error)
        return case
    case["result"] = [x0, y0, side]
    normalized = box_to_crop(np.asarray(box, dtype=np.float64), x0, y0, side)
    case["normalized"] = box_list(normalized)
    corner = corners(normalized)
    case["corners"] = box_list(corner)
    case["tokens"] = [int(k) for k in quantize_corners(corner, 400, -0.5, 1.5)]
    return case


def random_crops(rng: np.random.Generator, count: int) -> list:
    cases = []
    for i in range(count):
        width, height = int(rng.integers(64, 1921)), int(rng.integers(64, 1081))
        w = float(math.exp(rng.uniform(0.0, math.log(0.8 * min(width, height)))))
        h = float(w * math.exp(rng.uniform(-1.2, 1.2)))
        # A third of the boxes straddle or leave the image edge.
        if i % 3 == 0:
            x = float(rng.uniform(-w - 40, width + 40))
            y = float(rng.uniform(-h - 40, height + 40))
        else:
            x = float(rng.uniform(0, max(1.0, width - w)))
            y = float(rng.uniform(0, max(1.0, height - h)))
        factor, out = [(4.0, 128), (2.0, 64), (4.0, 256), (2.0, 128)][i % 4]
        if i % 7 == 6:
            factor = float(rng.uniform(1.0, 6.0))
        cases.append(crop_case("random", [x, y, w, h], factor, out, (width, height)))
    return cases


def tie_crops(rng: np.random.Generator, count: int) -> list:
    """Corners landing exactly on n + 0.5 (Python's round goes to the even neighbour)."""
    cases = []
    for i in range(count):
        w, h = float(rng.integers(2, 200)), float(rng.integers(2, 200))
        factor, out = [(4.0, 128), (2.0, 64)][i % 2]
        side = math.ceil(math.sqrt(w * h) * factor)
        n = int(rng.integers(-300, 700))  # negative corners: the crop leaves the image left/top
        # x + w/2 - side/2 = n + 0.5 exactly (all terms are small dyadic numbers).
        x = n + 0.5 + side / 2 - w / 2
        m = int(rng.integers(-300, 700))
        y = m + 0.5 + side / 2 - h / 2
        case = crop_case("tie", [x, y, w, h], factor, out)
        assert (x + w / 2) - side / 2 == n + 0.5, "tie construction must be exact"
        cases.append(case)
        # One ulp either side of the tie must round away from the even choice where it differs.
        up, down = math.nextafter(x, math.inf), math.nextafter(y, -math.inf)
        cases.append(crop_case("near-tie", [up, down, w, h], factor, out))
    return cases


def side_edge_crops() -> list:
    """ceil() on an exact integer, and just above one."""
    cases = []
    for k in (1, 2, 3, 7, 16, 33):
        cases.append(crop_case("exact-side", [10.0, 20.0, float(k), float(k)], 4.0, 128))
        cases.append(crop_case("exact-side", [10.0, 20.0, float(k), 4.0 * k], 2.0, 64))
        cases.append(crop_case("side-above-integer", [10.0, 20.0, math.nextafter(float(k), math.inf), float(k)], 4.0, 128))
    cases.append(crop_case("tiny", [5.0, 5.0, 0.01, 0.01], 2.0, 64))  # side 1
    return cases


def rejected_crops() -> list:
    return [
        crop_case("reject", [0.0, 0.0, -3.0, 4.0], 4.0, 128),
        crop_case("reject", [0.0, 0.0, 4.0, 0.0], 4.0, 128),
        crop_case("reject", [0.0, 0.0, 1e-200, 1e-200], 4.0, 128),  # w*h underflows: side 0
        crop_case("reject", [0.0, 0.0, 1e200, 1e200], 4.0, 128),  # w*h overflows: infinite side
    ]


# ------------------------------------------------------------------------------------------
# tokens


def quantize_cases(rng: np.random.Generator) -> list:
    sections = []
    for grid in GRIDS:
        steps = grid.bins - 1
        edges = [k / steps + grid.range_min for k in rng.integers(0, grid.max_token + 1, 40)]
        near = [math.nextafter(e, -math.inf) for e in edges[:20]] + [math.nextafter(e, math.inf) for e in edges[20:]]
        values = (list(rng.uniform(grid.range_min - 0.7, grid.range_max + 0.7, 200)) + edges + near
                  + [grid.range_min, grid.range_max, math.nextafter(grid.range_max, -math.inf),
                     math.nextafter(grid.range_min, -math.inf), 0.0, -0.0, 1.0, 0.5, -1e9, 1e9])
        values = [float(v) for v in values]
        by_corners = quantize_corners(np.asarray(values), grid.bins, grid.range_min, grid.range_max)
        by_loss = quantize(torch.tensor(values, dtype=torch.float64), grid).numpy()
        if not np.array_equal(by_corners, by_loss):
            raise SystemExit("augment.quantize_corners and losses.quantize disagree; fix training first")
        sections.append({"bins": grid.bins, "range_min": grid.range_min, "range_max": grid.range_max,
                         "max_token": grid.max_token, "values": values, "tokens": [int(k) for k in by_corners]})
    return sections


def dequantize_cases() -> list:
    sections = []
    for grid in GRIDS:
        tokens = torch.arange(grid.coordinate_tokens)
        sections.append({"bins": grid.bins, "range_min": grid.range_min, "range_max": grid.range_max,
                         "coordinate_tokens": grid.coordinate_tokens, "begin": grid.begin, "end": grid.end,
                         "values": [float(v) for v in dequantize(tokens, grid).tolist()]})
    return sections


# ------------------------------------------------------------------------------------------
# clips


def jitter_free_config(clip_len: int, overlap: int) -> SampleConfig:
    """Stage-2 sampling with every random choice pinned to what inference does."""
    refine = overlap > 0
    return SampleConfig(stage=2, clip_len=clip_len, scale_jitter=0.0, center_jitter=0.0, template1_jitter=0.0,
                        p_refine=1.0 if refine else 0.0, p_cold=0.0 if refine else 1.0, overlap=max(overlap, 1),
                        refine_spread=0, new_spread=1, prior_noise=0.0, p_flip=0.0, p_gray=0.0, brightness=0.0)


def random_track(rng: np.random.Generator, length: int, width: int, height: int) -> np.ndarray:
    w = float(math.exp(rng.uniform(math.log(12), math.log(0.5 * min(width, height)))))
    h = float(w * math.exp(rng.uniform(-0.8, 0.8)))
    cx, cy = float(rng.uniform(-0.1, 1.1) * width), float(rng.uniform(-0.1, 1.1) * height)
    boxes = []
    for _ in range(length):
        boxes.append([cx - w / 2, cy - h / 2, w, h])
        cx += float(rng.normal(0, 0.08)) * w
        cy += float(rng.normal(0, 0.08)) * h
        w *= float(math.exp(rng.normal(0, 0.04)))
        h *= float(math.exp(rng.normal(0, 0.04)))
    return np.asarray(boxes, dtype=np.float64)


def clip_cases(rng: np.random.Generator, count: int) -> list:
    layouts = [(6, 3), (6, 5), (6, 4), (6, 2), (6, 1), (6, 0), (4, 1)]  # (N, overlap)
    cases = []
    attempts = 0
    while len(cases) < count:
        attempts += 1
        if attempts > 20 * count:
            raise SystemExit("too many rejected clips")
        clip_len, overlap = layouts[len(cases) % len(layouts)]
        width, height = int(rng.integers(200, 1281)), int(rng.integers(160, 721))
        length = clip_len + 12
        boxes = random_track(rng, length, width, height)
        calls = []

        def cropper(f, x0, y0, side, out, calls=calls):
            calls.append([int(f), int(x0), int(y0), int(side), int(out)])
            return np.zeros((out, out, 3), np.uint8)

        seq = Sequence("consistency", boxes, np.ones(length, bool), lambda f: None, cropper)
        samples = TrackingSamples([object()], None, MODEL, jitter_free_config(clip_len, overlap), seed=0)
        gaps = rng.integers(1, 3, clip_len - 1) if len(cases) % 2 else np.ones(clip_len - 1, np.int64)
        start = int(rng.integers(4, length - int(gaps.sum())))
        clip = [start] + [start + int(s) for s in np.cumsum(gaps)]
        t0, td = int(rng.integers(0, start + 1)), int(rng.integers(0, start + 1))
        sample_rng = np.random.default_rng([SEED, len(cases), attempts])
        sample = samples._build(sample_rng, seq, t0, td, clip)
        if sample is None:
            continue  # the target left the crop entirely; _build rejects such clips
        # The zero jitter still goes through jitter_box's arithmetic (centre - size/2); this is
        # the reference box _build cropped around, rebuilt with the same function.
        reference = jitter_box(np.random.default_rng(0), boxes[clip[0]], 0.0, 0.0)
        dynamic = jitter_box(np.random.default_rng(0), boxes[td], 0.0, 0.0)
        cases.append({
            "clip_len": clip_len, "overlap": overlap, "image": [width, height],
            "frames": clip, "boxes": [box_list(boxes[f]) for f in clip],
            "template_frame": t0, "template_box": box_list(boxes[t0]),
            "dynamic_frame": td, "dynamic_box": box_list(boxes[td]), "dynamic_reference": box_list(dynamic),
            "reference": box_list(reference),
            "crop_calls": calls,  # [frame, x0, y0, side, out]: template0, template1, then each search frame
            "target": sample["target"].tolist(), "prior": sample["prior"].tolist(),
            "timesteps": sample["timesteps"].tolist(), "valid": sample["valid"].tolist(),
        })
    return cases


# ------------------------------------------------------------------------------------------
# scores, schedule, seeds, configs


def score_logits(case: int) -> np.ndarray:
    """Random decoder logits [frames, 6, vocab] of score case `case` (also used by the pytest)."""
    rng = np.random.default_rng([SEED, 5, case])
    frames = int(rng.integers(1, 7))
    logits = rng.standard_normal((frames, 6, MODEL.tokens.vocab)).astype(np.float32) * np.float32(rng.uniform(0.5, 8))
    if case % 4 == 0:
        # Ties at the maximum: the lowest index must win (argmax convention of every engine).
        logits[0, 1, 37] = logits[0, 1, 512] = np.float32(50.0)
    if case % 5 == 0:
        logits[-1, 3, MODEL.tokens.begin] = np.float32(60.0)  # a [Begin] token in a coordinate slot
    return logits


def score_cases(count: int) -> list:
    cases = []
    for i in range(count):
        tokens, scores, frame_scores = decode_outputs(torch.from_numpy(score_logits(i)))
        cases.append({"tokens": tokens.tolist(), "scores": [[float(v) for v in row] for row in scores.tolist()],
                      "frame_scores": [float(v) for v in frame_scores.tolist()]})
    return cases


def schedule_case() -> dict:
    d = MODEL.diffusion
    abar = alphas_cumprod(d.T, d.s)
    picks = sorted({0, 1, 100, 250, d.t_refine, 750, 900, d.t_new, d.T - 1})
    return {"T": d.T, "s": d.s, "t_new": d.t_new, "t_refine": d.t_refine, "t": picks,
            "alphas_cumprod": [float(abar[t]) for t in picks],
            "signal_f32": [float(np.float32(math.sqrt(abar[t]))) for t in picks],
            "noise_f32": [float(np.float32(math.sqrt(1 - abar[t]))) for t in picks]}


def splitmix_cases(rng: np.random.Generator) -> list:
    inputs = [0, 1, 2, 0x5C7D1FF, (1 << 64) - 1, 0x9E3779B97F4A7C15] + [int(v) for v in rng.integers(0, 2 ** 63, 20, dtype=np.int64)]
    return [{"x": str(x), "out": str(splitmix64_int(x))} for x in inputs]


def main() -> None:
    rng = np.random.default_rng(SEED)
    crops = random_crops(rng, 240) + tie_crops(rng, 60) + side_edge_crops() + rejected_crops()
    fixture = {
        "generated_by": "scripts/make-consistency-fixture.py (training/sctdiff functions; see docs/consistency.md)",
        "model": MODEL.to_dict(),
        "crops": crops,
        "quantize": quantize_cases(rng),
        "dequantize": dequantize_cases(),
        "clips": clip_cases(rng, 140),
        "scores": score_cases(40),
        "schedule": schedule_case(),
        "splitmix64": splitmix_cases(rng),
        "configs": {name: make().to_dict() for name, make in CONFIGS.items()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(fixture, separators=(",", ":"), allow_nan=False)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(text + "\n")
    os.replace(tmp, OUT)
    ties = sum(1 for c in crops if c["kind"] == "tie")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(crops)} crops ({ties} exact ties), {len(fixture['clips'])} clips, "
          f"{sum(len(q['values']) for q in fixture['quantize'])} quantized values, {len(text) // 1024} KiB")


if __name__ == "__main__":
    main()
