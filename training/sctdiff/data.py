"""Training samples for both stages, generated on the fly and reproducible by index.

A sample is what one decoder call sees: two templates and N search crops cut around one
shared reference, the ground-truth tokens, the prior tokens the decoder starts from and one
diffusion timestep per frame.

    template0  uint8 [Ht, Ht, 3]   first template (factor 2 around a GT box, no jitter)
    template1  uint8 [Ht, Ht, 3]   dynamic template (an earlier frame, slightly jittered box)
    search     uint8 [N, Hs, Hs, 3] every frame cropped around the SAME reference (factor 4)
    target     int64 [N, 6]        [Begin, x1, y1, x2, y2, End] of the GT in crop coordinates
    prior      int64 [N, 4]        coordinate tokens the decoder is given (then noised)
    timesteps  int64 [N]
    valid      bool  [N]           target visible (loss only on these frames)

Stage 1: N = 1, the reference is the search frame's GT jittered as OSTrack/ARTrack do, the
prior is the GT and t ~ U{0..T-1} (plain diffusion training).
Stage 2: N = clip_len consecutive frames (random gaps of 1..max_gap with probability
p_gaps); the reference is the clip's first GT box, jittered. Timesteps follow what
inference does (docs/model-contract.md: t_new for new frames, t_refine for frames that
overlap the previous window):
  - refine (p_refine): the first `overlap` frames carry earlier predictions (GT boxes with
    noise) at t around t_refine, the rest are new frames at t close to T (t_new) whose prior
    is the crop's reference box;
  - cold start (p_cold): every frame new (reference-box prior), at t close to T;
  - otherwise: one t ~ U{0..T-1} for the clip with the GT as prior.

Sample `i` is a pure function of (seed, i), so a resumed run continues the same stream from
its saved position; `samples_per_sequence` consecutive indices share one sequence, which is
what makes generating synthetic sequences on the fly affordable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence as Seq, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from .augment import (SEARCH_CENTER_JITTER, SEARCH_SCALE_JITTER, box_to_crop, corners, crop_image, crop_params,
                      flip_crop_boxes, jitter_box, photometric, quantize_corners)
from .config import ModelConfig
from .datasets import Sequence


@dataclass(frozen=True)
class SampleConfig:
    """How samples are drawn. Defaults: the paper's N = 6 and OSTrack's jitter/augmentation."""

    stage: int = 1
    clip_len: int = 6
    # Stage 2: clip lengths to draw from (each <= clip_len). The paper trains N = 6 only; with
    # 'frame' latency the tracker also decodes provisional windows of 4 and 5 frames (3 overlap
    # frames + the 1 or 2 received so far), so the shipped recipe adds those shapes.
    clip_lengths: Tuple[int, ...] = ()  # empty: clip_len only
    # Consecutive sample indices that share one clip length; the trainer sets it to the batch
    # size so that every batch has one shape (collate_samples trims a mixed batch anyway).
    length_group: int = 1
    max_gap: int = 5  # stage 2: frame step drawn from 1..max_gap when gaps are on
    p_gaps: float = 0.5
    template_range: int = 100  # frames between template and search frame (stage 1) or clip start
    scale_jitter: float = SEARCH_SCALE_JITTER
    center_jitter: float = SEARCH_CENTER_JITTER
    template1_jitter: float = 0.1  # the dynamic template is cut around a predicted box
    p_refine: float = 0.5
    p_cold: float = 0.15
    overlap: int = 3  # frames a window shares with the previous one (N = 6, stride 3)
    refine_spread: int = 150  # t of refined frames ~ U[t_refine - spread, t_refine + spread]
    new_spread: int = 100  # t of new frames: t_new half the time, else U[T - spread, T)
    prior_noise: float = 0.08  # std of an "earlier prediction" box error, in target sizes
    p_flip: float = 0.5
    p_gray: float = 0.05
    brightness: float = 0.2
    samples_per_sequence: int = 4
    # Fraction of plain-diffusion samples whose t is drawn like a new frame's (near T) instead
    # of U{0..T-1}. The paper samples t uniformly (0.0); inference only ever runs at t_new and
    # t_refine, so a short training budget is better spent near them (docs/training.md).
    high_t_fraction: float = 0.0

    @property
    def frames(self) -> int:
        return 1 if self.stage == 1 else self.clip_len

    def frames_for(self, index: int, seed: int) -> int:
        """Frames of sample `index`: 1 in stage 1, else drawn per group of `length_group` indices."""
        if self.stage == 1:
            return 1
        if not self.clip_lengths:
            return self.clip_len
        group = index // max(1, self.length_group)
        rng = np.random.default_rng([seed, group, 11])
        return int(self.clip_lengths[int(rng.integers(0, len(self.clip_lengths)))])


class TrackingSamples(Dataset):
    """Map-style dataset: index -> sample dict (numpy), drawn from weighted sources."""

    def __init__(self, sources: Seq, weights: Optional[Seq[float]], model_config: ModelConfig,
                 sample_config: SampleConfig = SampleConfig(), seed: int = 0, length: int = 10 ** 12):
        if not sources:
            raise ValueError("Expected at least one data source but received none")
        if sample_config.stage not in (1, 2):
            raise ValueError(f"Expected stage 1 or 2 but received {sample_config.stage}")
        if sample_config.stage == 2 and sample_config.clip_len > model_config.decoder.clip_len:
            raise ValueError(f"Expected clip_len <= decoder.clip_len ({model_config.decoder.clip_len}) "
                             f"but received {sample_config.clip_len}")
        bad = [n for n in sample_config.clip_lengths if not 2 <= n <= sample_config.clip_len]
        if bad:
            raise ValueError(f"Expected clip lengths between 2 and clip_len ({sample_config.clip_len}) "
                             f"but received {list(sample_config.clip_lengths)}")
        w = np.asarray(weights if weights is not None else [1.0] * len(sources), dtype=np.float64)
        self.sources = list(sources)
        self.weights = w / w.sum()
        self.mc = model_config
        self.sc = sample_config
        self.seed = seed
        self.length = length
        self._cached: Tuple[Optional[tuple], Optional[Sequence]] = (None, None)
        self._frames: Dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.length

    # -- sequence and frame choice ------------------------------------------------------------

    def _sequence(self, group: int, attempt: int) -> Sequence:
        rng = np.random.default_rng([self.seed, group, attempt, 7])
        source_index = int(rng.choice(len(self.sources), p=self.weights))
        source = self.sources[source_index]
        seq_index = int(rng.integers(0, len(source)))
        key = (source_index, seq_index)
        if self._cached[0] != key:
            self._cached = (key, source.sequence(seq_index))
            self._frames = {}
        return self._cached[1]

    def _frame(self, seq: Sequence, f: int) -> np.ndarray:
        if f not in self._frames:
            self._frames[f] = seq.frame(f)
        return self._frames[f]

    def _crop(self, seq: Sequence, f: int, x0: int, y0: int, side: int, out: int) -> np.ndarray:
        if seq.cropper is not None:
            return seq.cropper(f, x0, y0, side, out)
        return crop_image(self._frame(seq, f), x0, y0, side, out)

    def _pick_frames(self, rng: np.random.Generator, seq: Sequence,
                     frames: int) -> Optional[Tuple[int, int, List[int]]]:
        """(template frame, dynamic template frame, search frames) or None when the sequence can't serve."""
        visible = np.flatnonzero(seq.visible)
        if len(visible) == 0:
            return None
        length = len(seq)
        sc = self.sc
        if sc.stage == 1:
            t0 = int(rng.choice(visible))
            near = visible[np.abs(visible - t0) <= sc.template_range]
            ts = int(rng.choice(near))
            between = visible[(visible >= min(t0, ts)) & (visible <= max(t0, ts))]
            td = int(rng.choice(between))
            return t0, td, [ts]
        steps = rng.integers(1, sc.max_gap + 1, frames - 1) if rng.random() < sc.p_gaps else np.ones(
            frames - 1, np.int64)
        span = int(steps.sum())
        if length <= span:
            return None
        # The clip's first frame must be visible: it is the crop reference.
        starts = visible[visible + span < length]
        if len(starts) == 0:
            return None
        start = int(rng.choice(starts))
        clip = [start] + [start + int(s) for s in np.cumsum(steps)]
        before = visible[(visible <= start) & (visible >= start - sc.template_range)]
        t0 = int(rng.choice(before))
        recent = visible[(visible <= start) & (visible >= start - 3 * frames)]
        td = int(rng.choice(recent)) if len(recent) else t0
        return t0, td, clip

    # -- the sample ---------------------------------------------------------------------------

    def __getitem__(self, index: int) -> Dict[str, np.ndarray]:
        sc, mc = self.sc, self.mc
        group = index // max(1, sc.samples_per_sequence)
        rng = np.random.default_rng([self.seed, index, 1])
        frames = sc.frames_for(index, self.seed)
        for attempt in range(50):
            seq = self._sequence(group, attempt)
            picked = self._pick_frames(rng, seq, frames)
            if picked is not None:
                sample = self._build(rng, seq, *picked)
                if sample is not None:
                    return sample
        raise RuntimeError(f"Expected a usable sequence for sample {index} within 50 attempts but received none")

    def _build(self, rng: np.random.Generator, seq: Sequence, t0: int, td: int,
               clip: List[int]) -> Optional[Dict[str, np.ndarray]]:
        sc, enc, tok, diff = self.sc, self.mc.encoder, self.mc.tokens, self.mc.diffusion
        template0 = self._crop(seq, t0, *crop_params(seq.boxes[t0], enc.template_factor), enc.template_size)
        dyn_box = jitter_box(rng, seq.boxes[td], sc.template1_jitter * 0.5, sc.template1_jitter)
        template1 = self._crop(seq, td, *crop_params(dyn_box, enc.template_factor), enc.template_size)

        reference = jitter_box(rng, seq.boxes[clip[0]], sc.scale_jitter, sc.center_jitter)
        try:
            x0, y0, side = crop_params(reference, enc.search_factor)
        except ValueError:
            return None
        search = np.stack([self._crop(seq, f, x0, y0, side, enc.search_size) for f in clip])
        valid = np.array([bool(seq.visible[f]) for f in clip])

        # GT corners in crop units; an invisible frame keeps the last visible box (it carries no loss).
        boxes = []
        last = seq.boxes[clip[0]]
        for f in clip:
            if seq.visible[f]:
                last = seq.boxes[f]
            boxes.append(corners(box_to_crop(last, x0, y0, side)))
        gt = np.stack(boxes)
        # Reject crops the target has left entirely (OSTrack rejects all-padding crops similarly).
        if not valid.any() or (np.minimum(gt[valid, 2:], 1) - np.maximum(gt[valid, :2], 0) <= 0).any():
            return None

        # What a tracker knows about a frame it has not seen yet: the box it cropped around.
        reference_box = corners(box_to_crop(reference, x0, y0, side))
        prior, timesteps = self._prior_and_timesteps(rng, gt, reference_box, len(clip), diff.T, diff.t_new,
                                                     diff.t_refine)

        if rng.random() < sc.p_flip:
            template0, template1 = template0[:, ::-1], template1[:, ::-1]
            search = search[:, :, ::-1]
            gt = flip_crop_boxes(gt)
            prior = flip_crop_boxes(prior)
        gray = bool(rng.random() < sc.p_gray)
        template0 = photometric(template0, gray, rng.uniform(1 - sc.brightness, 1 + sc.brightness))
        template1 = photometric(template1, gray, rng.uniform(1 - sc.brightness, 1 + sc.brightness))
        search = np.stack([photometric(s, gray, rng.uniform(1 - sc.brightness, 1 + sc.brightness)) for s in search])

        coords = quantize_corners(gt, tok.bins, tok.range_min, tok.range_max)
        target = np.concatenate([np.full((len(clip), 1), tok.begin), coords, np.full((len(clip), 1), tok.end)], 1)
        return {
            "template0": np.ascontiguousarray(template0),
            "template1": np.ascontiguousarray(template1),
            "search": np.ascontiguousarray(search),
            "target": target.astype(np.int64),
            "prior": quantize_corners(prior, tok.bins, tok.range_min, tok.range_max),
            "timesteps": timesteps.astype(np.int64),
            "valid": valid,
        }

    def _prior_and_timesteps(self, rng: np.random.Generator, gt: np.ndarray, reference_box: np.ndarray, frames: int,
                             T: int, t_new: int, t_refine: int) -> Tuple[np.ndarray, np.ndarray]:
        """Prior corners [frames, 4] and timesteps [frames].

        New frames (refinement and cold-start cases) carry the crop's reference box, never the
        GT: near t = T the signal is small but not zero (abar(900) = 0.024), and a GT prior
        there would teach the decoder to read an answer that inference never gives it.
        """
        sc = self.sc

        def new_t(n: int) -> np.ndarray:
            exact = rng.random(n) < 0.5
            return np.where(exact, t_new, rng.integers(max(0, T - sc.new_spread), T, n))

        def plain(n: int) -> Tuple[np.ndarray, np.ndarray]:
            if rng.random() < sc.high_t_fraction:
                # A new frame's timestep, so also a new frame's prior: the reference box.
                return np.repeat(reference_box[None], n, axis=0), np.full(n, int(new_t(1)[0]))
            return gt.copy(), np.full(n, int(rng.integers(0, T)))

        if sc.stage == 1:
            return plain(frames)

        mode = rng.random()
        if mode < sc.p_refine:
            overlap = min(sc.overlap, frames - 1)
            prior = np.repeat(reference_box[None], frames, axis=0)
            prior[:overlap] = gt[:overlap]
            size = np.sqrt(np.clip((gt[:overlap, 2] - gt[:overlap, 0]) * (gt[:overlap, 3] - gt[:overlap, 1]), 1e-6, None))
            # An earlier window's prediction: the GT moved and resized by a typical tracker error.
            prior[:overlap] += rng.standard_normal((overlap, 4)) * sc.prior_noise * size[:, None]
            lo, hi = max(0, t_refine - sc.refine_spread), min(T, t_refine + sc.refine_spread + 1)
            t = np.concatenate([rng.integers(lo, hi, overlap), new_t(frames - overlap)])
            return prior, t
        if mode < sc.p_refine + sc.p_cold:
            return np.repeat(reference_box[None], frames, axis=0), new_t(frames)
        return plain(frames)


