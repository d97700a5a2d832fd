"""The training code still produces test/fixtures/consistency/training-golden.json.

The TypeScript tracker is checked against that fixture (test/unit/consistency.test.ts); this
file checks the other direction, so a change in the training code that would break agreement
with inference fails here instead of silently training a model the tracker feeds differently.
Each section re-runs the training function on the fixture's inputs; docs/consistency.md says
what each one pins. After an intended change on both sides, regenerate the fixture with
`/usr/bin/python3 scripts/make-consistency-fixture.py`.
"""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from sctdiff.augment import box_to_crop, corners, crop_image, crop_params, jitter_box, quantize_corners  # noqa: E402
from sctdiff.config import CONFIGS, ModelConfig, get_config  # noqa: E402
from sctdiff.data import SampleConfig, TrackingSamples, images_to_tensor  # noqa: E402
from sctdiff.datasets import Sequence  # noqa: E402
from sctdiff.losses import TokenGrid, bin_centers, dequantize, quantize  # noqa: E402
from sctdiff.model import build_model, decode_outputs  # noqa: E402
from sctdiff.noise import splitmix64_int  # noqa: E402
from sctdiff.preprocess import preprocess  # noqa: E402
from sctdiff.schedule import alphas_cumprod  # noqa: E402

FIXTURE_PATH = ROOT / "test" / "fixtures" / "consistency" / "training-golden.json"
FIXTURE = json.loads(FIXTURE_PATH.read_text())
MODEL = ModelConfig.from_dict(FIXTURE["model"])
# Score logits are not stored (too large); the generator's own recipe rebuilds them.
_spec = importlib.util.spec_from_file_location("make_consistency_fixture", ROOT / "scripts" / "make-consistency-fixture.py")
GENERATOR = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(GENERATOR)


def grid_of(section) -> TokenGrid:
    bins = section["bins"]
    return TokenGrid(bins, section["range_min"], section["range_max"], 2 * bins, 2 * bins + 1)


def test_fixture_was_made_for_the_current_tiny_config():
    assert FIXTURE["model"] == CONFIGS["tiny"]().to_dict()
    assert FIXTURE["configs"] == {name: make().to_dict() for name, make in CONFIGS.items()}


def test_crop_params_and_normalization_reproduce_the_fixture():
    mismatches = []
    for case in FIXTURE["crops"]:
        box = np.asarray(case["box"], dtype=np.float64)
        if case["result"] is None:
            with pytest.raises(ValueError):
                crop_params(box, case["factor"])
            continue
        x0, y0, side = crop_params(box, case["factor"])
        if [x0, y0, side] != case["result"]:
            mismatches.append((case["kind"], case["box"], [x0, y0, side], case["result"]))
            continue
        normalized = box_to_crop(box, x0, y0, side)
        assert normalized.tolist() == case["normalized"]
        assert corners(normalized).tolist() == case["corners"]
        assert quantize_corners(corners(normalized)).tolist() == case["tokens"]
    assert mismatches == []


def test_tie_corners_round_half_to_even():
    ties = [c for c in FIXTURE["crops"] if c["kind"] == "tie"]
    assert len(ties) >= 50
    assert all(c["result"][0] % 2 == 0 and c["result"][1] % 2 == 0 for c in ties)


@pytest.mark.parametrize("index", range(3))
def test_both_quantizers_reproduce_the_fixture(index):
    section = FIXTURE["quantize"][index]
    grid = grid_of(section)
    values = np.asarray(section["values"], dtype=np.float64)
    assert grid.max_token == section["max_token"]
    assert quantize_corners(values, grid.bins, grid.range_min, grid.range_max).tolist() == section["tokens"]
    assert quantize(torch.from_numpy(values), grid).tolist() == section["tokens"]


@pytest.mark.parametrize("index", range(3))
def test_dequantize_and_bin_centres_reproduce_the_fixture(index):
    section = FIXTURE["dequantize"][index]
    grid = grid_of(section)
    assert grid.coordinate_tokens == section["coordinate_tokens"] == section["begin"]
    tokens = torch.arange(grid.coordinate_tokens)
    assert dequantize(tokens, grid).tolist() == section["values"]
    np.testing.assert_allclose(bin_centers(grid, dtype=torch.float64).numpy(), section["values"], rtol=0, atol=1e-12)


def _rebuild_clip(case):
    """Run TrackingSamples._build on the fixture clip's boxes with every random choice off."""
    frames = case["frames"]
    length = max(frames) + 1
    boxes = np.full((length, 4), np.nan)
    boxes[case["template_frame"]] = case["template_box"]
    boxes[case["dynamic_frame"]] = case["dynamic_box"]
    for f, box in zip(frames, case["boxes"]):
        boxes[f] = box
    calls = []

    def cropper(f, x0, y0, side, out):
        calls.append([int(f), int(x0), int(y0), int(side), int(out)])
        return np.zeros((out, out, 3), np.uint8)

    seq = Sequence("consistency", boxes, np.ones(length, bool), lambda f: None, cropper)
    samples = TrackingSamples([object()], None, MODEL, GENERATOR.jitter_free_config(case["clip_len"], case["overlap"]))
    # Any generator: with the jitter, flip, colour and spreads off, the draws do not matter.
    sample = samples._build(np.random.default_rng(12345), seq, case["template_frame"], case["dynamic_frame"], frames)
    return sample, calls


