"""The training loop for both stages (CPU with torch 1.13, GPU with torch 2.x and bf16).

One step: normalise the uint8 crops on the device, encode every search frame with the two
templates (the encoder is per frame), decode the clip from the prior tokens noised to each
frame's timestep (fresh Gaussian noise; the decoder applies the cosine schedule), and
minimise CE + 2 SIoU on the predicted clean tokens.

AdamW with a step decay (x `lr_drop_factor` at `lr_drop_at` of the run) after a linear
warm-up; no weight decay on norms, biases, embedding tables and the Mamba A/D parameters.
A checkpoint is written every `save_every_s` seconds, at the end, at `max_minutes`, and on
SIGTERM/SIGINT, so a run can be cut off at any time and resumed (`resume`) elsewhere.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader

from .checkpoint import find_resume_path, load_checkpoint, restore_rng_state, save_checkpoint, unwrap
from .config import ModelConfig, get_config
from .data import ResumableSampler, SampleConfig, TrackingSamples, collate_samples, images_to_tensor
from .datasets import SyntheticSource, open_source
from .aux_heads import CenterHeatmapHead, center_heatmap_loss
from .losses import LossWeights, TokenGrid, dequantize, tracking_loss
from .model import build_model
from .photos import PhotoLibrary
from .synth import SynthConfig
from .model_file import exported_stage, read_model_file


@dataclass
class TrainConfig:
    """Every knob of a run (saved in its checkpoints). Defaults suit tiny on one H100."""

    out_dir: str = "runs/tiny-stage1"
    stage: int = 1
    model: str = "tiny"  # a named config or a path to a config JSON
    steps: int = 6000
    batch_size: int = 64
    lr: float = 4e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    lr_drop_at: float = 0.8  # fraction of `steps`
    lr_drop_factor: float = 0.1
    grad_clip: float = 1.0
    ce_weight: float = 1.0
    siou_weight: float = 2.0
    # Weight of the training-only centre-heatmap loss on the encoder's search tokens
    # (sctdiff.aux_heads; 0: off, the paper's objective). Gives a from-scratch encoder a direct
    # position signal; the head is not exported.
    aux_center_weight: float = 0.0
    aux_center_sigma: float = 1.0  # the heatmap's Gaussian sigma, in patches
    begin_end_weight: float = 0.1
    sources: List[str] = field(default_factory=lambda: ["synthetic"])
    # Synthetic training sequences (sctdiff.synth.SynthConfig): the share of sequences with
    # look-alike distractors and the most per sequence. Switching to a look-alike is what loses
    # the target most often over 100 frames (docs/training.md), so a run may ask for more. The
    # held-out clips of `val_iou_t_new` keep the generator's defaults, so runs stay comparable.
    synth_p_distractors: float = 0.5
    synth_max_distractors: int = 3
    source_weights: Optional[List[float]] = None
    samples_per_sequence: int = 4
    # Stage 2 clip lengths, one per batch (see SampleConfig.clip_lengths); empty: the decoder's N.
    clip_lengths: List[int] = field(default_factory=list)
    high_t_fraction: float = 0.0  # see SampleConfig.high_t_fraction (paper: 0, uniform t)
    # Search-crop centre jitter in target sizes (OSTrack/ARTrack: 3.0, uniform +-1.5 per axis).
    center_jitter: float = 3.0
    # Coordinate-token embedding init: "fourier" (smooth codes, sctdiff.model) or "normal" N(0, 1).
    coordinate_init: str = "fourier"
    # Encoder attention init: "trunc_normal" (OSTrack's ViT from scratch) or "mimetic"
    # (sctdiff.model.mimetic_attention_init: W_q^T W_k ~ I, a data-free stand-in for pretraining).
    encoder_init: str = "trunc_normal"
    workers: int = 8
    seed: int = 0
    init_from: Optional[str] = None  # stage 2: the stage-1 checkpoint
    resume: Optional[str] = None  # "auto", a checkpoint file or a run folder
    device: str = "auto"
    # bf16 autocast of the encoder on CUDA, and on CPUs with bf16 matrix units (AMX or
    # AVX512-BF16, see cpu_has_fast_bf16): there oneDNN runs bf16 matmuls ~25x faster than fp32.
    amp: bool = True
    # The decoder's selective scan multiplies long chains of decays; in bf16 they lose most of
    # their bits, so by default the (small) decoder runs in fp32 even when the encoder is bf16.
    amp_decoder: bool = False
    # Recompute each decoder block in the backward pass instead of storing its scan states:
    # the chunked scan keeps ~[B, L, E, N] tensors per doubling step, which for stage-2 clips
    # is gigabytes per sample. Costs ~1/3 more decoder compute.
    grad_checkpoint: bool = False
    compile: bool = False  # torch.compile (torch >= 2 only)
    # Selective-scan form (sctdiff.scan): "auto" is chunked on CUDA and, on the CPU, the compiled
    # op of sctdiff.scan_native (4x faster than the Python loop, forward + backward) when it
    # builds, else the Python loop; or "sequential", "chunked", "native".
    scan: str = "auto"
    save_every_s: float = 300.0
    keep_every: int = 0  # also keep step_<n>.pt every n steps (0: never)
    log_every: int = 20
    eval_every: int = 500
    eval_batches: int = 4
    max_minutes: float = 0.0  # stop (with a checkpoint) after this much wall time; 0: no limit
    export_path: Optional[str] = None  # write a safetensors export at the end
    # Also write a compact, split copy of every checkpoint here (parts <= 15 MiB, bf16 Adam
    # moments): what a lent GPU machine can hand back ($OUT) and a fresh one can resume from.
    portable_dir: Optional[str] = None
    photos: Optional[str] = None  # photo cache folder (default training/photos/cache)


def resolve_model_config(name_or_path: str) -> ModelConfig:
    if name_or_path.endswith(".json") or os.path.sep in name_or_path:
        return ModelConfig.from_json(Path(name_or_path).read_text())
    return get_config(name_or_path)


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AMX or AVX512-BF16; read from /proc/cpuinfo).

    Elsewhere bf16 autocast on the CPU is emulated and slower than float32, so training keeps
    float32 there. Measured on a 2-vCPU Sapphire Rapids (AMX): a [3072 x 192] x [192 x 768]
    matmul ran at 57 GFLOP/s in float32 and 1,600 GFLOP/s in bf16.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def autocast_enabled(amp: bool, device: torch.device) -> bool:
    """bf16 autocast where it pays: any CUDA device, and CPUs with native bf16."""
    return amp and (device.type == "cuda" or (device.type == "cpu" and cpu_has_fast_bf16()))


def resolve_scan_mode(name: str, device: torch.device) -> str:
    """The scan form a run uses (TrainConfig.scan)."""
    if name != "auto":
        return name
    if device.type == "cuda":
        return "chunked"
    from . import scan_native

    return "native" if scan_native.available() else "sequential"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def param_groups(model: torch.nn.Module, weight_decay: float) -> List[Dict[str, Any]]:
    """AdamW groups: decay only on matrices/conv kernels (not norms, biases, tables, Mamba A/D)."""
    no_decay_names = ("pos_embed", "type_embed", "traj_embed", "head_bias", "pos2d", "pos1d", "temporal",
                      "A_log", "A_b_log", ".D", ".D_b")
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or any(key in name for key in no_decay_names) or name.endswith(("D", "D_b")):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_lambda_for(cfg: TrainConfig):
    drop_step = int(cfg.lr_drop_at * cfg.steps)

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / max(1, cfg.warmup_steps))
        return warm * (cfg.lr_drop_factor if step >= drop_step else 1.0)

    return factor


def rows_from_first(trained: torch.Tensor, frames: int) -> torch.Tensor:
    """A temporal table of `frames` rows: the `trained` rows, then copies of the first for the rest.

    Frames a model never decoded have untrained rows; starting them from row 0 gives a model
    that tracks in every window position from the first stage-2 step (stage 2 learns them apart).
    """
    return torch.cat([trained, trained[:1].repeat(frames - trained.shape[0], 1)])


def initial_weights(path: Path, mc: ModelConfig) -> Tuple[Dict[str, torch.Tensor], str]:
    """Weights to start a run from: a training checkpoint, or a model exported for the engines.

    An exported `.safetensors` file (for example the shipped models/sctdiff-tiny.safetensors)
    lets a later run, on another machine, continue from a model whose checkpoint is gone; its
    weights are widened to float32 and the optimizer starts fresh.
    """
    if path.suffix == ".safetensors":
        tensors, metadata, saved = read_model_file(str(path))
        weights = {name: t.float() for name, t in tensors.items()}
        saved_frames, frames = saved.decoder.clip_len, mc.decoder.clip_len
        # A shorter-window export (export.py --clip-len, e.g. stage 1 as a single-frame model)
        # continues as the full model: its trained temporal rows stay and the first one starts
        # every missing frame's row (stage 2 learns them apart).
        widened = replace(saved, decoder=replace(saved.decoder, clip_len=frames))
        if saved_frames < frames and widened.to_dict() == mc.to_dict():
            temporal = weights["decoder.temporal"]
            if temporal.shape[0] != saved_frames:
                raise ValueError(f"Expected {saved_frames} temporal rows (the file's clip_len) in {path} "
                                 f"but it holds {temporal.shape[0]}")
            weights["decoder.temporal"] = rows_from_first(temporal, frames)
            return weights, f"exported {saved_frames}-frame model widened to {frames} frames"
        if saved.to_dict() != mc.to_dict():
            raise ValueError(f"Expected a model with config {mc.name!r} but {path} holds {saved.name!r} "
                             "with other sizes; pass --model with its config")
        stage, described = exported_stage(metadata), f"exported model, {len(tensors)} tensors"
    else:
        init = load_checkpoint(path)
        weights, stage = init["model"], init.get("args", {}).get("stage")
        described = f"step {init.get('step')}, stage {stage}"
    temporal = weights.get("decoder.temporal")
    if stage == 1 and temporal is not None and temporal.shape[0] > 1:
        # Stage 1 sees one frame, so only row 0 of the temporal embedding ever trained; rows
        # 1..N-1 are still their random init (in a checkpoint and in a full-length export alike).
        # Start them from row 0, as a single-frame export does (above), so stage 2 begins from a
        # model that tracks at every window position.
        weights = {**weights, "decoder.temporal": rows_from_first(temporal[:1], temporal.shape[0])}
        described += f", temporal row 0 copied to all {temporal.shape[0]} frames"
    return weights, described


def synth_config(cfg: TrainConfig) -> SynthConfig:
    """The generator's settings for a run's synthetic training sequences."""
    if not 0.0 <= cfg.synth_p_distractors <= 1.0:
        raise ValueError(f"Expected --synth-p-distractors in [0, 1] but received {cfg.synth_p_distractors}")
    if cfg.synth_max_distractors < 1:
        raise ValueError(f"Expected --synth-max-distractors of at least 1 but received {cfg.synth_max_distractors}")
    return replace(SynthConfig(), p_distractors=cfg.synth_p_distractors, max_distractors=cfg.synth_max_distractors)


def build_sources(cfg: TrainConfig, split: str, seed: int) -> List[Any]:
    library = PhotoLibrary.load(split, cache_dir=Path(cfg.photos) if cfg.photos else None, seed=seed)
    sources = []
    for spec in cfg.sources:
        if spec == "synthetic":
            sources.append(SyntheticSource(library, config=synth_config(cfg), seed=seed))
        else:
            sources.append(open_source(spec, library, seed))
    return sources


def _worker_init(_: int) -> None:
    import cv2

    # Ctrl-C, `timeout` and job schedulers signal the whole process group. A worker killed by it
    # makes the DataLoader raise in the main process wherever it happens to be (mid-step, or in
    # the middle of writing the last checkpoint), so workers leave the stop to the trainer: it
    # finishes its step, saves and shuts them down. They still exit if the trainer dies.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def enable_block_checkpointing(model: torch.nn.Module) -> None:
    """Wrap every decoder block's forward in torch.utils.checkpoint (activation recomputation)."""
    from torch.utils.checkpoint import checkpoint

    for block in unwrap(model).decoder.blocks:
        if getattr(block, "_checkpointed", False):
            continue
        inner = block.forward

        def forward(*args, _inner=inner):
            if torch.is_grad_enabled():
                return checkpoint(_inner, *args, use_reentrant=False)
            return _inner(*args)

        block.forward = forward
        block._checkpointed = True


