"""Training samples: crop geometry, token targets, shared clip reference, timestep modes, determinism."""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sctdiff.augment import box_to_crop, corners, crop_image, crop_params, flip_crop_boxes, quantize_corners  # noqa: E402
from sctdiff.config import get_config  # noqa: E402
from sctdiff.data import ResumableSampler, SampleConfig, TrackingSamples, collate_samples, images_to_tensor  # noqa: E402
from sctdiff.datasets import Sequence  # noqa: E402
from sctdiff.losses import dequantize, quantize  # noqa: E402
from sctdiff.photos import PhotoLibrary  # noqa: E402
from sctdiff.synth import SynthConfig, generate_sequence  # noqa: E402

MC = get_config("micro")
QUIET = dict(p_flip=0.0, p_gray=0.0, brightness=0.0)


class BoxWorld:
    """Sequences of a white box on black moving right 2 px per frame (frame 5 invisible)."""

    name = "boxworld"

    def __init__(self, moving=True, invisible=(5,)):
        self.moving = moving
        self.invisible = set(invisible)

    def __len__(self):
        return 3

    def sequence(self, index):
        length = 40
        boxes = np.array([[60 + (2 * f if self.moving else 0) + index, 50, 24, 18] for f in range(length)], float)
        visible = np.array([f not in self.invisible for f in range(length)])

        def frame(f):
            image = np.zeros((160, 220, 3), np.uint8)
            if visible[f]:
                x, y, w, h = boxes[f].astype(int)
                image[y:y + h, x:x + w] = 255
            return image

        return Sequence(f"box-{index}", boxes, visible, frame)


def decode_box(target_row):
    return dequantize(torch.as_tensor(target_row[1:5])).numpy()


def test_crop_params_follow_the_tracker():
    # side = ceil(sqrt(4*4)*2) = 8, corner = round(12 - 4) = 8; half-even rounding as Python's round.
    assert crop_params(np.array([10, 10, 4, 4]), 2.0) == (8, 8, 8)
    assert crop_params(np.array([0.5, 0, 3, 3]), 1.0) == (0, 0, 3)  # round(0.5) = 0
    with pytest.raises(ValueError, match="Expected a box with finite positive width"):
        crop_params(np.array([0, 0, -3, 4]), 4.0)


def test_box_to_crop_corners_and_tokens_agree_with_the_loss_grid():
    box = np.array([30.0, 40.0, 20.0, 10.0])
    x0, y0, side = crop_params(box, 4.0)
    c = corners(box_to_crop(box, x0, y0, side))
    assert np.allclose(c * side + [x0, y0, x0, y0], [30, 40, 50, 50])
    assert quantize_corners(c).tolist() == quantize(torch.as_tensor(c)).tolist()
    assert np.allclose(flip_crop_boxes(np.array([0.1, 0.2, 0.3, 0.4])), [0.7, 0.2, 0.9, 0.4])


def test_synthetic_crop_renders_what_cropping_the_frame_shows():
    lib = PhotoLibrary.load("train", max_side=200)
    cfg = SynthConfig(length=20, width=200, height=150, noise_sigma_max=0.0)
    for seed in range(3):
        seq = generate_sequence(lib, seed, cfg)
        x0, y0, side = crop_params(seq.boxes[7], 4.0)
        direct = seq.crop(7, x0, y0, side, 64).astype(float)
        via_frame = crop_image(seq.frame(7), x0, y0, side, 64).astype(float)
        assert np.abs(direct - via_frame).mean() < 4.0


def test_stage1_sample_shapes_and_target_is_the_box_in_the_crop():
    ds = TrackingSamples([BoxWorld()], None, MC, SampleConfig(stage=1, **QUIET), seed=0)
    for index in range(6):
        s = ds[index]
        assert s["template0"].shape == (64, 64, 3) and s["template0"].dtype == np.uint8
        assert s["search"].shape == (1, 128, 128, 3)
        assert s["target"][0, 0] == 800 and s["target"][0, 5] == 801
        # The white pixels of the search crop are where the target tokens say.
        ys, xs = np.nonzero(s["search"][0, :, :, 0] > 127)
        box = np.clip(decode_box(s["target"][0]) * 128, 0, 128)  # the jittered crop may cut the target
        assert abs(xs.min() - box[0]) <= 2.5 and abs(xs.max() + 1 - box[2]) <= 2.5
        assert abs(ys.min() - box[1]) <= 2.5 and abs(ys.max() + 1 - box[3]) <= 2.5
        assert s["prior"].tolist() == [s["target"][0, 1:5].tolist()]
        assert 0 <= s["timesteps"][0] < MC.diffusion.T