def test_jitter_free_clips_reproduce_the_fixture():
    for case in FIXTURE["clips"]:
        sample, calls = _rebuild_clip(case)
        assert sample is not None, f"clip {case['frames']} was rejected"
        assert calls == case["crop_calls"]
        assert sample["target"].tolist() == case["target"]
        assert sample["prior"].tolist() == case["prior"]
        assert sample["timesteps"].tolist() == case["timesteps"]
        assert sample["valid"].tolist() == case["valid"]
        reference = jitter_box(np.random.default_rng(0), np.asarray(case["boxes"][0]), 0.0, 0.0)
        assert reference.tolist() == case["reference"]


def test_clip_layout_is_the_inference_layout():
    """[Begin, x1, y1, x2, y2, End] per frame; re-estimated frames first at t_refine, new at t_new."""
    d, t = MODEL.diffusion, MODEL.tokens
    for case in FIXTURE["clips"]:
        target = np.asarray(case["target"])
        assert (target[:, 0] == t.begin).all() and (target[:, 5] == t.end).all()
        assert ((target[:, 1:5] >= 0) & (target[:, 1:5] < t.begin)).all()
        overlap = case["overlap"]
        assert case["timesteps"] == [d.t_refine] * overlap + [d.t_new] * (case["clip_len"] - overlap)
        assert case["frames"] == sorted(case["frames"])
        # New frames start from the crop's reference box, re-estimated ones from their own box.
        x0, y0, side = case["crop_calls"][2][1:4]
        reference_tokens = quantize_corners(corners(box_to_crop(np.asarray(case["reference"]), x0, y0, side)))
        prior = np.asarray(case["prior"])
        assert (prior[overlap:] == reference_tokens).all()
        assert (prior[:overlap] == target[:overlap, 1:5]).all()


def test_decode_outputs_reproduce_the_scores():
    for index, case in enumerate(FIXTURE["scores"]):
        tokens, scores, frame_scores = decode_outputs(torch.from_numpy(GENERATOR.score_logits(index)))
        assert tokens.tolist() == case["tokens"]
        assert scores.tolist() == case["scores"]
        assert frame_scores.tolist() == case["frame_scores"]
    # Ties go to the lowest index, as the engines' top-1 does.
    assert FIXTURE["scores"][0]["tokens"][0][0] == 37


def test_schedule_and_splitmix_reproduce_the_fixture():
    g = FIXTURE["schedule"]
    abar = alphas_cumprod(g["T"], g["s"])
    assert [float(abar[t]) for t in g["t"]] == g["alphas_cumprod"]
    assert [float(np.float32(np.sqrt(abar[t]))) for t in g["t"]] == g["signal_f32"]
    for case in FIXTURE["splitmix64"]:
        assert str(splitmix64_int(int(case["x"]))) == case["out"]


# --------------------------------------------------------------------------------------------
# Contract points the TypeScript side cannot see (they live in the network and the pixels).


def test_only_coordinate_slots_are_noised_and_frames_get_temporal_rows_oldest_first():
    torch.manual_seed(0)
    model = build_model(get_config("micro"), seed=0)
    dec = model.decoder
    frames, d = 4, dec.cfg.decoder.dim
    tokens = torch.full((1, frames, 4), 400, dtype=torch.long)
    timesteps = torch.full((1, frames), MODEL.diffusion.t_new, dtype=torch.long)
    with torch.no_grad():
        a = dec.embed_trajectory(tokens, timesteps, torch.zeros(1, frames, 4, d))
        b = dec.embed_trajectory(tokens, timesteps, torch.randn(1, frames, 4, d))
    assert torch.equal(a[..., 0, :], b[..., 0, :]) and torch.equal(a[..., 5, :], b[..., 5, :])
    assert not torch.equal(a[..., 1:5, :], b[..., 1:5, :])
    # Same tokens, same t, no noise: frame f differs from frame 0 only by temporal[f] - temporal[0].
    for f in range(1, frames):
        expected = dec.temporal[f] - dec.temporal[0]
        torch.testing.assert_close(a[0, f] - a[0, 0], expected.expand(6, -1), rtol=0, atol=1e-6)


def test_training_crops_match_the_engine_preprocessing_within_one_level():
    """Training feeds cv2's uint8 resize (rounded) to images_to_tensor; the engines resize in
    float32 without rounding (sctdiff.preprocess, bit-exact with C++). docs/consistency.md D2:
    the two differ by under one 8-bit level, which is accepted."""
    rng = np.random.default_rng(7)
    std = np.asarray(MODEL.pixel.std, np.float32)[:, None, None]
    worst = 0.0
    for i in range(12):
        height, width = int(rng.integers(60, 240)), int(rng.integers(60, 240))
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        side, out = int(rng.integers(16, 400)), (128, 64)[i % 2]
        x0, y0 = int(rng.integers(-80, width)), int(rng.integers(-80, height))
        training = images_to_tensor(torch.from_numpy(crop_image(image, x0, y0, side, out)), MODEL.pixel.mean,
                                    MODEL.pixel.std).numpy()
        engine = preprocess(image, "rgb", x0, y0, side, out, MODEL.pixel.mean, MODEL.pixel.std)
        assert training.shape == engine.shape == (3, out, out)
        worst = max(worst, float((np.abs(training - engine) * std * 255).max()))
    assert worst < 1.0


def test_channel_order_is_rgb_on_both_paths():
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = 255  # pure red in RGB
    training = images_to_tensor(torch.from_numpy(crop_image(image, 0, 0, 32, 64)), MODEL.pixel.mean, MODEL.pixel.std)
    engine = preprocess(image, "rgb", 0, 0, 32, 64, MODEL.pixel.mean, MODEL.pixel.std)
    red = (1.0 - MODEL.pixel.mean[0]) / MODEL.pixel.std[0]
    for out in (training.numpy(), engine):
        assert out[0].min() == pytest.approx(red, abs=1e-5)
        assert out[1].max() < 0 and out[2].max() < 0