class ResumableSampler(Sampler):
    """Sequential indices start, start+1, ... (the data position a checkpoint stores)."""

    def __init__(self, start: int = 0, count: int = 10 ** 12):
        self.start = start
        self.count = count

    def __iter__(self):
        return iter(range(self.start, self.start + self.count))

    def __len__(self) -> int:
        return self.count


def collate_samples(items: Seq[Dict[str, np.ndarray]]) -> Dict[str, torch.Tensor]:
    """Stack samples into a batch; clips of unequal length are cut to the shortest one.

    Cutting keeps a clip's first frames, so a refinement sample keeps its overlap frames and
    loses new ones, which is what a shorter (provisional) window looks like at inference.
    """
    frames = min(len(item["search"]) for item in items)
    per_frame = ("search", "target", "prior", "timesteps", "valid")
    out = {}
    for key in items[0]:
        arrays = [item[key][:frames] if key in per_frame else item[key] for item in items]
        out[key] = torch.as_tensor(np.stack(arrays))
    return out


def images_to_tensor(images: torch.Tensor, mean: Seq[float], std: Seq[float]) -> torch.Tensor:
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W] normalised as the engines do ((x/255 - mean)/std).

    Runs on whatever device `images` is on: the loader ships uint8 (4x less to copy) and
    the GPU normalises.
    """
    x = images.float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32, device=images.device)
    s = torch.tensor(std, dtype=torch.float32, device=images.device)
    x = (x - m) / s
    return x.movedim(-1, -3).contiguous()