def test_flip_keeps_target_on_the_box():
    ds = TrackingSamples([BoxWorld()], None, MC, SampleConfig(stage=1, p_flip=1.0, p_gray=0.0, brightness=0.0), seed=1)
    s = ds[0]
    xs = np.nonzero(s["search"][0, :, :, 0] > 127)[1]
    box = np.clip(decode_box(s["target"][0]) * 128, 0, 128)
    assert abs(xs.min() - box[0]) <= 2.5 and abs(xs.max() + 1 - box[2]) <= 2.5


def test_samples_are_a_pure_function_of_seed_and_index():
    lib = PhotoLibrary.load("train", max_side=200)
    from sctdiff.datasets import SyntheticSource

    a = TrackingSamples([SyntheticSource(lib, seed=2)], None, MC, SampleConfig(stage=2), seed=5)
    b = TrackingSamples([SyntheticSource(lib, seed=2)], None, MC, SampleConfig(stage=2), seed=5)
    later = b[9]
    b[2]
    first = a[9]
    for key in first:
        np.testing.assert_array_equal(first[key], later[key])
    assert not np.array_equal(a[10]["search"], first["search"])


def test_stage2_clip_shares_one_reference_from_its_first_frame():
    # A target that never moves: every crop of the clip must be the same picture.
    ds = TrackingSamples([BoxWorld(moving=False, invisible=())], None, MC,
                         SampleConfig(stage=2, p_gaps=1.0, **QUIET), seed=3)
    s = ds[0]
    assert s["search"].shape == (6, 128, 128, 3)
    for f in range(1, 6):
        np.testing.assert_array_equal(s["search"][f], s["search"][0])
        np.testing.assert_array_equal(s["target"][f], s["target"][0])
    # A moving target drifts right inside the fixed crop.
    moving = TrackingSamples([BoxWorld(invisible=())], None, MC, SampleConfig(stage=2, p_gaps=0.0, **QUIET), seed=3)[0]
    x1 = moving["target"][:, 1]
    assert (np.diff(x1) > 0).all()


def test_stage2_invisible_frames_are_masked():
    ds = TrackingSamples([BoxWorld(invisible=tuple(range(8, 40, 3)))], None, MC,
                         SampleConfig(stage=2, p_gaps=0.0, **QUIET), seed=4)
    seen = [ds[i]["valid"] for i in range(8)]
    assert any((~v).any() for v in seen)
    assert all(v[0] for v in seen)  # the reference frame is always visible


def test_stage2_timesteps_cover_refinement_cold_start_and_plain_diffusion():
    d = MC.diffusion
    sc = SampleConfig(stage=2, **QUIET)
    ds = TrackingSamples([BoxWorld(invisible=())], None, MC, sc, seed=6)
    refine = cold = plain = 0
    for i in range(60):
        s = ds[i]
        t, prior, target = s["timesteps"], s["prior"], s["target"][:, 1:5]
        if (t[:3] < d.T - sc.new_spread).all() and (t[3:] >= d.T - sc.new_spread).all() and len(set(t[:3])) > 1:
            refine += 1
            assert (np.abs(t[:3] - d.t_refine) <= sc.refine_spread).all()
            assert not np.array_equal(prior[:3], target[:3])  # earlier predictions, not the GT
            # New frames start from the crop's reference box: the same prior for all of them.
            assert (prior[3:] == prior[3]).all()
        elif (prior == prior[0]).all() and not np.array_equal(prior, target):  # the target moves; a shared prior is not GT
            cold += 1
            assert (t >= d.T - sc.new_spread).all()
        else:
            plain += 1
            assert len(set(t)) == 1
            assert np.array_equal(prior, target)
    assert refine > 10 and plain > 5 and cold > 0, (refine, plain, cold)
    assert (np.array([ds[i]["timesteps"] for i in range(60)]) == d.t_new).any()