def encode_batch(model: torch.nn.Module, batch: Dict[str, torch.Tensor], mc: ModelConfig,
                 use_amp: bool = False) -> torch.Tensor:
    """Encoder features [B, N, Hs, Ws, D] of a collated batch's uint8 crops (normalised on their device)."""
    mean, std = mc.pixel.mean, mc.pixel.std
    search = batch["search"]  # [B, N, Hs, Hs, 3] uint8
    b, n = search.shape[:2]
    t0 = images_to_tensor(batch["template0"], mean, std)
    t1 = images_to_tensor(batch["template1"], mean, std)
    x = images_to_tensor(search.flatten(0, 1), mean, std)
    if n > 1:
        t0 = t0.repeat_interleave(n, dim=0)
        t1 = t1.repeat_interleave(n, dim=0)
    with torch.autocast(device_type=search.device.type, dtype=torch.bfloat16, enabled=use_amp):
        features = model.encoder(t0, t1, x)
    return features.view(b, n, *features.shape[1:])


def forward_loss(model: torch.nn.Module, batch: Dict[str, torch.Tensor], mc: ModelConfig, grid: TokenGrid,
                 weights: LossWeights, device: torch.device, amp: bool,
                 generator: Optional[torch.Generator] = None, amp_decoder: bool = False,
                 aux_head: Optional[torch.nn.Module] = None, aux_weight: float = 0.0,
                 aux_sigma: float = 1.0) -> Dict[str, torch.Tensor]:
    """One forward pass + loss on a collated batch (tensors already on `device`).

    With `aux_head`, the centre-heatmap loss of the encoder features is added with `aux_weight`
    (reported as `aux_center`)."""
    b, n = batch["search"].shape[:2]
    noise = torch.randn((b, n, 4, mc.decoder.dim), device=device, generator=generator)
    use_amp = autocast_enabled(amp, device)
    features = encode_batch(model, batch, mc, use_amp)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp and amp_decoder):
        if not (use_amp and amp_decoder):
            features = features.float()
        logits = model.decoder(features, batch["prior"], batch["timesteps"], noise)
    out = tracking_loss(logits.float(), batch["target"], batch["valid"], grid, weights)
    if aux_head is not None:
        out["aux_center"] = center_heatmap_loss(aux_head, features, batch["target"], batch["valid"], grid, aux_sigma)
        out["loss"] = out["loss"] + aux_weight * out["aux_center"]
    out["logits"] = logits.detach()
    return out


