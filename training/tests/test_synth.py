"""The synthetic sequence generator: determinism, exact boxes, occlusion labels, hard cases."""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sctdiff.photos import PhotoLibrary, load_manifest, procedural_texture  # noqa: E402
from sctdiff.synth import Sprite, SynthConfig, SyntheticSequence, cover_level, generate_sequence  # noqa: E402

SMALL = SynthConfig(length=30, width=160, height=120)


@pytest.fixture(scope="module")
def library():
    # Real photos when the packages are installed (skimage always is); procedural fill otherwise.
    return PhotoLibrary.load("train", max_side=240)


def test_manifest_splits_are_disjoint_and_every_photo_has_a_licence():
    entries = load_manifest()
    train = {e.id for e in entries if e.split == "train"}
    val = {e.id for e in entries if e.split == "val"}
    assert train and val and not (train & val)
    assert all(e.license for e in entries)
    groups = {}
    for e in entries:
        groups.setdefault(e.group, set()).add(e.split)
    assert all(len(s) == 1 for s in groups.values())


def test_library_loads_real_skimage_photos_and_fills_missing_with_textures():
    lib = PhotoLibrary.load("train", max_side=200)
    assert any(i.startswith("skimage-") for i in lib.ids)
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 and max(im.shape[:2]) <= 200 for im in lib.images)
    filled = PhotoLibrary.load("val", cache_dir=Path("/nonexistent"), max_side=64, min_photos=40)
    assert len(filled.images) == 40
    assert any(i.startswith("procedural-") for i in filled.ids)


def test_procedural_texture_is_seeded():
    a = procedural_texture(np.random.default_rng(3), 40, 50)
    b = procedural_texture(np.random.default_rng(3), 40, 50)
    assert a.shape == (40, 50, 3) and (a == b).all() and a.std() > 5


def test_same_seed_same_sequence_and_frames_render_in_any_order(library):
    a = generate_sequence(library, 11, SMALL)
    b = generate_sequence(library, 11, SMALL)
    assert np.array_equal(a.boxes, b.boxes)
    late_first = b.frame(20)
    b.frame(3)
    assert np.array_equal(a.frame(20), late_first)
    c = generate_sequence(library, 12, SMALL)
    assert not np.array_equal(a.boxes, c.boxes)


def test_box_is_the_tight_box_of_the_rendered_target(library):
    # Paint the target pure white over a black world with nothing else: the box must hug it.
    black = PhotoLibrary(split="train", images=[np.zeros((200, 200, 3), np.uint8)] * 3, ids=["k"] * 3)
    cfg = replace(SMALL, p_distractors=0, p_occluder=0, p_illumination=0, p_defocus=0, p_motion_blur=0,
                  noise_sigma_max=0, p_leave_frame=0, p_camera_motion=0)
    for seed in range(4):
        seq = generate_sequence(black, seed, cfg)
        seq.target = Sprite.from_arrays(np.full_like(seq.target.rgb, 255.0), seq.target.alpha)
        for i in (0, 15, 29):
            frame = seq.frame(i)
            ys, xs = np.nonzero(frame[..., 0] > 127)
            x, y, w, h = seq.boxes[i]
            assert abs(xs.min() - x) <= 1.5 and abs(ys.min() - y) <= 1.5
            assert abs(xs.max() + 1 - (x + w)) <= 1.5 and abs(ys.max() + 1 - (y + h)) <= 1.5
            assert seq.cover[i] == 8 and seq.absent[i] == 0


def test_boxes_stay_inside_the_frame_and_labels_are_consistent(library):
    for seed in range(8):
        seq = generate_sequence(library, seed, SMALL)
        present = seq.absent == 0
        b = seq.boxes[present]
        assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
        assert (b[:, 0] + b[:, 2] <= SMALL.width + 1e-6).all() and (b[:, 1] + b[:, 3] <= SMALL.height + 1e-6).all()
        assert (b[:, 2] >= 1).all() and (b[:, 3] >= 1).all()
        assert np.array_equal(seq.absent, (seq.cover == 0).astype(int))
        assert ((seq.visible > 0) == (seq.cover > 0)).all()


def test_a_large_occluder_hides_the_target_fully(library):
    cfg = replace(SynthConfig(length=60, width=200, height=150), p_occluder=1.0, p_full_occlusion=1.0,
                  p_leave_frame=0.0, speed_max=0.05)
    hidden = [int((generate_sequence(library, s, cfg).cover == 0).sum()) for s in range(6)]
    assert max(hidden) > 0, hidden
    partial = [int(((c > 0) & (c < 8)).sum()) for c in (generate_sequence(library, s, cfg).cover for s in range(6))]
    assert sum(partial) > 0


def test_target_moves_scales_and_frames_change(library):
    cfg = replace(SMALL, speed_max=0.25, scale_change=0.5)
    seq = generate_sequence(library, 5, cfg)
    centres = seq.boxes[:, :2] + seq.boxes[:, 2:] / 2
    assert np.linalg.norm(centres[-1] - centres[0]) > 1 or np.ptp(seq.target_track.scale) > 0
    assert not np.array_equal(seq.frame(0), seq.frame(10))


def test_cover_level_bins():
    assert [cover_level(v) for v in (0.0, 0.1, 0.2, 0.5, 0.95, 1.0)] == [0, 1, 2, 4, 7, 8]


def test_render_rejects_out_of_range_frames(library):
    seq = generate_sequence(library, 1, SMALL)
    with pytest.raises(IndexError):
        seq.frame(SMALL.length)
    assert isinstance(seq, SyntheticSequence)


def test_train_options_set_the_distractors_of_training_sequences(library):
    from sctdiff.train_loop import TrainConfig, synth_config

    assert synth_config(TrainConfig()) == SynthConfig()  # defaults: runs before the option are unchanged
    busy = synth_config(TrainConfig(synth_p_distractors=1.0, synth_max_distractors=2))
    quiet = synth_config(TrainConfig(synth_p_distractors=0.0))
    counts = [len(SyntheticSequence.generate(library, seed, replace(SMALL, p_distractors=busy.p_distractors,
                                                                     max_distractors=busy.max_distractors)).distractors)
              for seed in range(6)]
    assert all(1 <= c <= 2 for c in counts), counts
    assert all(len(SyntheticSequence.generate(library, seed, replace(SMALL, p_distractors=quiet.p_distractors)).distractors) == 0
               for seed in range(6))
    from sctdiff.train_loop import build_sources
    (source,) = build_sources(TrainConfig(synth_p_distractors=1.0, synth_max_distractors=2), "train", 0)
    assert (source.config.p_distractors, source.config.max_distractors) == (1.0, 2)
    with pytest.raises(ValueError, match="synth-p-distractors"):
        synth_config(TrainConfig(synth_p_distractors=1.5))
    with pytest.raises(ValueError, match="synth-max-distractors"):
        synth_config(TrainConfig(synth_max_distractors=0))