def test_high_t_fraction_moves_stage1_timesteps_near_T():
    sc = SampleConfig(stage=1, high_t_fraction=1.0, **QUIET)
    ds = TrackingSamples([BoxWorld()], None, MC, sc, seed=0)
    samples = [ds[i] for i in range(10)]
    assert all(s["timesteps"][0] >= MC.diffusion.T - sc.new_spread for s in samples)
    # Near T the prior is what inference has (the box the crop was cut around), never the GT:
    # abar(900) = 0.024 would otherwise leak the answer. The jittered reference differs from the GT.
    assert sum(not np.array_equal(s["prior"], s["target"][:, 1:5]) for s in samples) >= 8
    uniform = TrackingSamples([BoxWorld()], None, MC, SampleConfig(stage=1, **QUIET), seed=0)
    assert all(np.array_equal(uniform[i]["prior"], uniform[i]["target"][:, 1:5]) for i in range(10))


def test_resumable_sampler_and_normalisation():
    assert list(ResumableSampler(5, 3)) == [5, 6, 7]
    images = torch.full((2, 4, 4, 3), 255, dtype=torch.uint8)
    x = images_to_tensor(images, MC.pixel.mean, MC.pixel.std)
    assert x.shape == (2, 3, 4, 4)
    assert torch.allclose(x[0, :, 0, 0], (1 - torch.tensor(MC.pixel.mean)) / torch.tensor(MC.pixel.std))


def test_stage2_rejects_clips_longer_than_the_decoder():
    with pytest.raises(ValueError, match="clip_len"):
        TrackingSamples([BoxWorld()], None, MC, replace(SampleConfig(stage=2), clip_len=7))


def test_stage2_clip_lengths_are_drawn_per_group_of_indices():
    sc = SampleConfig(stage=2, clip_lengths=(4, 5, 6), length_group=4, p_refine=1.0, p_cold=0.0, **QUIET)
    ds = TrackingSamples([BoxWorld()], None, MC, sc, seed=3)
    lengths = [len(ds[i]["search"]) for i in range(48)]
    groups = [lengths[g:g + 4] for g in range(0, 48, 4)]
    assert all(len(set(group)) == 1 for group in groups)  # one shape per batch
    assert set(lengths) == {4, 5, 6}
    for i in range(48):
        s = ds[i]
        n = len(s["search"])
        assert s["target"].shape == (n, 6) and s["prior"].shape == (n, 4) and s["timesteps"].shape == (n,)
        # A provisional window: the 3 overlap frames are refined, the rest are new frames.
        assert (s["timesteps"][3:] >= MC.diffusion.T - sc.new_spread).all()
        assert (np.abs(s["timesteps"][:3] - MC.diffusion.t_refine) <= sc.refine_spread).all()


def test_stage2_rejects_clip_lengths_outside_the_clip():
    for lengths in [(1, 6), (4, 7)]:
        with pytest.raises(ValueError, match="clip lengths"):
            TrackingSamples([BoxWorld()], None, MC, SampleConfig(stage=2, clip_lengths=lengths), seed=0)


def test_collate_cuts_unequal_clips_to_the_shortest():
    ds4 = TrackingSamples([BoxWorld()], None, MC, SampleConfig(stage=2, clip_lengths=(4,), **QUIET), seed=0)
    ds6 = TrackingSamples([BoxWorld()], None, MC, SampleConfig(stage=2, **QUIET), seed=0)
    a, b = ds4[0], ds6[1]
    batch = collate_samples([a, b])
    assert batch["search"].shape[:2] == (2, 4) and batch["target"].shape == (2, 4, 6)
    assert batch["template0"].shape[0] == 2
    assert torch.equal(batch["prior"][1], torch.as_tensor(b["prior"][:4]))
    assert batch["valid"].dtype == torch.bool