def box_iou_from_tokens(logits: torch.Tensor, target: torch.Tensor, grid: TokenGrid) -> torch.Tensor:
    """IoU of argmax-decoded boxes vs the target tokens' boxes, [B, N]."""
    return token_box_iou(logits[..., 1:5, : grid.coordinate_tokens].argmax(-1), target[..., 1:5], grid)


def token_box_iou(pred: torch.Tensor, target: torch.Tensor, grid: TokenGrid) -> torch.Tensor:
    """IoU of two boxes given as coordinate tokens [..., 4] (x1, y1, x2, y2), [...]."""
    p = dequantize(pred, grid)
    t = dequantize(target, grid)
    iw = (torch.minimum(p[..., 2], t[..., 2]) - torch.maximum(p[..., 0], t[..., 0])).clamp(min=0)
    ih = (torch.minimum(p[..., 3], t[..., 3]) - torch.maximum(p[..., 1], t[..., 1])).clamp(min=0)
    inter = iw * ih
    area = lambda c: (c[..., 2] - c[..., 0]).clamp(min=0) * (c[..., 3] - c[..., 1]).clamp(min=0)  # noqa: E731
    return inter / (area(p) + area(t) - inter + 1e-12)


def to_device(batch: Dict[str, Any], device: torch.device) -> Dict[str, torch.Tensor]:
    out = {}
    for k, v in batch.items():
        t = torch.as_tensor(v) if not isinstance(v, torch.Tensor) else v
        out[k] = t.to(device, non_blocking=True)
    return out


