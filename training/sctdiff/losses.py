"""Training objective of SCT-Diff: cross-entropy on the predicted clean tokens + 2 x SIoU.

The network predicts, for every trajectory slot, logits over the whole vocabulary (the
"trainable rounding" head of docs/model-contract.md). The paper's loss is
`L = L_CE + lambda * L_SIoU` with lambda = 2 (ARTrack's ratio):

- L_CE: cross-entropy of those logits against the ground-truth tokens. Coordinate slots
  weigh 1. The [Begin]/[End] slots are never noised, so predicting them is trivial; they get
  ARTrack's class weight 0.1 (`begin_end_weight`) so the head still learns to keep them.
- L_SIoU: SIoU (architecture.md section 5, theta = 4) between the ground-truth box and the
  box decoded as the softmax expectation over the coordinate tokens. The expectation uses
  the tokenizer's own grid: token k stands for [k, k+1) bins because encoding truncates
  (k = floor((c - range_min) * (bins - 1))), so its centre is
  (k + 0.5) / (bins - 1) + range_min -- the same value lib/model/tokenizer.ts decodes to.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional

import torch
import torch.nn.functional as F

SIOU_EPS = 1e-7
SIOU_THETA = 4.0

# Slots of one frame: [Begin, x1, y1, x2, y2, End].
SLOTS_PER_FRAME = 6
COORD_SLOTS = slice(1, 5)


@dataclass(frozen=True)
class TokenGrid:
    """The coordinate quantisation grid (mirrors TokenConfig; defaults are ARTrack's)."""

    bins: int = 400
    range_min: float = -0.5
    range_max: float = 1.5
    begin: int = 800
    end: int = 801

    @property
    def coordinate_tokens(self) -> int:
        """Number of coordinate tokens (800 by default); they precede [Begin] and [End]."""
        return int(round((self.range_max - self.range_min) * self.bins))

    @property
    def max_token(self) -> int:
        """Largest token quantize() yields (798 by default; 799 is reachable only by the head)."""
        return int(round((self.range_max - self.range_min) * (self.bins - 1)))

    @staticmethod
    def from_config(tokens: object) -> "TokenGrid":
        """From a `TokenConfig` (or anything with the same attributes)."""
        return TokenGrid(bins=int(getattr(tokens, "bins")), range_min=float(getattr(tokens, "range_min")),
                         range_max=float(getattr(tokens, "range_max")), begin=int(getattr(tokens, "begin")),
                         end=int(getattr(tokens, "end")))


def quantize(coords: torch.Tensor, grid: TokenGrid = TokenGrid()) -> torch.Tensor:
    """Tokens of normalised crop coordinates: clamp(floor((c - range_min)(bins - 1)), 0, max_token)."""
    k = torch.floor((coords.double() - grid.range_min) * (grid.bins - 1))
    return k.clamp(0, grid.max_token).long()


def dequantize(tokens: torch.Tensor, grid: TokenGrid = TokenGrid()) -> torch.Tensor:
    """Bin centres of coordinate tokens: (k + 0.5) / (bins - 1) + range_min."""
    return (tokens.double() + 0.5) / (grid.bins - 1) + grid.range_min


def bin_centers(grid: TokenGrid = TokenGrid(), device: Optional[torch.device] = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Centres of all coordinate tokens 0..coordinate_tokens-1, the grid of the SIoU expectation."""
    k = torch.arange(grid.coordinate_tokens, dtype=torch.float64)
    return ((k + 0.5) / (grid.bins - 1) + grid.range_min).to(device=device, dtype=dtype)


def expected_coordinates(logits: torch.Tensor, grid: TokenGrid = TokenGrid()) -> torch.Tensor:
    """Softmax expectation of the coordinate value, over the coordinate tokens only.

    `logits` [..., vocab] -> [...]. [Begin]/[End] logits are left out of the softmax: a
    coordinate slot can only mean a coordinate, and leaving them in would pull the
    expectation towards zero by whatever mass they hold.
    """
    coord_logits = logits[..., : grid.coordinate_tokens].float()
    probs = torch.softmax(coord_logits, dim=-1)
    return probs @ bin_centers(grid, device=logits.device)


def siou_loss(pred: torch.Tensor, target: torch.Tensor, theta: float = SIOU_THETA,
              eps: float = SIOU_EPS) -> torch.Tensor:
    """Per-box SIoU loss (Gevorgyan 2022, as ARTrack implements it), boxes [..., 4] as x1,y1,x2,y2.

    L = 1 - IoU + (Delta + Omega) / 2 with the angle cost Lambda = sin(2 alpha) feeding the
    distance cost (gamma = 2 - Lambda) and the shape cost raised to `theta`. Identical
    boxes give exactly 0; the loss grows with centre offset, with the offset's angle away
    from the axes, and with width/height mismatch. Returns [...] (no reduction).
    """
    pred = pred.float()
    target = target.float()
    px1, py1, px2, py2 = pred.unbind(-1)
    tx1, ty1, tx2, ty2 = target.unbind(-1)
    pw, ph = px2 - px1, py2 - py1
    tw, th = tx2 - tx1, ty2 - ty1

    inter_w = (torch.minimum(px2, tx2) - torch.maximum(px1, tx1)).clamp(min=0)
    inter_h = (torch.minimum(py2, ty2) - torch.maximum(py1, ty1)).clamp(min=0)
    inter = inter_w * inter_h
    union = pw * ph + tw * th - inter
    iou = inter / (union + eps)

    # Enclosing box (for the distance cost's normalisation).
    cw = torch.maximum(px2, tx2) - torch.minimum(px1, tx1)
    ch = torch.maximum(py2, ty2) - torch.minimum(py1, ty1)

    dx = (tx1 + tx2 - px1 - px2) * 0.5
    dy = (ty1 + ty2 - py1 - py2) * 0.5
    # Lambda = 1 - 2 sin^2(arcsin(|dy|/sigma) - pi/4) = sin(2 alpha) = 2 |dx| |dy| / sigma^2.
    # The closed form is the same number without arcsin's infinite slope at alpha = 90 deg or
    # sqrt's at sigma = 0, so identical boxes still get finite gradients.
    angle_cost = 2.0 * dx.abs() * dy.abs() / (dx * dx + dy * dy + eps)
    gamma = 2.0 - angle_cost
    rho_x = (dx / (cw + eps)) ** 2
    rho_y = (dy / (ch + eps)) ** 2
    distance_cost = (1.0 - torch.exp(-gamma * rho_x)) + (1.0 - torch.exp(-gamma * rho_y))

    omega_w = (pw - tw).abs() / (torch.maximum(pw, tw) + eps)
    omega_h = (ph - th).abs() / (torch.maximum(ph, th) + eps)
    shape_cost = (1.0 - torch.exp(-omega_w)) ** theta + (1.0 - torch.exp(-omega_h)) ** theta

    return 1.0 - iou + (distance_cost + shape_cost) * 0.5


@dataclass(frozen=True)
class LossWeights:
    """Weights of the objective. Defaults: the paper's CE 1 + SIoU 2, [Begin]/[End] CE class weight 0.1."""

    ce: float = 1.0
    siou: float = 2.0
    begin_end: float = 0.1


def tracking_loss(logits: torch.Tensor, target_tokens: torch.Tensor, valid: Optional[torch.Tensor] = None,
                  grid: TokenGrid = TokenGrid(), weights: LossWeights = LossWeights()) -> Dict[str, torch.Tensor]:
    """The SCT-Diff objective on one batch.

    Args:
      logits: [B, N, 6, vocab] head output for slots [Begin, x1, y1, x2, y2, End] of N frames.
      target_tokens: [B, N, 6] ground-truth tokens (Begin/End slots hold grid.begin/grid.end).
      valid: optional [B, N] bool/0-1 mask; frames where the target is absent (or padding)
        contribute nothing -- their box is undefined.
    Returns a dict with `loss` (the scalar to minimise), `ce`, `siou` (both unweighted means)
    and `token_accuracy` (argmax == target on coordinate slots of valid frames; no grad).
    """
    if logits.dim() != 4 or logits.shape[2] != SLOTS_PER_FRAME:
        raise ValueError(f"Expected logits of shape [B, N, 6, vocab] but received {tuple(logits.shape)}")
    if target_tokens.shape != logits.shape[:3]:
        raise ValueError(f"Expected target tokens of shape {tuple(logits.shape[:3])} but received {tuple(target_tokens.shape)}")
    b, n, s, vocab = logits.shape
    if valid is None:
        frame_weight = torch.ones(b, n, device=logits.device)
    else:
        frame_weight = valid.to(device=logits.device, dtype=torch.float32)
    denom_frames = frame_weight.sum().clamp(min=1.0)

    slot_weight = torch.ones(s, device=logits.device)
    slot_weight[0] = weights.begin_end
    slot_weight[s - 1] = weights.begin_end
    ce = F.cross_entropy(logits.float().reshape(-1, vocab), target_tokens.reshape(-1).long(), reduction="none")
    ce = ce.view(b, n, s) * slot_weight * frame_weight[..., None]
    # Normalise by the total weight so the value is a per-token mean, comparable across N.
    ce_mean = ce.sum() / (denom_frames * slot_weight.sum())

    coord_logits = logits[:, :, COORD_SLOTS, :]
    pred_box = expected_coordinates(coord_logits, grid)
    target_box = dequantize(target_tokens[:, :, COORD_SLOTS], grid).float()
    siou = siou_loss(pred_box, target_box) * frame_weight
    siou_mean = siou.sum() / denom_frames

    with torch.no_grad():
        hits = (coord_logits.argmax(-1) == target_tokens[:, :, COORD_SLOTS]).float().mean(-1)
        accuracy = (hits * frame_weight).sum() / denom_frames

    loss = weights.ce * ce_mean + weights.siou * siou_mean
    return {"loss": loss, "ce": ce_mean.detach(), "siou": siou_mean.detach(), "token_accuracy": accuracy}