class Trainer:
    """Holds the model, optimizer, data and bookkeeping of one run."""

    def __init__(self, cfg: TrainConfig, log=print):
        self.cfg = cfg
        self.log = log
        self.device = pick_device(cfg.device)
        self.out_dir = Path(cfg.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % (2 ** 32))

        resume_path = find_resume_path(cfg.resume, self.out_dir) if cfg.resume else None
        state = load_checkpoint(resume_path) if resume_path else None
        if state is not None:
            self.mc = ModelConfig.from_dict(state["config"])
        else:
            self.mc = resolve_model_config(cfg.model)
        self.grid = TokenGrid.from_config(self.mc.tokens)
        self.weights = LossWeights(ce=cfg.ce_weight, siou=cfg.siou_weight, begin_end=cfg.begin_end_weight)

        self.model = build_model(self.mc, seed=cfg.seed, coordinate_init=cfg.coordinate_init,
                                 encoder_init=cfg.encoder_init).to(self.device)
        if state is None and cfg.init_from:
            weights, origin = initial_weights(Path(cfg.init_from), self.mc)
            unwrap(self.model).load_state_dict(weights, strict=True)
            self.log(f"initialised from {cfg.init_from} ({origin})")
        groups = param_groups(self.model, cfg.weight_decay)
        self.aux_head: Optional[CenterHeatmapHead] = None
        if cfg.aux_center_weight > 0:
            self.aux_head = CenterHeatmapHead(self.mc.encoder.dim).to(self.device)
            groups.append({"params": list(self.aux_head.parameters()), "weight_decay": 0.0})
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.999))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda_for(cfg))
        self.step = 0
        self.data_position = 0
        if state is not None:
            unwrap(self.model).load_state_dict(state["model"], strict=True)
            if self.aux_head is not None and "aux_head" in state:
                self.aux_head.load_state_dict(state["aux_head"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            # The scheduler's state holds the saved run's base learning rate; a `--lr` given again
            # on resume (a warm restart, a lower rate to finish on) would otherwise be ignored.
            self.scheduler.base_lrs = [cfg.lr for _ in self.optimizer.param_groups]
            factor = lr_lambda_for(cfg)(self.scheduler.last_epoch)
            for group in self.optimizer.param_groups:
                group["initial_lr"] = cfg.lr
                group["lr"] = cfg.lr * factor
            self.scheduler._last_lr = [group["lr"] for group in self.optimizer.param_groups]
            self.step = int(state["step"])
            self.data_position = int(state["data_position"])
            restore_rng_state(state["rng"])
            self.log(f"resumed from {resume_path} at step {self.step} (sample {self.data_position})")
        self.scan_mode = resolve_scan_mode(cfg.scan, self.device)
        unwrap(self.model).set_scan_mode(self.scan_mode)
        self.log(f"device {self.device}, scan {self.scan_mode}, bf16 autocast "
                 f"{autocast_enabled(cfg.amp, self.device)}")
        if cfg.grad_checkpoint:
            enable_block_checkpointing(self.model)
        self.train_model = self.model
        if cfg.compile and hasattr(torch, "compile") and self.device.type == "cuda":
            self.train_model = torch.compile(self.model)

        sample_cfg = SampleConfig(stage=cfg.stage, clip_len=self.mc.decoder.clip_len,
                                  clip_lengths=tuple(cfg.clip_lengths), length_group=cfg.batch_size,
                                  samples_per_sequence=cfg.samples_per_sequence,
                                  high_t_fraction=cfg.high_t_fraction, center_jitter=cfg.center_jitter)
        self.dataset = TrackingSamples(build_sources(cfg, "train", cfg.seed), cfg.source_weights, self.mc,
                                       sample_cfg, seed=cfg.seed)
        # Validation: the same sampler on held-out photos, fixed indices.
        self.val_dataset = TrackingSamples([SyntheticSource(PhotoLibrary.load(
            "val", cache_dir=Path(cfg.photos) if cfg.photos else None, seed=cfg.seed + 1), seed=10_007)], None,
            self.mc, sample_cfg, seed=10_007)
        self._stop = False

    def loader(self) -> DataLoader:
        cfg = self.cfg
        remaining = max(0, cfg.steps - self.step) * cfg.batch_size
        kwargs: Dict[str, Any] = {}
        if cfg.workers > 0:
            kwargs.update(worker_init_fn=_worker_init, persistent_workers=False, prefetch_factor=4)
        # The loader draws a base seed when iterated; its own generator keeps that draw out of the
        # global torch RNG, whose state the checkpoint restores (the training noise comes from it).
        generator = torch.Generator().manual_seed(cfg.seed)
        return DataLoader(self.dataset, batch_size=cfg.batch_size, sampler=ResumableSampler(self.data_position, remaining),
                          num_workers=cfg.workers, pin_memory=self.device.type == "cuda", drop_last=True,
                          generator=generator, collate_fn=collate_samples, **kwargs)

    def _request_stop(self, signum, _frame) -> None:
        self.log(f"signal {signum}: saving a checkpoint and stopping")
        self._stop = True

    def save(self, metrics: Optional[Dict[str, float]] = None) -> Path:
        keep = bool(self.cfg.keep_every) and self.step % self.cfg.keep_every == 0
        return save_checkpoint(self.out_dir, model=self.model, config=self.mc.to_dict(), optimizer=self.optimizer,
                               scheduler=self.scheduler, step=self.step, data_position=self.data_position,
                               args=asdict(self.cfg), metrics=metrics, keep_copy=keep,
                               extra={"aux_head": self.aux_head.state_dict()} if self.aux_head is not None else None,
                               portable_dir=Path(self.cfg.portable_dir) if self.cfg.portable_dir else None)

    @torch.no_grad()
    def evaluate(self) -> Dict[str, float]:
        """Held-out loss, token accuracy, and mean IoU of single-step predictions from pure noise (t_new)."""
        self.model.eval()
        totals: Dict[str, float] = {"val_loss": 0.0, "val_iou_t_new": 0.0, "val_token_accuracy": 0.0}
        n = max(1, self.cfg.eval_batches)
        bs = min(self.cfg.batch_size, 32)
        gen = torch.Generator(device=self.device).manual_seed(1234)
        for b in range(n):
            batch = to_device(collate_samples([self.val_dataset[b * bs + i] for i in range(bs)]), self.device)
            batch["timesteps"] = torch.full_like(batch["timesteps"], self.mc.diffusion.t_new)
            out = forward_loss(self.model, batch, self.mc, self.grid, self.weights, self.device, self.cfg.amp, gen,
                               self.cfg.amp_decoder, self.aux_head, self.cfg.aux_center_weight,
                               self.cfg.aux_center_sigma)
            iou = box_iou_from_tokens(out["logits"].float(), batch["target"], self.grid)
            valid = batch["valid"].float()
            totals["val_loss"] += out["loss"].item() / n
            totals["val_token_accuracy"] += out["token_accuracy"].item() / n
            totals["val_iou_t_new"] += ((iou * valid).sum() / valid.sum().clamp(min=1)).item() / n
        self.model.train()
        return totals

    def write_log(self, record: Dict[str, Any]) -> None:
        line = json.dumps(record)
        self.log(line)
        with open(self.out_dir / "log.jsonl", "a") as handle:
            handle.write(line + "\n")

    def run(self) -> Dict[str, float]:
        cfg = self.cfg
        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        for s in previous:
            signal.signal(s, self._request_stop)
        started = time.time()
        last_save = started
        last_log = started
        metrics: Dict[str, float] = {}
        window: Dict[str, float] = {}
        window_steps = 0
        self.model.train()
        try:
            for batch in self.loader():
                if self.step >= cfg.steps or self._stop:
                    break
                batch = to_device(batch, self.device)
                out = forward_loss(self.train_model, batch, self.mc, self.grid, self.weights, self.device, cfg.amp,
                                   amp_decoder=cfg.amp_decoder, aux_head=self.aux_head,
                                   aux_weight=cfg.aux_center_weight, aux_sigma=cfg.aux_center_sigma)
                self.optimizer.zero_grad(set_to_none=True)
                out["loss"].backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                self.optimizer.step()
                self.scheduler.step()
                self.step += 1
                self.data_position += cfg.batch_size
                for k in ("loss", "ce", "siou", "token_accuracy", "aux_center"):
                    if k not in out:
                        continue
                    window[k] = window.get(k, 0.0) + float(out[k].detach())
                window["grad_norm"] = window.get("grad_norm", 0.0) + float(grad_norm)
                window_steps += 1
                now = time.time()
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    metrics = {k: v / window_steps for k, v in window.items()}
                    rate = window_steps * cfg.batch_size / max(now - last_log, 1e-9)
                    self.write_log({"step": self.step, **{k: round(v, 5) for k, v in metrics.items()},
                                    "lr": self.scheduler.get_last_lr()[0], "samples_per_s": round(rate, 1),
                                    "elapsed_min": round((now - started) / 60, 2)})
                    window, window_steps, last_log = {}, 0, now
                if cfg.eval_every and self.step % cfg.eval_every == 0:
                    self.write_log({"step": self.step, **{k: round(v, 5) for k, v in self.evaluate().items()}})
                out_of_time = cfg.max_minutes > 0 and now - started > cfg.max_minutes * 60
                if now - last_save > cfg.save_every_s or (cfg.keep_every and self.step % cfg.keep_every == 0):
                    self.save(metrics)
                    last_save = now
                if out_of_time:
                    self.log(f"time budget of {cfg.max_minutes} min reached at step {self.step}")
                    break
        finally:
            path = self.save(metrics)
            for s, handler in previous.items():
                signal.signal(s, handler)
        self.log(f"checkpoint: {path} (step {self.step})")
        if cfg.export_path and self.step >= cfg.steps:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from export import export_state  # training/export.py

            export_state(unwrap(self.model).cpu(), cfg.export_path)
            self.log(f"exported {cfg.export_path}")
        return metrics


def train(cfg: TrainConfig, log=print) -> Dict[str, float]:
    """Build a Trainer and run it to `cfg.steps` (or a stop signal / the time budget)."""
    return Trainer(cfg, log).run()

